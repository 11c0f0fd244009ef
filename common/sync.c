/* sync.c: WaitGroup and Once.
 *
 * Invariants (under wg->mu): count >= 0; waiters is non-empty only while
 * count > 0. A waiter is a record on the waiting goroutine's stack; the
 * goroutine that brings the counter to zero takes the whole list and wakes
 * each one, so a waiter never re-checks and never misses the zero.
 */
#include "common/sync.h"

#include <stddef.h>

#include "common/go.h"
#include "common/runtime.h"

struct wg_waiter {
    struct wg_waiter *next;
    struct g *g;
};

void wg_init(waitgroup *wg) {
    pthread_mutex_init(&wg->mu, NULL);
    wg->count = 0;
    wg->waiters = NULL;
}

void wg_add(waitgroup *wg, long delta) {
    pthread_mutex_lock(&wg->mu);
    wg->count += delta;
    if (wg->count < 0) {
        pthread_mutex_unlock(&wg->mu);
        go_panic("sync: negative WaitGroup counter");
    }
    struct wg_waiter *w = NULL;
    if (wg->count == 0) {
        w = wg->waiters;
        wg->waiters = NULL;
    }
    pthread_mutex_unlock(&wg->mu);
    while (w) {
        struct wg_waiter *next = w->next; /* w goes once its goroutine wakes */
        g_ready(w->g);
        w = next;
    }
}

void wg_done(waitgroup *wg) {
    wg_add(wg, -1);
}

void wg_wait(waitgroup *wg) {
    pthread_mutex_lock(&wg->mu);
    if (wg->count == 0) {
        pthread_mutex_unlock(&wg->mu);
        return;
    }
    struct wg_waiter self = {.next = wg->waiters, .g = g_current()};
    wg->waiters = &self;
    pthread_mutex_unlock(&wg->mu);
    g_park(self.g);
}

void wg_go(waitgroup *wg, void (*fn)(void *arg), void *arg) {
    wg_add(wg, 1);
    go_spawn(fn, arg, wg);
}

void once_do(once *o, void (*fn)(void *arg), void *arg) {
    if (atomic_load_explicit(&o->done, memory_order_acquire))
        return;
    pthread_mutex_lock(&o->mu);
    if (!atomic_load_explicit(&o->done, memory_order_relaxed)) {
        fn(arg);
        atomic_store_explicit(&o->done, true, memory_order_release);
    }
    pthread_mutex_unlock(&o->mu);
}
