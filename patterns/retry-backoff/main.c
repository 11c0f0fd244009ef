/* patterns/retry-backoff: retries with exponential backoff and full jitter,
 * dead letters, and an idempotency key.
 *
 * A pool of workers takes jobs from a queue that delivers at least once: some
 * jobs arrive twice. The service a job calls fails transiently, so a worker
 * retries, and before retry k waits a time drawn at random from
 * [0, min(max-backoff, backoff * 2^(k-1))): exponential backoff with full
 * jitter, from the AWS Architecture Blog's "Exponential Backoff And Jitter".
 * Two bounds end the retries: the attempts, after which the job goes to the
 * dead-letter channel, and the job's context deadline, which cancels it even
 * in the middle of a wait. Before the work, a worker claims the job's
 * idempotency key: the second delivery of a job finds it taken and is skipped.
 * The Go program this mirrors is main.go, beside this file.
 *
 * Break it:
 *   --break=no-backoff  retry at once: a hot loop against a failing service,
 *                       and the attempts per second say so
 *   --break=no-key      no idempotency key: a job delivered twice is done
 *                       twice, and the summary's count says so
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_ATTEMPTS 20
#define FOREVER      INT_MAX /* failures of a job the service always refuses */

/* Set by main before the first go(), then only read. */
static int max_attempts;
static duration base_wait, max_wait, timeout, work;
static bool no_backoff, no_key; /* --break */

/* A job as the queue delivers it. Its id is also its idempotency key. */
struct job {
    int id;
    int failures; /* the service refuses this many attempts, then succeeds */
    bool hangs;   /* the service never answers it: only the deadline ends it */
    uint64_t rng; /* the job's own random state, for its jitter */
};

enum outcome { DONE, DEAD, CANCELLED, SKIPPED };
static const char *const outcome_name[] = {"done", "dead-lettered", "cancelled", "skipped"};

struct result {
    int id, attempts;
    enum outcome outcome;
    const char *err; /* the last error; NULL when done */
    int retries;
    duration waited; /* from each failure to the retry after it, in all */
};

static const char unavailable[] = "service unavailable";

/* splitmix64: the same jobs and waits in C and in Go for the same seed. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Waits d, or until ctx is done; false if ctx ended first. */
static bool sleep_ctx(context *ctx, duration d) {
    chan *t = time_after(d);
    select_case cases[2] = {select_recv(t, NULL), select_recv(ctx_done(ctx), NULL)};
    bool slept = chan_select(cases, 2) == 0;
    chan_free(t);
    return slept;
}

/* One call of the service: it refuses the job's first attempts at once (a
 * 503), then does the work; a job that hangs is never answered. Returns
 * NULL, unavailable, or the context's error. */
static const char *call(context *ctx, const struct job *j, int attempt) {
    if (j->hangs) {
        chan_recv(ctx_done(ctx), NULL);
        return ctx_err(ctx);
    }
    if (attempt <= j->failures)
        return unavailable;
    return sleep_ctx(ctx, work) ? NULL : ctx_err(ctx);
}

/* Full jitter: the wait before retry k (after the k-th failure) is drawn
 * from [0, min(max_wait, base_wait * 2^(k-1))). */
static duration backoff(int k, uint64_t *rng) {
    duration ceiling = base_wait;
    for (int i = 1; i < k && ceiling <= max_wait / 2; i++)
        ceiling *= 2;
    if (ceiling > max_wait)
        ceiling = max_wait;
    return (duration)(next_random(rng) % (uint64_t)ceiling);
}

/* One delivery of a job, to its end: done, out of attempts (dead), or out
 * of time (cancelled). The deadline runs from the first attempt. */
