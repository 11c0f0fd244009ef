/* test_timer.c: time (common/timer.h), proven row by row against common/SEMANTICS.md.
 *
 * Lower bounds ("not before d") are exact: time only moves forward. Upper bounds ("soon
 * after d") are generous and scaled, since a loaded machine may run us late.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/chan.h"
#include "common/go.h"
#include "common/internal/timer_internal.h" /* timer_heap_len, timer_heap_count */
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"
#include "testlib.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

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
    instant fired = -1;
    if (poll(c, &fired) == SELECT_DEFAULT) /* not yet... */
        fired = recv_instant(c);
    else /* ...unless a loaded machine kept us away for 50 ms */
        EXPECT(time_since(start) >= 50 * MILLISECOND);
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

/* --- a ticker with the smallest periods (Go's TestAfterStress) --- */

typedef struct busy {
    atomic_bool stop;
    atomic_int rounds; /* timers made and stopped by timers_meanwhile */
} busy;

/* As Go's TestAfterStress: another goroutine sleeps a nanosecond at a time meanwhile. */
static void sleep_nanoseconds_until_stop(void *arg) {
    busy *b = arg;
    while (!atomic_load(&b->stop))
        time_sleep(NANOSECOND);
}

/* Timers made, stopped and freed while the ticker runs: each call takes the heap. */
static void timers_meanwhile(void *arg) {
    busy *b = arg;
    while (!atomic_load(&b->stop)) {
        timer *t = timer_new(3600 * SECOND);
        EXPECT(timer_stop(t));
        timer_free(t);
        atomic_fetch_add(&b->rounds, 1);
    }
}

static void ticker_of_one_nanosecond_ticks_and_other_timers_keep_firing(void) {
    busy b = {.stop = false};
    waitgroup wg = WAITGROUP_INIT;
    wg_go(&wg, sleep_nanoseconds_until_stop, &b);
    ticker *tk = ticker_new(NANOSECOND);
    instant last = 0;
    for (int i = 0; i < 100; i++) {
        instant tick = recv_instant(tk->c);
        EXPECT(tick > last);
        last = tick;
    }
    /* Meanwhile the heap still serves everyone: a time_after fires on time, other goroutines
     * make and stop timers. */
    wg_go(&wg, timers_meanwhile, &b);
    instant start = time_now();
    chan *after = time_after(20 * MILLISECOND);
    recv_instant(after);
    EXPECT(time_since(start) >= 20 * MILLISECOND);
    EXPECT(time_since(start) < TEST_SECONDS(3));
    chan_free(after);
    WAIT_FOR(atomic_load(&b.rounds) >= 100, 10);
    EXPECT(recv_instant(tk->c) > last); /* and it still ticks */
    ticker_stop(tk);
    atomic_store(&b.stop, true);
    wg_wait(&wg);
    ticker_free(tk);
}

static void tickers_of_any_period_above_zero_tick(void) {
    static const duration periods[] = {1, 2, 3, 5, 10, 20, 21, 100, 1000};
    for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++) {
        ticker *tk = ticker_new(periods[i]);
        instant start = time_now();
        chan *after = time_after(MILLISECOND);
        for (int k = 0; k < 10; k++)
            recv_instant(tk->c);
        recv_instant(after); /* the other timer fires meanwhile */
        EXPECT(time_since(start) < TEST_SECONDS(3));
        chan_free(after);
        ticker_reset(tk, periods[i]); /* Reset to a tiny period, too */
        recv_instant(tk->c);
        ticker_free(tk);
    }
}

/* --- Stop and Reset from several goroutines at once (Go's TestConcurrentTimerReset and
 * TestConcurrentTimerResetStop) --- */

typedef struct racer {
    timer *t;
    int i;
    chan *start; /* closed once every racer is there, so that they race */
} racer;

static void reset_a_thousand_times(void *arg) {
    racer *r = arg;
    chan_recv(r->start, NULL);
    for (int j = 0; j < 1000; j++)
        timer_reset(r->t, 3600 * SECOND + (duration)(r->i * j));
}

static void stop_once(void *arg) {
    racer *r = arg;
    chan_recv(r->start, NULL);
    timer_stop(r->t);
}

