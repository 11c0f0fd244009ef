/* 05-worker-pool: bounded concurrency with a fixed number of workers.
 *
 * W workers take jobs from one channel and put results on another; however
 * many jobs come, no more than W run at once. A feeder sends the jobs and, the
 * only sender, closes the channel; each worker ranges over it. A timeout
 * cancels the work still to do by closing a done channel, the pattern of Go's
 * "Pipelines and cancellation" post: a close is seen by every receiver at
 * once, so every worker's select on done wakes. The Go program this mirrors is
 * main.go, next to this file.
 *
 * The program also counts its goroutines (main aside) and prints the most that
 * were alive at once: for the pool, W workers + the feeder, however many jobs.
 *
 * Break it: --break (or --break=unbounded) runs the pool, then the same jobs
 * with one goroutine per job, the "10,000 goroutines" problem: nothing bounds
 * how many exist at once, and the two peaks are printed side by side.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

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
    chan *done;    /* chan struct{}: never sent on; main closes it at the timeout */
    duration work; /* the time a job takes */
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

static void started(waitgroup *wg) { /* main, just before go() */
    wg_add(wg, 1); /* before go, never in the goroutine: wg_wait must not miss it */
    int now = atomic_fetch_add(&alive, 1) + 1;
    if (now > peak)
        peak = now;
}

static void finished(waitgroup *wg) { /* the goroutine's last statement */
    atomic_fetch_sub(&alive, 1);
    wg_done(wg);
}

/* The work: wait for its time, unless done is closed first. */
static struct result process(struct pool *p, int job, int worker) {
    struct result r = {.job = job, .worker = worker};
    chan *work = time_after(p->work);
    select_case cases[2] = {select_recv(work, NULL), select_recv(p->done, NULL)};
    r.cancelled = chan_select(cases, 2) == 1; /* done closed: give up on this job */
    chan_free(work);
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
    /* practice: range over w->p->jobs: process each job, send its result */
    while (chan_recv(w->p->jobs, &job)) { /* for job := range jobs */
        struct result r = process(w->p, job, w->id);
        chan_send(w->p->results, &r);
    }
    /* end practice */
    finished(&w->p->wg);
}

static void feed(void *arg) {
    struct pool *p = arg;
    for (int job = 1; job <= p->njobs; job++)
        chan_send(p->jobs, &job); /* blocks while the buffer is full: backpressure */
    /* practice: no more jobs: tell the workers (the feeder is the only sender) */
    chan_close(p->jobs);
    /* end practice */
    finished(&p->wg);
}

/* The broken version: one goroutine per job, however many jobs there are. */
static void one_job(void *arg) {
    struct worker_arg *a = arg;
    struct result r = process(a->p, a->id, 0);
    chan_send(a->p->results, &r); /* waits until main receives it */
    finished(&a->p->wg);
}

static void print_result(const struct result *r) {
    if (r->cancelled)
        printf("job %d -> cancelled (worker %d)\n", r->job, r->worker);
    else
        printf("job %d -> %lld (worker %d)\n", r->job, r->value, r->worker);
}

/* What the command line asked for: the same for both runs of --break. */
struct settings {
    int nworkers, njobs;
    duration work, timeout; /* timeout 0: none */
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
        .done = chan_make(1, 0),
        .work = s->work,
        .njobs = s->njobs,
    };
    wg_init(&p.wg);
    peak = 0;
    int nargs = unbounded ? s->njobs : s->nworkers;
    struct worker_arg *args = calloc((size_t)nargs, sizeof *args);
    struct result *by_job = calloc((size_t)s->njobs, sizeof *by_job);
    if (args == NULL || by_job == NULL)
        abort();
    if (unbounded) {
        for (int j = 0; j < s->njobs; j++) {
            args[j] = (struct worker_arg){.p = &p, .id = j + 1};
            started(&p.wg);
            go(one_job, &args[j]);
        }
    } else {
        /* practice: start the workers: for each, its args, started(&p.wg), go(worker, ...) */
        for (int i = 0; i < s->nworkers; i++) {
            args[i] = (struct worker_arg){.p = &p, .id = i + 1};
            started(&p.wg);
            go(worker, &args[i]);
        }
        /* end practice */
        started(&p.wg);
        go(feed, &p);
    }

    /* Every job yields exactly one result, processed or cancelled. The
     * timeout is a case of the same select: when it fires, main closes done
     * and every worker's select sees it; a NULL channel (Go's nil) is never
     * ready, so without a timeout the case is off. */
    chan *timeout = s->timeout > 0 ? time_after(s->timeout) : NULL;
    bool timed_out = false;
    int processed = 0, cancelled = 0;
    long long sum = 0;
    for (int i = 0; i < s->njobs;) {
        struct result r;
        select_case cases[2] = {select_recv(p.results, &r), select_recv(timeout, NULL)};
        if (chan_select(cases, 2) == 1) {
            chan_close(p.done); /* a broadcast: every receiver sees a close */
            timed_out = true;
            chan_free(timeout);
            timeout = NULL; /* fired once: switch the case off */
            continue;
        }
        i++;
        processed += !r.cancelled;
        cancelled += r.cancelled;
        sum += r.value;
        if (s->ordered)
            by_job[r.job - 1] = r; /* print later, by job id */
        else
            print_result(&r);
    }
    chan_free(timeout);
    for (int i = 0; s->ordered && i < s->njobs; i++)
        print_result(&by_job[i]);
    wg_wait(&p.wg); /* nothing may still use the channels we free below */

    printf("timed out: %s\n", timed_out ? "true" : "false");
    printf("summary: jobs=%d processed=%d cancelled=%d sum=%lld peak_goroutines=%d\n", s->njobs,
           processed, cancelled, sum, peak);
    chan_free(p.jobs);
    chan_free(p.results);
    chan_free(p.done);
    free(args);
    free(by_job);
    return peak;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct settings s;
    const char *brk;
    flag_int_range(&s.nworkers, "w", 4, 1, 1000, "workers in the pool, 1..1000");
    flag_int_range(&s.njobs, "n", 20, 1, 10000, "jobs to run, 1..10000");
    flag_duration(&s.work, "work", MILLISECOND, "the time a job takes");
    flag_duration(&s.timeout, "timeout", 0, "cancel the jobs not done by then (0: never)");
    flag_bool(&s.ordered, "ordered", false, "print the results by job id");
    flag_mode(&brk, "break", "unbounded",
              "run the pool, then one goroutine per job, and compare: unbounded");
    flag_parse(argc, argv);
    if (s.work < 0 || s.timeout < 0) {
        char buf[DURATION_STRING_SIZE];
        bool w = s.work < 0;
        flag_fail("invalid value \"%s\" for flag -%s: must not be negative",
                  duration_string(w ? s.work : s.timeout, buf), w ? "work" : "timeout");
    }
    if (flag_nargs() > 0)
        flag_fail("unexpected argument: %s", flag_args()[0]);

    if (!brk) {
        run(&s, false);
        return 0;
    }
    /* --break: the pool first, then the same jobs with no pool at all. */
    printf("pool of %d workers:\n", s.nworkers);
    int pool_peak = run(&s, false);
    printf("one goroutine per job:\n");
    int unbounded_peak = run(&s, true);
    printf(
        "break: most goroutines at once (main aside): %d with the pool (%d workers + the feeder), "
        "%d with one goroutine per job\n",
        pool_peak, s.nworkers, unbounded_peak);
    return 0;
}
