/* patterns/rate-limit: five rate limiters, the same burst through each.
 *
 * A burst of requests arrives at once, each request a goroutine, as in a
 * server. Each limiter lets them through at its configured rate, in its own
 * way: Go by Example's ticker throttle and bursty limiter, a token bucket in
 * the shape of golang.org/x/time/rate, a leaky bucket and a sliding-window
 * counter (all five in rate_limit.h, beside this file, so that
 * tests/test_rate_limit.c checks them on a fake clock). The program prints
 * when each request went through, as a timeline, and the rate it measured
 * against the configured one, and checks that each limiter held: by any time
 * t after the burst, no more than burst + t x rate requests through. The Go
 * program this mirrors is main.go.
 *
 * Break it:
 *   --break=per-request   each request makes a limiter of its own, full and
 *                         unused, and goes straight through: the program's
 *                         own check reports every limit blown
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/context.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "patterns/rate-limit/rate_limit.h"

#define MAX_REQUESTS 100

enum { TICKER, BURSTY, TOKEN, LEAKY, WINDOW, LIMITERS };
static const char *const names[LIMITERS] = {"ticker", "bursty", "token", "leaky", "window"};

static int n, rate, burst;
static duration every, timeout;
static bool per_request; /* --break */

/* One limiter of each kind, behind one door. */
typedef struct limiter {
    int kind;
    ticker *tick; /* the clock of the throttle and the bursty limiter */
    bursty_limiter bursty;
    token_bucket token;
    leaky_bucket leaky;
    sliding_window window;
} limiter;

static void limiter_init(limiter *l, int kind) {
    l->kind = kind;
    if (kind == TICKER || kind == BURSTY)
        l->tick = ticker_new(every);
    if (kind == BURSTY)
        bursty_init(&l->bursty, burst, l->tick->c);
    if (kind == TOKEN)
        tb_init(&l->token, rl_real_clock(), every, burst);
    if (kind == LEAKY)
        leaky_init(&l->leaky, rl_real_clock(), every, MAX_REQUESTS); /* room for every request */
    if (kind == WINDOW)
        sw_init(&l->window, rl_real_clock(), SECOND, rate); /* rate requests per second */
}

/* Blocks until the request may go: NULL, or why it may not. */
static const char *limiter_wait(limiter *l) {
    const char *err = NULL;
    if (l->kind == TICKER)
        throttle_wait(l->tick->c); /* the guide's `<-limiter` */
    if (l->kind == BURSTY)
        bursty_wait(&l->bursty);
    if (l->kind == TOKEN) { /* a request waits for its token at most --timeout */
        context *ctx = ctx_with_timeout(ctx_background(), timeout);
        err = tb_wait(&l->token, ctx);
        ctx_free(ctx);
    }
    if (l->kind == LEAKY && !leaky_wait(&l->leaky))
        err = "dropped: the bucket is full";
    if (l->kind == WINDOW)
        sw_wait(&l->window);
    return err;
}

static void limiter_stop(limiter *l) {
    if (l->kind == BURSTY)
        bursty_stop(&l->bursty);
    if (l->kind == TOKEN)
        tb_stop(&l->token);
    if (l->kind == LEAKY)
        leaky_stop(&l->leaky);
    if (l->kind == WINDOW)
        sw_stop(&l->window);
    if (l->tick)
        ticker_free(l->tick);
}

typedef struct request {
    limiter *shared;         /* its lane's limiter */
    duration asked, through; /* since the burst began */
    const char *err;         /* NULL: it went through */
} request;

static limiter lanes[LIMITERS];
static request requests[LIMITERS][MAX_REQUESTS];
static waitgroup wg = WAITGROUP_INIT;
static instant start; /* before the first limiter was made */

static void handle(void *arg) {
    request *r = arg;
    r->asked = time_since(start);
    /* practice: ask the lane's limiter, the one every request shares (--break makes one per request instead) */
    if (per_request) {
        limiter mine = {0}; /* WRONG: a fresh limiter, full, for this request alone */
        limiter_init(&mine, r->shared->kind);
        r->err = limiter_wait(&mine);
        limiter_stop(&mine);
    } else {
        r->err = limiter_wait(r->shared); /* right: one limiter, shared by all */
    }
    /* end practice */
    r->through = time_since(start);
    wg_done(&wg);
}

/* The first request let through too early: by time t, no more than
 * burst + t / every may have gone. through[] is sorted. -1: none. */
static int first_too_early(const duration *through, int count, int lane_burst) {
    /* practice: find the first k whose request went through before (k + 1 - lane_burst) * every */
    for (int k = lane_burst; k < count; k++)
        if (through[k] < (k + 1 - lane_burst) * every)
            return k;
    /* end practice */
    return -1;
}

static int by_time(const void *a, const void *b) {
    duration x = *(const duration *)a, y = *(const duration *)b;
    return (x > y) - (x < y);
}

static char *ms(duration d, char *buf) { /* a time, to the millisecond */
    return duration_string((d + MILLISECOND / 2) / MILLISECOND * MILLISECOND, buf);
}

