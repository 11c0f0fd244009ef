/* rate_limit.h: five rate limiters, each reading its clock through a
 * parameter, so that tests/test_rate_limit.c drives them on a fake clock and
 * checks every admission exactly, while main.c runs them on the real one.
 *
 *   throttle        Go by Example's: one request per tick of a ticker
 *   bursty          Go by Example's bursty limiter: a buffered channel of
 *                   tokens, full at the start, refilled by a ticker
 *   token_bucket    golang.org/x/time/rate's Limiter: rate and burst, Allow,
 *                   Wait(ctx) that gives up when the context ends
 *   leaky_bucket    a queue that leaks one request per period (uber-go's
 *                   ratelimit): no burst at all, an even stream out
 *   sliding_window  a counter over a window that slides, estimated from two
 *                   fixed windows (Cloudflare's)
 *
 * The clock: the throttle and the bursty limiter take a channel of ticks (a
 * ticker's in main.c, one the test sends on); the other three take an
 * rl_clock, which tells the time and makes a channel that fires after a
 * duration (time_now and time_after in main.c, a fake clock in the test).
 *
 * Contract: every *_init is paired with its *_stop, after the last request.
 * A limiter may be asked by many goroutines at once. A *_wait blocks until
 * the request may go; tb_wait gives up when its context ends (or at once if
 * its deadline comes before the request's turn), leaky_wait refuses a
 * request when the bucket is full. The functions are static inline: each
 * program that includes this header gets its own copy.
 */
#ifndef PATTERNS_RATE_LIMIT_H
#define PATTERNS_RATE_LIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

/* ---- The clock ---- */

typedef struct rl_clock rl_clock;
struct rl_clock {
    instant (*now)(rl_clock *c);
    /* A channel that receives one instant (an int64_t) after d, as
     * time_after; the caller frees it with chan_free. */
    chan *(*after)(rl_clock *c, duration d);
};

static inline instant rl_real_now(rl_clock *c) {
    (void)c;
    return time_now();
}
static inline chan *rl_real_after(rl_clock *c, duration d) {
    (void)c;
    return time_after(d);
}
/* The monotonic clock of common/timer.h. */
static inline rl_clock *rl_real_clock(void) {
    static rl_clock real = {rl_real_now, rl_real_after};
    return &real;
}

/* Sleeps d on the clock c. */
static inline void rl_sleep(rl_clock *c, duration d) {
    chan *t = c->after(c, d);
    chan_recv(t, NULL);
    chan_free(t);
}

/* ---- 1. The throttle: a request waits for the next tick ---- */

static inline void throttle_wait(chan *ticks) {
    chan_recv(ticks, NULL);
}

/* ---- 2. The bursty limiter: a channel of tokens, refilled by ticks ---- */

typedef struct bursty_limiter {
    chan *tokens; /* a buffer of burst tokens: a request takes one */
    chan *ticks;  /* the clock: each tick puts a token back */
    chan *done;   /* closed by bursty_stop */
    waitgroup wg; /* the refill goroutine */
} bursty_limiter;

/* Go by Example's refill loop, `for t := range time.Tick(...) { bursty <- t }`,
 * with a way to stop it: that one runs, and holds its ticker, forever. */
static inline void bursty_refill(void *arg) {
    bursty_limiter *b = arg;
    for (;;) {
        instant t;
        select_case tick[] = {select_recv(b->ticks, &t), select_recv(b->done, NULL)};
        if (chan_select(tick, 2) == 1)
            break;
        select_case put[] = {select_send(b->tokens, &t), select_recv(b->done, NULL)};
        if (chan_select(put, 2) == 1)
            break;
    }
    wg_done(&b->wg);
}

static inline void bursty_init(bursty_limiter *b, int burst, chan *ticks) {
    b->tokens = chan_make(sizeof(instant), (size_t)burst);
    b->ticks = ticks;
    b->done = chan_make(1, 0);
    wg_init(&b->wg);
    for (int i = 0; i < burst; i++) { /* full at the start: a burst may go at once */
        instant t = 0;
        chan_send(b->tokens, &t);
    }
    wg_add(&b->wg, 1);
    go(bursty_refill, b);
}

