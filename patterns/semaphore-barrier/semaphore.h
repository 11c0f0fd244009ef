/* semaphore.h: a weighted semaphore, in the shape of golang.org/x/sync/semaphore.
 *
 *     s := semaphore.NewWeighted(10)   ->  weighted s; weighted_init(&s, 10);
 *     err := s.Acquire(ctx, 3)         ->  const char *err = weighted_acquire(&s, ctx, 3);
 *     ok := s.TryAcquire(3)            ->  bool ok = weighted_try_acquire(&s, 3);
 *     s.Release(3)                     ->  weighted_release(&s, 3);
 *
 * A semaphore of size units that callers take several at a time (memory,
 * connections, CPU shares), and give back when they are done.
 *
 * Contract (x/sync's, as it stands since golang/go#63615):
 * - weighted_acquire takes n units, blocking until they are free or ctx is
 *   done. It returns NULL on success; on failure ctx_err(ctx), and the
 *   semaphore is as it was. A context already done fails, even with room.
 * - Waiters are served in FIFO order: a caller that finds anyone waiting
 *   queues behind them, even if its own n would fit. So a large request is
 *   never starved by a stream of small ones (x/sync's example: a semaphore of
 *   N used as a read-write lock, readers take 1, a writer takes N).
 * - n larger than size can never be granted: it waits for ctx alone, without
 *   holding up the queue.
 * - weighted_try_acquire takes n units only if they are free and nobody
 *   waits; it never blocks.
 * - weighted_release gives n units back and grants, in order, every waiter at
 *   the front of the queue that now fits. Releasing more than is held panics:
 *   "panic: semaphore: released more than held".
 * - weighted_waiting says how many callers are queued now (for the lesson and
 *   its tests; x/sync has no such method).
 *
 * The semaphore reads no clock: time enters only through a context's
 * deadline, so its tests (tests/test_semaphore.c) step through each state and
 * check it exactly.
 *
 * Ownership: a weighted lives where the caller puts it; weighted_destroy
 * after the last call. A waiter's node lives on its own stack, linked into
 * the queue while it waits. Its ready channel has two references, the
 * waiter's and the queue's: whoever takes it off the queue closes it (a
 * grant) and gives the queue's back, so the waiter may free its own the
 * moment it wakes. The functions are static inline: each program that
 * includes this header gets its own copy.
 *
 * Locking: mu guards cur and the queue; chan_close under mu is fine, as it
 * never blocks.
 */
#ifndef PATTERNS_SEMAPHORE_BARRIER_SEMAPHORE_H
#define PATTERNS_SEMAPHORE_BARRIER_SEMAPHORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/select.h"

struct weighted_waiter {
    int64_t n;    /* units it asks for */
    chan *ready;  /* closed when granted */
    bool granted; /* set under mu by the grant */
    struct weighted_waiter *prev, *next;
};

typedef struct weighted {
    pthread_mutex_t mu;
    int64_t size;                         /* the most units held at once */
    int64_t cur;                          /* units held now; guarded by mu */
    struct weighted_waiter *front, *back; /* the FIFO queue; guarded by mu */
    int waiting;                          /* its length; guarded by mu */
} weighted;

static inline void weighted_init(weighted *s, int64_t size) {
    pthread_mutex_init(&s->mu, NULL);
    s->size = size;
    s->cur = 0;
    s->front = s->back = NULL;
    s->waiting = 0;
}

static inline void weighted_destroy(weighted *s) {
    pthread_mutex_destroy(&s->mu);
}

/* done is closed (a NULL done, Background's, never is). */
static inline bool weighted_closed_(chan *done) {
    select_case c = select_recv(done, NULL);
    return chan_select_default(&c, 1) == 0;
}

static inline void weighted_unlink_(weighted *s, struct weighted_waiter *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        s->front = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->back = w->prev;
    s->waiting--;
}

/* Grants the front of the queue while it fits; stops at the first that does
 * not, so that nobody behind it passes it. Called with mu held. */
static inline void weighted_notify_(weighted *s) {
    while (s->front && s->size - s->cur >= s->front->n) {
        struct weighted_waiter *w = s->front;
        chan *ready = w->ready; /* once closed, w's frame may go */
        s->cur += w->n;
        w->granted = true;
        weighted_unlink_(s, w);
        chan_close(ready);
        chan_free(ready); /* the queue's reference */
    }
}

static inline void weighted_release(weighted *s, int64_t n) {
    pthread_mutex_lock(&s->mu);
    s->cur -= n;
    if (s->cur < 0) {
        pthread_mutex_unlock(&s->mu);
        go_panic("semaphore: released more than held");
    }
    weighted_notify_(s);
    pthread_mutex_unlock(&s->mu);
}

static inline const char *weighted_acquire(weighted *s, context *ctx, int64_t n) {
    chan *done = ctx_done(ctx);
    pthread_mutex_lock(&s->mu);
    if (weighted_closed_(done)) { /* done before we got here: fail, even with room */
        pthread_mutex_unlock(&s->mu);
        return ctx_err(ctx);
    }
    if (s->size - s->cur >= n && s->front == NULL) { /* room, and nobody ahead */
        s->cur += n;
        pthread_mutex_unlock(&s->mu);
        return NULL;
    }
    if (n > s->size) { /* never: wait for ctx alone, without holding up the queue */
        pthread_mutex_unlock(&s->mu);
        chan_recv(done, NULL);
        return ctx_err(ctx);
    }
    struct weighted_waiter w = {n, chan_make(0, 0), false, s->back, NULL};
    chan_ref(w.ready); /* the queue's reference */
    if (s->back)
        s->back->next = &w;
    else
        s->front = &w;
    s->back = &w;
    s->waiting++;
    pthread_mutex_unlock(&s->mu);

    select_case cases[2] = {select_recv(done, NULL), select_recv(w.ready, NULL)};
    if (chan_select(cases, 2) == 0) { /* ctx is done: leave the queue */
        pthread_mutex_lock(&s->mu);
        if (w.granted) { /* granted meanwhile: pretend we were not, give it back */
            s->cur -= n;
            weighted_notify_(s);
        } else {
            bool was_front = s->front == &w;
            weighted_unlink_(s, &w);
            chan_free(w.ready); /* the queue's reference */
            if (was_front && s->size > s->cur)
                weighted_notify_(s); /* those behind us may fit now */
        }
        pthread_mutex_unlock(&s->mu);
        chan_free(w.ready);
        return ctx_err(ctx);
    }
    chan_free(w.ready);
    if (weighted_closed_(done)) { /* granted, but ctx is done too: fail */
        weighted_release(s, n);
        return ctx_err(ctx);
    }
    return NULL;
}

static inline bool weighted_try_acquire(weighted *s, int64_t n) {
    pthread_mutex_lock(&s->mu);
    bool ok = s->size - s->cur >= n && s->front == NULL;
    if (ok)
        s->cur += n;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static inline int weighted_waiting(weighted *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->waiting;
    pthread_mutex_unlock(&s->mu);
    return n;
}

#endif
