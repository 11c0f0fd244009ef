/* test_rate_limit.c: the limiters of patterns/rate-limit/rate_limit.h on a
 * fake clock, which moves only when a case advances it: every admission is
 * checked at its exact instant, nothing is timed.
 *
 * The fake clock starts an hour ahead of the real one, so that a context
 * deadline set on it (ctx_with_deadline takes a real instant) never fires
 * while a case runs: the token bucket reads it, the timer thread never
 * reaches it.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/go.h"
#include "common/select.h"
#include "common/timer.h"
#include "patterns/rate-limit/rate_limit.h"
#include "testlib.h"

#define MS MILLISECOND

/* ---- The fake clock ---- */

enum { MAX_PENDING = 64 };

typedef struct fake_clock {
    rl_clock base; /* first: a limiter sees an rl_clock */
    pthread_mutex_t mu;
    instant now; /* guarded by mu, as are the pending timers */
    int npending;
    struct {
        instant at;
        chan *c; /* our reference to the channel after() handed out */
    } pending[MAX_PENDING];
    chan *armed; /* receives the instant of each after(): a goroutine now waits */
} fake_clock;

static instant fake_now(rl_clock *c) {
    fake_clock *f = (fake_clock *)c;
    pthread_mutex_lock(&f->mu);
    instant t = f->now;
    pthread_mutex_unlock(&f->mu);
    return t;
}

static chan *fake_after(rl_clock *c, duration d) {
    fake_clock *f = (fake_clock *)c;
    chan *ch = chan_make(sizeof(instant), 1);
    pthread_mutex_lock(&f->mu);
    instant at = f->now + d;
    if (d <= 0) {
        chan_send(ch, &at);
    } else {
        if (f->npending == MAX_PENDING) {
            fprintf(stderr, "fake clock: more than %d timers\n", MAX_PENDING);
            abort();
        }
        f->pending[f->npending].at = at;
        f->pending[f->npending++].c = chan_ref(ch);
    }
    pthread_mutex_unlock(&f->mu);
    chan_send(f->armed, &at);
    return ch;
}

static void fake_init(fake_clock *f) {
    *f = (fake_clock){.base = {fake_now, fake_after}};
    pthread_mutex_init(&f->mu, NULL);
    f->now = time_now() + 3600 * SECOND;
    f->armed = chan_make(sizeof(instant), 256);
}