static struct result run_job(struct job j) {
    context *ctx = ctx_with_timeout(ctx_background(), timeout);
    struct result r = {.id = j.id};
    for (r.attempts = 1;; r.attempts++) {
        r.err = call(ctx, &j, r.attempts);
        if (r.err == NULL) {
            r.outcome = DONE;
            break;
        }
        if (r.err != unavailable) { /* the deadline came during the call */
            r.outcome = CANCELLED;
            break;
        }
        if (r.attempts == max_attempts) {
            r.outcome = DEAD;
            break;
        }
        instant failed = time_now();
        /* practice: unless --break=no-backoff, wait the backoff before the next attempt; if the deadline comes first, the job is cancelled */
        if (!no_backoff && !sleep_ctx(ctx, backoff(r.attempts, &j.rng))) {
            r.err = ctx_err(ctx);
            r.outcome = CANCELLED;
            break;
        }
        /* end practice */
        r.retries++;
        r.waited += time_since(failed);
    }
    ctx_free(ctx);
    return r;
}

/* The idempotency store: a key is claimed once, by the first delivery that
 * asks (a database does it with a unique key). */
static pthread_mutex_t keys_mu = PTHREAD_MUTEX_INITIALIZER;
static bool *key_taken; /* by job id; guarded by keys_mu */

static bool claim(int key) {
    pthread_mutex_lock(&keys_mu);
    bool first = !key_taken[key];
    key_taken[key] = true;
    pthread_mutex_unlock(&keys_mu);
    return first;
}

struct pool {
    chan *jobs;         /* struct job: every delivery, there already */
    chan *results;      /* struct result: done, cancelled, skipped */
    chan *dead_letters; /* struct result: the jobs that kept failing */
    waitgroup wg;       /* the workers */
};

static void worker(void *arg) {
    struct pool *p = arg;
    struct job j;
    while (chan_recv(p->jobs, &j)) {
        /* practice: unless --break=no-key, claim the job's key first: a delivery whose key is taken sends a skipped result and does nothing */
        if (!no_key && !claim(j.id)) {
            struct result skip = {.id = j.id, .outcome = SKIPPED};
            chan_send(p->results, &skip);
            continue;
        }
        /* end practice */
        struct result r = run_job(j);
        chan_send(r.outcome == DEAD ? p->dead_letters : p->results, &r);
    }
    wg_done(&p->wg);
}

/* The workers' last one out closes both channels: nobody sends after that. */
static void close_when_done(void *arg) {
    struct pool *p = arg;
    wg_wait(&p->wg);
    chan_close(p->results);
    chan_close(p->dead_letters);
}

/* A job's fate, from the seed: half succeed at once, two in five fail one to
 * four times first, one in fourteen is always refused, one in twenty hangs. */
static struct job draw_job(int id, uint64_t *state) {
    uint64_t r = next_random(state) % 100;
    struct job j = {.id = id, .rng = next_random(state), .hangs = r >= 95};
    j.failures = r < 50 ? 0 : r < 70 ? 1 : r < 80 ? 2 : r < 85 ? 3 : r < 88 ? 4 : FOREVER;
    return j;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, workers, seed;
    const char *mistake;
    flag_int_range(&n, "n", 30, 1, 10000, "jobs");
    flag_int_range(&workers, "w", 4, 1, 100, "workers");
    flag_int_range(&max_attempts, "attempts", 5, 1, MAX_ATTEMPTS,
                   "attempts of a job before it goes to the dead letters");
    flag_duration(&base_wait, "backoff", 10 * MILLISECOND,
                  "the longest wait before the first retry; it doubles for each next one");
    flag_duration(&max_wait, "max-backoff", SECOND, "the longest wait before any retry");
    flag_duration(&timeout, "timeout", 500 * MILLISECOND, "each job's deadline");
    flag_duration(&work, "work", 2 * MILLISECOND, "the time a call that succeeds takes");
    flag_int(&seed, "seed", 1, "seed of the failures and of the jitter");
    flag_mode(&mistake, "break", "no-backoff|no-key",
              "retry at once (no-backoff), or do without the idempotency key (no-key)");
    flag_parse(argc, argv);
    if (base_wait <= 0 || max_wait < base_wait || timeout <= 0)
        flag_fail("invalid backoff or timeout: must be 0 < backoff <= max-backoff, 0 < timeout");
    no_backoff = mistake && strcmp(mistake, "no-backoff") == 0;
    no_key = mistake && strcmp(mistake, "no-key") == 0;

