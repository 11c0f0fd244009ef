/* test_select.c: select (common/select.h), proven row by row against common/SEMANTICS.md. */
#include <stdint.h>
#include <string.h>

#include "common/chan.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"
#include "testlib.h"

/* A goroutine blocked in one select over two cases, watched by the test. */
typedef struct selector {
    select_case cases[2];
    int chosen;
    atomic_int tid;   /* stored just before the select */
    atomic_bool done; /* set once it returned */
} selector;

static void do_select(void *arg) {
    selector *s = arg;
    atomic_store(&s->tid, gettid());
    s->chosen = chan_select(s->cases, 2);
    atomic_store(&s->done, true);
}

typedef struct one_op {
    chan *c;
    int64_t v;
    atomic_bool done;
} one_op;

static void send_one(void *arg) {
    one_op *o = arg;
    chan_send(o->c, &o->v);
    atomic_store(&o->done, true);
}

static void recv_one(void *arg) {
    one_op *o = arg;
    EXPECT(chan_recv(o->c, &o->v));
    atomic_store(&o->done, true);
}

static void same_channel_may_appear_twice(void) {
    chan *c = chan_make(sizeof(int64_t), 1);
    int seen[2] = {0, 0};
    for (int64_t round = 0; round < 200; round++) {
        chan_send(c, &round);
        int64_t v[2] = {-1, -1};
        select_case cs[] = {select_recv(c, &v[0]), select_recv(c, &v[1])};
        int i = chan_select(cs, 2);
        EXPECT(i == 0 || i == 1);
        if (i != 0 && i != 1)
            break;
        seen[i]++;
        EXPECT_EQ(round, v[i]);
        EXPECT_EQ(-1, v[1 - i]);
        EXPECT_EQ(0, chan_len(c)); /* received once, not twice */
    }
    EXPECT(seen[0] > 0 && seen[1] > 0);

    /* A send and a receive on one channel: whichever the buffer allows. */
    int64_t out = 5, in = -1;
    select_case both[] = {select_send(c, &out), select_recv(c, &in)};
    EXPECT_EQ(0, chan_select(both, 2)); /* empty: only the send can go */
    EXPECT_EQ(1, chan_select(both, 2)); /* full: only the receive can */
    EXPECT_EQ(5, in);
    chan_free(c);

    /* On an unbuffered channel a select never pairs with itself. */
    c = chan_make(sizeof(int64_t), 0);
    select_case self[] = {select_send(c, &out), select_recv(c, &in)};
    EXPECT_EQ(SELECT_DEFAULT, chan_select_default(self, 2));
    chan_free(c);
}

static void nil_case_is_never_ready(void) {
    int64_t v = 1;
    select_case off[] = {select_recv(NULL, &v), select_send(NULL, &v)};
    EXPECT_EQ(SELECT_DEFAULT, chan_select_default(off, 2));
    chan *c = chan_make(sizeof(int64_t), 1);
    for (int round = 0; round < 100; round++) {
        chan_send(c, &v);
        select_case cs[] = {select_recv(NULL, &v), select_send(NULL, &v), select_recv(c, &v)};
        EXPECT_EQ(2, chan_select(cs, 3));
    }
    chan_free(c);
}

static void select_of_nil_cases_in_goroutine_blocks_forever(void) {
    static selector s; /* static: the goroutine never returns */
    go(do_select, &s); /* two NULL cases: no case can ever proceed */
    WAIT_BLOCKED(&s.tid);
    time_sleep(TEST_SECONDS(0.1));
    EXPECT(!atomic_load(&s.done));
}

/* Two always-ready cases over many rounds: each must win 40-60% of the time. With a fair coin
 * and 10,000 rounds that band is 20 standard deviations wide. */