/* After the race: the entry is in the heap once, Stop finds it armed, a second Stop does not,
 * and a Reset fires exactly once. */
static void expect_one_entry_that_fires_once_per_reset(timer *t) {
    EXPECT_EQ(1, timer_heap_count(t->entry));
    EXPECT(timer_stop(t));
    EXPECT_EQ(0, timer_heap_count(t->entry));
    EXPECT(!timer_stop(t));
    EXPECT(!timer_reset(t, MILLISECOND));
    EXPECT_EQ(1, timer_heap_count(t->entry));
    recv_instant(t->c);
    time_sleep(30 * MILLISECOND);
    EXPECT_EQ(SELECT_DEFAULT, poll(t->c, NULL));
    EXPECT_EQ(0, timer_heap_count(t->entry));
}

/* 8 goroutines Reset t a thousand times each, all at once; with stops, 8 more Stop it once. */
static void race_resets(timer *t, bool stops) {
    enum { GOROUTINES = 8 };
    racer r[GOROUTINES];
    chan *start = chan_make(1, 0);
    waitgroup wg = WAITGROUP_INIT;
    for (int i = 0; i < GOROUTINES; i++) {
        r[i] = (racer){.t = t, .i = i, .start = start};
        wg_go(&wg, reset_a_thousand_times, &r[i]);
        if (stops)
            wg_go(&wg, stop_once, &r[i]);
    }
    chan_close(start);
    wg_wait(&wg);
    chan_free(start);
}

static void timer_reset_from_many_goroutines_at_once(void) {
    for (int round = 0; round < QUICK_OR(10, 2); round++) {
        timer *t = timer_new(3600 * SECOND);
        race_resets(t, false);
        expect_one_entry_that_fires_once_per_reset(t);
        timer_free(t);
    }
}

static void timer_reset_and_stop_from_many_goroutines_at_once(void) {
    for (int round = 0; round < QUICK_OR(10, 2); round++) {
        timer *t = timer_new(3600 * SECOND);
        race_resets(t, true);
        timer_reset(t, 3600 * SECOND); /* the last stop may have come after every reset */
        expect_one_entry_that_fires_once_per_reset(t);
        timer_free(t);
    }
}

typedef struct firing {
    timer *t;
    chan *quit, *start;
    atomic_int resets, received;
    unsigned seed;
} firing;

static void reset_short_many_times(void *arg) {
    firing *f = arg;
    chan_recv(f->start, NULL);
    unsigned seed = __atomic_add_fetch(&f->seed, 1, __ATOMIC_RELAXED);
    for (int j = 0; j < QUICK_OR(2000, 200); j++) {
        atomic_fetch_add(&f->resets, 1); /* before: a fire may come at once */
        timer_reset(f->t, (rand_r(&seed) % 200) * MICROSECOND);
        if (j % 16 == 0)
            timer_stop(f->t);
    }
}

static void receive_until_quit(void *arg) {
    firing *f = arg;
    for (;;) {
        select_case cs[] = {select_recv(f->t->c, NULL), select_recv(f->quit, NULL)};
        if (chan_select(cs, 2) == 1)
            return;
        atomic_fetch_add(&f->received, 1);
    }
}

/* Resets that fire soon, racing each other, the fire and a receiver: never more values than
 * Resets (the first timer_new counts as one). */
static void stress_timer_resets_racing_the_fire_fire_at_most_once_per_reset(void) {
    firing f = {.t = timer_new(100 * MICROSECOND), .quit = chan_make(sizeof(int64_t), 0)};
    atomic_store(&f.resets, 1);
    waitgroup resetters = WAITGROUP_INIT, receiver = WAITGROUP_INIT;
    wg_go(&receiver, receive_until_quit, &f);
    f.start = chan_make(1, 0);
    for (int i = 0; i < 4; i++)
        wg_go(&resetters, reset_short_many_times, &f);
    chan_close(f.start);
    wg_wait(&resetters);
    chan_free(f.start);
    time_sleep(20 * MILLISECOND); /* the last reset fires meanwhile */
    WAIT_FOR(timer_heap_count(f.t->entry) == 0 && chan_len(f.t->c) == 0, 5);
    chan_close(f.quit);
    wg_wait(&receiver);
    EXPECT(atomic_load(&f.received) > 0);
    EXPECT(atomic_load(&f.received) <= atomic_load(&f.resets));
    EXPECT(!timer_stop(f.t)); /* fired and received */
    EXPECT_EQ(0, timer_heap_count(f.t->entry));
    timer_free(f.t);
    chan_free(f.quit);
}

