/* 06-fan-in-out: one jobs channel fanned out to -w workers, and their output
 * channels fanned back in to one by merge(), as in the Go blog's "Go
 * Concurrency Patterns: Pipelines and cancellation" (its merge is this one).
 * main.go is the Go program this one mirrors; README.md quotes both.
 *
 * Fan-out needs no code of its own: several goroutines receive from one
 * channel, and each value goes to exactly one of them. Fan-in is merge: one
 * forwarding goroutine per input, a WaitGroup that counts them, and one more
 * goroutine that closes the merged channel when the count reaches zero.
 *
 * Break it:
 *   --break  merge forgets the goroutine that closes its output: main's range
 *            loop waits forever after the last result, and the runtime reports
 *            "fatal error: all goroutines are asleep - deadlock!" (exit 2)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/flag.h"
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
    chan_close(a->out); /* Go's defer close(out): the worker owns out */
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

/* merge: Go's closures become a struct of what they capture. A forward is
 * one forwarding goroutine's: the merger it reports to and its input. */
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
    /* practice: fan in: wg_add, a go(forward_run, ...) per input, go(close_when_done, m) */
    wg_add(&m->wg, n);
    for (int i = 0; i < n; i++) {
        m->inputs[i] = (forward){m, cs[i]};
        go(forward_run, &m->inputs[i]);
    }
    if (!broken) /* --break forgets this goroutine: out is never closed */
        go(close_when_done, m);
    /* end practice */
    return out;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int jobs_n, workers;
    duration work;
    const char *broken;
    flag_int_range(&jobs_n, "n", 20, 0, 100000, "jobs to fan out (0..100000)");
    flag_int_range(&workers, "w", 4, 1, 1000, "workers, all reading one jobs channel (1..1000)");
    flag_duration(&work, "work", 2 * MILLISECOND, "the time each job takes");
    flag_mode(&broken, "break", "noclose", "merge never closes its output: the range deadlocks");
    flag_parse(argc, argv);
    if (flag_nargs() > 0)
        flag_fail("unexpected argument: %s", flag_args()[0]);

    printf("fan-out: %d jobs to %d workers; fan-in: merge(%d channels)\n", jobs_n, workers,
           workers);
    /* The input: every job queued up front in a buffered channel, closed so
     * that the workers' range loops end once it is empty. */
    chan *jobs = chan_make(sizeof(long), (size_t)jobs_n);
    for (long i = 1; i <= jobs_n; i++)
        chan_send(jobs, &i);
    chan_close(jobs);
    chan **outs = calloc((size_t)workers, sizeof *outs);
    /* practice: fan out: outs[i] = worker(i, jobs, work) for each of the -w workers */
    for (int i = 0; i < workers; i++)
        outs[i] = worker(i, jobs, work); /* all read the same channel */
    /* end practice */

    /* One range loop over one channel, however many workers feed it. The
     * order of the results depends on which worker finishes first. */
    chan *results = merge(outs, workers, broken != NULL);
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