static void ready_cases_are_chosen_uniformly(void) {
    int rounds = QUICK_OR(10000, 2000);
    chan *c[8];
    for (int i = 0; i < 8; i++) {
        c[i] = chan_make(sizeof(int64_t), 1);
        chan_send(c[i], &(int64_t){i});
    }
    int count[8] = {0};
    for (int r = 0; r < rounds; r++) {
        int64_t v;
        select_case cs[] = {select_recv(c[0], &v), select_recv(c[1], &v)};
        int i = chan_select(cs, 2);
        EXPECT(i == 0 || i == 1);
        if (i != 0 && i != 1)
            break;
        count[i]++;
        chan_send(c[i], &v); /* ready again */
    }
    EXPECT(count[0] >= rounds * 4 / 10 && count[0] <= rounds * 6 / 10);
    EXPECT_EQ(rounds, count[0] + count[1]);

    /* Eight ready cases: chi-square with 7 degrees of freedom. 50 is exceeded with
     * probability below 1e-7 by a fair choice; "first ready wins" or a fixed rotation of a
     * few cases scores in the thousands. */
    memset(count, 0, sizeof count);
    rounds *= 4;
    for (int r = 0; r < rounds; r++) {
        int64_t v;
        select_case cs[8];
        for (int i = 0; i < 8; i++)
            cs[i] = select_recv(c[i], &v);
        int i = chan_select(cs, 8);
        EXPECT(i >= 0 && i < 8);
        if (i < 0 || i >= 8)
            break;
        count[i]++;
        chan_send(c[i], &v);
    }
    double expected = rounds / 8.0, chi2 = 0;
    for (int i = 0; i < 8; i++)
        chi2 += (count[i] - expected) * (count[i] - expected) / expected;
    if (chi2 > 50)
        test_fail_(__FILE__, __LINE__,
                   "expected chi-square <= 50 got %.1f (%d %d %d %d %d %d %d %d)", chi2, count[0],
                   count[1], count[2], count[3], count[4], count[5], count[6], count[7]);
    for (int i = 0; i < 8; i++)
        chan_free(c[i]);
}

static void default_never_blocks(void) {
    chan *empty = chan_make(sizeof(int64_t), 1), *full = chan_make(sizeof(int64_t), 1);
    chan *unbuf = chan_make(sizeof(int64_t), 0);
    int64_t v = 1;
    chan_send(full, &v);
    select_case cs[] = {select_recv(empty, &v), select_send(full, &v), select_send(unbuf, &v),
                        select_recv(unbuf, &v), select_recv(NULL, &v)};
    for (int round = 0; round < 100; round++)
        EXPECT_EQ(SELECT_DEFAULT, chan_select_default(cs, 5));
    EXPECT_EQ(SELECT_DEFAULT, chan_select_default(NULL, 0));
    EXPECT_EQ(1, chan_len(full)); /* nothing moved */
    EXPECT_EQ(0, chan_len(empty));
    chan_free(empty);
    chan_free(full);
    chan_free(unbuf);
}

static void default_is_not_taken_when_a_case_is_ready(void) {
    chan *c = chan_make(sizeof(int64_t), 1);
    for (int64_t round = 0; round < 100; round++) {
        chan_send(c, &round);
        int64_t v = -1;
        select_case cs[] = {select_recv(NULL, &v), select_recv(c, &v)};
        EXPECT_EQ(1, chan_select_default(cs, 2));
        EXPECT(cs[1].ok);
        EXPECT_EQ(round, v);
    }
    chan_free(c);

    /* Unbuffered: a blocked receiver makes a send case ready, a blocked sender a receive. */
    selector r = {
        .cases = {select_recv(chan_make(sizeof(int64_t), 0), NULL), select_recv(NULL, NULL)}};
    int64_t v = 9;
    go(do_select, &r);
    WAIT_BLOCKED(&r.tid);
    select_case send[] = {select_send(r.cases[0].c, &v)};
    EXPECT_EQ(0, chan_select_default(send, 1));
    WAIT_FOR(atomic_load(&r.done), 5);
    EXPECT(r.cases[0].ok);
    one_op s = {.c = r.cases[0].c, .v = 11};
    go(send_one, &s);
    v = -1;
    select_case recv[] = {select_recv(s.c, &v)};
    instant dl = time_now() + TEST_SECONDS(5); /* the sender needs a moment to arrive */
    int got;
    while ((got = chan_select_default(recv, 1)) == SELECT_DEFAULT && time_now() < dl)
        time_sleep(MILLISECOND);
    EXPECT_EQ(0, got);
    EXPECT_EQ(11, v);
    WAIT_FOR(atomic_load(&s.done), 5);
    chan_free(s.c);
}

static void recv_case_on_closed_channel_is_ready(void) {
    chan *c = chan_make(sizeof(int64_t), 2);
    int64_t v = 4;
    chan_send(c, &v);
    chan_close(c);
    select_case cs[] = {select_recv(NULL, &v), select_recv(c, &v)};
    v = -1;
    EXPECT_EQ(1, chan_select(cs, 2)); /* what is buffered first */
    EXPECT(cs[1].ok);
    EXPECT_EQ(4, v);
    for (int round = 0; round < 3; round++) {
        v = -1;
        cs[1].ok = true;
        EXPECT_EQ(1, chan_select(cs, 2));
        EXPECT(!cs[1].ok);
        EXPECT_EQ(0, v);
        v = -1;
        cs[1].ok = true;
        EXPECT_EQ(1, chan_select_default(cs, 2));
        EXPECT(!cs[1].ok);
        EXPECT_EQ(0, v);
    }
    chan_free(c);
}