/* After the race, a real deadlock is still reported: the waker count is right. */
static void deadlock_reported_after_resets_and_stops_raced(void) {
    for (int round = 0; round < QUICK_OR(10, 2); round++) {
        timer *t = timer_new(3600 * SECOND);
        race_resets(t, true);
        timer_free(t);
    }
    WAIT_FOR(go_num_goroutines() == 1, 5);
    chan_recv(chan_make(sizeof(int64_t), 0), NULL); /* nothing can wake us */
}

/* --- time_after in a loop leaves nothing behind (the leak Go 1.23 fixed) --- */

/* Resident memory in KiB, from /proc/self/statm. */
static long resident_kib(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* select { case v := <-values: ... case <-time.After(time.Hour): } */
static void select_value_or_an_hour(chan *values, long n) {
    for (long i = 0; i < n; i++) {
        int64_t v = i, got = -1;
        chan_send(values, &v);
        chan *hour = time_after(3600 * SECOND);
        select_case cs[] = {select_recv(values, &got), select_recv(hour, NULL)};
        if (chan_select(cs, 2) != 0 || got != v)
            EXPECT(!"the value case was ready");
        chan_free(hour); /* the last reference: its entry leaves the heap now */
    }
}

static void time_after_in_a_select_loop_keeps_memory_flat(void) {
#ifdef TEST_SANITIZER
    long n = QUICK_OR(200000, 20000);
#else
    long n = QUICK_OR(1000000, 20000);
#endif
    chan *values = chan_make(sizeof(int64_t), 1);
    size_t heap_before = timer_heap_len();
    select_value_or_an_hour(values, 10000); /* warm up the allocator */
    long before = resident_kib();
    select_value_or_an_hour(values, n);
    long after = resident_kib();
    printf("memory: %ld time_after(1h) freed before firing: resident %ld KiB before, %ld KiB "
           "after\n",
           n, before, after);
    EXPECT_EQ(heap_before, timer_heap_len()); /* not one entry left behind */
    /* A leak of 270 bytes each would be 260 MiB. ASan and valgrind keep freed blocks in a
     * quarantine, resident, and valgrind's shadow memory grows with every allocation: under
     * them the heap's length above is the check. */
#ifndef TEST_ASAN
    if (!test_valgrind_)
        EXPECT(after - before < 16 * 1024);
#endif
    chan_free(values);

    /* A timer freed before it fires leaves the heap at once too. */
    for (int i = 0; i < 1000; i++)
        timer_free(timer_new(3600 * SECOND));
    EXPECT_EQ(heap_before, timer_heap_len());
}

/* Freed before firing, a time_after no longer counts as a waker: a real deadlock is reported. */
static void deadlock_reported_after_time_after_freed_before_firing(void) {
    chan *values = chan_make(sizeof(int64_t), 1);
    select_value_or_an_hour(values, 1000);
    chan_free(values);
    WAIT_FOR(go_num_goroutines() == 1, 5);
    chan_recv(chan_make(sizeof(int64_t), 0), NULL); /* nothing can wake us */
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
        TEST(ticker_of_one_nanosecond_ticks_and_other_timers_keep_firing),
        TEST(tickers_of_any_period_above_zero_tick),
        TEST(timer_reset_from_many_goroutines_at_once),
        TEST(timer_reset_and_stop_from_many_goroutines_at_once),
        TEST(stress_timer_resets_racing_the_fire_fire_at_most_once_per_reset),
        TEST(time_after_in_a_select_loop_keeps_memory_flat),
        TEST_EXIT(deadlock_reported_after_resets_and_stops_raced),
        TEST_EXIT(deadlock_reported_after_time_after_freed_before_firing),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
