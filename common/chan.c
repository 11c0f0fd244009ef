/* chan.c: Go's channels, after runtime/chan.go.
 *
 * Invariants, true whenever a channel's lock is free:
 * - count <= cap; the buffer holds count values starting at slot head.
 * - recvq holds live waiters only while count == 0, and sendq only while
 *   count == cap (for cap 0: always "full and empty"). At least one of recvq
 *   and sendq holds no live waiter, except for a select with both a send and
 *   a receive case on the same unbuffered channel. Stale select waiters (whose
 *   select was already completed elsewhere) may sit in either queue until
 *   someone drops them.
 * - A waiter is queued exactly while its queued flag is set; a goroutine
 *   woken from a plain send or receive is in no queue any more.
 * - A closed channel has empty queues: close wakes everyone.
 * - refs >= 1 while the channel exists; the last chan_free frees it.
 * The checks (RT_CHECK) that guard these cost one predictable branch each, on
 * values the operation holds already.
 *
 * Locking order: one lock per channel (an rt_mutex, internal/lock.h), the
 * innermost lock of common/: timers and contexts may hold theirs while they
 * take it, never the other way. select.c locks several channels, always in
 * order of address. A goroutine is woken (g_ready) only after the lock is
 * released.
 */
#include "common/chan.h"

#include <stdlib.h>
#include <string.h>

#include "common/internal/chan_internal.h"

chan *chan_make(size_t elem_size, size_t cap) {
    if (elem_size == 0)
        elem_size = 1;
    if (cap > ((size_t)-1 - sizeof(chan)) / elem_size)
        go_panic("makechan: size out of range");
    /* Cache lines of its own: no false sharing with its neighbours. */
    chan *c = aligned_alloc(64, sizeof *c);
    if (!c)
        go_fatal("out of memory");
    memset(c, 0, sizeof *c);
    c->buf = cap ? xmalloc(cap * elem_size) : NULL;
    c->elem_size = elem_size;
    c->cap = cap;
    atomic_init(&c->refs, 1);
    return c;
}

chan *chan_ref(chan *c) {
    if (c)
        RT_CHECK(atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed) > 0,
                 "chan: chan_ref of a freed channel");
    return c;
}

void chan_free(chan *c) {
    if (!c)
        return;
    int refs = atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel);
    if (refs != 1) {
        RT_CHECK(refs > 1, "chan: reference count below zero");
        return;
    }
    if (c->release)
        c->release(c);
    free(c->buf);
    free(c);
}

void waitq_push(struct waitq *q, struct waiter *w) {
    RT_CHECK(!w->queued, "chan: a waiter queued twice");
    w->next = NULL;
    w->prev = q->last;
    if (q->last)
        q->last->next = w;
    else
        STORE_RELAXED(q->first, w);
    q->last = w;
    w->queued = true;
}

static void waitq_unlink(struct waitq *q, struct waiter *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        STORE_RELAXED(q->first, w->next);
    if (w->next)
        w->next->prev = w->prev;
    else
        q->last = w->prev;
    w->next = w->prev = NULL;
    w->queued = false;
}

void waitq_remove(struct waitq *q, struct waiter *w) {
    RT_CHECK(w->queued, "chan: removing a waiter that is not queued");
    waitq_unlink(q, w);
}

/* Takes the first waiter that can still be completed, claiming its select if
 * it belongs to one; drops stale select waiters on the way. */
