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
 * Deadlock detection: like Go's runtime, common/ notices when every goroutine
 * (main and those started by go()) is blocked on a channel, a select or a
 * WaitGroup while no timer, ticker, deadline or signal context could wake one.
 * It then prints "fatal error: all goroutines are asleep - deadlock!" on stderr
 * and exits with status 2. Threads made with pthread_create are counted from
 * their first blocking channel operation on; start goroutines with go() so the
 * count is right from the start.
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

/* Starts fn(arg) in a new goroutine. Never blocks. */
void go(void (*fn)(void *arg), void *arg);

/* The number of goroutines that exist now, main included
 * (Go's runtime.NumGoroutine). */
int go_num_goroutines(void);

#endif