/* A select blocked on two receives, and a sender on each channel: the select takes exactly one
 * value, and the other sender is still there with its own. */
static void blocked_select_recv_completed_by_exactly_one_send(bool wait_blocked) {
    int64_t va = -1, vb = -1;
    selector s = {.cases = {select_recv(chan_make(sizeof(int64_t), 0), &va),
                            select_recv(chan_make(sizeof(int64_t), 0), &vb)}};
    one_op a = {.c = s.cases[0].c, .v = 1}, b = {.c = s.cases[1].c, .v = 2};
    go(do_select, &s);
    if (wait_blocked)
        WAIT_BLOCKED(&s.tid);
    go(send_one, &a);
    go(send_one, &b);
    WAIT_FOR(atomic_load(&s.done), 5);
    int i = s.chosen;
    EXPECT(i == 0 || i == 1);
    if (i == 0 || i == 1) {
        EXPECT(s.cases[i].ok);
        EXPECT_EQ(i == 0 ? 1 : 2, i == 0 ? va : vb);
        int64_t other = -1;
        EXPECT(chan_recv(s.cases[1 - i].c, &other)); /* the other sender still waits */
        EXPECT_EQ(i == 0 ? 2 : 1, other);
    }
    WAIT_FOR(atomic_load(&a.done) && atomic_load(&b.done), 5);
    select_case rest[] = {select_recv(a.c, NULL), select_recv(b.c, NULL)};
    EXPECT_EQ(SELECT_DEFAULT, chan_select_default(rest, 2)); /* nothing delivered twice */
    chan_free(a.c);
    chan_free(b.c);
}

static void blocked_select_send_completed_by_exactly_one_recv(bool wait_blocked) {
    int64_t va = 1, vb = 2;
    selector s = {.cases = {select_send(chan_make(sizeof(int64_t), 0), &va),
                            select_send(chan_make(sizeof(int64_t), 0), &vb)}};
    one_op a = {.c = s.cases[0].c, .v = -1}, b = {.c = s.cases[1].c, .v = -1};
    go(do_select, &s);
    if (wait_blocked)
        WAIT_BLOCKED(&s.tid);
    go(recv_one, &a);
    go(recv_one, &b);
    WAIT_FOR(atomic_load(&s.done), 5);
    int i = s.chosen;
    EXPECT(i == 0 || i == 1);
    if (i == 0 || i == 1) {
        one_op *got = i == 0 ? &a : &b, *waiting = i == 0 ? &b : &a;
        WAIT_FOR(atomic_load(&got->done), 5);
        EXPECT_EQ(i + 1, got->v);
        time_sleep(MILLISECOND); /* a chance for a second, wrong delivery to show */
        EXPECT(!atomic_load(&waiting->done));
        int64_t v = 7;
        chan_send(waiting->c, &v);
        WAIT_FOR(atomic_load(&waiting->done), 5);
        EXPECT_EQ(7, waiting->v);
    }
    chan_free(a.c);
    chan_free(b.c);
}

static void blocked_select_is_completed_by_exactly_one_operation(void) {
    for (int round = 0; round < 3; round++) { /* surely blocked first */
        blocked_select_recv_completed_by_exactly_one_send(true);
        blocked_select_send_completed_by_exactly_one_recv(true);
    }
    for (int round = 0; round < QUICK_OR(300, 30); round++) { /* racing with the select */
        blocked_select_recv_completed_by_exactly_one_send(false);
        blocked_select_send_completed_by_exactly_one_recv(false);
    }
}

/* Two goroutines, each selecting over a send and a receive on one unbuffered channel: every
 * round pairs one's send with the other's receive (a select never pairs with itself). */
typedef struct pairing {
    chan *c;
    int64_t first, sent, received, sum_sent, sum_received;
} pairing;

static void send_or_recv(void *arg) {
    pairing *p = arg;
    for (int64_t k = 0; k < 2000; k++) {
        int64_t out = p->first + 2 * k, in = -1;
        select_case cs[] = {select_send(p->c, &out), select_recv(p->c, &in)};
        if (chan_select(cs, 2) == 0) {
            p->sent++;
            p->sum_sent += out;
        } else {
            p->received++;
            p->sum_received += in;
        }
    }
}

