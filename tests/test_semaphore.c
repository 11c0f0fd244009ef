/* test_semaphore.c: the weighted semaphore of
 * patterns/semaphore-barrier/semaphore.h (x/sync/semaphore's contract), case
 * by case.
 *
 * Nothing here is timed. The semaphore reads no clock, and every change of
 * its state happens under its lock inside a call: a grant is complete when
 * weighted_release (or a cancelled waiter's exit) returns. So each case
 * takes one step at a time: it queues a waiter and waits until the queue
 * holds it (weighted_waiting, polled with a bound), releases, and then reads
 * the units held and the queue's length, which are exact at that moment.
 * Cancellation is a context the case cancels by hand. The one deadline (a
 * context's) only decides that a wait ends, not when.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "patterns/semaphore-barrier/semaphore.h"
#include "testlib.h"

enum { WAITING, GRANTED, FAILED, RELEASED };

/* A goroutine that asks s for n units under ctx (NULL: Background); once
 * granted, it holds them until release is closed, then gives them back. Its
 * last act is to store RELEASED or FAILED in state: after that it touches
 * nothing of its own. */
typedef struct acquirer {
    weighted *s;
    context *ctx;
    int64_t n;
    chan *release;
    atomic_int tid;
    atomic_int state;
    _Atomic(const char *) err;
} acquirer;

static void do_acquire(void *arg) {
    acquirer *a = arg;
    atomic_store(&a->tid, gettid());
    const char *err = weighted_acquire(a->s, a->ctx ? a->ctx : ctx_background(), a->n);
    atomic_store(&a->err, err);
    chan *release = a->release;
    if (err) {
        chan_free(release);
        atomic_store(&a->state, FAILED);
        return;
    }
    atomic_store(&a->state, GRANTED);
    chan_recv(release, NULL);
    weighted_release(a->s, a->n);
    chan_free(release);
    atomic_store(&a->state, RELEASED);
}

/* Starts an acquirer of n units. */
static void start(acquirer *a, weighted *s, context *ctx, int64_t n) {
    *a = (acquirer){.s = s, .ctx = ctx, .n = n, .release = chan_make(0, 0)};
    chan_ref(a->release); /* the acquirer's own reference, freed by it */
    go(do_acquire, a);
}

/* Starts an acquirer and waits until it is the queue's k-th. */
static void queue(acquirer *a, weighted *s, context *ctx, int64_t n, int k) {
    start(a, s, ctx, n);
    WAIT_FOR(weighted_waiting(s) == k, 5);
}

/* Tells a granted acquirer to give its units back, and waits until it has. */
static void give_back(acquirer *a) {
    WAIT_FOR(atomic_load(&a->state) == GRANTED, 5);
    chan_close(a->release);
    chan_free(a->release);
    WAIT_FOR(atomic_load(&a->state) == RELEASED, 5);
}

/* For an acquirer that failed: waits for its end and frees its channel. */
static void reap_failed(acquirer *a) {
    WAIT_FOR(atomic_load(&a->state) == FAILED, 5);
    chan_free(a->release);
}

static int64_t held(weighted *s) {
    pthread_mutex_lock(&s->mu);
    int64_t cur = s->cur;
    pthread_mutex_unlock(&s->mu);
    return cur;
}

static void acquire_takes_units_while_they_fit(void) {
    weighted s;
    weighted_init(&s, 10);
    EXPECT_ERR(NULL, weighted_acquire(&s, ctx_background(), 3));
    EXPECT_EQ(3, held(&s));
    EXPECT_ERR(NULL, weighted_acquire(&s, ctx_background(), 7));
    EXPECT_EQ(10, held(&s));
    EXPECT_ERR(NULL, weighted_acquire(&s, ctx_background(), 0)); /* nothing asked: granted */
    EXPECT_EQ(0, weighted_waiting(&s));
    weighted_release(&s, 4);
    EXPECT_EQ(6, held(&s));
    weighted_release(&s, 6);
    EXPECT_EQ(0, held(&s));
    weighted_destroy(&s);
}