static inline void bursty_wait(bursty_limiter *b) {
    chan_recv(b->tokens, NULL);
}

static inline void bursty_stop(bursty_limiter *b) {
    chan_close(b->done);
    wg_wait(&b->wg);
    chan_free(b->done);
    chan_free(b->tokens);
}

/* ---- 3. The token bucket, in the shape of golang.org/x/time/rate ---- */

typedef struct token_bucket {
    rl_clock *clock;
    duration every; /* a token per every: rate.Every(every) */
    int burst;      /* the bucket holds at most burst tokens */
    pthread_mutex_t mu;
    /* The tokens in the bucket, counted in time so that the arithmetic is
     * exact: credit / every tokens. Negative while requests wait for tokens
     * they have reserved. Guarded by mu, as are the two below. */
    duration credit;
    instant last;       /* when credit was last brought up to date */
    instant last_event; /* when the latest reservation may act */
} token_bucket;

static const char rate_exceeds_deadline[] = "rate: Wait(n=1) would exceed context deadline";

static inline void tb_init(token_bucket *tb, rl_clock *clock, duration every, int burst) {
    *tb = (token_bucket){.clock = clock, .every = every, .burst = burst};
    pthread_mutex_init(&tb->mu, NULL);
    tb->last = clock->now(clock);
    tb->credit = burst * every; /* full, as rate.NewLimiter's first advance makes it */
}

/* The tokens earned since last, up to a full bucket (rate's advance). */
static inline void tb_advance(token_bucket *tb, instant now) {
    duration full = tb->burst * tb->every;
    if (now > tb->last) {
        duration earned = now - tb->last;
        tb->credit = earned > full - tb->credit ? full : tb->credit + earned;
        tb->last = now;
    }
}

/* Allow: takes a token if there is one, never waits. */
static inline bool tb_allow(token_bucket *tb) {
    instant now = tb->clock->now(tb->clock);
    pthread_mutex_lock(&tb->mu);
    tb_advance(tb, now);
    bool ok = tb->credit >= tb->every;
    if (ok) {
        tb->credit -= tb->every;
        tb->last_event = now;
    }
    pthread_mutex_unlock(&tb->mu);
    return ok;
}

/* Wait(ctx): reserves the next token, then waits until it is earned; NULL
 * once the request may go. Gives up at once, taking nothing, if the
 * context's deadline comes before that; gives up when the context ends while
 * it waits, and then gives the token back unless a later request has
 * reserved one behind it. */
static inline const char *tb_wait(token_bucket *tb, context *ctx) {
    if (ctx_err(ctx))
        return ctx_err(ctx);
    instant now = tb->clock->now(tb->clock), deadline;
    bool has_deadline = ctx_deadline(ctx, &deadline);
    pthread_mutex_lock(&tb->mu);
    tb_advance(tb, now);
    /* Take the token even if it is not there yet: credit goes below zero,
     * and the request waits until it is back at zero. */
    duration wait = tb->credit >= tb->every ? 0 : tb->every - tb->credit;
    if (has_deadline && wait > deadline - now) {
        pthread_mutex_unlock(&tb->mu);
        return rate_exceeds_deadline;
    }
    tb->credit -= tb->every;
    instant act = now + wait;
    tb->last_event = act;
    pthread_mutex_unlock(&tb->mu);
    if (wait == 0)
        return NULL;

    chan *turn = tb->clock->after(tb->clock, wait);
    select_case cases[] = {select_recv(turn, NULL), select_recv(ctx_done(ctx), NULL)};
    int chosen = chan_select(cases, 2);
    chan_free(turn);
    if (chosen == 0)
        return NULL;
    /* Cancelled: the token goes back if no one reserved after us (rate's
     * Reservation.Cancel); the later ones keep the turns they were given. */
    now = tb->clock->now(tb->clock);
    pthread_mutex_lock(&tb->mu);
    if (act > now && tb->last_event == act) {
        tb_advance(tb, now);
        tb->credit += tb->every;
        tb->last_event = act - tb->every;
    }
    pthread_mutex_unlock(&tb->mu);
    return ctx_err(ctx);
}

static inline void tb_stop(token_bucket *tb) {
    pthread_mutex_destroy(&tb->mu);
}

