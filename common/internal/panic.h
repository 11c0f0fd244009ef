/* panic.h: how common/ dies. Go's panic, Go's fatal error, the runtime's own
 * checks (Go's throw), and an allocator that never returns NULL.
 *
 * The lowest floor: it includes nothing of common/, and every file above may
 * use it, up to flag.c.
 *
 * Contract:
 * - go_panic(msg) is for a mistake of the program that Go reports as a panic
 *   (send on a closed channel, a negative WaitGroup counter): it prints
 *   "panic: msg" on stderr and aborts. It never returns.
 * - go_fatal(msg) is Go's fatal error, for what no program can recover from
 *   (a deadlock, out of memory, a thread that cannot start): it prints
 *   "fatal error: msg" on stderr and exits with status 2 at once, running no
 *   atexit handler (another thread may hold a lock one needs). Never returns.
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

/* cold: the compiler lays their calls out of the fast paths' way. */
_Noreturn __attribute__((cold)) void go_panic(const char *msg);
_Noreturn __attribute__((cold)) void go_fatal(const char *msg);

#define RT_CHECK(cond, msg) (__builtin_expect(!!(cond), 1) ? (void)0 : go_fatal(msg))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);

#endif