static void try_acquire_takes_what_fits_and_never_blocks(void) {
    weighted s;
    weighted_init(&s, 5);
    EXPECT(weighted_try_acquire(&s, 5));
    EXPECT(!weighted_try_acquire(&s, 1));
    weighted_release(&s, 2);
    EXPECT(!weighted_try_acquire(&s, 3));
    EXPECT(weighted_try_acquire(&s, 2));
    EXPECT_EQ(5, held(&s));
    EXPECT(!weighted_try_acquire(&s, 6)); /* more than the size: never */
    weighted_release(&s, 5);
    EXPECT_EQ(0, held(&s));
    weighted_destroy(&s);
}

/* A waiter is granted by the release that makes room for it, not before,
 * and the grant is complete when that release returns. */
static void waiter_is_granted_by_the_release_that_makes_room(void) {
    weighted s;
    weighted_init(&s, 10);
    EXPECT(weighted_try_acquire(&s, 10));
    acquirer a;
    queue(&a, &s, NULL, 4, 1);
    WAIT_BLOCKED(&a.tid);
    weighted_release(&s, 3); /* 3 free: not enough */
    EXPECT_EQ(7, held(&s));
    EXPECT_EQ(1, weighted_waiting(&s));
    EXPECT_EQ(WAITING, atomic_load(&a.state));
    weighted_release(&s, 1); /* 4 free: granted, inside this call */
    EXPECT_EQ(10, held(&s));
    EXPECT_EQ(0, weighted_waiting(&s));
    give_back(&a);
    EXPECT_EQ(6, held(&s));
    weighted_release(&s, 6);
    EXPECT_EQ(0, held(&s));
    weighted_destroy(&s);
}

/* FIFO: with one unit free, a waiter of 4 at the front holds up waiters of 1
 * behind it, and TryAcquire(1) too; it is served first, they after it. */
static void a_large_waiter_is_not_passed_by_small_ones(void) {
    weighted s;
    weighted_init(&s, 4);
    EXPECT(weighted_try_acquire(&s, 3));
    acquirer big, small[2];
    queue(&big, &s, NULL, 4, 1);
    queue(&small[0], &s, NULL, 1, 2); /* one unit is free, yet it queues */
    queue(&small[1], &s, NULL, 1, 3);
    EXPECT(!weighted_try_acquire(&s, 1));
    EXPECT_EQ(3, held(&s));
    WAIT_BLOCKED(&small[0].tid);
    WAIT_BLOCKED(&small[1].tid);
    EXPECT_EQ(WAITING, atomic_load(&small[0].state));
    EXPECT_EQ(WAITING, atomic_load(&small[1].state));
    weighted_release(&s, 3); /* the big one first: all four units */
    EXPECT_EQ(4, held(&s));
    EXPECT_EQ(2, weighted_waiting(&s));
    give_back(&big); /* then both small ones, in that same release */
    EXPECT_EQ(2, held(&s));
    EXPECT_EQ(0, weighted_waiting(&s));
    give_back(&small[0]);
    give_back(&small[1]);
    EXPECT_EQ(0, held(&s));
    weighted_destroy(&s);
}

/* Grants go down the queue while the front fits, and stop at the first
 * that does not, even if one behind it would fit. */
static void grants_stop_at_the_first_waiter_that_does_not_fit(void) {
    weighted s;
    weighted_init(&s, 6);
    EXPECT(weighted_try_acquire(&s, 6));
    acquirer a, b, c;
    queue(&a, &s, NULL, 2, 1);
    queue(&b, &s, NULL, 5, 2);
    queue(&c, &s, NULL, 1, 3);
    weighted_release(&s, 2); /* a fits */
    EXPECT_EQ(6, held(&s));
    EXPECT_EQ(2, weighted_waiting(&s));
    weighted_release(&s, 1); /* 1 free: b (5) does not fit, and c (1) waits behind it */
    EXPECT_EQ(5, held(&s));
    EXPECT_EQ(2, weighted_waiting(&s));
    weighted_release(&s, 3); /* main's last: 4 free, still not 5 */
    EXPECT_EQ(2, held(&s));
    EXPECT_EQ(2, weighted_waiting(&s));
    EXPECT_EQ(WAITING, atomic_load(&c.state));
    give_back(&a); /* 6 free: b, then c */
    EXPECT_EQ(6, held(&s));
    EXPECT_EQ(0, weighted_waiting(&s));
    give_back(&b);
    give_back(&c);
    EXPECT_EQ(0, held(&s));
    weighted_destroy(&s);
}

