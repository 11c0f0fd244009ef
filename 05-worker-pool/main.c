/* 05-worker-pool: bounded concurrency with a fixed number of workers.
 *
 * The Go program this mirrors:
 *
 *     func worker(ctx context.Context, id int, jobs <-chan int, results chan<- result) {
 *         for j := range jobs {
 *             select {
 *             case <-time.After(cost): // the work
 *                 results <- result{job: j, worker: id, value: j * j}
 *             case <-ctx.Done():       // cancelled: give up on this job
 *                 results <- result{job: j, worker: id, cancelled: true}
 *             }
 *         }
 *     }
 *
 *     func main() {
 *         ctx, cancel := context.WithTimeout(context.Background(), timeout)
 *         defer cancel()
 *         jobs, results := make(chan int, w), make(chan result)
 *         for id := 1; id <= w; id++ {
 *             go worker(ctx, id, jobs, results)
 *         }
 *         go func() { // the feeder owns jobs, so it closes it
 *             for j := 1; j <= n; j++ { jobs <- j }
 *             close(jobs)
 *         }()
 *         for i := 0; i < n; i++ { // exactly one result per job
 *             r := <-results
 *             ...
 *         }
 *     }
 *
 * The program also counts its goroutines (main aside) and prints the most that
 * were alive at once: for the pool, W workers + the feeder, however many jobs.
 *
 * Break it: --break (or --break=unbounded) runs the pool, then the same jobs
 * with one goroutine per job, the "10,000 goroutines" problem: nothing bounds
 * how many exist at once, and the two peaks are printed side by side:
 *
 *     for j := 1; j <= n; j++ {
 *         go func(j int) { results <- process(ctx, j) }(j)
 *     }
 *     for i := 0; i < n; i++ { r := <-results; ... }
 */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

static const char synopsis[] = "usage: 05-worker-pool [-w WORKERS] [-j JOBS] [--cost DURATION] "
                               "[--timeout DURATION] [--ordered] [--break[=unbounded]] [-h]";

struct result {
    int job;
    int worker; /* 0: a goroutine of its own (--break) */
    long long value;
    bool cancelled;
};

/* What every goroutine of one run shares. Set up before the first go(). */
struct pool {
    chan *jobs;    /* int job ids: the feeder sends, workers receive */
    chan *results; /* struct result: workers send, main receives */
    context *ctx;  /* cancelled at the timeout, if any */
    duration cost; /* simulated work per job */
    int njobs;
    waitgroup wg; /* every goroutine main started */
};

/* How many goroutines of this run exist right now, and the most at once: a
 * goroutine counts from the moment main starts it (as Go's runtime counts it
 * from its go statement) until its last statement. One that has finished its
 * job but still waits to hand over its result counts too: it still holds a
 * thread and a stack. Only main starts goroutines, so only main raises peak. */
static atomic_int alive;
static int peak; /* main's alone */

static void start(waitgroup *wg, void (*fn)(void *), void *arg) {
    int now = atomic_fetch_add(&alive, 1) + 1;
    if (now > peak)
        peak = now;
    wg_go(wg, fn, arg);
}

static void finished(void) {
    atomic_fetch_sub(&alive, 1); /* the goroutine's last act */
}

/* The work: wait for cost, unless the context is cancelled first. */
static struct result process(struct pool *p, int job, int worker) {
    struct result r = {.job = job, .worker = worker};
    chan *work_done = time_after(p->cost);
    select_case cases[2] = {select_recv(work_done, NULL), select_recv(ctx_done(p->ctx), NULL)};
    r.cancelled = chan_select(cases, 2) == 1;
    chan_free(work_done);
    if (!r.cancelled)
        r.value = (long long)job * job;
    return r;
}

/* The pool: each worker takes jobs until the feeder closes the channel. */
struct worker_arg {
    struct pool *p;
    int id; /* worker id, or job id for --break */
};

static void worker(void *arg) {
    struct worker_arg *w = arg;
    int job;
    while (chan_recv(w->p->jobs, &job)) { /* jobs is <-chan int here */
        struct result r = process(w->p, job, w->id);
        chan_send(w->p->results, &r); /* results is chan<- result here */
    }
    finished();
}

static void feed(void *arg) {
    struct pool *p = arg;
    for (int job = 1; job <= p->njobs; job++)
        chan_send(p->jobs, &job); /* blocks while the buffer is full: backpressure */
    chan_close(p->jobs);          /* we are the only sender, so we close */
    finished();
}

/* The broken version: one goroutine per job, however many jobs there are. */
static void one_job(void *arg) {
    struct worker_arg *a = arg;
    struct result r = process(a->p, a->id, 0);
    chan_send(a->p->results, &r); /* waits until main receives it */
    finished();
}

static void print_result(const struct result *r) {
    if (r->cancelled)
        printf("job %d -> cancelled (worker %d)\n", r->job, r->worker);
    else
        printf("job %d -> %lld (worker %d)\n", r->job, r->value, r->worker);
}

static bool parse_int(const char *s, int max, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    *out = (int)v;
    return errno == 0 && end != s && *end == '\0' && v >= 1 && v <= max;
}

