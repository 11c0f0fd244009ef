/* go.h: goroutines. A goroutine is a detached POSIX thread here.
 *
 *     go f(x)        ->   go(f, x);
 *
 * Contract:
 * - go() starts fn(arg) on a new thread with a small stack (GO_STACK_SIZE) and
 *   returns at once; it never blocks. The caller keeps ownership of arg: make
 *   sure it outlives the goroutine (pass a pointer to heap memory, or to a slot
 *   of an array that lives longer than the goroutine).
 * - Nothing waits for a goroutine: when main returns, the process ends and
 *   every goroutine with it, as in Go. Wait with a WaitGroup (sync.h).
 * - If the system cannot start a thread, go() reports a fatal error and the
 *   process exits with status 2, as Go does when it cannot create an OS thread.
 *
 * Leak check, in the spirit of uber-go/goleak: go_leaks(within) waits up to
 * within nanoseconds for every goroutine started by go() but the caller to
 * return, then lists on stderr each one still alive, with the function it
 * started in and whether it is blocked, and returns how many there were:
 *     leak: goroutine 7 [blocked], started in or_done_goroutine
 * The wait is goleak's retry: a goroutine ends a moment after its last
 * statement, so a check right after a wg_wait would see it. With the
 * environment variable GOLEAK=1, the same check runs when main returns (or
 * exit() is called): a leak then ends the process with status 3, after the
 * list. A fatal error or a panic skips it.
 *
 * Deadlock detection: like Go's runtime, common/ notices when every goroutine
 * (main and those started by go()) is blocked on a channel, a select or a
 * WaitGroup while no timer, ticker, deadline or signal context could wake one.
 * It then prints "fatal error: all goroutines are asleep - deadlock!" on stderr
 * and exits with status 2. A thread the program makes with pthread_create
 * counts as a goroutine from its birth to its end: common/ defines
 * pthread_create, which counts the thread in and then calls libc's, so main
 * blocked on what such a thread is computing is no deadlock, and the end of
 * the last thread that could have woken main is one. A thread made another
 * way (a raw clone, a library that calls libc's pthread_create directly)
 * counts only from its first channel operation, select or wait on.
 */
#ifndef COMMON_GO_H
#define COMMON_GO_H

#include <stddef.h>

/* Stack size of a goroutine: small, so that 10,000 of them fit in memory.
 * Sanitizers need much more stack per frame, so their builds get more. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GO_STACK_SIZE (512 * 1024)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GO_STACK_SIZE (512 * 1024)
#endif
#endif
#ifndef GO_STACK_SIZE
#define GO_STACK_SIZE (64 * 1024)
#endif

/* Starts fn(arg) in a new goroutine. Never blocks. go() is a macro only so
 * that the leak check can name the function: go_named is the function. */
#define go(fn, arg) go_named((fn), (arg), #fn)
void go_named(void (*fn)(void *arg), void *arg, const char *name);

/* The goroutines still alive after waiting up to within_ns nanoseconds for
 * them (the caller aside), each listed on stderr; 0 when none is left. */
int go_leaks(long long within_ns);

/* Go's panic(msg), for a program's own "this must not happen": prints
 * "panic: msg", the goroutine and a backtrace on stderr, and ends the process
 * with status 2, as common/'s own panics do (send on a closed channel). */
_Noreturn void go_panic(const char *msg);

/* The number of goroutines that exist now, main included
 * (Go's runtime.NumGoroutine). */
int go_num_goroutines(void);

#endif
