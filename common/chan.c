/* chan.c: Go's channels, after runtime/chan.go.
 *
 * Invariants, true whenever a channel's lock is free (count is the number of
 * positions between head and tail, internal/chan_internal.h):
 * - count <= cap; every position in [head, tail) holds a value or is about to
 *   (a lock-free sender that claimed it is still copying), every other slot
 *   is free or about to be (a lock-free receiver is still copying out).
 * - The ring is frozen (RING_SLOW in head and tail, slow set) whenever a
 *   queue holds a waiter or the channel is closed; only then may a goroutine
 *   wait. So a lock-free send or receive, which needs the bit clear at its
 *   compare-and-swap, completes only while nobody waits: it never has to
 *   wake anyone, and no newcomer overtakes a blocked sender.
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
 * The race between the lock-free paths and a goroutine about to block: a
 * receiver that finds the ring empty takes the lock and freezes the ring,
 * with a fetch_or on tail and on head, before it looks again. The fetch_or
 * and a sender's compare-and-swap are read-modify-writes of one word, so one
 * comes first: a sender whose claim came first has a position below the tail
 * the receiver reads, and the receiver waits for its value (its seq) and takes
 * it instead of blocking; a sender that comes second fails its claim, takes
 * the lock, and finds the receiver queued. The same holds for a sender that
 * finds the ring full, and for close. The lock holder of a frozen ring waits
 * for a slot only while a lock-free operation that claimed it before the
 * freeze finishes its copy.
 *
 * Locking order: one lock per channel (an rt_mutex, internal/lock.h), the
 * innermost lock of common/: timers and contexts may hold theirs while they
 * take it, never the other way. select.c locks several channels, always in
 * order of address. A goroutine is woken (g_ready) only after the lock is
 * released.
 */
#include "common/chan.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal/chan_internal.h"
#include "common/internal/os.h"