/* ---- 4. The leaky bucket: a queue that leaks one request per period ---- */

typedef struct leaky_bucket {
    rl_clock *clock;
    duration every; /* one request leaves per every */
    int capacity;   /* how many requests may wait in the bucket */
    pthread_mutex_t mu;
    instant next; /* when the next request may leave; guarded by mu */
} leaky_bucket;

static inline void leaky_init(leaky_bucket *lb, rl_clock *clock, duration every, int capacity) {
    *lb = (leaky_bucket){.clock = clock, .every = every, .capacity = capacity};
    pthread_mutex_init(&lb->mu, NULL);
    lb->next = clock->now(clock);
}

/* A request enters the bucket: returns how long it waits before it leaves,
 * or -1 when capacity requests already wait (the request is dropped). */
static inline duration leaky_admit(leaky_bucket *lb) {
    instant now = lb->clock->now(lb->clock);
    pthread_mutex_lock(&lb->mu);
    if (lb->next < now)
        lb->next = now; /* the bucket ran dry: no credit for the idle time */
    duration wait = lb->next - now;
    /* Those ahead leave at next - every, next - 2 every, ... after now. */
    if (wait > 0 && (wait - 1) / lb->every >= lb->capacity) {
        pthread_mutex_unlock(&lb->mu);
        return -1;
    }
    lb->next += lb->every;
    pthread_mutex_unlock(&lb->mu);
    return wait;
}

/* Waits for the request's turn to leave; false if the bucket was full. */
static inline bool leaky_wait(leaky_bucket *lb) {
    duration wait = leaky_admit(lb);
    if (wait > 0)
        rl_sleep(lb->clock, wait);
    return wait >= 0;
}

static inline void leaky_stop(leaky_bucket *lb) {
    pthread_mutex_destroy(&lb->mu);
}

/* ---- 5. The sliding-window counter ---- */

typedef struct sliding_window {
    rl_clock *clock;
    duration window; /* the window's length */
    int64_t limit;   /* requests per window */
    pthread_mutex_t mu;
    instant start;     /* when the current fixed window began; guarded by mu */
    int64_t prev, cur; /* admitted in the previous and the current window; mu */
} sliding_window;

static inline void sw_init(sliding_window *sw, rl_clock *clock, duration window, int limit) {
    *sw = (sliding_window){.clock = clock, .window = window, .limit = limit};
    pthread_mutex_init(&sw->mu, NULL);
    sw->start = clock->now(clock);
}

/* Admits the request and returns 0, or refuses it and returns when to try
 * again (an HTTP 429's Retry-After). */
static inline duration sw_allow(sliding_window *sw) {
    instant now = sw->clock->now(sw->clock);
    pthread_mutex_lock(&sw->mu);
    int64_t passed = (now - sw->start) / sw->window;
    if (passed > 0) { /* a new fixed window: the current one becomes the previous */
        sw->prev = passed == 1 ? sw->cur : 0;
        sw->cur = 0;
        sw->start += passed * sw->window;
    }
    duration w = sw->window, into = now - sw->start, retry;
    /* The window that ends now covers (w - into) / w of the previous fixed
     * window, whose requests are taken as evenly spread: admit while
     * prev * (w - into) / w + cur < limit, multiplied by w to stay exact. */
    if (sw->prev * (w - into) + sw->cur * w < sw->limit * w) {
        sw->cur++;
        retry = 0;
    } else if (sw->prev == 0) {
        retry = w - into; /* only the next fixed window can help */
    } else {
        /* The first into' > w (prev + cur - limit) / prev, or the next window. */
        duration at = w * (sw->prev + sw->cur - sw->limit) / sw->prev + 1;
        retry = (at < w ? at : w) - into;
    }
    pthread_mutex_unlock(&sw->mu);
    return retry;
}

/* Tries, and after each refusal sleeps for its Retry-After. */
static inline void sw_wait(sliding_window *sw) {
    for (duration retry; (retry = sw_allow(sw)) > 0;)
        rl_sleep(sw->clock, retry);
}

static inline void sw_stop(sliding_window *sw) {
    pthread_mutex_destroy(&sw->mu);
}

#endif
