/* sync.c: WaitGroup and Once.
 *
 * Invariants (under wg->mu): count >= 0; waiters is non-empty only while
 * count > 0. A waiter is a record on the waiting goroutine's stack; the
 * goroutine that brings the counter to zero takes the whole list and wakes
 * each one, so a waiter never re-checks and never misses the zero: a
 * goroutine woken in wg_wait finds its record marked released.
 *
 * Locking order: wg->mu and o->mu are taken alone. wg->mu is let go before any
 * waiter is woken; o->mu is held while fn runs, so fn must not call once_do
 * on the same once (Go's Once deadlocks there too).
 */
#include "common/sync.h"

#include <stddef.h>

#include "common/internal/runtime.h"

struct wg_waiter {
    struct wg_waiter *next;
    struct g *g;
    bool released; /* set by the goroutine that brought the counter to zero */
};

void wg_init(waitgroup *wg) {
    pthread_mutex_init(&wg->mu, NULL);
    wg->count = 0;
    wg->waiters = NULL;
}

void wg_add(waitgroup *wg, long delta) {
    pthread_mutex_lock(&wg->mu);
    RT_CHECK(wg->count > 0 || !wg->waiters, "sync: WaitGroup waiters while the counter is zero");
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
        w->released = true;
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
    RT_CHECK(self.released, "sync: wg_wait woken before the counter reached zero");
}

/* What the goroutine of wg_go calls when its function returns. */
static void done_fn(void *wg) {
    wg_done(wg);
}

void wg_go(waitgroup *wg, void (*fn)(void *arg), void *arg) {
    wg_add(wg, 1);
    go_spawn(fn, arg, "a function of wg_go", done_fn, wg);
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
