/* test_runtime.c: the runtime's own checks (common/internal/), Go's throw.
 *
 * The runtime checks, in every build, the states that must never happen, and dies with
 * "fatal error: " and what broke, status 2. No program using the public headers can reach
 * those states, so each TEST_EXIT case here makes one through the internal headers, as a
 * faulty part of common/ would: a waker that forgets to take a waiter off its queue, a lock
 * unlocked twice, a count given back once too often. A few normal cases first show that the
 * same internal calls, used right, pass the checks.
 */
#include <stdint.h>

#include "common/chan.h"
#include "common/go.h"
#include "common/internal/chan_internal.h"
#include "common/internal/runtime.h"
#include "common/internal/timer_internal.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"
#include "testlib.h"

/* --- used right, the internals pass their checks --- */

typedef struct counter {
    rt_mutex mu;
    int64_t n; /* plain: ThreadSanitizer checks that the lock orders every access */
} counter;

static void add_many(void *arg) {
    counter *c = arg;
    for (int i = 0; i < QUICK_OR(100000, 1000); i++) {
        rt_lock(&c->mu);
        c->n++;
        rt_unlock(&c->mu);
    }
}

static void rt_mutex_excludes(void) {
    enum { WORKERS = 4 };
    counter c = {.n = 0};
    waitgroup wg = WAITGROUP_INIT;
    for (int i = 0; i < WORKERS; i++)
        wg_go(&wg, add_many, &c);
    wg_wait(&wg);
    EXPECT_EQ(WORKERS * QUICK_OR(100000, 1000), c.n);
}

static void g_ready_before_g_park_makes_it_return_at_once(void) {
    struct g *self = g_current();
    instant start = time_now();
    g_ready(self);
    g_park(self);
    EXPECT(time_since(start) < TEST_SECONDS(1));
}

static void wakers_begin_and_end_in_pairs(void) {
    for (int i = 0; i < 3; i++)
        sched_waker_begin();
    for (int i = 0; i < 3; i++)
        sched_waker_end();
}

/* --- each broken state ends the process: "fatal error: ...", status 2 --- */

static void unlock_of_unlocked_lock_is_fatal(void) {
    rt_mutex mu = {0};
    rt_lock(&mu);
    rt_unlock(&mu);
    rt_unlock(&mu);
}

static void g_ready_twice_is_fatal(void) {
    struct g *self = g_current();
    g_ready(self);
    g_ready(self);
}

static void waker_count_below_zero_is_fatal(void) {
    sched_waker_end();
}

static void waiter_queued_twice_is_fatal(void) {
    struct waitq q = {NULL, NULL};
    struct waiter w = {.g = g_current()};
    waitq_push(&q, &w);
    waitq_push(&q, &w);
}

static void removing_a_waiter_not_queued_is_fatal(void) {
    struct waitq q = {NULL, NULL};
    struct waiter w = {.g = g_current()};
    waitq_remove(&q, &w);
}

static void chan_ref_of_a_freed_channel_is_fatal(void) {
    chan *c = chan_make(sizeof(int64_t), 0);
    atomic_store(&c->refs, 0); /* as if the last reference had gone, the memory not yet */
    chan_ref(c);
}

static void chan_free_below_zero_is_fatal(void) {
    chan *c = chan_make(sizeof(int64_t), 0);
    atomic_store(&c->refs, 0);
    chan_free(c);
}

/* A ring slot whose sequence number is neither free nor busy for its position: the lock's
 * path finds it when the lock-free send gives up on it. */
static void ring_slot_out_of_sequence_is_fatal(void) {
    chan *c = chan_make(sizeof(int64_t), 2);
    atomic_store((_Atomic size_t *)c->slots, 12345); /* slot 0 */
    chan_send(c, &(int64_t){1});
}

static void timer_entry_armed_twice_is_fatal(void) {
    static struct timer_entry e; /* static: the timer thread may still look at it */
    e = (struct timer_entry){.when = time_now() + 3600 * SECOND, .heap_index = SIZE_MAX};
    e.c = chan_make(sizeof(int64_t), 1);
    timer_entry_start(&e);
    timer_entry_start(&e);
}

