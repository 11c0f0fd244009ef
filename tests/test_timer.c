/* test_timer.c: time (common/timer.h), proven row by row against common/SEMANTICS.md.
 *
 * Lower bounds ("not before d") are exact: time only moves forward. Upper bounds ("soon
 * after d") are generous and scaled, since a loaded machine may run us late.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "common/chan.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"
#include "testlib.h"

/* A value ready on c right now, without blocking: SELECT_DEFAULT if none. */
static int poll(chan *c, instant *v) {
    select_case cs[] = {select_recv(c, v)};
    return chan_select_default(cs, 1);
}

static instant recv_instant(chan *c) {
    instant v = -1;
    EXPECT(chan_recv(c, &v));
    return v;
}

static void time_now_reads_the_monotonic_clock(void) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    instant now = time_now();
    clock_gettime(CLOCK_MONOTONIC, &b);
    EXPECT(now >= a.tv_sec * SECOND + a.tv_nsec);
    EXPECT(now <= b.tv_sec * SECOND + b.tv_nsec);
    instant last = time_now();
    for (int i = 0; i < 10000; i++) {
        instant t = time_now();
        EXPECT(t >= last);
        last = t;
    }
}

static void time_sleep_sleeps_at_least_d(void) {
    for (duration d = MILLISECOND; d <= 32 * MILLISECOND; d *= 4) {
        instant start = time_now();
        time_sleep(d);
        EXPECT(time_since(start) >= d);
    }
    instant start = time_now();
    time_sleep(0);
    time_sleep(-SECOND);
    EXPECT(time_since(start) < TEST_SECONDS(0.5));
}

static void time_after_fires_once_after_d(void) {
    instant start = time_now();
    chan *c = time_after(50 * MILLISECOND);
    EXPECT_EQ(SELECT_DEFAULT, poll(c, NULL)); /* not yet */
    instant fired = recv_instant(c);
    duration waited = time_since(start);
    EXPECT(waited >= 50 * MILLISECOND);
    EXPECT(waited < TEST_SECONDS(1));
    EXPECT(fired >= start + 50 * MILLISECOND);
    EXPECT(fired <= time_now());
    time_sleep(100 * MILLISECOND);
    EXPECT_EQ(SELECT_DEFAULT, poll(c, NULL)); /* once only */
    chan_free(c);
}

static void timers_fire_in_deadline_order_never_early(void) {
    enum { N = 50 };
    chan *c[N];
    duration d[N];
    instant made[N + 1], fired[N];
    unsigned seed = 1;
    for (int i = 0; i < N; i++) {
        d[i] = (rand_r(&seed) % 60) * MILLISECOND;
        made[i] = time_now();
        c[i] = time_after(d[i]);
    }
    made[N] = time_now();
    for (int i = 0; i < N; i++) {
        fired[i] = recv_instant(c[i]);
        EXPECT(fired[i] >= made[i] + d[i]);
        chan_free(c[i]);
    }
    /* Timer i is due in [made[i] + d[i], made[i + 1] + d[i]]: when that whole window comes
     * before j's, i fired first (one heap serves them all). */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (made[i + 1] + d[i] < made[j] + d[j] && fired[i] > fired[j])
                test_fail_(__FILE__, __LINE__, "expected timer %d (%lld ms) before %d (%lld ms)", i,
                           (long long)(d[i] / MILLISECOND), j, (long long)(d[j] / MILLISECOND));
}

static void time_after_of_zero_or_less_fires_at_once(void) {
    for (duration d = 0; d >= -SECOND; d -= SECOND) {
        instant start = time_now();
        chan *c = time_after(d);
        recv_instant(c);
        EXPECT(time_since(start) < TEST_SECONDS(0.5));
        chan_free(c);
    }
}

static void time_after_freed_before_it_fires_is_safe(void) {
    for (int i = 0; i < 10; i++)
        chan_free(time_after(i * MILLISECOND)); /* ASan and valgrind watch the firing */
    time_sleep(30 * MILLISECOND);
}

static void timer_fires_once_after_d(void) {
    instant start = time_now();
    timer *t = timer_new(30 * MILLISECOND);
    instant fired = recv_instant(t->c);
    EXPECT(time_since(start) >= 30 * MILLISECOND);
    EXPECT(fired >= start + 30 * MILLISECOND);
    time_sleep(60 * MILLISECOND);
    EXPECT_EQ(SELECT_DEFAULT, poll(t->c, NULL));
    timer_free(t);
}

