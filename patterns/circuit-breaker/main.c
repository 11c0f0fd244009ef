/* patterns/circuit-breaker: stop calling a service that is failing, and try
 * again later.
 *
 * Requests come at a steady pace, each in a goroutine of its own, to a
 * service that can work on a few calls at once. For the middle half of the
 * run the service fails nine calls in ten, and slowly: a failure is a call
 * that times out. Without a breaker, the callers queue up behind those slow
 * failures. A circuit breaker in front of the service (closed, open,
 * half-open, as in sony/gobreaker) opens after a few consecutive failures,
 * fails every request at once while open, lets a few through after a
 * timeout (half-open), and closes when they succeed. The breaker is in
 * breaker.h beside this file, its clock a setting, so that
 * tests/test_breaker.c checks every transition on a fake clock. The Go
 * program this mirrors is main.go, beside this file.
 *
 * Break it: --break calls the service without the breaker: while it fails,
 * every request waits for its slow failure, the callers pile up, and the
 * peak of goroutines waiting on the service says so.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "patterns/circuit-breaker/breaker.h"

#define CAPACITY 4 /* calls the service works on at once */

/* Set by main before the first go(), then only read. */
static duration run_for, work, timeout;
static instant start;
static bool no_breaker; /* --break */
static breaker cb;
static chan *slots; /* the service's capacity: a token per call it works on */

static atomic_int waiting, peak; /* goroutines in call_service now, and the most at once */
static _Atomic duration slowest; /* the longest a call took, its wait for a slot included */
static atomic_int succeeded, failed, open_refused, half_open_refused;

static const char timed_out[] = "service timed out";

/* splitmix64: the same draws in C and in Go for the same seed. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* The service's failure rate over the run: healthy, failing, healthy. */
static uint64_t failure_percent(duration at) {
    return at >= run_for / 4 && at < run_for * 3 / 4 ? 90 : 2;
}

struct request {
    uint64_t draw; /* fails if draw % 100 is under the failure rate */
    waitgroup *wg;
};

/* One call: wait for a free slot, then the work, or the timeout if it fails. */
static const char *call_service(void *arg) {
    struct request *r = arg;
    instant called = time_now();
    int now = atomic_fetch_add(&waiting, 1) + 1;
    for (int p = atomic_load(&peak); now > p && !atomic_compare_exchange_weak(&peak, &p, now);)
        ;
    int token = 0;
    chan_send(slots, &token); /* blocks while the service is busy */
    bool fails = r->draw % 100 < failure_percent(time_since(start));
    time_sleep(fails ? timeout : work);
    chan_recv(slots, NULL);
    atomic_fetch_sub(&waiting, 1);
    duration took = time_since(called);
    for (duration s = atomic_load(&slowest);
         took > s && !atomic_compare_exchange_weak(&slowest, &s, took);)
        ;
    return fails ? timed_out : NULL;
}

static void request(void *arg) {
    struct request *r = arg;
    /* practice: call the service through the breaker (straight, with --break) and count how it ended: succeeded, failed, or refused by the breaker (open, or half-open and full) */
    const char *err = no_breaker ? call_service(r) : breaker_execute(&cb, call_service, r);
    if (err == NULL)
        atomic_fetch_add(&succeeded, 1);
    else if (err == err_open_state)
        atomic_fetch_add(&open_refused, 1);
    else if (err == err_too_many_requests)
        atomic_fetch_add(&half_open_refused, 1);
    else
        atomic_fetch_add(&failed, 1);
    /* end practice */
    wg_done(r->wg);
}

static void print_change(void *arg, breaker_state from, breaker_state to, instant at) {
    (void)arg;
    char t[DURATION_STRING_SIZE];
    printf("at %s: %s -> %s\n", duration_string((at - start) / MILLISECOND * MILLISECOND, t),
           state_name[from], state_name[to]);
}

static instant real_now(void *clock) {
    (void)clock;
    return time_now();
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, trip_after, half_open, seed;
    duration open_for;
    const char *mistake;
    flag_int_range(&n, "n", 1000, 1, 100000, "requests, at an even pace over the run");
    flag_duration(&run_for, "duration", 2 * SECOND,
                  "the run: the service fails from a quarter of it to three quarters");
    flag_duration(&work, "work", 2 * MILLISECOND, "the time a call that succeeds takes");
    flag_duration(&timeout, "timeout", 40 * MILLISECOND, "the time a call that fails takes");
    flag_int_range(&trip_after, "trip-after", 3, 1, 1000,
                   "consecutive failures that open the breaker");
    flag_duration(&open_for, "open-for", 100 * MILLISECOND, "how long the breaker stays open");
    flag_int_range(&half_open, "half-open", 3, 1, 1000,
                   "requests let through half-open; as many successes close it");
    flag_int(&seed, "seed", 1, "seed of the failures");
    flag_mode(&mistake, "break", "no-breaker", "call the service without the breaker");
    flag_parse(argc, argv);
    if (run_for <= 0 || run_for > 3600 * SECOND || open_for <= 0)
        flag_fail("invalid duration or open-for: must be 0 < duration <= 1h, 0 < open-for");
    no_breaker = mistake != NULL;

    char d[DURATION_STRING_SIZE], from[DURATION_STRING_SIZE], to[DURATION_STRING_SIZE],
        fail[DURATION_STRING_SIZE], o[DURATION_STRING_SIZE];
    printf("%d requests over %s; the service fails 90%% of calls from %s to %s (a failure "
           "takes %s), 2%% before and after\n",
           n, duration_string(run_for, d), duration_string(run_for / 4, from),
           duration_string(run_for * 3 / 4, to), duration_string(timeout, fail));
    if (no_breaker)
        printf("no breaker\n");
    else
        printf("breaker: opens after %d consecutive failures, stays open %s, lets %d through "
               "half-open\n",
               trip_after, duration_string(open_for, o), half_open);

    slots = chan_make(sizeof(int), CAPACITY);
    struct request *requests = malloc(sizeof *requests * (size_t)n);
    waitgroup wg = WAITGROUP_INIT;
    uint64_t state = (uint64_t)seed;
    start = time_now();
    breaker_init(&cb, (breaker_settings){.max_requests = (uint32_t)half_open,
                                         .timeout = open_for,
                                         .trip_after = (uint32_t)trip_after,
                                         .now = real_now,
                                         .on_state_change = print_change});
    for (int i = 0; i < n; i++) {
        time_sleep(start + run_for * i / n - time_now()); /* the pace: on time, or catching up */
        requests[i] = (struct request){next_random(&state), &wg};
        wg_add(&wg, 1);
        go(request, &requests[i]);
    }
    wg_wait(&wg);

    int fast = atomic_load(&open_refused) + atomic_load(&half_open_refused);
    printf("requests: %d = %d succeeded + %d failed + %d failed fast (%d open, %d half-open)\n", n,
           atomic_load(&succeeded), atomic_load(&failed), fast, atomic_load(&open_refused),
           atomic_load(&half_open_refused));
    char slow[DURATION_STRING_SIZE];
    printf("waiting on the service at the peak: %d; the slowest call took %s\n", atomic_load(&peak),
           duration_string(atomic_load(&slowest) / MILLISECOND * MILLISECOND, slow));
    if (!no_breaker)
        printf("breaker at the end: %s\n", state_name[breaker_current_state(&cb)]);
    breaker_destroy(&cb);
    chan_free(slots);
    free(requests);
    /* go_leaks waits up to a second for goroutines to return, as goleak does,
     * and names on stderr any still running. */
    int left = 1 + go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", left, left - 1);
    return 0;
}
