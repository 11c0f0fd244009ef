/* sync.h: Go's sync.WaitGroup and sync.Once.
 *
 *     var wg sync.WaitGroup         ->  waitgroup wg = WAITGROUP_INIT;  (or wg_init(&wg))
 *     wg.Add(n); wg.Done()          ->  wg_add(&wg, n); wg_done(&wg);
 *     wg.Wait()                     ->  wg_wait(&wg);
 *     wg.Go(f)  (Go 1.25)           ->  wg_go(&wg, f, arg);
 *     var once sync.Once            ->  once o = ONCE_INIT;
 *     once.Do(f)                    ->  once_do(&o, f, arg);
 *
 * Mutex, RWMutex, Cond and atomics need no help: pthread_mutex_t,
 * pthread_rwlock_t, pthread_cond_t and <stdatomic.h> are those.
 *
 * Contract:
 * - wg_wait blocks until the counter is zero (at once if it is already).
 *   Waiting counts as blocked for the deadlock detector.
 * - A counter that goes negative panics: "panic: sync: negative WaitGroup
 *   counter".
 * - wg_go adds one, runs fn(arg) in a new goroutine, and marks it done when fn
 *   returns.
 * - once_do runs fn(arg) exactly once across all callers; every caller returns
 *   only after that run has finished.
 * A waitgroup or once lives where the caller puts it and needs no freeing.
 */
#ifndef COMMON_SYNC_H
#define COMMON_SYNC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct waitgroup {
    pthread_mutex_t mu;
    long count;                /* the counter; guarded by mu */
    struct wg_waiter *waiters; /* goroutines blocked in wg_wait; guarded by mu */
} waitgroup;

#define WAITGROUP_INIT                                                                             \
    { PTHREAD_MUTEX_INITIALIZER, 0, NULL }

void wg_init(waitgroup *wg);
void wg_add(waitgroup *wg, long delta);
void wg_done(waitgroup *wg);
void wg_wait(waitgroup *wg);
void wg_go(waitgroup *wg, void (*fn)(void *arg), void *arg);

typedef struct once {
    pthread_mutex_t mu;
    atomic_bool done; /* set after fn returned: the fast path reads only this */
} once;

#define ONCE_INIT                                                                                  \
    { PTHREAD_MUTEX_INITIALIZER, false }

void once_do(once *o, void (*fn)(void *arg), void *arg);

#endif
