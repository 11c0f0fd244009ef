/* test_breaker.c: the circuit breaker of patterns/circuit-breaker/breaker.h
 * on a fake clock, which moves only when a case moves it: every transition
 * is checked at its exact instant, against gobreaker's rules; nothing is
 * timed. The last cases run many goroutines through one breaker.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "patterns/circuit-breaker/breaker.h"
#include "testlib.h"

#define MS MILLISECOND

/* ---- The fake clock, and a record of the changes of state ---- */

typedef struct fake_clock {
    _Atomic instant now;
} fake_clock;

static instant fake_now(void *clock) {
    return atomic_load(&((fake_clock *)clock)->now);
}

static void set_time(fake_clock *c, instant t) {
    atomic_store(&c->now, t);
}

typedef struct change {
    breaker_state from, to;
    instant at;
} change;

typedef struct recorder {
    int n; /* guarded by the breaker's mutex: on_state_change runs under it */
    change changes[64];
} recorder;

static void record(void *arg, breaker_state from, breaker_state to, instant at) {
    recorder *r = arg;
    if (r->n < 64)
        r->changes[r->n] = (change){from, to, at};
    r->n++;
}

/* The k-th change (from 0) went from `from` to `to` at instant `at`. */
#define EXPECT_CHANGE(rec, k, from_, to_, at_)                                                     \
    do {                                                                                           \
        EXPECT((rec)->n > (k));                                                                    \
        EXPECT_EQ(from_, (rec)->changes[k].from);                                                  \
        EXPECT_EQ(to_, (rec)->changes[k].to);                                                      \
        EXPECT_EQ(at_, (rec)->changes[k].at);                                                      \
    } while (0)

static fake_clock clk;
static recorder rec;

/* A breaker on the fake clock, at t = 0: trips after `trip` consecutive
 * failures, open for `timeout`, lets `max` through half-open. */
static void make(breaker *cb, uint32_t trip, duration timeout, uint32_t max, duration interval) {
    set_time(&clk, 0);
    rec.n = 0;
    breaker_init(cb, (breaker_settings){.max_requests = max,
                                        .interval = interval,
                                        .timeout = timeout,
                                        .trip_after = trip,
                                        .now = fake_now,
                                        .clock = &clk,
                                        .on_state_change = record,
                                        .arg = &rec});
}

/* One request that is let through and ends as told. */
static void request(breaker *cb, bool success) {
    uint64_t g;
    EXPECT_ERR(NULL, breaker_before(cb, &g));
    breaker_after(cb, g, success);
}

static void requests(breaker *cb, int n, bool success) {
    for (int i = 0; i < n; i++)
        request(cb, success);
}

/* A breaker opened at t = 10ms: 5 failures, open for 100ms, 3 half-open. */
static void open_at_10ms(breaker *cb) {
    make(cb, 5, 100 * MS, 3, 0);
    set_time(&clk, 10 * MS);
    requests(cb, 5, false);
    EXPECT_EQ(STATE_OPEN, breaker_current_state(cb));
    EXPECT_EQ(1, rec.n);
}

/* ---- The cases ---- */

static void a_new_breaker_is_closed_with_zero_counts(void) {
    breaker cb;
    make(&cb, 5, 100 * MS, 3, 0);
    EXPECT_EQ(STATE_CLOSED, breaker_current_state(&cb));
    breaker_counts c = breaker_current_counts(&cb);
    EXPECT_EQ(0, c.requests + c.total_successes + c.total_failures + c.consecutive_successes +
                     c.consecutive_failures);
    EXPECT_EQ(0, rec.n);
    breaker_destroy(&cb);
}

static void closed_counts_every_request_and_a_success_resets_the_failures(void) {
    breaker cb;
    make(&cb, 5, 100 * MS, 3, 0);
    requests(&cb, 4, false);
    request(&cb, true);
    requests(&cb, 4, false); /* 4, 1 success, 4: never 5 in a row */
    EXPECT_EQ(STATE_CLOSED, breaker_current_state(&cb));
    breaker_counts c = breaker_current_counts(&cb);
    EXPECT_EQ(9, c.requests);
    EXPECT_EQ(1, c.total_successes);
    EXPECT_EQ(8, c.total_failures);
    EXPECT_EQ(4, c.consecutive_failures);
    EXPECT_EQ(0, c.consecutive_successes);
    EXPECT_EQ(0, rec.n);
    breaker_destroy(&cb);
}