/* What the command line asked for: the same for both runs of --break. */
struct settings {
    int nworkers, njobs;
    duration cost, timeout; /* timeout -1: none */
    bool ordered;
};

/* Runs every job, on a pool of nworkers (or, unbounded, one goroutine per
 * job), prints one line per result and a summary; returns the peak number of
 * goroutines alive at once. */
static int run(const struct settings *s, bool unbounded) {
    struct pool p = {
        /* A buffer of one per worker lets the feeder run a little ahead,
         * while memory stays bounded however many jobs there are. */
        .jobs = chan_make(sizeof(int), (size_t)s->nworkers),
        .results = chan_make(sizeof(struct result), 0),
        .ctx = s->timeout >= 0 ? ctx_with_timeout(ctx_background(), s->timeout)
                               : ctx_with_cancel(ctx_background()),
        .cost = s->cost,
        .njobs = s->njobs,
    };
    wg_init(&p.wg);
    peak = 0;
    int nargs = unbounded ? s->njobs : s->nworkers;
    struct worker_arg *args = calloc((size_t)nargs, sizeof *args);
    struct result *by_job = calloc((size_t)s->njobs, sizeof *by_job);
    if (args == NULL || by_job == NULL)
        abort();
    for (int i = 0; i < nargs; i++) {
        args[i] = (struct worker_arg){.p = &p, .id = i + 1};
        start(&p.wg, unbounded ? one_job : worker, &args[i]);
    }
    if (!unbounded)
        start(&p.wg, feed, &p);

    /* Every job yields exactly one result, processed or cancelled. */
    int processed = 0, cancelled = 0;
    long long sum = 0;
    for (int i = 0; i < s->njobs; i++) {
        struct result r;
        chan_recv(p.results, &r);
        processed += !r.cancelled;
        cancelled += r.cancelled;
        sum += r.value;
        if (s->ordered)
            by_job[r.job - 1] = r; /* print later, by job id */
        else
            print_result(&r);
    }
    for (int i = 0; s->ordered && i < s->njobs; i++)
        print_result(&by_job[i]);
    wg_wait(&p.wg); /* nothing may still use the channels we free below */

    const char *err = ctx_err(p.ctx);
    printf("ctx.Err(): %s\n", err ? err : "<nil>");
    printf("summary: jobs=%d processed=%d cancelled=%d sum=%lld peak_goroutines=%d\n", s->njobs,
           processed, cancelled, sum, peak);
    ctx_free(p.ctx);
    chan_free(p.jobs);
    chan_free(p.results);
    free(args);
    free(by_job);
    return peak;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);

    int nworkers = 4, njobs = 20;
    duration cost = MILLISECOND, timeout = -1; /* -1: no timeout */
    bool ordered = false, unbounded = false;
    static const struct option flags[] = {
        {"cost", required_argument, NULL, 'c'}, {"timeout", required_argument, NULL, 't'},
        {"ordered", no_argument, NULL, 'o'},    {"break", optional_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    opterr = 0;
    for (int opt; (opt = getopt_long(argc, argv, "w:j:h", flags, NULL)) != -1;) {
        bool ok = true;
        switch (opt) {
        case 'w':
            ok = parse_int(optarg, 1000, &nworkers);
            break;
        case 'j':
            ok = parse_int(optarg, 10000, &njobs);
            break;
        case 'c':
            ok = duration_parse(optarg, &cost) && cost >= 0;
            break;
        case 't':
            ok = duration_parse(optarg, &timeout) && timeout >= 0;
            break;
        case 'o':
            ordered = true;
            break;
        case 'b':
            unbounded = true;
            ok = optarg == NULL || strcmp(optarg, "unbounded") == 0;
            break;
        case 'h':
            printf("%s\n\n"
                   "  -w WORKERS          workers in the pool, 1..1000 (default 4)\n"
                   "  -j JOBS             jobs to run, 1..10000 (default 20)\n"
                   "  --cost DURATION     simulated work per job (default 1ms)\n"
                   "  --timeout DURATION  cancel the jobs not done by then (default: none)\n"
                   "  --ordered           print the results by job id\n"
                   "  --break[=unbounded] run the pool, then one goroutine per job, and compare\n"
                   "  -h, --help          this help\n",
                   synopsis);
            return 0;
        default:
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "05-worker-pool: bad flag or value; %s\n", synopsis);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "05-worker-pool: unexpected argument; %s\n", synopsis);
        return 2;
    }

    struct settings s = {nworkers, njobs, cost, timeout, ordered};
    if (!unbounded) {
        run(&s, false);
        return 0;
    }
    /* --break: the pool first, then the same jobs with no pool at all. */
    printf("pool of %d workers:\n", nworkers);
    int pool_peak = run(&s, false);
    printf("one goroutine per job:\n");
    int unbounded_peak = run(&s, true);
    printf(
        "break: most goroutines at once (main aside): %d with the pool (%d workers + the feeder), "
        "%d with one goroutine per job\n",
        pool_peak, nworkers, unbounded_peak);
    return 0;
}