static struct waiter *waitq_claim(struct waitq *q) {
    struct waiter *w;
    while ((w = q->first) != NULL) {
        /* The first of a queue is queued: no check, and the handoff's
         * registers stay as they were without one. */
        waitq_unlink(q, w);
        if (!w->sel)
            return w;
        int free_ = 0;
        if (atomic_compare_exchange_strong_explicit(&w->sel->done, &free_, 1, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            w->sel->fired = w->case_index;
            return w;
        }
    }
    return NULL;
}

static unsigned char *slot(chan *c, size_t i) {
    size_t k = c->head + i; /* both below cap: no division needed */
    return c->buf + (k >= c->cap ? k - c->cap : k) * c->elem_size;
}

static void advance_head(chan *c) {
    if (++c->head == c->cap)
        c->head = 0;
}

bool chan_send_locked(chan *c, const void *elem, struct waiter **wake) {
    struct waiter *w = waitq_claim(&c->recvq);
    if (w) {
        /* A receiver waits, so the buffer is empty: hand the value over. */
        RT_CHECK(c->count == 0, "chan: a receiver waits while values are buffered");
        if (w->elem)
            memcpy(w->elem, elem, c->elem_size);
        w->success = true;
        *wake = w;
        return true;
    }
    if (c->count < c->cap) {
        memcpy(slot(c, c->count), elem, c->elem_size);
        STORE_RELAXED(c->count, c->count + 1);
        return true;
    }
    return false;
}

bool chan_recv_locked(chan *c, void *elem, bool *ok, struct waiter **wake) {
    struct waiter *w = waitq_claim(&c->sendq);
    if (w) {
        RT_CHECK(c->count == c->cap, "chan: a sender waits while the buffer has room");
        if (c->cap == 0) {
            if (elem)
                memcpy(elem, w->elem, c->elem_size);
        } else {
            /* The buffer is full: take its oldest value and put the blocked
             * sender's value in the freed slot, which is now the newest, so
             * the sender keeps its place in line. */
            unsigned char *s = slot(c, 0);
            if (elem)
                memcpy(elem, s, c->elem_size);
            memcpy(s, w->elem, c->elem_size);
            advance_head(c);
        }
        w->success = true;
        *wake = w;
        *ok = true;
        return true;
    }
    if (c->count > 0) {
        if (elem)
            memcpy(elem, slot(c, 0), c->elem_size);
        advance_head(c);
        STORE_RELAXED(c->count, c->count - 1);
        *ok = true;
        return true;
    }
    if (c->closed) {
        if (elem)
            memset(elem, 0, c->elem_size);
        *ok = false;
        return true;
    }
    return false;
}

void chan_send(chan *c, const void *elem) {
    if (!c)
        g_block_forever();
    struct waiter *wake = NULL;
    rt_lock(&c->lock);
    if (c->closed) {
        rt_unlock(&c->lock);
        go_panic("send on closed channel");
    }
    if (chan_send_locked(c, elem, &wake)) {
        rt_unlock(&c->lock);
        if (wake)
            g_ready(wake->g);
        return;
    }
    struct waiter self = {.g = g_current(), .elem = (void *)elem};
    waitq_push(&c->sendq, &self);
    rt_unlock(&c->lock);
    g_park(self.g);
    RT_CHECK(!self.queued, "chan: a sender woken while still queued");
    if (!self.success)
        go_panic("send on closed channel");
}

bool chan_recv(chan *c, void *elem) {
    if (!c)
        g_block_forever();
    struct waiter *wake = NULL;
    bool ok;
    rt_lock(&c->lock);
    if (chan_recv_locked(c, elem, &ok, &wake)) {
        rt_unlock(&c->lock);
        if (wake)
            g_ready(wake->g);
        return ok;
    }
    struct waiter self = {.g = g_current(), .elem = elem};
    waitq_push(&c->recvq, &self);
    rt_unlock(&c->lock);
    g_park(self.g);
    RT_CHECK(!self.queued, "chan: a receiver woken while still queued");
    return self.success;
}

/* Moves every waiter that can still be completed from q onto the list. */
static void claim_all(struct waitq *q, struct waiter **list, size_t elem_size, bool zero) {
    struct waiter *w;
    while ((w = waitq_claim(q)) != NULL) {
        if (zero && w->elem)
            memset(w->elem, 0, elem_size);
        w->success = false;
        w->next = *list;
        *list = w;
    }
}

void chan_close(chan *c) {
    if (!c)
        go_panic("close of nil channel");
    rt_lock(&c->lock);
    if (c->closed) {
        rt_unlock(&c->lock);
        go_panic("close of closed channel");
    }
    STORE_RELAXED(c->closed, true);
    struct waiter *list = NULL;
    claim_all(&c->recvq, &list, c->elem_size, true);
    claim_all(&c->sendq, &list, c->elem_size, false);
    RT_CHECK(!c->recvq.first && !c->sendq.first, "chan: a waiter left queued on a closed channel");
    rt_unlock(&c->lock);
    while (list) {
        /* Read next first: once woken, the waiter's stack frame may go. */
        struct waiter *next = list->next;
        g_ready(list->g);
        list = next;
    }
}

size_t chan_len(chan *c) {
    return c ? LOAD_RELAXED(c->count) : 0;
}

size_t chan_cap(chan *c) {
    return c ? c->cap : 0;
}

/* The order of the loads matters, as in Go's chan.go: "not ready" is read
 * first and "not closed" second. A channel never reopens, so if it is open at
 * the second load it was open at the first, when it was not ready either. */
bool chan_cannot_proceed(chan *c, bool send) {
    bool not_ready;
    if (send)
        not_ready = LOAD_ACQUIRE(c->recvq.first) == NULL && LOAD_ACQUIRE(c->count) == c->cap;
    else
        not_ready =
            c->cap == 0 ? LOAD_ACQUIRE(c->sendq.first) == NULL : LOAD_ACQUIRE(c->count) == 0;
    return not_ready && !LOAD_ACQUIRE(c->closed);
}

bool chan_offer(chan *c, const void *elem) {
    struct waiter *wake = NULL;
    rt_lock(&c->lock);
    bool sent = !c->closed && chan_send_locked(c, elem, &wake);
    rt_unlock(&c->lock);
    if (wake)
        g_ready(wake->g);
    return sent;
}

bool chan_poll(chan *c, void *elem) {
    struct waiter *wake = NULL;
    bool ok = false;
    rt_lock(&c->lock);
    bool got = chan_recv_locked(c, elem, &ok, &wake);
    rt_unlock(&c->lock);
    if (wake)
        g_ready(wake->g);
    return got && ok;
}
