/* patterns/replicated-requests: ask several replicas, take the first answer,
 * cancel the rest.
 *
 * A service whose latency has a slow tail (most answers in a few ms, some
 * after tens) answers faster if the same request goes to N replicas and the
 * first answer wins: the slowest answer of N is rare. The cost is N times the
 * work, unless the losers are cancelled the moment the winner is in, which is
 * what a context is for. Hedging is the thrifty version: send one copy, and a
 * second only if the first has not answered after a delay. From Concurrency
 * in Go (Katherine Cox-Buday), chapter 5, "Replicated Requests", and Dean and
 * Barroso, "The Tail at Scale" (hedged requests). The Go program this mirrors
 * is main.go, beside this file.
 *
 * Break it: --break makes the replicas ignore their context: every loser works
 * to the end, for nothing, and the count of replicas that kept working says so.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_REPLICAS 16

static bool ignore_context;                     /* --break; set before the first go() */
static atomic_int started, cancelled, finished; /* replicas, all runs */

struct replica {
    int id;
    duration latency; /* how long this replica takes to answer */
    context *ctx;     /* cancelled once an answer is in */
    chan *answers;    /* int replica ids; room for every replica */
    waitgroup *wg;
};

/* One replica's work: answer after its latency, unless cancelled first. */
static void replica(void *arg) {
    struct replica *r = arg;
    atomic_fetch_add(&started, 1);
    if (ignore_context) {
        time_sleep(r->latency); /* WRONG: works to the end whatever happens */
    } else {
        /* practice: wait for the work (a timer of r->latency) or for the context, whichever comes first; count a cancel and return */
        chan *work = time_after(r->latency);
        select_case cases[2] = {select_recv(work, NULL), select_recv(ctx_done(r->ctx), NULL)};
        bool was_cancelled = chan_select(cases, 2) == 1;
        chan_free(work);
        if (was_cancelled) {
            atomic_fetch_add(&cancelled, 1);
            wg_done(r->wg);
            return;
        }
        /* end practice */
    }
    atomic_fetch_add(&finished, 1); /* the winner, or a loser that did it all */
    chan_send(r->answers, &r->id);  /* never blocks: room for everyone */
    wg_done(r->wg);
}

/* One request: the latencies of its replicas (n of them), the first sent at
 * once, each next one after hedge if no answer is in yet (hedge 0: all at
 * once). Returns how long the answer took. */
static duration request(const duration *latencies, int n, duration hedge) {
    instant start = time_now();
    context *ctx = ctx_with_cancel(ctx_background());
    chan *answers = chan_make(sizeof(int), (size_t)n);
    waitgroup wg = WAITGROUP_INIT;
    struct replica replicas[MAX_REPLICAS];
    int answer = -1, sent = 0;
    while (answer < 0) {
        if (sent < n) {
            replicas[sent] = (struct replica){sent, latencies[sent], ctx, answers, &wg};
            wg_add(&wg, 1);
            go(replica, &replicas[sent++]);
        }
        if (sent < n && hedge > 0) { /* the answer, or time to send the next copy */
            chan *next = time_after(hedge);
            select_case cases[2] = {select_recv(answers, &answer), select_recv(next, NULL)};
            chan_select(cases, 2);
            chan_free(next);
        } else if (sent == n) {
            chan_recv(answers, &answer);
        }
    }
    duration took = time_since(start);
    ctx_cancel(ctx); /* the losers stop now */
    wg_wait(&wg);    /* and are gone before their arguments go out of scope */
    ctx_free(ctx);
    chan_free(answers);
    return took;
}

/* splitmix64: the same latencies in C and in Go for the same seed. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A replica's latency: 1-5 ms nine times in ten, 30-60 ms the tenth. */
static duration draw_latency(uint64_t *state) {
    uint64_t r = next_random(state);
    if (r % 10 == 9)
        return 30 * MILLISECOND + (duration)(r / 10 % 30000) * MICROSECOND;
    return 1 * MILLISECOND + (duration)(r / 10 % 4000) * MICROSECOND;
}

static int by_duration(const void *a, const void *b) {
    duration x = *(const duration *)a, y = *(const duration *)b;
    return (x > y) - (x < y);
}

/* The k-th percentile of sorted durations, to the microsecond. */
static char *percentile(const duration *sorted, int n, int k, char *buf) {
    return duration_string(sorted[(n - 1) * k / 100] / MICROSECOND * MICROSECOND, buf);
}

/* Runs every request one way and prints its row of the table: latencies,
 * then the replicas started, and how the ones that lost ended. */
static void run(const char *name, duration (*latencies)[MAX_REPLICAS], int requests, int n,
                duration hedge) {
    duration took[requests];
    int s0 = atomic_load(&started), c0 = atomic_load(&cancelled), f0 = atomic_load(&finished);
    for (int i = 0; i < requests; i++)
        took[i] = request(latencies[i], n, hedge);
    qsort(took, (size_t)requests, sizeof took[0], by_duration);
    char p50[DURATION_STRING_SIZE], p90[DURATION_STRING_SIZE], p99[DURATION_STRING_SIZE],
        max[DURATION_STRING_SIZE];
    printf("%-11s %-10s %-10s %-10s %-10s %-8d %-10d %d\n", name,
           percentile(took, requests, 50, p50), percentile(took, requests, 90, p90),
           percentile(took, requests, 99, p99), percentile(took, requests, 100, max),
           atomic_load(&started) - s0, atomic_load(&cancelled) - c0,
           atomic_load(&finished) - f0 - requests);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int requests, replicas, seed;
    duration hedge;
    const char *mistake;
    flag_int_range(&requests, "n", 100, 1, 10000, "requests to send, each way");
    flag_int_range(&replicas, "replicas", 3, 2, MAX_REPLICAS, "replicas of each request");
    flag_duration(&hedge, "hedge", 10 * MILLISECOND, "hedged: the delay before the next copy");
    flag_int(&seed, "seed", 1, "seed of the replicas' latencies");
    flag_mode(&mistake, "break", "ignore-context",
              "replicas ignore their context and work to the end");
    flag_parse(argc, argv);
    if (hedge <= 0)
        flag_fail("invalid value for flag -hedge: must be more than 0");
    ignore_context = mistake != NULL;

    duration(*latencies)[MAX_REPLICAS] = malloc(sizeof *latencies * (size_t)requests);
    uint64_t state = (uint64_t)seed;
    for (int i = 0; i < requests; i++)
        for (int j = 0; j < replicas; j++)
            latencies[i][j] = draw_latency(&state);

    char after[DURATION_STRING_SIZE];
    printf("%d requests, %d replicas each, hedged after %s\n", requests, replicas,
           duration_string(hedge, after));
    printf("%-11s %-10s %-10s %-10s %-10s %-8s %-10s %s\n", "", "p50", "p90", "p99", "max",
           "started", "cancelled", "kept working");
    run("single", latencies, requests, 1, 0);
    run("replicated", latencies, requests, replicas, 0);
    run("hedged", latencies, requests, replicas, hedge);
    free(latencies);
    /* The leak check (go.h): a second for the goroutines to return, then
     * each one still alive is named on stderr. */
    int leaked = go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", 1 + leaked, leaked);
    return 0;
}
