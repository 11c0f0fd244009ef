/* panic.h: how common/ dies. Go's panic, Go's fatal error, the runtime's own
 * checks (Go's throw), and an allocator that never returns NULL.
 *
 * The lowest floor: it includes nothing of common/, and every file above may
 * use it, up to flag.c.
 *
 * Contract:
 * - go_panic(msg) is for a mistake of the program that Go reports as a panic
 *   (send on a closed channel, a negative WaitGroup counter): as Go, it prints
 *   "panic: msg", then "goroutine N [running]:" and a backtrace (glibc's, of
 *   the C frames) on stderr, and exits with status 2. GOTRACEBACK=crash in
 *   the environment makes it abort() instead, for a core dump, as in Go. It
 *   never returns.
 * - go_fatal(msg) is Go's fatal error, for what no program can recover from
 *   (a deadlock, out of memory, a thread that cannot start): it prints
 *   "fatal error: msg" on stderr and exits with status 2 at once, running no
 *   atexit handler (another thread may hold a lock one needs). Never returns.
 * - The end of the process is claimed once: by a panic, a fatal error, or
 *   exit() (main returning) when its atexit handlers run. Whoever comes second
 *   waits forever for the first to end the process. So a goroutine that
 *   panics while main returns either wins, and the process ends with the
 *   panic's message and status 2, or comes too late and prints nothing, as in
 *   Go (whose main waits for a panic in progress): never the message with
 *   status 0.
 * - RT_CHECK(cond, msg) is Go's throw: a state that must never happen inside
 *   common/ itself (a broken invariant, not a misuse by the program) ends the
 *   process through go_fatal(msg) when cond is false. It is checked in every
 *   build, release included, because such a state would otherwise go on as
 *   memory corruption far from its cause. Keep cond cheap: one predictable
 *   branch on values at hand. msg says what broke, prefixed with the part of
 *   common/ that found it ("chan: ...", "sched: ...").
 * - xmalloc and xcalloc are malloc and calloc for which out of memory is
 *   fatal; a size of 0 still returns a unique pointer. Free with free().
 */
#ifndef COMMON_INTERNAL_PANIC_H
#define COMMON_INTERNAL_PANIC_H

#include <stddef.h>

/* The running goroutine's id, for a panic's "goroutine N [running]:" (go.c
 * sets it; 0 on a thread common/ has not met). */
extern _Thread_local long rt_goid;

/* cold: the compiler lays their calls out of the fast paths' way. */
_Noreturn __attribute__((cold)) void go_panic(const char *msg);
_Noreturn __attribute__((cold)) void go_fatal(const char *msg);

#define RT_CHECK(cond, msg) (__builtin_expect(!!(cond), 1) ? (void)0 : go_fatal(msg))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);

#endif