static void selects_on_both_sides_of_unbuffered_channel_pair_up(void) {
    chan *c = chan_make(sizeof(int64_t), 0);
    pairing p[2] = {{.c = c, .first = 0}, {.c = c, .first = 1}};
    waitgroup wg = WAITGROUP_INIT;
    wg_go(&wg, send_or_recv, &p[0]);
    wg_go(&wg, send_or_recv, &p[1]);
    wg_wait(&wg);
    EXPECT_EQ(p[0].sent, p[1].received);
    EXPECT_EQ(p[1].sent, p[0].received);
    EXPECT_EQ(p[0].sum_sent, p[1].sum_received);
    EXPECT_EQ(p[1].sum_sent, p[0].sum_received);
    chan_free(c);
}

/* A goroutine sending with plain chan_send, a select receiving, one value at a time. */
static void send_values(void *arg) {
    one_op *o = arg;
    for (int64_t v = 0; v < o->v; v++)
        chan_send(o->c, &v);
}

static void select_recv_gets_values_in_order_sent(void) {
    one_op o = {.c = chan_make(sizeof(int64_t), 0), .v = 5000};
    waitgroup wg = WAITGROUP_INIT;
    wg_go(&wg, send_values, &o);
    for (int64_t want = 0; want < o.v; want++) {
        int64_t v = -1;
        select_case cs[] = {select_recv(NULL, NULL), select_recv(o.c, &v)};
        EXPECT_EQ(1, chan_select(cs, 2));
        if (v != want) {
            EXPECT_EQ(want, v);
            break;
        }
    }
    wg_wait(&wg);
    chan_free(o.c);
}

/* --- stress --- */

/* Close racing with 1,000 receivers, half in chan_recv and half in a select, that are blocking,
 * blocked or about to block: all released, each sees ok = false exactly once. */
typedef struct closing {
    chan *c, *never;
    atomic_int started, got_value, got_closed;
} closing;

static void count_close(closing *k, bool ok, int64_t v) {
    if (ok)
        atomic_fetch_add(&k->got_value, 1);
    else if (v == 0)
        atomic_fetch_add(&k->got_closed, 1);
}

static void recv_until_closed(void *arg) {
    closing *k = arg;
    atomic_fetch_add(&k->started, 1);
    int64_t v = -1;
    bool ok = chan_recv(k->c, &v);
    count_close(k, ok, v);
}

static void select_until_closed(void *arg) {
    closing *k = arg;
    atomic_fetch_add(&k->started, 1);
    int64_t v = -1;
    select_case cs[] = {select_recv(k->never, NULL), select_recv(k->c, &v)};
    bool ok = chan_select(cs, 2) != 1 || cs[1].ok;
    count_close(k, ok, v);
}

static void stress_close_releases_1000_blocked_receivers_and_selects_once_each(void) {
    /* valgrind allows 500 threads; ThreadSanitizer takes ~25 ms per thread started and ended
     * here, so its build releases 250 (still many more than the cores). */
#ifdef TEST_TSAN
    int n = QUICK_OR(250, 100);
#else
    int n = QUICK_OR(1000, 100);
#endif
    for (size_t cap = 0; cap <= 4; cap += 4) {
        closing k = {.c = chan_make(sizeof(int64_t), cap), .never = chan_make(sizeof(int64_t), 0)};
        waitgroup wg = WAITGROUP_INIT;
        for (int i = 0; i < n; i++)
            wg_go(&wg, i % 2 ? select_until_closed : recv_until_closed, &k);
        WAIT_FOR(atomic_load(&k.started) >= n / 2, 10); /* close while the rest arrive */
        chan_close(k.c);
        wg_wait(&wg);
        EXPECT_EQ(0, atomic_load(&k.got_value));
        EXPECT_EQ(n, atomic_load(&k.got_closed));
        EXPECT(!chan_recv(k.c, NULL)); /* and it stays closed */
        chan_free(k.c);
        chan_free(k.never);
    }
}

/* Eight channels of various capacities, each fed by its own goroutine, drained by two
 * selecting goroutines: every value arrives exactly once, and in order per channel. */
enum { FEEDS = 8 };

typedef struct fan_in {
    chan *c[FEEDS];
    int64_t per_feed;
    atomic_int next_feed;
    _Atomic unsigned char *seen; /* value v = feed + FEEDS * k */
} fan_in;

