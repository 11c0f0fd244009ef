/* select.c: Go's select statement, after runtime/select.go.
 *
 * Invariants:
 * - A blocked select has one waiter per non-nil case, all sharing one
 *   select_state, which exactly one operation claims (done goes 0 -> 1, once)
 *   and marks with the case it completed (fired). When the select wakes,
 *   fired names a case, and that case's waiter is in no queue any more.
 * - Once the select returns, none of its waiters is queued anywhere: they
 *   live on its stack (or in its malloc'd arrays), which is about to go.
 *
 * Phases:
 * 1. Visit the cases in a random order (so that no ready case starves) with
 *    every distinct channel locked, in order of address (so that two selects
 *    over the same channels cannot deadlock each other). The first ready case
 *    proceeds at once.
 * 2. With a default, and nothing ready: unlock and take the default.
 * 3. Otherwise enqueue one waiter per case, unlock everything and park. The
 *    operation that claims the shared select_state completes exactly one case
 *    and wakes us; we relock to take our other waiters out of their queues.
 *
 * Locking order: every distinct channel of the cases, in order of address,
 * released in the opposite order; each waiter's goroutine is woken only after
 * all of them are released. Nothing but channel locks is held meanwhile.
 */
#include "common/select.h"

#include <stdint.h>
#include <stdlib.h>

#include "common/internal/chan_internal.h"

/* Cases handled with stack arrays; more take a trip to malloc. */
#define SELECT_STACK_CASES 16

static void lock_all(chan **locks, int n) {
    for (int i = 0; i < n; i++)
        rt_lock(&locks[i]->lock);
}

static void unlock_all(chan **locks, int n) {
    for (int i = n - 1; i >= 0; i--)
        chan_unlock(locks[i]);
}

/* Fills order with a random permutation of the cases whose channel is not
 * nil, and locks with their distinct channels sorted by address. */
static void plan(select_case *cases, int n, int *order, int *norder, chan **locks, int *nlocks) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!cases[i].c)
            continue;
        int j = (int)g_rand((uint32_t)k + 1);
        order[k] = order[j];
        order[j] = i;
        k++;
    }
    *norder = k;

    int m = 0;
    for (int i = 0; i < k; i++) {
        chan *c = cases[order[i]].c;
        int j = m;
        while (j > 0 && (uintptr_t)locks[j - 1] > (uintptr_t)c)
            j--;
        if (j > 0 && locks[j - 1] == c)
            continue;
        for (int t = m; t > j; t--)
            locks[t] = locks[t - 1];
        locks[j] = c;
        m++;
    }
    *nlocks = m;
}

static int select_impl(select_case *cases, int n, bool block) {
    /* One case and a default (Go's selectnbsend and selectnbrecv): answer
     * without the lock when the case surely cannot proceed. */
    if (!block && n == 1 &&
        (!cases[0].c || chan_cannot_proceed(cases[0].c, cases[0].dir == SELECT_SEND)))
        return SELECT_DEFAULT;
    int order_stack[SELECT_STACK_CASES];
    chan *locks_stack[SELECT_STACK_CASES];
    struct waiter waiters_stack[SELECT_STACK_CASES];
    int *order = order_stack;
    chan **locks = locks_stack;
    struct waiter *waiters = waiters_stack;
    if (n > SELECT_STACK_CASES) {
        order = xmalloc((size_t)n * sizeof *order);
        locks = xmalloc((size_t)n * sizeof *locks);
        waiters = xcalloc((size_t)n, sizeof *waiters);
    }

    int norder, nlocks, chosen = SELECT_DEFAULT;
    struct waiter *wake = NULL;
    plan(cases, n, order, &norder, locks, &nlocks);
    lock_all(locks, nlocks);

    /* 1. Look for a case that can proceed now, in random order. */
    for (int i = 0; i < norder; i++) {
        select_case *sc = &cases[order[i]];
        bool done;
        if (sc->dir == SELECT_SEND) {
            if (sc->c->closed) {
                unlock_all(locks, nlocks);
                go_panic("send on closed channel");
            }
            done = chan_send_locked(sc->c, sc->elem, &wake);
        } else {
            done = chan_recv_locked(sc->c, sc->elem, &sc->ok, &wake);
        }
        if (done) {
            chosen = order[i];
            break;
        }
    }

    /* 2. One did, or there is a default. */
    if (chosen != SELECT_DEFAULT || !block) {
        unlock_all(locks, nlocks);
        if (wake)
            g_ready(wake->g);
        goto out;
    }
    if (norder == 0) {
        /* Only nil channels, or no cases: nothing can ever be ready. */
        unlock_all(locks, nlocks);
        g_block_forever();
    }

    /* 3. Enqueue a waiter on every case's channel and park. */
    struct select_state st = {.fired = -1};
    atomic_init(&st.done, 0);
    struct g *self = g_current();
    for (int i = 0; i < n; i++) {
        select_case *sc = &cases[i];
        if (!sc->c)
            continue;
        waiters[i] = (struct waiter){.g = self, .elem = sc->elem, .sel = &st, .case_index = i};
        waitq_push(sc->dir == SELECT_SEND ? &sc->c->sendq : &sc->c->recvq, &waiters[i]);
    }
    unlock_all(locks, nlocks);
    g_park(self);

    /* Woken: one operation claimed us and completed the chosen case. Take
     * the other waiters out of their queues (some may already be dropped as
     * stale). */
    chosen = st.fired;
    RT_CHECK(atomic_load_explicit(&st.done, memory_order_relaxed) == 1 && chosen >= 0 &&
                 chosen < n && cases[chosen].c,
             "select: woken with no case chosen");
    RT_CHECK(!waiters[chosen].queued, "select: the chosen case still queued after its wake-up");
    lock_all(locks, nlocks);
    for (int i = 0; i < n; i++) {
        select_case *sc = &cases[i];
        if (sc->c && waiters[i].queued)
            waitq_remove(sc->dir == SELECT_SEND ? &sc->c->sendq : &sc->c->recvq, &waiters[i]);
    }
    unlock_all(locks, nlocks);

    if (cases[chosen].dir == SELECT_SEND) {
        if (!waiters[chosen].success)
            go_panic("send on closed channel");
    } else {
        cases[chosen].ok = waiters[chosen].success;
    }

out:
    if (n > SELECT_STACK_CASES) {
        free(order);
        free(locks);
        free(waiters);
    }
    return chosen;
}

int chan_select(select_case *cases, int n) {
    return select_impl(cases, n, true);
}

int chan_select_default(select_case *cases, int n) {
    return select_impl(cases, n, false);
}