static void timer_stop_before_fire_returns_true_and_prevents_it(void) {
    timer *t = timer_new(50 * MILLISECOND);
    EXPECT(timer_stop(t));
    time_sleep(120 * MILLISECOND);
    EXPECT_EQ(SELECT_DEFAULT, poll(t->c, NULL));
    EXPECT(!timer_stop(t)); /* already stopped */
    timer_free(t);
}

static void timer_stop_after_fire_received_returns_false(void) {
    timer *t = timer_new(5 * MILLISECOND);
    recv_instant(t->c);
    EXPECT(!timer_stop(t));
    timer_free(t);
}

static void timer_stop_after_unreceived_fire_returns_true_and_leaves_no_stale_value(void) {
    timer *t = timer_new(MILLISECOND);
    time_sleep(50 * MILLISECOND); /* it fired; nobody received */
    EXPECT(timer_stop(t));        /* Go 1.23: the value was never delivered */
    EXPECT_EQ(SELECT_DEFAULT, poll(t->c, NULL));
    timer_free(t);
}

static void timer_reset_before_fire_moves_it(void) {
    timer *t = timer_new(30 * MILLISECOND);
    instant reset_at = time_now();
    EXPECT(timer_reset(t, 150 * MILLISECOND));
    instant fired = recv_instant(t->c); /* not at 30 ms: the old deadline is gone */
    EXPECT(time_since(reset_at) >= 150 * MILLISECOND);
    EXPECT(fired >= reset_at + 150 * MILLISECOND);
    time_sleep(60 * MILLISECOND);
    EXPECT_EQ(SELECT_DEFAULT, poll(t->c, NULL));
    timer_free(t);
}

static void timer_reset_after_fire_returns_false_and_fires_again(void) {
    timer *t = timer_new(5 * MILLISECOND);
    recv_instant(t->c);
    instant reset_at = time_now();
    EXPECT(!timer_reset(t, 30 * MILLISECOND));
    EXPECT(recv_instant(t->c) >= reset_at + 30 * MILLISECOND);
    timer_free(t);
}

static void timer_reset_leaves_no_stale_value(void) {
    timer *t = timer_new(MILLISECOND);
    time_sleep(50 * MILLISECOND); /* it fired; nobody received */
    instant reset_at = time_now();
    EXPECT(timer_reset(t, 80 * MILLISECOND));
    EXPECT_EQ(SELECT_DEFAULT, poll(t->c, NULL));
    EXPECT(recv_instant(t->c) >= reset_at + 80 * MILLISECOND);
    timer_free(t);
}

static void ticker_ticks_repeatedly(void) {
    instant start = time_now(), last = start;
    ticker *tk = ticker_new(20 * MILLISECOND);
    for (int k = 1; k <= 5; k++) {
        instant tick = recv_instant(tk->c);
        EXPECT(tick > last);
        EXPECT(tick >= start + k * 20 * MILLISECOND);
        last = tick;
    }
    EXPECT(time_since(start) >= 100 * MILLISECOND);
    EXPECT(time_since(start) < TEST_SECONDS(2));
    ticker_stop(tk);
    ticker_free(tk);
}

static void slow_receiver_misses_ticks(void) {
    ticker *tk = ticker_new(10 * MILLISECOND);
    time_sleep(200 * MILLISECOND); /* 20 ticks' worth, none received */
    instant drain = time_now(), tick;
    int queued = 0;
    while (poll(tk->c, &tick) != SELECT_DEFAULT && time_since(drain) < TEST_SECONDS(1))
        if (tick < drain) /* a tick that waited for us (later ones are new) */
            queued++;
    /* One waited for us (a queueing ticker would hold about 20). A second is allowed: the timer
     * thread may read the clock just before `drain` and deliver just after our first poll. */
    EXPECT(queued == 1 || queued == 2);
    EXPECT(recv_instant(tk->c) > drain); /* and it still ticks */
    ticker_free(tk);
}

static void ticker_stop_stops_ticking(void) {
    ticker *tk = ticker_new(10 * MILLISECOND);
    recv_instant(tk->c);
    recv_instant(tk->c);
    ticker_stop(tk);
    instant stopped = time_now(), tick;
    time_sleep(80 * MILLISECOND);
    int late = 0;
    while (poll(tk->c, &tick) != SELECT_DEFAULT)
        if (tick >= stopped || ++late > 1)
            EXPECT(!"a tick after ticker_stop");
    ticker_free(tk);
}

static void ticker_reset_changes_period(void) {
    ticker *tk = ticker_new(10 * SECOND);
    instant reset_at = time_now();
    ticker_reset(tk, 20 * MILLISECOND);
    for (int k = 1; k <= 3; k++)
        EXPECT(recv_instant(tk->c) >= reset_at + k * 20 * MILLISECOND);
    EXPECT(time_since(reset_at) < TEST_SECONDS(2));
    ticker_free(tk); /* stops it first */
}

