/* 06-fan-in-out: one channel fanned out to N workers, their outputs fanned
 * back in to one channel by merge().
 *
 * The Go it mirrors (after the Go blog's "Pipelines and cancellation"):
 *
 *     func worker(id int, jobs <-chan int) <-chan result {
 *         out := make(chan result)
 *         go func() {
 *             defer close(out)
 *             for n := range jobs {
 *                 time.Sleep(work)
 *                 out <- result{id, n, n * n}
 *             }
 *         }()
 *         return out
 *     }
 *
 *     func merge(cs ...<-chan result) <-chan result {
 *         var wg sync.WaitGroup
 *         out := make(chan result)
 *         wg.Add(len(cs))
 *         for _, c := range cs {
 *             go func(c <-chan result) {
 *                 for r := range c {
 *                     out <- r
 *                 }
 *                 wg.Done()
 *             }(c)
 *         }
 *         go func() { wg.Wait(); close(out) }()
 *         return out
 *     }
 *
 *     func main() {
 *         jobs := make(chan int, n)      // 1, 2, ..., n, then close
 *         for i := 1; i <= n; i++ {
 *             jobs <- i
 *         }
 *         close(jobs)
 *         cs := make([]<-chan result, w)
 *         for i := range cs {
 *             cs[i] = worker(i, jobs)    // fan out: all read the same channel
 *         }
 *         for r := range merge(cs...) {  // fan in: one channel to range over
 *             counts[r.worker]++
 *         }
 *     }
 *
 * Break it:
 *   --break  merge forgets the goroutine that closes its output: main's range
 *            loop waits forever after the last result, and the runtime reports
 *            "fatal error: all goroutines are asleep - deadlock!" (exit 2)
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"

typedef struct result {
    int worker;  /* who did the job */
    long n;      /* the job */
    long square; /* the answer */
} result;

/* A worker owns its output channel: it is the only sender, so it closes it
 * when the jobs run out. Many workers read one jobs channel: each job goes to
 * exactly one of them, whichever is ready first. */
typedef struct worker_arg {
    int id;
    chan *jobs, *out;
    duration work;
} worker_arg;

static void worker_run(void *p) {
    worker_arg *a = p;
    long n;
    while (chan_recv(a->jobs, &n)) {
        time_sleep(a->work); /* pretend the job takes a while */
        result r = {a->id, n, n * n};
        chan_send(a->out, &r);
    }
    chan_close(a->out);
    chan_free(a->out);
    free(a);
}

static chan *worker(int id, chan *jobs, duration work) {
    worker_arg *a = malloc(sizeof *a);
    *a = (worker_arg){id, jobs, chan_make(sizeof(result), 0), work};
    /* Two references: the goroutine's and the caller's; each frees its own. */
    chan *out = chan_ref(a->out);
    go(worker_run, a);
    return out;
}

/* merge: one forwarding goroutine per input copies it to out; when all of
 * them are done, a last goroutine closes out. Without that close, whoever
 * ranges over out waits forever after the last value. */
typedef struct merger merger;

typedef struct forward {
    merger *m;
    chan *in; /* one of the channels being merged */
} forward;

struct merger {
    waitgroup wg; /* counts the forwarders still running */
    chan *out;
    forward *inputs;
};

static void forward_run(void *p) {
    forward *f = p;
    result r;
    while (chan_recv(f->in, &r))
        chan_send(f->m->out, &r);
    wg_done(&f->m->wg);
}

static void close_when_done(void *p) {
    merger *m = p;
    wg_wait(&m->wg);
    chan_close(m->out);
    chan_free(m->out);
    free(m->inputs);
    free(m);
}

static chan *merge(chan **cs, int n, bool broken) {
    merger *m = malloc(sizeof *m);
    wg_init(&m->wg);
    m->out = chan_make(sizeof(result), 0);
    m->inputs = calloc((size_t)n, sizeof *m->inputs);
    chan *out = chan_ref(m->out);
    wg_add(&m->wg, n);
    for (int i = 0; i < n; i++) {
        m->inputs[i] = (forward){m, cs[i]};
        go(forward_run, &m->inputs[i]);
    }
    /* --break forgets this goroutine: out is never closed. */
    if (!broken)
        go(close_when_done, m);
    return out;
}

