/* chan_internal.h: the channel's insides, shared by chan.c, select.c and the
 * timer thread (timer.c). Not for exercises.
 *
 * There are up to three players: the goroutine that blocks, the goroutine
 * that completes its operation, and the channel between them. A goroutine
 * that blocks on a channel puts a waiter record, living on its own stack, into
 * the channel's sendq or recvq and parks. The goroutine that completes the
 * operation takes the waiter out of the queue, copies the value into or out of
 * it, sets success, and only then wakes it: the woken goroutine never retries
 * and nobody can overtake it.
 *
 * A select puts one waiter per case into the queues of several channels; they
 * share one select_state. Whoever first wins the compare-and-swap on
 * select_state.done completes the select; the others find the waiter stale,
 * drop it from their queue and move on. The select removes what is left of
 * its waiters after it wakes.
 *
 * Contract of the functions below (all in chan.c):
 * - waitq_push and waitq_remove need c's lock. A waiter is in at most one
 *   queue; pushing a queued waiter, or removing one that is not queued, is a
 *   fatal error.
 * - chan_send_locked and chan_recv_locked need c's lock and never block: they
 *   complete the operation now if they can, and return false otherwise. A
 *   waiter they took from a queue is returned in *wake, for the caller to
 *   g_ready after unlocking (never under the lock: the woken goroutine would
 *   spin on it). chan_send_locked must not be called on a closed channel.
 * - chan_cannot_proceed reads without the lock.
 * - chan_offer and chan_poll take the lock themselves, never block and never
 *   panic: they are for the timer thread, which is not a goroutine.
 * Ownership: a waiter belongs to the goroutine on whose stack it lives; a
 * queue only borrows it until the waiter is woken.
 */
#ifndef COMMON_INTERNAL_CHAN_INTERNAL_H
#define COMMON_INTERNAL_CHAN_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/chan.h"
#include "common/internal/runtime.h"

struct select_state {
    atomic_int done; /* 0 until one operation claims the select */
    int fired;       /* the index of the case that completed; set by the claimer */
};

struct waiter {
    struct waiter *next, *prev; /* in the channel's queue, or the close list */
    struct g *g;                /* the parked goroutine */
    void *elem;                 /* send: the value; receive: where it goes (or NULL) */
    struct select_state *sel;   /* NULL for a plain send or receive */
    int case_index;             /* the select case this waiter stands for */
    bool queued;                /* still in a queue; guarded by the channel's lock */
    bool success;               /* true: the value moved; false: the channel closed */
};

struct waitq {
    struct waiter *first, *last;
};

/* A buffered channel's buffer is a ring of cap slots with a sequence number
 * each, after Vyukov's bounded MPMC queue (as crossbeam-channel's array
 * flavor): tail is where the next send goes, head where the next receive
 * comes from. A position is a lap and a slot index, lap * one_lap + index,
 * with one_lap the power of two above cap. A slot whose seq equals a
 * position p is free for the send at p; seq p + 1 means it holds the value
 * sent at p, for the receive at p, which then sets seq p + one_lap (free for
 * the next lap). Either side claims a position by a compare-and-swap on its
 * word and then owns that slot until it stores the new seq.
 *
 * RING_SLOW, the top bit of head and tail, switches the lock-free paths off:
 * with it set, a compare-and-swap on either word fails, so only the holder
 * of the channel's lock moves the ring. It is set (ring_freeze, under the
 * lock) before any operation that involves the lock, and cleared again
 * (chan_unlock) once no goroutine waits on the channel, unless it is closed.
 * So a lock-free send or receive completes only while no goroutine waits,
 * and never has to wake one. */
#define RING_SLOW ((size_t)1 << (sizeof(size_t) * 8 - 1))

struct chan {
    /* The ring's two ends, each in a cache line of its own: senders write
     * tail, receivers head, without the lock while neither has RING_SLOW. */
    _Alignas(64) _Atomic size_t tail;
    _Alignas(64) _Atomic size_t head;
    /* What every locked operation writes, in one cache line of its own. */
    _Alignas(64) rt_mutex lock; /* guards everything in this line */
    bool closed;
    bool slow;          /* RING_SLOW is set in head and tail (buffered only) */
    struct waitq recvq; /* blocked receivers: only while the buffer is empty */
    struct waitq sendq; /* blocked senders: only while the buffer is full */
    /* Fixed at chan_make (refs aside), so shared by every core's cache. */
    _Alignas(64) size_t elem_size;
    size_t cap;           /* buffer slots; 0 for an unbuffered channel */
    size_t one_lap;       /* the power of two above cap: a lap of positions */
    size_t stride;        /* bytes per slot: its seq, then the element */
    unsigned char *slots; /* cap slots */
    atomic_int refs;      /* references given out and not yet given back */
    /* Called by the chan_free that gives back the last reference, before the
     * memory goes; NULL for none. Set before the channel is shared, never
     * changed after: a time_after channel takes its pending entry off the
     * timer heap (timer.c). release_arg is the setter's; chan.c never reads it
     * (atomic: timer.c reads it without its lock to skip a release with nothing
     * left to do). */
    void (*release)(chan *c);
    _Atomic(void *) release_arg;
};

/* closed and the queues' first pointers are also read without the lock, by
 * the fast path of a non-blocking select (as Go's selectnbrecv does): they
 * are written under the lock with relaxed atomic stores, and read without it
 * with atomic loads (acquire where their order matters). */
#define STORE_RELAXED(field, value) __atomic_store_n(&(field), (value), __ATOMIC_RELAXED)
#define LOAD_RELAXED(field)         __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define LOAD_ACQUIRE(field)         __atomic_load_n(&(field), __ATOMIC_ACQUIRE)

void waitq_push(struct waitq *q, struct waiter *w);
void waitq_remove(struct waitq *q, struct waiter *w);

/* With c locked: complete a send or receive now if possible. chan_recv_locked
 * sets *ok like chan_recv's result. */
bool chan_send_locked(chan *c, const void *elem, struct waiter **wake);
bool chan_recv_locked(chan *c, void *elem, bool *ok, struct waiter **wake);

/* Releases c's lock; first turns the ring's lock-free paths back on if no
 * goroutine waits on c any more and c is open. Every holder of a channel's
 * lock releases it so. */
void chan_unlock(chan *c);

/* Without the lock: true if the case surely cannot proceed now (the caller
 * may act as if it observed the channel at that moment). */
bool chan_cannot_proceed(chan *c, bool send);

/* Non-blocking send and receive: false when they could not proceed. */
bool chan_offer(chan *c, const void *elem);
bool chan_poll(chan *c, void *elem);

#endif