static void the_kth_consecutive_failure_opens_it_at_that_instant(void) {
    breaker cb;
    make(&cb, 5, 100 * MS, 3, 0);
    set_time(&clk, 10 * MS);
    requests(&cb, 4, false);
    EXPECT_EQ(STATE_CLOSED, breaker_current_state(&cb));
    set_time(&clk, 12 * MS);
    request(&cb, false);
    EXPECT_EQ(1, rec.n);
    EXPECT_CHANGE(&rec, 0, STATE_CLOSED, STATE_OPEN, 12 * MS);
    breaker_counts c = breaker_current_counts(&cb); /* a new generation: cleared */
    EXPECT_EQ(0, c.requests + c.total_failures + c.consecutive_failures);
    breaker_destroy(&cb);
}

static void open_refuses_every_request_until_strictly_after_the_timeout(void) {
    breaker cb;
    uint64_t g;
    open_at_10ms(&cb);
    for (instant t = 10 * MS; t <= 110 * MS; t += 10 * MS) { /* 110ms: the expiry itself */
        set_time(&clk, t);
        EXPECT_ERR(err_open_state, breaker_before(&cb, &g));
    }
    EXPECT_EQ(0, breaker_current_counts(&cb).requests);
    set_time(&clk, 110 * MS + 1); /* Go's expiry.Before(now): one nanosecond later */
    EXPECT_ERR(NULL, breaker_before(&cb, &g));
    EXPECT_EQ(2, rec.n);
    EXPECT_CHANGE(&rec, 1, STATE_OPEN, STATE_HALF_OPEN, 110 * MS + 1);
    breaker_destroy(&cb);
}

static void the_move_to_half_open_happens_at_the_first_look_after_the_timeout(void) {
    breaker cb;
    open_at_10ms(&cb);
    set_time(&clk, 500 * MS); /* nobody asked for a while */
    EXPECT_EQ(1, rec.n);      /* no timer moved it */
    EXPECT_EQ(STATE_HALF_OPEN, breaker_current_state(&cb));
    EXPECT_CHANGE(&rec, 1, STATE_OPEN, STATE_HALF_OPEN, 500 * MS);
    breaker_destroy(&cb);
}

static void half_open_lets_max_requests_through_and_refuses_the_rest(void) {
    breaker cb;
    uint64_t g[3], other;
    open_at_10ms(&cb);
    set_time(&clk, 200 * MS);
    for (int i = 0; i < 3; i++)
        EXPECT_ERR(NULL, breaker_before(&cb, &g[i]));
    for (int i = 0; i < 5; i++)
        EXPECT_ERR(err_too_many_requests, breaker_before(&cb, &other));
    EXPECT_EQ(3, breaker_current_counts(&cb).requests);
    EXPECT_EQ(STATE_HALF_OPEN, breaker_current_state(&cb));
    breaker_after(&cb, g[0], true);
    breaker_after(&cb, g[1], true);
    EXPECT_EQ(STATE_HALF_OPEN, breaker_current_state(&cb));         /* 2 of 3 */
    EXPECT_ERR(err_too_many_requests, breaker_before(&cb, &other)); /* still 3 let through */
    set_time(&clk, 230 * MS);
    breaker_after(&cb, g[2], true); /* the third success closes it */
    EXPECT_EQ(3, rec.n);
    EXPECT_CHANGE(&rec, 2, STATE_HALF_OPEN, STATE_CLOSED, 230 * MS);
    EXPECT_EQ(0, breaker_current_counts(&cb).requests);
    request(&cb, true); /* closed: anyone goes through */
    request(&cb, true);
    request(&cb, true);
    request(&cb, true);
    EXPECT_EQ(4, breaker_current_counts(&cb).requests);
    breaker_destroy(&cb);
}

static void a_failure_half_open_opens_it_again_with_a_new_timeout(void) {
    breaker cb;
    uint64_t g;
    open_at_10ms(&cb);
    set_time(&clk, 150 * MS);
    request(&cb, true); /* half-open at 150ms: one success of three */
    set_time(&clk, 160 * MS);
    request(&cb, false); /* the failure: open again, at 160ms */
    EXPECT_EQ(3, rec.n);
    EXPECT_CHANGE(&rec, 1, STATE_OPEN, STATE_HALF_OPEN, 150 * MS);
    EXPECT_CHANGE(&rec, 2, STATE_HALF_OPEN, STATE_OPEN, 160 * MS);
    set_time(&clk, 260 * MS); /* 160ms + 100ms: not yet */
    EXPECT_ERR(err_open_state, breaker_before(&cb, &g));
    set_time(&clk, 260 * MS + 1);
    EXPECT_ERR(NULL, breaker_before(&cb, &g));
    EXPECT_CHANGE(&rec, 3, STATE_OPEN, STATE_HALF_OPEN, 260 * MS + 1);
    breaker_destroy(&cb);
}