chan *chan_make(size_t elem_size, size_t cap) {
    /* A slot: its sequence number, then the element, 8-byte aligned. */
    if (elem_size > (size_t)-1 / 4 || cap > ((size_t)-1 / 4) / (sizeof(size_t) + elem_size + 8))
        go_panic("makechan: size out of range");
    /* Cache lines of its own: no false sharing with its neighbours. */
    chan *c = aligned_alloc(64, sizeof *c);
    if (!c)
        go_fatal("out of memory");
    memset(c, 0, sizeof *c);
    c->elem_size = elem_size;
    c->cap = cap;
    c->stride = (sizeof(size_t) + elem_size + 7) & ~(size_t)7;
    c->one_lap = 1;
    while (c->one_lap <= cap)
        c->one_lap <<= 1;
    if (cap) {
        c->slots = xmalloc(cap * c->stride);
        for (size_t i = 0; i < cap; i++)
            atomic_init((_Atomic size_t *)(c->slots + i * c->stride), i);
    }
    atomic_init(&c->head, 0);
    atomic_init(&c->tail, 0);
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
    /* The last value may have gone to a lock-free receive while its sender
     * still held the lock on its way out (chan_unlock opens the lock-free
     * paths, then unlocks), and a receiver may free right after that
     * receive: wait for the holder, who touches nothing after its unlock. */
    rt_lock(&c->lock);
    rt_unlock(&c->lock);
    if (c->release)
        c->release(c);
    free(c->slots);
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

/* Copies one element; size 0 (chan struct{}) copies nothing, and then either
 * pointer may be NULL (which memcpy does not allow, even for 0 bytes). */
static void copy_elem(void *dst, const void *src, size_t size) {
    if (size == sizeof(int64_t))
        memcpy(dst, src, sizeof(int64_t)); /* the common size: a move, not a call */
    else if (size)
        memcpy(dst, src, size);
}

/* --- the ring --- */

static unsigned char *ring_slot(chan *c, size_t pos) {
    return c->slots + (pos & (c->one_lap - 1)) * c->stride;
}

static _Atomic size_t *slot_seq(unsigned char *s) {
    return (_Atomic size_t *)s;
}

static unsigned char *slot_elem(unsigned char *s) {
    return s + sizeof(size_t);
}

/* The position after pos: the next index, or index 0 of the next lap. */
static size_t ring_next(chan *c, size_t pos) {
    return (pos & (c->one_lap - 1)) + 1 < c->cap ? pos + 1 : (pos & ~(c->one_lap - 1)) + c->one_lap;
}

/* The lock-free send: true if the value is in the ring. False if the ring is
 * frozen or has no free slot at tail: then the lock decides. */
static bool ring_try_send(chan *c, const void *elem) {
    size_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
    for (;;) {
        if (tail & RING_SLOW)
            return false;
        unsigned char *s = ring_slot(c, tail);
        if (atomic_load_explicit(slot_seq(s), memory_order_acquire) == tail) {
            /* Free: claim the position. Success makes the slot ours; a
             * failure (another sender, or a freeze) reloads tail. */
            if (atomic_compare_exchange_weak_explicit(&c->tail, &tail, ring_next(c, tail),
                                                      memory_order_relaxed, memory_order_relaxed)) {
                copy_elem(slot_elem(s), elem, c->elem_size);
                atomic_store_explicit(slot_seq(s), tail + 1, memory_order_release);
                return true;
            }
        } else {
            /* Full, or a receiver still copying out of it; unless tail has
             * moved on meanwhile, the slow path sorts it out. */
            size_t now = atomic_load_explicit(&c->tail, memory_order_relaxed);
            if (now == tail)
                return false;
            tail = now;
        }
    }
}

/* The lock-free receive, the mirror of ring_try_send. */
static bool ring_try_recv(chan *c, void *elem) {
    size_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
    for (;;) {
        if (head & RING_SLOW)
            return false;
        unsigned char *s = ring_slot(c, head);
        if (atomic_load_explicit(slot_seq(s), memory_order_acquire) == head + 1) {
            if (atomic_compare_exchange_weak_explicit(&c->head, &head, ring_next(c, head),
                                                      memory_order_relaxed, memory_order_relaxed)) {
                if (elem)
                    copy_elem(elem, slot_elem(s), c->elem_size);
                atomic_store_explicit(slot_seq(s), head + c->one_lap, memory_order_release);
                return true;
            }
        } else {
            size_t now = atomic_load_explicit(&c->head, memory_order_relaxed);
            if (now == head)
                return false;
            head = now;
        }
    }
}

/* Values between head and tail (positions without RING_SLOW): as
 * crossbeam's array channel counts them. */
static size_t ring_count(chan *c, size_t head, size_t tail) {
    size_t hix = head & (c->one_lap - 1), tix = tail & (c->one_lap - 1);
    if (hix < tix)
        return tix - hix;
    if (hix > tix)
        return c->cap - hix + tix;
    return head == tail ? 0 : c->cap;
}

/* With the lock: switches the lock-free paths off. From the fetch_or on,
 * every claim on the word fails, so only the lock holder moves the ring. */
static void ring_freeze(chan *c) {
    if (c->slow || c->cap == 0)
        return;
    atomic_fetch_or_explicit(&c->tail, RING_SLOW, memory_order_relaxed);
    atomic_fetch_or_explicit(&c->head, RING_SLOW, memory_order_relaxed);
    c->slow = true;
}

/* With the lock and the ring frozen: the count, stable but for nothing. */
static size_t frozen_count(chan *c) {
    size_t head = atomic_load_explicit(&c->head, memory_order_relaxed) & ~RING_SLOW;
    size_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed) & ~RING_SLOW;
    return ring_count(c, head, tail);
}

/* Waits until slot s reads seq want: a lock-free operation that claimed it
 * before the freeze is still copying, and then s reads busy. Anything else
 * is a ring out of order. */
static unsigned char *ring_wait(unsigned char *s, size_t want, size_t busy) {
    size_t seq;
    for (int i = 0; (seq = atomic_load_explicit(slot_seq(s), memory_order_acquire)) != want; i++) {
        RT_CHECK(seq == busy, "chan: a ring slot out of sequence");
        if (i < 100)
            cpu_relax();
        else
            sched_yield(); /* its owner may have lost its core */
    }
    return s;
}