static const char usage[] =
    "usage: 06-fan-in-out [-w WORKERS] [-n JOBS] [--work DURATION] [--break] [-h]";

static _Noreturn void bad_flag(const char *msg, const char *arg) {
    fprintf(stderr, "06-fan-in-out: %s '%s'; %s\n", msg, arg, usage);
    exit(2);
}

/* A whole number in [lo, hi], or a usage error. */
static long number(const char *flag, const char *s, long lo, long hi) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi)
        bad_flag(flag, s);
    return v;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    long workers = 4, jobs_n = 20;
    duration work = 2 * MILLISECOND;
    bool broken = false;
    static const struct option longopts[] = {
        {"workers", required_argument, NULL, 'w'}, {"jobs", required_argument, NULL, 'n'},
        {"work", required_argument, NULL, 'W'},    {"break", no_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},          {0},
    };
    opterr = 0; /* our own one-line errors instead of getopt's */
    int c;
    while ((c = getopt_long(argc, argv, "w:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'w':
            workers = number("-w wants a number of workers in 1..1000, not", optarg, 1, 1000);
            break;
        case 'n':
            jobs_n = number("-n wants a number of jobs in 0..100000, not", optarg, 0, 100000);
            break;
        case 'W':
            if (!duration_parse(optarg, &work) || work < 0 || work > 10 * SECOND)
                bad_flag("--work wants a duration such as 2ms (at most 10s), not", optarg);
            break;
        case 'B':
            broken = true;
            break;
        case 'h':
            printf("%s\n\n"
                   "Fans the numbers 1..JOBS out to WORKERS workers, then fans their results\n"
                   "back in to one channel with merge().\n"
                   "  -w WORKERS       workers, all reading one jobs channel, 1..1000 (default 4)\n"
                   "  -n JOBS          jobs to fan out, 0..100000 (default 20)\n"
                   "  --work DURATION  time each job takes, up to 10s (default 2ms)\n"
                   "  --break          merge never closes its output: the range over it deadlocks\n"
                   "  -h, --help       this help\n",
                   usage);
            return 0;
        default:
            bad_flag("unknown flag or missing value:", argv[optind - 1]);
        }
    }
    if (optind < argc)
        bad_flag("unexpected argument", argv[optind]);

    printf("fan-out: %ld jobs to %ld workers; fan-in: merge(%ld channels)\n", jobs_n, workers,
           workers);
    /* The input: every job queued up front in a buffered channel, closed so
     * that the workers' range loops end once it is empty. */
    chan *jobs = chan_make(sizeof(long), (size_t)jobs_n);
    for (long i = 1; i <= jobs_n; i++)
        chan_send(jobs, &i);
    chan_close(jobs);
    chan **outs = calloc((size_t)workers, sizeof *outs);
    for (int i = 0; i < workers; i++)
        outs[i] = worker(i, jobs, work);

    /* One range loop over one channel, however many workers feed it. The
     * order of the results depends on which worker finishes first. */
    chan *results = merge(outs, (int)workers, broken);
    long *counts = calloc((size_t)workers, sizeof *counts);
    long total = 0, sum = 0;
    result r;
    while (chan_recv(results, &r)) {
        printf("worker %d: %ld squared is %ld\n", r.worker, r.n, r.square);
        counts[r.worker]++;
        total++;
        sum += r.square;
    }

    /* How the load spread: it depends on timing, but it always adds up. */
    for (int i = 0; i < workers; i++)
        printf("worker %d handled %ld jobs\n", i, counts[i]);
    printf("total: %ld results, sum of squares %ld\n", total, sum);

    chan_free(results);
    for (int i = 0; i < workers; i++)
        chan_free(outs[i]);
    chan_free(jobs);
    free(outs);
    free(counts);
    return 0;
}