static void a_request_from_an_older_generation_is_not_counted(void) {
    breaker cb;
    uint64_t slow, probe;
    make(&cb, 5, 100 * MS, 3, 0);
    EXPECT_ERR(NULL, breaker_before(&cb, &slow)); /* let through while closed */
    requests(&cb, 5, false);                      /* the others trip it */
    EXPECT_EQ(STATE_OPEN, breaker_current_state(&cb));
    breaker_after(&cb, slow, false); /* ends while open: ignored */
    EXPECT_EQ(0, breaker_current_counts(&cb).total_failures);
    set_time(&clk, 101 * MS);
    EXPECT_ERR(NULL, breaker_before(&cb, &probe)); /* half-open */
    breaker_after(&cb, slow, true); /* the old one, again: it cannot close the breaker */
    EXPECT_EQ(0, breaker_current_counts(&cb).total_successes);
    EXPECT_EQ(STATE_HALF_OPEN, breaker_current_state(&cb));
    /* A probe let through half-open that ends after another probe's failure
     * reopened the breaker does not count either. */
    uint64_t second;
    EXPECT_ERR(NULL, breaker_before(&cb, &second));
    breaker_after(&cb, probe, false);
    EXPECT_EQ(STATE_OPEN, breaker_current_state(&cb));
    breaker_after(&cb, second, true);
    EXPECT_EQ(STATE_OPEN, breaker_current_state(&cb));
    EXPECT_EQ(0, breaker_current_counts(&cb).total_successes);
    EXPECT_EQ(3, rec.n);
    breaker_destroy(&cb);
}

static void with_max_requests_1_a_single_success_closes_it(void) {
    breaker cb;
    make(&cb, 2, 50 * MS, 1, 0);
    requests(&cb, 2, false);
    set_time(&clk, 51 * MS);
    request(&cb, true);
    EXPECT_EQ(3, rec.n);
    EXPECT_CHANGE(&rec, 0, STATE_CLOSED, STATE_OPEN, 0);
    EXPECT_CHANGE(&rec, 1, STATE_OPEN, STATE_HALF_OPEN, 51 * MS);
    EXPECT_CHANGE(&rec, 2, STATE_HALF_OPEN, STATE_CLOSED, 51 * MS);
    breaker_destroy(&cb);
}

static void an_interval_clears_the_counts_of_a_closed_breaker(void) {
    breaker cb;
    uint64_t old;
    make(&cb, 5, 100 * MS, 3, SECOND);
    requests(&cb, 4, false);
    EXPECT_ERR(NULL, breaker_before(&cb, &old));
    set_time(&clk, SECOND); /* the expiry itself: not yet */
    EXPECT_EQ(4, breaker_current_counts(&cb).consecutive_failures);
    set_time(&clk, SECOND + 1); /* a new generation: the 4 failures are forgotten */
    EXPECT_EQ(STATE_CLOSED, breaker_current_state(&cb));
    EXPECT_EQ(0, breaker_current_counts(&cb).consecutive_failures);
    breaker_after(&cb, old, false); /* let through before the interval: ignored */
    requests(&cb, 4, false);
    EXPECT_EQ(STATE_CLOSED, breaker_current_state(&cb));
    EXPECT_EQ(4, breaker_current_counts(&cb).consecutive_failures);
    request(&cb, false); /* the fifth of this interval */
    EXPECT_EQ(STATE_OPEN, breaker_current_state(&cb));
    EXPECT_CHANGE(&rec, 0, STATE_CLOSED, STATE_OPEN, SECOND + 1);
    EXPECT_EQ(1, rec.n); /* a new interval is not a change of state */
    breaker_destroy(&cb);
}

static void zero_settings_are_gobreakers_defaults(void) {
    breaker cb;
    set_time(&clk, 0);
    rec.n = 0;
    breaker_init(&cb, (breaker_settings){
                          .now = fake_now, .clock = &clk, .on_state_change = record, .arg = &rec});
    requests(&cb, 5, false);
    EXPECT_EQ(STATE_CLOSED, breaker_current_state(&cb)); /* more than 5 trip it */
    request(&cb, false);
    EXPECT_EQ(STATE_OPEN, breaker_current_state(&cb));
    set_time(&clk, 60 * SECOND);
    EXPECT_EQ(STATE_OPEN, breaker_current_state(&cb)); /* open for 60 s */
    set_time(&clk, 60 * SECOND + 1);
    uint64_t g, other;
    EXPECT_ERR(NULL, breaker_before(&cb, &g)); /* half-open lets 1 through */
    EXPECT_ERR(err_too_many_requests, breaker_before(&cb, &other));
    breaker_after(&cb, g, true);
    EXPECT_EQ(STATE_CLOSED, breaker_current_state(&cb));
    breaker_destroy(&cb);
}

static int calls;
static const char failure[] = "it failed";

static const char *count_and_fail(void *arg) {
    (void)arg;
    calls++;
    return failure;
}