/* With the lock, the ring frozen and count < cap: the newest value. */
static void ring_push_locked(chan *c, const void *elem) {
    size_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed) & ~RING_SLOW;
    unsigned char *s = ring_wait(ring_slot(c, tail), tail, tail + 1 - c->one_lap);
    copy_elem(slot_elem(s), elem, c->elem_size);
    atomic_store_explicit(slot_seq(s), tail + 1, memory_order_release);
    atomic_store_explicit(&c->tail, ring_next(c, tail) | RING_SLOW, memory_order_relaxed);
}

/* With the lock, the ring frozen and count > 0: the oldest value. */
static void ring_pop_locked(chan *c, void *elem) {
    size_t head = atomic_load_explicit(&c->head, memory_order_relaxed) & ~RING_SLOW;
    unsigned char *s = ring_wait(ring_slot(c, head), head + 1, head);
    if (elem)
        copy_elem(elem, slot_elem(s), c->elem_size);
    atomic_store_explicit(slot_seq(s), head + c->one_lap, memory_order_release);
    atomic_store_explicit(&c->head, ring_next(c, head) | RING_SLOW, memory_order_relaxed);
}

void chan_unlock(chan *c) {
    if (c->slow && !c->closed && !c->recvq.first && !c->sendq.first) {
        /* Nobody waits: the lock-free paths may run again. */
        size_t head = atomic_load_explicit(&c->head, memory_order_relaxed) & ~RING_SLOW;
        size_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed) & ~RING_SLOW;
        RT_CHECK(ring_count(c, head, tail) <= c->cap,
                 "chan: a ring holding more than its capacity");
        atomic_store_explicit(&c->head, head, memory_order_release);
        atomic_store_explicit(&c->tail, tail, memory_order_release);
        c->slow = false;
    }
    rt_unlock(&c->lock);
}

/* --- with the lock --- */

bool chan_send_locked(chan *c, const void *elem, struct waiter **wake) {
    ring_freeze(c);
    struct waiter *w = waitq_claim(&c->recvq);
    if (w) {
        /* A receiver waits, so the buffer is empty: hand the value over. */
        RT_CHECK(frozen_count(c) == 0, "chan: a receiver waits while values are buffered");
        if (w->elem)
            copy_elem(w->elem, elem, c->elem_size);
        w->success = true;
        *wake = w;
        return true;
    }
    if (c->cap && frozen_count(c) < c->cap) {
        ring_push_locked(c, elem);
        return true;
    }
    return false;
}

bool chan_recv_locked(chan *c, void *elem, bool *ok, struct waiter **wake) {
    ring_freeze(c);
    struct waiter *w = waitq_claim(&c->sendq);
    if (w) {
        RT_CHECK(frozen_count(c) == c->cap, "chan: a sender waits while the buffer has room");
        if (c->cap == 0) {
            if (elem)
                copy_elem(elem, w->elem, c->elem_size);
        } else {
            /* The buffer is full: take its oldest value and put the blocked
             * sender's value in the freed slot, which is now the newest, so
             * the sender keeps its place in line. */
            ring_pop_locked(c, elem);
            ring_push_locked(c, w->elem);
        }
        w->success = true;
        *wake = w;
        *ok = true;
        return true;
    }
    if (frozen_count(c) > 0) {
        ring_pop_locked(c, elem);
        *ok = true;
        return true;
    }
    if (c->closed) {
        if (elem && c->elem_size)
            memset(elem, 0, c->elem_size);
        *ok = false;
        return true;
    }
    return false;
}

void chan_send(chan *c, const void *elem) {
    if (!c)
        g_block_forever();
    /* The fast path: room in the ring and nobody waiting. */
    if (c->cap && ring_try_send(c, elem))
        return;
    struct waiter *wake = NULL;
    rt_lock(&c->lock);
    if (c->closed) {
        chan_unlock(c);
        go_panic("send on closed channel");
    }
    if (chan_send_locked(c, elem, &wake)) {
        chan_unlock(c);
        if (wake)
            g_ready(wake->g);
        return;
    }
    struct waiter self = {.g = g_current(), .elem = (void *)elem};
    waitq_push(&c->sendq, &self);
    chan_unlock(c);
    g_park(self.g);
    RT_CHECK(!self.queued, "chan: a sender woken while still queued");
    if (!self.success)
        go_panic("send on closed channel");
}