    /* The queue, filled before the workers start: at least once, so one
     * job in five is delivered twice, right after itself. */
    struct pool p = {chan_make(sizeof(struct job), 2 * (size_t)n),
                     chan_make(sizeof(struct result), 0), chan_make(sizeof(struct result), 0),
                     WAITGROUP_INIT};
    uint64_t state = (uint64_t)seed;
    int twice = 0;
    for (int id = 1; id <= n; id++) {
        struct job j = draw_job(id, &state);
        chan_send(p.jobs, &j);
        if (next_random(&state) % 5 == 0) {
            chan_send(p.jobs, &j);
            twice++;
        }
    }
    chan_close(p.jobs);
    char b[DURATION_STRING_SIZE], mb[DURATION_STRING_SIZE], t[DURATION_STRING_SIZE];
    printf("%d jobs (%d delivered twice), %d workers, %d attempts, backoff %s..%s with full "
           "jitter, deadline %s\n",
           n, twice, workers, max_attempts, duration_string(base_wait, b),
           duration_string(max_wait, mb), duration_string(timeout, t));

    key_taken = calloc((size_t)n + 1, sizeof *key_taken);
    wg_add(&p.wg, workers);
    for (int i = 0; i < workers; i++)
        go(worker, &p);
    go(close_when_done, &p);

    /* Every delivery ends on one of the two channels: read both to their close. */
    int *endings = calloc((size_t)n + 1, sizeof *endings), histogram[MAX_ATTEMPTS + 1] = {0};
    int count[4] = {0}, retries = 0;
    duration waited = 0;
    chan *results = p.results, *dead_letters = p.dead_letters;
    while (results || dead_letters) {
        struct result r;
        select_case cases[2] = {select_recv(results, &r), select_recv(dead_letters, &r)};
        int i = chan_select(cases, 2);
        if (!cases[i].ok) {
            *(i == 0 ? &results : &dead_letters) = NULL; /* closed: that case is off */
            continue;
        }
        count[r.outcome]++;
        if (r.outcome == SKIPPED) {
            printf("job %d: skipped: delivered again, its key was taken\n", r.id);
            continue;
        }
        endings[r.id]++;
        histogram[r.attempts]++;
        retries += r.retries;
        waited += r.waited;
        printf("job %d: %s at attempt %d%s%s\n", r.id, outcome_name[r.outcome], r.attempts,
               r.err ? ": " : "", r.err ? r.err : "");
    }

    int most = 1, more_than_once = 0, never = 0;
    for (int a = 1; a <= max_attempts; a++)
        most = histogram[a] > most ? histogram[a] : most;
    printf("attempts  jobs\n");
    for (int a = 1; a <= max_attempts; a++) {
        char bar[41] = "";
        int width = (histogram[a] * 40 + most - 1) / most;
        memset(bar, '#', (size_t)width);
        printf("%8d  %4d  %s\n", a, histogram[a], bar);
    }
    for (int id = 1; id <= n; id++) {
        more_than_once += endings[id] > 1;
        never += endings[id] == 0;
    }
    printf("ended: %d done + %d dead-lettered + %d cancelled = %d, for %d jobs; %d skipped\n",
           count[DONE], count[DEAD], count[CANCELLED], count[DONE] + count[DEAD] + count[CANCELLED],
           n, count[SKIPPED]);
    printf("jobs that ended more than once: %d, never: %d\n", more_than_once, never);
    if (retries > 0) {
        waited = waited > 0 ? waited : 1;
        duration shown = waited < MILLISECOND ? waited : waited / MICROSECOND * MICROSECOND;
        printf("retries: %d, %s waiting in all: %lld attempts per second\n", retries,
               duration_string(shown, b), (long long)((double)retries * SECOND / (double)waited));
    } else {
        printf("retries: 0\n");
    }
    free(endings), free(key_taken);
    chan_free(p.jobs), chan_free(p.results), chan_free(p.dead_letters);
    /* go_leaks waits up to a second for goroutines to return, as goleak does,
     * and names on stderr any still running. */
    int left = 1 + go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", left, left - 1);
    return 0;
}