static void execute_runs_the_request_only_when_let_through(void) {
    breaker cb;
    make(&cb, 3, 100 * MS, 1, 0);
    calls = 0;
    for (int i = 0; i < 3; i++)
        EXPECT_ERR(failure, breaker_execute(&cb, count_and_fail, NULL));
    EXPECT_EQ(3, calls);
    for (int i = 0; i < 10; i++)
        EXPECT_ERR(err_open_state, breaker_execute(&cb, count_and_fail, NULL));
    EXPECT_EQ(3, calls); /* open: never called */
    set_time(&clk, 101 * MS);
    EXPECT_ERR(failure, breaker_execute(&cb, count_and_fail, NULL)); /* the probe */
    EXPECT_EQ(4, calls);
    EXPECT_EQ(STATE_OPEN, breaker_current_state(&cb));
    breaker_destroy(&cb);
}

/* ---- Many goroutines, one breaker ---- */

#define GOROUTINES 8
#define EACH       QUICK_OR(5000, 500)

struct hammer {
    breaker *cb;
    bool success;
    atomic_int *ran, *refused;
    waitgroup *wg;
};

static const char *run(void *arg) {
    struct hammer *h = arg;
    atomic_fetch_add(h->ran, 1);
    return h->success ? NULL : failure;
}

static void hammer(void *arg) {
    struct hammer *h = arg;
    for (int i = 0; i < EACH; i++) {
        const char *err = breaker_execute(h->cb, run, h);
        if (err == err_open_state || err == err_too_many_requests)
            atomic_fetch_add(h->refused, 1);
    }
    wg_done(h->wg);
}

static void go_hammers(breaker *cb, bool success, atomic_int *ran, atomic_int *refused) {
    waitgroup wg = WAITGROUP_INIT;
    struct hammer h = {cb, success, ran, refused, &wg};
    wg_add(&wg, GOROUTINES);
    for (int i = 0; i < GOROUTINES; i++)
        go(hammer, &h);
    wg_wait(&wg);
}

static void many_goroutines_succeeding_keep_it_closed_and_every_request_counted(void) {
    breaker cb;
    atomic_int ran = 0, refused = 0;
    make(&cb, 5, 100 * MS, 3, 0);
    go_hammers(&cb, true, &ran, &refused);
    EXPECT_EQ(GOROUTINES * EACH, atomic_load(&ran));
    EXPECT_EQ(0, atomic_load(&refused));
    breaker_counts c = breaker_current_counts(&cb);
    EXPECT_EQ(GOROUTINES * EACH, c.requests);
    EXPECT_EQ(GOROUTINES * EACH, c.total_successes);
    EXPECT_EQ(GOROUTINES * EACH, c.consecutive_successes);
    EXPECT_EQ(0, rec.n);
    breaker_destroy(&cb);
}

static void many_goroutines_failing_trip_it_once_and_are_refused_after(void) {
    breaker cb;
    atomic_int ran = 0, refused = 0;
    make(&cb, 5, 100 * MS, 3, 0); /* the clock never moves: open for good */
    go_hammers(&cb, false, &ran, &refused);
    EXPECT_EQ(1, rec.n);
    EXPECT_CHANGE(&rec, 0, STATE_CLOSED, STATE_OPEN, 0);
    /* The 5th failure trips it; each other goroutine may have had one
     * request let through that had not ended yet. */
    EXPECT(atomic_load(&ran) >= 5 && atomic_load(&ran) <= 5 + GOROUTINES - 1);
    EXPECT_EQ(GOROUTINES * EACH, atomic_load(&ran) + atomic_load(&refused));
    breaker_destroy(&cb);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(a_new_breaker_is_closed_with_zero_counts),
        TEST(closed_counts_every_request_and_a_success_resets_the_failures),
        TEST(the_kth_consecutive_failure_opens_it_at_that_instant),
        TEST(open_refuses_every_request_until_strictly_after_the_timeout),
        TEST(the_move_to_half_open_happens_at_the_first_look_after_the_timeout),
        TEST(half_open_lets_max_requests_through_and_refuses_the_rest),
        TEST(a_failure_half_open_opens_it_again_with_a_new_timeout),
        TEST(a_request_from_an_older_generation_is_not_counted),
        TEST(with_max_requests_1_a_single_success_closes_it),
        TEST(an_interval_clears_the_counts_of_a_closed_breaker),
        TEST(zero_settings_are_gobreakers_defaults),
        TEST(execute_runs_the_request_only_when_let_through),
        TEST(many_goroutines_succeeding_keep_it_closed_and_every_request_counted),
        TEST(many_goroutines_failing_trip_it_once_and_are_refused_after),
    };
    return test_main(argc, argv, cases, (int)(sizeof cases / sizeof cases[0]));
}