static void duration_parse_accepts_go_durations(void) {
    static const struct {
        const char *s;
        duration d;
    } ok[] = {
        {"0", 0},
        {"300ms", 300 * MILLISECOND},
        {"1.5s", 1500 * MILLISECOND},
        {"2m", 120 * SECOND},
        {"1h", 3600 * SECOND},
        {"10us", 10 * MICROSECOND},
        {"10µs", 10 * MICROSECOND},
        {"100ns", 100},
        {".5s", 500 * MILLISECOND},
        {"1h30m", 5400 * SECOND},
        {"2m3.5s", 123500 * MILLISECOND},
        {"-1.5s", -1500 * MILLISECOND},
        {"+5ms", 5 * MILLISECOND},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        duration d = -42;
        if (!duration_parse(ok[i].s, &d))
            test_fail_(__FILE__, __LINE__, "expected \"%s\" accepted got rejected", ok[i].s);
        else if (d != ok[i].d)
            test_fail_(__FILE__, __LINE__, "expected \"%s\" == %lld got %lld", ok[i].s,
                       (long long)ok[i].d, (long long)d);
    }
}

static void duration_parse_rejects_malformed(void) {
    static const char *const bad[] = {"",
                                      "s",
                                      "10",
                                      "1.5",
                                      "abc",
                                      "5x",
                                      "1..5s",
                                      "ms1",
                                      "1 s",
                                      " 1s",
                                      "1s ",
                                      "-",
                                      "1e3s",
                                      "0x10s",
                                      "99999999999999999999h",
                                      "9223372036854775808ns"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        duration d = -42;
        if (duration_parse(bad[i], &d))
            test_fail_(__FILE__, __LINE__, "expected \"%s\" rejected got %lld", bad[i],
                       (long long)d);
    }
}

/* Stop racing the fire while a goroutine selects on the timer: a stop that returns true
 * means the value was never delivered, false that it was, exactly once. */
typedef struct stop_race {
    timer *t;
    chan *quit;
    int received;
} stop_race;

static void select_timer_until_quit(void *arg) {
    stop_race *r = arg;
    for (;;) {
        select_case cs[] = {select_recv(r->t->c, NULL), select_recv(r->quit, NULL)};
        if (chan_select(cs, 2) == 1)
            return;
        r->received++;
    }
}

static void stress_timers_stopped_while_selected_on(void) {
    unsigned seed = 7;
    int rounds = QUICK_OR(1000, 100), stopped_count = 0;
    for (int round = 0; round < rounds; round++) {
        stop_race r = {timer_new((rand_r(&seed) % 1000) * MICROSECOND),
                       chan_make(sizeof(int64_t), 0), 0};
        waitgroup wg = WAITGROUP_INIT;
        wg_go(&wg, select_timer_until_quit, &r);
        time_sleep((rand_r(&seed) % 1000) * MICROSECOND);
        bool stopped = timer_stop(r.t);
        stopped_count += stopped;
        chan_close(r.quit);
        wg_wait(&wg);
        r.received += poll(r.t->c, NULL) == 0; /* nothing stale may come later */
        EXPECT_EQ(stopped ? 0 : 1, r.received);
        timer_free(r.t);
        chan_free(r.quit);
    }
    /* Both outcomes happened, or the race was not a race. */
    EXPECT(stopped_count > 0 && stopped_count < rounds);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(time_now_reads_the_monotonic_clock),
        TEST(time_sleep_sleeps_at_least_d),
        TEST(time_after_fires_once_after_d),
        TEST(timers_fire_in_deadline_order_never_early),
        TEST(time_after_of_zero_or_less_fires_at_once),
        TEST(time_after_freed_before_it_fires_is_safe),
        TEST(timer_fires_once_after_d),
        TEST(timer_stop_before_fire_returns_true_and_prevents_it),
        TEST(timer_stop_after_fire_received_returns_false),
        TEST(timer_stop_after_unreceived_fire_returns_true_and_leaves_no_stale_value),
        TEST(timer_reset_before_fire_moves_it),
        TEST(timer_reset_after_fire_returns_false_and_fires_again),
        TEST(timer_reset_leaves_no_stale_value),
        TEST(ticker_ticks_repeatedly),
        TEST(slow_receiver_misses_ticks),
        TEST(ticker_stop_stops_ticking),
        TEST(ticker_reset_changes_period),
        TEST(duration_parse_accepts_go_durations),
        TEST(duration_parse_rejects_malformed),
        TEST(stress_timers_stopped_while_selected_on),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