/* Moves the clock on by d and fires every timer that is due. */
static void fake_advance(fake_clock *f, duration d) {
    pthread_mutex_lock(&f->mu);
    f->now += d;
    for (int i = 0; i < f->npending;) {
        if (f->pending[i].at <= f->now) {
            chan_send(f->pending[i].c, &f->pending[i].at); /* a buffer of one: never blocks */
            chan_free(f->pending[i].c);
            f->pending[i] = f->pending[--f->npending];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&f->mu);
}

/* The instant of the next after(), relative to the clock's start. */
static duration next_armed(fake_clock *f, instant start) {
    instant at;
    chan_recv(f->armed, &at);
    return at - start;
}

static void fake_free(fake_clock *f) {
    EXPECT_EQ(0, chan_len(f->armed)); /* every timer a case caused, it looked at */
    for (int i = 0; i < f->npending; i++)
        chan_free(f->pending[i].c);
    chan_free(f->armed);
    pthread_mutex_destroy(&f->mu);
}

/* A goroutine that runs one limiter call and reports on a channel. */
typedef struct waiter {
    void *limiter;
    context *ctx;
    chan *result; /* receives the call's answer: an error string (token), or 1 (others) */
    atomic_int tid;
} waiter;

static waiter *waiter_new(void *limiter, context *ctx) {
    waiter *w = calloc(1, sizeof *w);
    w->limiter = limiter;
    w->ctx = ctx;
    w->result = chan_make(sizeof(const char *), 1);
    return w;
}

/* Its answer, waiting for it. */
static const char *waiter_result(waiter *w) {
    const char *r;
    chan_recv(w->result, &r);
    return r;
}

static bool waiter_done(waiter *w) {
    return chan_len(w->result) == 1;
}

static void waiter_free(waiter *w) {
    chan_free(w->result);
    free(w);
}

static const char went[] = "went";

/* ---- 1. The throttle ---- */

static void throttle_waits(void *arg) {
    waiter *w = arg;
    atomic_store(&w->tid, gettid());
    throttle_wait(w->limiter);
    const char *r = went;
    chan_send(w->result, &r);
}

static void throttle_lets_one_request_through_per_tick(void) {
    chan *ticks = chan_make(sizeof(instant), 1); /* a ticker's channel: a buffer of one */
    waiter *w = waiter_new(ticks, NULL);
    go(throttle_waits, w);
    WAIT_BLOCKED(&w->tid); /* no tick, no request */
    EXPECT(!waiter_done(w));
    instant t = 1;
    chan_send(ticks, &t);
    EXPECT_ERR(went, waiter_result(w));
    for (int i = 0; i < 5; i++) { /* each request takes exactly its tick */
        chan_send(ticks, &t);
        throttle_wait(ticks);
        EXPECT_EQ(0, chan_len(ticks));
    }
    waiter_free(w);
    chan_free(ticks);
}

/* ---- 2. The bursty limiter ---- */

static void bursty_lets_a_burst_through_then_one_per_tick(void) {
    chan *ticks = chan_make(sizeof(instant), 1);
    bursty_limiter b;
    bursty_init(&b, 3, ticks);
    for (int i = 0; i < 3; i++) /* the burst: at once, no tick needed */
        bursty_wait(&b);
    EXPECT_EQ(0, chan_len(b.tokens));
    instant t = 1;
    for (int i = 0; i < 4; i++) { /* then exactly one per tick */
        chan_send(ticks, &t);
        bursty_wait(&b);
        EXPECT_EQ(0, chan_len(b.tokens));
    }
    bursty_stop(&b);
    chan_free(ticks);
}

static void bursty_after_idle_lets_burst_plus_two_through(void) {
    /* Full bucket, no request: the refill goroutine takes a tick and waits
     * to put its token, a second tick waits in the ticker's buffer, and a
     * third is dropped (a ticker drops ticks nobody takes). */
    chan *ticks = chan_make(sizeof(instant), 1);
    bursty_limiter b;
    bursty_init(&b, 3, ticks);
    instant t = 1;
    chan_send(ticks, &t);
    WAIT_FOR(chan_len(ticks) == 0, 5);
    chan_send(ticks, &t);
    select_case drop[] = {select_send(ticks, &t)};
    EXPECT_EQ(SELECT_DEFAULT, chan_select_default(drop, 1));
    for (int i = 0; i < 3 + 2; i++)
        bursty_wait(&b);
    EXPECT_EQ(0, chan_len(b.tokens));
    EXPECT_EQ(0, chan_len(ticks));
    bursty_stop(&b);
    chan_free(ticks);
}

static void bursty_stop_ends_the_refill_goroutine(void) {
    WAIT_FOR(go_num_goroutines() == 1, 5);
    chan *ticks = chan_make(sizeof(instant), 1);
    bursty_limiter b;
    bursty_init(&b, 2, ticks);
    EXPECT_EQ(2, go_num_goroutines());
    bursty_stop(&b);
    WAIT_FOR(go_num_goroutines() == 1, 5);
    chan_free(ticks);
}

/* ---- 3. The token bucket ---- */

static void token_allow_burst_then_one_per_every(void) {
    fake_clock f;
    fake_init(&f);
    token_bucket tb;
    tb_init(&tb, &f.base, 200 * MS, 3);
    for (int i = 0; i < 3; i++)
        EXPECT(tb_allow(&tb));
    EXPECT(!tb_allow(&tb));
    fake_advance(&f, 199 * MS);
    EXPECT(!tb_allow(&tb));
    fake_advance(&f, 1 * MS);
    EXPECT(tb_allow(&tb));
    EXPECT(!tb_allow(&tb));
    fake_advance(&f, 10 * SECOND); /* 50 tokens earned, the bucket holds 3 */
    for (int i = 0; i < 3; i++)
        EXPECT(tb_allow(&tb));
    EXPECT(!tb_allow(&tb));
    fake_advance(&f, 100 * MS); /* half a token is no token */
    EXPECT(!tb_allow(&tb));
    fake_advance(&f, 100 * MS);
    EXPECT(tb_allow(&tb));
    tb_stop(&tb);
    fake_free(&f);
}

static void token_allow_long_run_is_burst_plus_rate_times_time(void) {
    fake_clock f;
    fake_init(&f);
    token_bucket tb;
    tb_init(&tb, &f.base, 200 * MS, 3);
    int allowed = 0;
    for (int t = 0; t <= 10000; t += 10) { /* a request every 10 ms for 10 s */
        allowed += tb_allow(&tb);
        fake_advance(&f, 10 * MS);
    }
    EXPECT_EQ(3 + 10000 / 200, allowed);
    tb_stop(&tb);
    fake_free(&f);
}

static void token_waits(void *arg) {
    waiter *w = arg;
    const char *err = tb_wait(w->limiter, w->ctx);
    chan_send(w->result, &err);
}

static void token_wait_gives_each_request_its_turn(void) {
    fake_clock f;
    fake_init(&f);
    instant start = f.now;
    token_bucket tb;
    tb_init(&tb, &f.base, 200 * MS, 3);
    for (int i = 0; i < 3; i++) /* the burst: no wait, no timer */
        EXPECT_ERR(NULL, tb_wait(&tb, ctx_background()));
    EXPECT_EQ(0, chan_len(f.armed));
    waiter *a = waiter_new(&tb, ctx_background()), *b = waiter_new(&tb, ctx_background());
    go(token_waits, a);
    EXPECT_EQ(200 * MS, next_armed(&f, start)); /* the next token */
    go(token_waits, b);
    EXPECT_EQ(400 * MS, next_armed(&f, start)); /* the one after: reserved behind a */
    fake_advance(&f, 199 * MS);
    EXPECT(!waiter_done(a) && !waiter_done(b));
    fake_advance(&f, 1 * MS);
    EXPECT_ERR(NULL, waiter_result(a));
    EXPECT(!waiter_done(b));
    EXPECT(!tb_allow(&tb)); /* b's token is spoken for */
    fake_advance(&f, 200 * MS);
    EXPECT_ERR(NULL, waiter_result(b));
    EXPECT(!tb_allow(&tb));
    waiter_free(a);
    waiter_free(b);
    tb_stop(&tb);
    fake_free(&f);
}

static void token_wait_refuses_at_once_past_the_deadline(void) {
    fake_clock f;
    fake_init(&f);
    instant start = f.now;
    token_bucket tb;
    tb_init(&tb, &f.base, 200 * MS, 1);
    EXPECT(tb_allow(&tb));
    context *ctx = ctx_with_deadline(ctx_background(), start + 199 * MS);
    EXPECT_ERR(rate_exceeds_deadline, tb_wait(&tb, ctx)); /* without waiting */
    EXPECT_EQ(0, chan_len(f.armed));
    ctx_free(ctx);
    fake_advance(&f, 200 * MS);
    EXPECT(tb_allow(&tb)); /* it took nothing: the token is there */

    /* A turn exactly at the deadline is taken (rate's wait <= deadline - now). */
    ctx = ctx_with_deadline(ctx_background(), start + 400 * MS);
    waiter *w = waiter_new(&tb, ctx);
    go(token_waits, w);
    EXPECT_EQ(400 * MS, next_armed(&f, start));
    fake_advance(&f, 200 * MS);
    EXPECT_ERR(NULL, waiter_result(w));
    waiter_free(w);
    ctx_free(ctx);
    tb_stop(&tb);
    fake_free(&f);
}

static void token_wait_gives_up_when_the_context_ends_and_returns_the_token(void) {
    fake_clock f;
    fake_init(&f);
    instant start = f.now;
    token_bucket tb;
    tb_init(&tb, &f.base, 200 * MS, 1);
    EXPECT(tb_allow(&tb));
    context *ctx = ctx_with_cancel(ctx_background());
    waiter *w = waiter_new(&tb, ctx);
    go(token_waits, w);
    EXPECT_EQ(200 * MS, next_armed(&f, start));
    ctx_cancel(ctx);
    EXPECT_ERR(context_canceled, waiter_result(w));
    fake_advance(&f, 200 * MS);
    EXPECT(tb_allow(&tb)); /* given back: without that, its turn would be lost */
    EXPECT(!tb_allow(&tb));
    EXPECT_ERR(context_canceled, tb_wait(&tb, ctx)); /* a context already done: at once */
    EXPECT_EQ(0, chan_len(f.armed));
    waiter_free(w);
    ctx_free(ctx);
    tb_stop(&tb);
    fake_free(&f);
}

static void token_cancel_keeps_the_token_when_a_later_request_reserved(void) {
    fake_clock f;
    fake_init(&f);
    instant start = f.now;
    token_bucket tb;
    tb_init(&tb, &f.base, 200 * MS, 1);
    EXPECT(tb_allow(&tb));
    context *ca = ctx_with_cancel(ctx_background());
    waiter *a = waiter_new(&tb, ca), *b = waiter_new(&tb, ctx_background());
    go(token_waits, a);
    EXPECT_EQ(200 * MS, next_armed(&f, start));
    go(token_waits, b);
    EXPECT_EQ(400 * MS, next_armed(&f, start));
    ctx_cancel(ca);
    EXPECT_ERR(context_canceled, waiter_result(a));
    fake_advance(&f, 400 * MS);
    EXPECT_ERR(NULL, waiter_result(b)); /* b keeps its turn */
    EXPECT(!tb_allow(&tb));             /* and a's token did not come back on top */
    waiter_free(a);
    waiter_free(b);
    ctx_free(ca);
    tb_stop(&tb);
    fake_free(&f);
}

/* ---- 4. The leaky bucket ---- */

static void leaky_spaces_requests_and_drops_past_capacity(void) {
    fake_clock f;
    fake_init(&f);
    leaky_bucket lb;
    leaky_init(&lb, &f.base, 200 * MS, 2);
    EXPECT_EQ(0, leaky_admit(&lb));        /* leaves at once */
    EXPECT_EQ(200 * MS, leaky_admit(&lb)); /* waits, first in the bucket */
    EXPECT_EQ(400 * MS, leaky_admit(&lb)); /* second: the bucket is full */
    EXPECT_EQ(-1, leaky_admit(&lb));       /* dropped */
    fake_advance(&f, 200 * MS);            /* one left: room for one */
    EXPECT_EQ(400 * MS, leaky_admit(&lb));
    EXPECT_EQ(-1, leaky_admit(&lb));
    fake_advance(&f, 10 * SECOND); /* idle: the bucket runs dry, and saves nothing up */
    EXPECT_EQ(0, leaky_admit(&lb));
    EXPECT_EQ(200 * MS, leaky_admit(&lb)); /* no burst after idle, unlike a token bucket */
    leaky_stop(&lb);
    fake_free(&f);
}

static void leaky_long_run_is_one_per_every(void) {
    fake_clock f;
    fake_init(&f);
    leaky_bucket lb;
    leaky_init(&lb, &f.base, 200 * MS, 0); /* no room to wait: leave now or be dropped */
    int through = 0;
    for (int t = 0; t <= 10000; t += 10) {
        through += leaky_admit(&lb) == 0;
        fake_advance(&f, 10 * MS);
    }
    EXPECT_EQ(1 + 10000 / 200, through);
    leaky_stop(&lb);
    fake_free(&f);
}

static void leaky_waits(void *arg) {
    waiter *w = arg;
    const char *r = leaky_wait(w->limiter) ? went : NULL;
    chan_send(w->result, &r);
}

static void leaky_wait_sleeps_until_its_turn(void) {
    fake_clock f;
    fake_init(&f);
    instant start = f.now;
    leaky_bucket lb;
    leaky_init(&lb, &f.base, 200 * MS, 1);
    EXPECT(leaky_wait(&lb)); /* at once: no timer */
    EXPECT_EQ(0, chan_len(f.armed));
    waiter *w = waiter_new(&lb, NULL);
    go(leaky_waits, w);
    EXPECT_EQ(200 * MS, next_armed(&f, start));
    EXPECT(!leaky_wait(&lb)); /* the bucket holds one, and it is full */
    fake_advance(&f, 199 * MS);
    EXPECT(!waiter_done(w));
    fake_advance(&f, 1 * MS);
    EXPECT_ERR(went, waiter_result(w));
    waiter_free(w);
    leaky_stop(&lb);
    fake_free(&f);
}

/* ---- 5. The sliding-window counter ---- */

static void window_limit_then_retry_after_the_window(void) {
    fake_clock f;
    fake_init(&f);
    sliding_window sw;
    sw_init(&sw, &f.base, SECOND, 5);
    for (int i = 0; i < 5; i++)
        EXPECT_EQ(0, sw_allow(&sw));
    EXPECT_EQ(SECOND, sw_allow(&sw)); /* nothing before the next window */
    fake_advance(&f, 300 * MS);
    EXPECT_EQ(700 * MS, sw_allow(&sw));
    fake_advance(&f, 700 * MS);
    /* The new window: the window that ends now still covers all of the
     * previous one (5 of 5): not yet. Each fifth of it that slides out
     * makes room for one. */
    EXPECT_EQ(1, sw_allow(&sw));
    fake_advance(&f, 1);
    EXPECT_EQ(0, sw_allow(&sw));
    EXPECT_EQ(200 * MS, sw_allow(&sw));
    fake_advance(&f, 200 * MS);
    EXPECT_EQ(0, sw_allow(&sw));
    for (int i = 0; i < 3; i++) { /* one per fifth of the window, up to the limit */
        EXPECT_EQ(200 * MS, sw_allow(&sw));
        fake_advance(&f, 200 * MS);
        EXPECT_EQ(0, sw_allow(&sw));
    }
    /* Full (5 in this window, at 1 ns, 200 ms + 1 ns, ... 800 ms + 1 ns):
     * nothing before the next window begins, 200 ms - 1 ns from now. */
    EXPECT_EQ(200 * MS - 1, sw_allow(&sw));
    fake_advance(&f, 200 * MS - 1);
    EXPECT_EQ(1, sw_allow(&sw));
    fake_advance(&f, 1);
    EXPECT_EQ(0, sw_allow(&sw));
    fake_advance(&f, 2 * SECOND); /* two windows without a request: a fresh start */
    for (int i = 0; i < 5; i++)
        EXPECT_EQ(0, sw_allow(&sw));
    EXPECT(sw_allow(&sw) > 0);
    sw_stop(&sw);
    fake_free(&f);
}

static void window_long_run_is_limit_per_window(void) {
    fake_clock f;
    fake_init(&f);
    sliding_window sw;
    sw_init(&sw, &f.base, SECOND, 5);
    int through = 0, in_window = 0, most = 0;
    for (int t = 0; t < 10000; t += 10) { /* a request every 10 ms for 10 windows */
        if (t % 1000 == 0)
            in_window = 0;
        if (sw_allow(&sw) == 0) {
            through++;
            if (++in_window > most)
                most = in_window;
        }
        fake_advance(&f, 10 * MS);
    }
    EXPECT_EQ(5 * 10, through);
    EXPECT_EQ(5, most); /* never more than the limit in a fixed window */
    sw_stop(&sw);
    fake_free(&f);
}

static void window_waits(void *arg) {
    waiter *w = arg;
    sw_wait(w->limiter);
    const char *r = went;
    chan_send(w->result, &r);
}

static void window_wait_sleeps_for_each_retry_after(void) {
    fake_clock f;
    fake_init(&f);
    instant start = f.now;
    sliding_window sw;
    sw_init(&sw, &f.base, SECOND, 2);
    sw_wait(&sw);
    sw_wait(&sw);
    EXPECT_EQ(0, chan_len(f.armed));
    waiter *w = waiter_new(&sw, NULL);
    go(window_waits, w);
    EXPECT_EQ(SECOND, next_armed(&f, start));
    fake_advance(&f, SECOND);
    EXPECT_EQ(SECOND + 1, next_armed(&f, start)); /* refused again, for a nanosecond */
    EXPECT(!waiter_done(w));
    fake_advance(&f, 1);
    EXPECT_ERR(went, waiter_result(w));
    waiter_free(w);
    sw_stop(&sw);
    fake_free(&f);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(throttle_lets_one_request_through_per_tick),
        TEST(bursty_lets_a_burst_through_then_one_per_tick),
        TEST(bursty_after_idle_lets_burst_plus_two_through),
        TEST(bursty_stop_ends_the_refill_goroutine),
        TEST(token_allow_burst_then_one_per_every),
        TEST(token_allow_long_run_is_burst_plus_rate_times_time),
        TEST(token_wait_gives_each_request_its_turn),
        TEST(token_wait_refuses_at_once_past_the_deadline),
        TEST(token_wait_gives_up_when_the_context_ends_and_returns_the_token),
        TEST(token_cancel_keeps_the_token_when_a_later_request_reserved),
        TEST(leaky_spaces_requests_and_drops_past_capacity),
        TEST(leaky_long_run_is_one_per_every),
        TEST(leaky_wait_sleeps_until_its_turn),
        TEST(window_limit_then_retry_after_the_window),
        TEST(window_long_run_is_limit_per_window),
        TEST(window_wait_sleeps_for_each_retry_after),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