/* A cancelled waiter leaves the queue with ctx_err, the semaphore as it was;
 * if it was at the front, those behind it that now fit are granted. */
static void cancelling_the_front_waiter_lets_the_next_ones_in(void) {
    weighted s;
    weighted_init(&s, 4);
    EXPECT(weighted_try_acquire(&s, 3));
    context *ctx = ctx_with_cancel(ctx_background());
    acquirer big, small;
    queue(&big, &s, ctx, 4, 1);
    queue(&small, &s, NULL, 1, 2);
    ctx_cancel(ctx);
    reap_failed(&big);
    EXPECT_ERR(context_canceled, atomic_load(&big.err));
    EXPECT_EQ(4, held(&s)); /* main's 3 and small's 1, granted on the way out */
    EXPECT_EQ(0, weighted_waiting(&s));
    give_back(&small);
    weighted_release(&s, 3);
    EXPECT_EQ(0, held(&s));
    ctx_free(ctx);
    weighted_destroy(&s);
}

static void cancelling_a_waiter_behind_the_front_grants_nobody(void) {
    weighted s;
    weighted_init(&s, 4);
    EXPECT(weighted_try_acquire(&s, 4));
    context *ctx = ctx_with_cancel(ctx_background());
    acquirer a, b;
    queue(&a, &s, NULL, 2, 1);
    queue(&b, &s, ctx, 1, 2);
    ctx_cancel(ctx);
    reap_failed(&b);
    EXPECT_ERR(context_canceled, atomic_load(&b.err));
    EXPECT_EQ(4, held(&s));
    EXPECT_EQ(1, weighted_waiting(&s));
    weighted_release(&s, 2);
    EXPECT_EQ(4, held(&s));
    give_back(&a);
    weighted_release(&s, 2);
    EXPECT_EQ(0, held(&s));
    ctx_free(ctx);
    weighted_destroy(&s);
}

/* A context done before the call fails it, even with room (x/sync since golang/go#63615). */
static void a_done_context_fails_even_with_room(void) {
    weighted s;
    weighted_init(&s, 4);
    context *cancelled = ctx_with_cancel(ctx_background());
    ctx_cancel(cancelled);
    EXPECT_ERR(context_canceled, weighted_acquire(&s, cancelled, 1));
    context *expired = ctx_with_deadline(ctx_background(), time_now() - SECOND);
    EXPECT_ERR(deadline_exceeded, weighted_acquire(&s, expired, 1));
    EXPECT_EQ(0, held(&s));
    EXPECT_EQ(0, weighted_waiting(&s));
    ctx_free(cancelled);
    ctx_free(expired);
    weighted_destroy(&s);
}

/* More than the size can never be granted: it waits for its context alone,
 * and does not hold up anyone else. */
static void a_request_larger_than_the_size_waits_for_its_context_only(void) {
    weighted s;
    weighted_init(&s, 3);
    context *ctx = ctx_with_cancel(ctx_background());
    acquirer a;
    start(&a, &s, ctx, 4);
    WAIT_BLOCKED(&a.tid);
    EXPECT_EQ(0, weighted_waiting(&s));
    EXPECT_ERR(NULL, weighted_acquire(&s, ctx_background(), 3)); /* not held up */
    ctx_cancel(ctx);
    reap_failed(&a);
    EXPECT_ERR(context_canceled, atomic_load(&a.err));
    EXPECT_EQ(3, held(&s));
    weighted_release(&s, 3);
    ctx_free(ctx);
    weighted_destroy(&s);
}