static void feed(void *arg) {
    fan_in *f = arg;
    int id = atomic_fetch_add(&f->next_feed, 1);
    for (int64_t k = 0; k < f->per_feed; k++) {
        int64_t v = id + FEEDS * k;
        chan_send(f->c[id], &v);
    }
    chan_close(f->c[id]);
}

static void drain_by_select(void *arg) {
    fan_in *f = arg;
    select_case cs[FEEDS];
    int64_t v[FEEDS], last[FEEDS];
    for (int i = 0; i < FEEDS; i++) {
        cs[i] = select_recv(f->c[i], &v[i]);
        last[i] = -1;
    }
    for (int open = FEEDS; open > 0;) {
        int i = chan_select(cs, FEEDS);
        if (!cs[i].ok) {
            cs[i].c = NULL; /* closed and drained: switch the case off */
            open--;
            continue;
        }
        EXPECT(v[i] % FEEDS == i && v[i] > last[i]);
        last[i] = v[i];
        if (v[i] >= 0 && v[i] < FEEDS * f->per_feed)
            atomic_fetch_add_explicit(&f->seen[v[i]], 1, memory_order_relaxed);
    }
}

static void stress_select_over_8_channels_loses_and_doubles_nothing(void) {
    fan_in f = {.per_feed = QUICK_OR(100000, 5000) / FEEDS};
    int64_t n = f.per_feed * FEEDS;
    f.seen = calloc(n, 1);
    for (int i = 0; i < FEEDS; i++)
        f.c[i] = chan_make(sizeof(int64_t), i % 4 == 0 ? 0 : (size_t)i);
    waitgroup wg = WAITGROUP_INIT;
    wg_go(&wg, drain_by_select, &f);
    for (int i = 0; i < FEEDS; i++)
        wg_go(&wg, feed, &f);
    drain_by_select(&f);
    wg_wait(&wg);
    EXPECT_EACH_ONCE(f.seen, n);
    free((void *)f.seen);
    for (int i = 0; i < FEEDS; i++)
        chan_free(f.c[i]);
}

/* --- cases that end the process --- */

static void empty_select_blocks_forever(void) {
    chan_select(NULL, 0);
}

static void select_of_nil_cases_blocks_forever(void) {
    select_case cs[] = {select_recv(NULL, NULL), select_send(NULL, &(int64_t){1})};
    chan_select(cs, 2);
}

static void send_case_on_closed_channel_panics_when_chosen(void) {
    chan *c = chan_make(sizeof(int64_t), 1);
    chan_close(c);
    select_case cs[] = {select_recv(NULL, NULL), select_send(c, &(int64_t){1})};
    chan_select(cs, 2);
}

static void send_case_on_closed_channel_panics_with_default(void) {
    chan *c = chan_make(sizeof(int64_t), 0);
    chan_close(c);
    select_case cs[] = {select_send(c, &(int64_t){1})};
    chan_select_default(cs, 1);
}

static void blocked_select_send_panics_when_channel_closed(void) {
    static selector s; /* static: the process ends with the goroutine in it */
    s.cases[0] = select_send(chan_make(sizeof(int64_t), 0), &(int64_t){1});
    s.cases[1] = select_recv(NULL, NULL);
    go(do_select, &s);
    WAIT_BLOCKED(&s.tid);
    chan_close(s.cases[0].c);
    time_sleep(TEST_SECONDS(5)); /* the selector's panic ends the process meanwhile */
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(same_channel_may_appear_twice),
        TEST(nil_case_is_never_ready),
        TEST(select_of_nil_cases_in_goroutine_blocks_forever),
        TEST(ready_cases_are_chosen_uniformly),
        TEST(default_never_blocks),
        TEST(default_is_not_taken_when_a_case_is_ready),
        TEST(recv_case_on_closed_channel_is_ready),
        TEST(blocked_select_is_completed_by_exactly_one_operation),
        TEST(selects_on_both_sides_of_unbuffered_channel_pair_up),
        TEST(select_recv_gets_values_in_order_sent),
        TEST(stress_close_releases_1000_blocked_receivers_and_selects_once_each),
        TEST(stress_select_over_8_channels_loses_and_doubles_nothing),
        TEST_EXIT(empty_select_blocks_forever),
        TEST_EXIT(select_of_nil_cases_blocks_forever),
        TEST_EXIT(send_case_on_closed_channel_panics_when_chosen),
        TEST_EXIT(send_case_on_closed_channel_panics_with_default),
        TEST_EXIT(blocked_select_send_panics_when_channel_closed),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