/* A goroutine blocked on c, whose record the test holds: a waker's view of it. */
static chan *blocked_on;
static _Atomic(struct g *) blocked_g;

/* The first waiter in c's receive queue, once there is one. */
static struct waiter *wait_for_receiver(chan *c) {
    struct waiter *w = NULL;
    for (instant dl = time_now() + TEST_SECONDS(5); !w && time_now() < dl;) {
        rt_lock(&c->lock);
        w = c->recvq.first;
        rt_unlock(&c->lock);
        if (!w)
            time_sleep(MILLISECOND);
    }
    EXPECT(w != NULL);
    return w;
}

static void recv_forever(void *arg) {
    (void)arg;
    chan_recv(blocked_on, NULL);
}

/* A waker that readies the receiver but leaves its waiter in the queue. */
static void receiver_woken_while_still_queued_is_fatal(void) {
    blocked_on = chan_make(sizeof(int64_t), 0);
    go(recv_forever, NULL);
    struct waiter *w = wait_for_receiver(blocked_on);
    if (w)
        g_ready(w->g);
    time_sleep(TEST_SECONDS(5)); /* the receiver ends the process meanwhile */
}

static void select_forever(void *arg) {
    chan *other = arg;
    select_case cs[] = {select_recv(blocked_on, NULL), select_recv(other, NULL)};
    chan_select(cs, 2);
}

/* A waker that readies a blocked select without claiming it: no case chosen. */
static void select_woken_with_no_case_chosen_is_fatal(void) {
    blocked_on = chan_make(sizeof(int64_t), 0);
    go(select_forever, chan_make(sizeof(int64_t), 0));
    struct waiter *w = wait_for_receiver(blocked_on);
    if (w)
        g_ready(w->g);
    time_sleep(TEST_SECONDS(5));
}

static waitgroup early_wg = WAITGROUP_INIT;

static void wait_forever(void *arg) {
    (void)arg;
    atomic_store(&blocked_g, g_current());
    wg_wait(&early_wg);
}

/* A waker that readies a goroutine in wg_wait while the counter is not zero. */
static void wg_wait_woken_before_zero_is_fatal(void) {
    wg_add(&early_wg, 1);
    go(wait_forever, NULL);
    bool waiting = false;
    for (instant dl = time_now() + TEST_SECONDS(5); !waiting && time_now() < dl;) {
        pthread_mutex_lock(&early_wg.mu);
        waiting = early_wg.waiters != NULL;
        pthread_mutex_unlock(&early_wg.mu);
        if (!waiting)
            time_sleep(MILLISECOND);
    }
    EXPECT(waiting);
    if (waiting)
        g_ready(atomic_load(&blocked_g));
    time_sleep(TEST_SECONDS(5));
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(rt_mutex_excludes),
        TEST(g_ready_before_g_park_makes_it_return_at_once),
        TEST(wakers_begin_and_end_in_pairs),
        TEST_EXIT(unlock_of_unlocked_lock_is_fatal),
        TEST_EXIT(g_ready_twice_is_fatal),
        TEST_EXIT(waker_count_below_zero_is_fatal),
        TEST_EXIT(waiter_queued_twice_is_fatal),
        TEST_EXIT(removing_a_waiter_not_queued_is_fatal),
        TEST_EXIT(chan_ref_of_a_freed_channel_is_fatal),
        TEST_EXIT(chan_free_below_zero_is_fatal),
        TEST_EXIT(ring_slot_out_of_sequence_is_fatal),
        TEST_EXIT(timer_entry_armed_twice_is_fatal),
        TEST_EXIT(receiver_woken_while_still_queued_is_fatal),
        TEST_EXIT(select_woken_with_no_case_chosen_is_fatal),
        TEST_EXIT(wg_wait_woken_before_zero_is_fatal),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