static duration through[LIMITERS][MAX_REQUESTS]; /* each lane's, sorted */
static int count[LIMITERS];                      /* how many went through */

/* The timeline: a column per half period, a digit per request through. */
static void timeline(void) {
    duration col = every / 2;
    int width = 0;
    for (int l = 0; l < LIMITERS; l++)
        if (count[l] > 0 && through[l][count[l] - 1] / col + 1 > width)
            width = through[l][count[l] - 1] / col + 1;
    char buf[DURATION_STRING_SIZE];
    printf("one column per %s, a digit for the requests let through in it:\n%-10s",
           duration_string(col, buf), "");
    for (int c = 0; c < width; c += 10) /* a label every ten columns */
        printf("%-*s", c + 10 < width ? 10 : 0, duration_string(c * col, buf));
    printf("\n");
    for (int l = 0; l < LIMITERS; l++) {
        printf("%-10s", names[l]);
        for (int c = 0, k = 0; c < width; c++) {
            int in = 0;
            for (; k < count[l] && through[l][k] / col == c; k++)
                in++;
            printf("%c", in == 0 ? '.' : in > 9 ? '+' : '0' + in);
        }
        printf("\n");
    }
}

/* One lane: what went at once, the rate of those that waited, the check.
 * Returns whether the limiter held. */
static bool report(int l, int lane_burst) {
    int at_once = 0, waited = 0, gave_up = 0;
    duration first = -1, last = -1;
    const char *why = NULL;
    for (int i = 0; i < n; i++) {
        request *r = &requests[l][i];
        if (r->err) {
            gave_up++;
            why = r->err;
        } else if (r->through - r->asked < every / 2) {
            at_once++;
        } else {
            waited++;
            if (first < 0 || r->through < first)
                first = r->through;
            if (r->through > last)
                last = r->through;
        }
    }
    printf("%s: %d through, %d at once, then %d", names[l], count[l], at_once, waited);
    if (waited >= 2) {
        duration span = last - first > 0 ? last - first : 1;
        printf(" at %.2f/s", (double)(waited - 1) * SECOND / span);
    }
    printf(" (configured %d/s)", rate);
    if (gave_up)
        printf(", %d gave up (%s)", gave_up, why);
    int k = first_too_early(through[l], count[l], lane_burst);
    if (k < 0) {
        printf(": held\n");
        return true;
    }
    char at[DURATION_STRING_SIZE], from[DURATION_STRING_SIZE];
    printf(": BLOWN: #%d through at %s, not allowed before %s\n", k + 1, ms(through[l][k], at),
           ms((k + 1 - lane_burst) * every, from));
    return false;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0); /* unbuffered, as Go's os.Stdout */
    const char *mistake;
    flag_int_range(&n, "n", 15, 1, MAX_REQUESTS, "requests in the burst");
    flag_int_range(&rate, "rate", 5, 1, 1000, "requests per second each limiter lets through");
    flag_int_range(&burst, "burst", 3, 1, MAX_REQUESTS,
                   "requests the bursty limiter and the token bucket let through at once");
    flag_duration(&timeout, "timeout", 10 * SECOND,
                  "how long a request waits for the token bucket before it gives up");
    flag_mode(&mistake, "break", "per-request",
              "make a limiter in each request instead of one for all: it limits nothing");
    flag_parse(argc, argv);
    per_request = mistake != NULL;
    every = SECOND / rate;
    printf("a burst of %d requests at once into each limiter: %d/s, burst %d\n", n, rate, burst);

    start = time_now();
    for (int l = 0; l < LIMITERS; l++)
        limiter_init(&lanes[l], l);
    for (int l = 0; l < LIMITERS; l++)
        for (int i = 0; i < n; i++) {
            requests[l][i] = (request){.shared = &lanes[l]};
            wg_add(&wg, 1);
            go(handle, &requests[l][i]);
        }
    wg_wait(&wg);
    for (int l = 0; l < LIMITERS; l++)
        limiter_stop(&lanes[l]);

    for (int l = 0; l < LIMITERS; l++) {
        for (int i = 0; i < n; i++)
            if (!requests[l][i].err)
                through[l][count[l]++] = requests[l][i].through;
        qsort(through[l], count[l], sizeof(duration), by_time);
    }
    timeline();
    /* What each may let through at once: the throttle waits for its first tick. */
    int lane_burst[LIMITERS] = {0, burst, burst, 1, rate}, blown = 0;
    for (int l = 0; l < LIMITERS; l++)
        blown += !report(l, lane_burst[l]);
    if (blown)
        printf("main: %d of %d limiters let more through than burst + rate x elapsed\n", blown,
               LIMITERS);
    else
        printf("main: every limiter held its limit: never more than burst + rate x elapsed\n");

    /* Every goroutine has called wg_done; each returns right after. */
    printf("main: goroutines left: %d (main)\n", 1 + go_leaks(SECOND));
    return blown ? 1 : 0;
}