bool chan_recv(chan *c, void *elem) {
    if (!c)
        g_block_forever();
    /* The fast path: a value in the ring and nobody waiting. */
    if (c->cap && ring_try_recv(c, elem))
        return true;
    struct waiter *wake = NULL;
    bool ok;
    rt_lock(&c->lock);
    if (chan_recv_locked(c, elem, &ok, &wake)) {
        chan_unlock(c);
        if (wake)
            g_ready(wake->g);
        return ok;
    }
    struct waiter self = {.g = g_current(), .elem = elem};
    waitq_push(&c->recvq, &self);
    chan_unlock(c);
    g_park(self.g);
    RT_CHECK(!self.queued, "chan: a receiver woken while still queued");
    return self.success;
}

/* Moves every waiter that can still be completed from q onto the list. */
static void claim_all(struct waitq *q, struct waiter **list, size_t elem_size, bool zero) {
    struct waiter *w;
    while ((w = waitq_claim(q)) != NULL) {
        if (zero && w->elem && elem_size)
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
        chan_unlock(c);
        go_panic("close of closed channel");
    }
    ring_freeze(c); /* for good: a closed channel takes the lock */
    STORE_RELAXED(c->closed, true);
    struct waiter *list = NULL;
    claim_all(&c->recvq, &list, c->elem_size, true);
    claim_all(&c->sendq, &list, c->elem_size, false);
    RT_CHECK(!c->recvq.first && !c->sendq.first, "chan: a waiter left queued on a closed channel");
    chan_unlock(c);
    while (list) {
        /* Read next first: once woken, the waiter's stack frame may go. */
        struct waiter *next = list->next;
        g_ready(list->g);
        list = next;
    }
}

/* As crossbeam's len: tail read twice around head, so that the pair is one
 * the ring really held (Go's len is a racy read too). */
size_t chan_len(chan *c) {
    if (!c || c->cap == 0)
        return 0;
    for (;;) {
        size_t tail = atomic_load_explicit(&c->tail, memory_order_acquire);
        size_t head = atomic_load_explicit(&c->head, memory_order_acquire);
        if (atomic_load_explicit(&c->tail, memory_order_acquire) == tail)
            return ring_count(c, head & ~RING_SLOW, tail & ~RING_SLOW);
    }
}

size_t chan_cap(chan *c) {
    return c ? c->cap : 0;
}

/* The order of the loads matters, as in Go's chan.go: "not ready" is read
 * first and "not closed" second. A channel never reopens, so if it is open at
 * the second load it was open at the first, when it was not ready either.
 * Within "not ready", head and tail only grow: a ring that reads full with
 * tail loaded before head was full when head was loaded (the tail then was
 * no lower), and one that reads empty with head loaded before tail was empty
 * when tail was loaded (the head then was no lower, and never passes it). */
bool chan_cannot_proceed(chan *c, bool send) {
    bool not_ready;
    if (c->cap == 0) {
        not_ready =
            send ? LOAD_ACQUIRE(c->recvq.first) == NULL : LOAD_ACQUIRE(c->sendq.first) == NULL;
    } else if (send) {
        size_t tail = atomic_load_explicit(&c->tail, memory_order_acquire) & ~RING_SLOW;
        size_t head = atomic_load_explicit(&c->head, memory_order_acquire) & ~RING_SLOW;
        not_ready = LOAD_ACQUIRE(c->recvq.first) == NULL && head + c->one_lap == tail;
    } else {
        size_t head = atomic_load_explicit(&c->head, memory_order_acquire) & ~RING_SLOW;
        size_t tail = atomic_load_explicit(&c->tail, memory_order_acquire) & ~RING_SLOW;
        not_ready = head == tail;
    }
    return not_ready && !LOAD_ACQUIRE(c->closed);
}

bool chan_offer(chan *c, const void *elem) {
    struct waiter *wake = NULL;
    rt_lock(&c->lock);
    bool sent = !c->closed && chan_send_locked(c, elem, &wake);
    chan_unlock(c);
    if (wake)
        g_ready(wake->g);
    return sent;
}

bool chan_poll(chan *c, void *elem) {
    struct waiter *wake = NULL;
    bool ok = false;
    rt_lock(&c->lock);
    bool got = chan_recv_locked(c, elem, &ok, &wake);
    chan_unlock(c);
    if (wake)
        g_ready(wake->g);
    return got && ok;
}