/* A deadline ends a wait: deadline_exceeded, and the queue is as it was. */
static void a_deadline_ends_a_wait(void) {
    weighted s;
    weighted_init(&s, 1);
    EXPECT(weighted_try_acquire(&s, 1));
    context *ctx = ctx_with_timeout(ctx_background(), 20 * MILLISECOND);
    EXPECT_ERR(deadline_exceeded, weighted_acquire(&s, ctx, 1));
    EXPECT_EQ(1, held(&s));
    EXPECT_EQ(0, weighted_waiting(&s));
    weighted_release(&s, 1);
    ctx_free(ctx);
    weighted_destroy(&s);
}

/* Many goroutines, random sizes, random timeouts racing with grants: the
 * units held never exceed the size, and at the end nothing is held and
 * nobody waits (a grant that raced a cancel was given back). */
enum { STRESS_SIZE = 8, STRESS_GOROUTINES = 16 };
typedef struct stress {
    weighted s;
    atomic_long in_use;
    atomic_int over, granted, failed;
    int rounds;
} stress;

static void stress_worker(void *arg) {
    stress *st = arg;
    unsigned seed = (unsigned)gettid();
    for (int r = 0; r < st->rounds; r++) {
        int64_t n = rand_r(&seed) % 4 + 1;
        context *ctx = rand_r(&seed) % 2
                           ? ctx_with_timeout(ctx_background(), (rand_r(&seed) % 300) * MICROSECOND)
                           : ctx_with_cancel(ctx_background());
        if (weighted_acquire(&st->s, ctx, n) == NULL) {
            if (atomic_fetch_add(&st->in_use, n) + n > STRESS_SIZE)
                atomic_fetch_add(&st->over, 1);
            if (rand_r(&seed) % 4 == 0)
                time_sleep(50 * MICROSECOND);
            atomic_fetch_sub(&st->in_use, n);
            weighted_release(&st->s, n);
            atomic_fetch_add(&st->granted, 1);
        } else {
            atomic_fetch_add(&st->failed, 1);
        }
        ctx_free(ctx);
    }
}

static void stress_never_over_the_size_and_nothing_lost(void) {
    stress st = {.rounds = QUICK_OR(2000, 100)};
    weighted_init(&st.s, STRESS_SIZE);
    waitgroup wg = WAITGROUP_INIT;
    for (int i = 0; i < STRESS_GOROUTINES; i++)
        wg_go(&wg, stress_worker, &st);
    wg_wait(&wg);
    EXPECT_EQ(0, atomic_load(&st.over));
    EXPECT_EQ(STRESS_GOROUTINES * st.rounds, atomic_load(&st.granted) + atomic_load(&st.failed));
    EXPECT(atomic_load(&st.granted) > 0);
    EXPECT_EQ(0, held(&st.s));
    EXPECT_EQ(0, weighted_waiting(&st.s));
    weighted_destroy(&st.s);
}

static void releasing_more_than_held_panics(void) {
    weighted s;
    weighted_init(&s, 4);
    EXPECT(weighted_try_acquire(&s, 2));
    weighted_release(&s, 3);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(acquire_takes_units_while_they_fit),
        TEST(try_acquire_takes_what_fits_and_never_blocks),
        TEST(waiter_is_granted_by_the_release_that_makes_room),
        TEST(a_large_waiter_is_not_passed_by_small_ones),
        TEST(grants_stop_at_the_first_waiter_that_does_not_fit),
        TEST(cancelling_the_front_waiter_lets_the_next_ones_in),
        TEST(cancelling_a_waiter_behind_the_front_grants_nobody),
        TEST(a_done_context_fails_even_with_room),
        TEST(a_request_larger_than_the_size_waits_for_its_context_only),
        TEST(a_deadline_ends_a_wait),
        TEST(stress_never_over_the_size_and_nothing_lost),
        TEST_EXIT(releasing_more_than_held_panics),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
