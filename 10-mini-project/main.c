/* 10-mini-project: the whole path in one program, and a shutdown that loses
 * nothing.
 *
 *     dispatchers --jobs--> workers --results--> consumer (main)
 *
 * Dispatchers make tasks and hand them over on the jobs channel; a pool of
 * workers does them and sends one result each on the results channel, where
 * they fan in to main, which prints and counts them. It runs until Ctrl+C
 * (SIGINT) or SIGTERM, until the workers have taken -n tasks, or for
 * --duration: each of these cancels one context, `run`, with a cause that
 * says which, and the shutdown that follows is the same. The dispatchers
 * stop; the workers finish every task that was handed over; each channel is
 * closed once its last sender is done. The summary proves it: dispatched =
 * processed + failed.
 *
 * The Go it mirrors is main.go, function for function (but for its Go 1.19
 * stand-in of Go 1.21's causes, which context.h has); README.md shows the
 * two side by side.
 *
 * Break it:
 *   --break  workers quit as soon as they see `run` cancelled: the task each
 *            has just done is never reported, and what is still in the jobs
 *            buffer is never taken: dispatched > processed + failed, exit 1
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

typedef struct result {
    long id;
    int worker;
    bool failed;
} result;

/* The flags, then what everyone shares: main sets them all before the first
 * goroutine starts, and from then on they are only read. */
static int ndispatchers, nworkers, n, buffer, fail_every;
static duration work, limit;
static const char *broken; /* --break: NULL, or "quit" */
static context *run;       /* cancelled by a signal, by --duration, or at the n-th task */
static char n_taken[32];   /* the cause at the n-th task: "N tasks taken" */
static chan *jobs, *results;

static atomic_long next_id, dispatched, taken;
static waitgroup dispatchers = WAITGROUP_INIT, workers = WAITGROUP_INIT;

/* A dispatcher makes tasks (ids from one counter, so they are unique) and
 * hands them over until the run is cancelled. A task counts as dispatched
 * only once its send has happened: from then on the program owes it a result. */
static void dispatcher(void *unused) {
    (void)unused;
    for (;;) {
        long id = atomic_fetch_add(&next_id, 1) + 1;
        if (n > 0 && id > n)
            break; /* all n ids are given out */
        /* practice: hand the task over, or stop if run is cancelled; count it once it is in */
        select_case cases[] = {select_send(jobs, &id), select_recv(ctx_done(run), NULL)};
        if (chan_select(cases, 2) == 1)
            break; /* cancelled: this id was never sent, so it does not count */
        atomic_fetch_add(&dispatched, 1);
        /* end practice */
    }
    wg_done(&dispatchers);
}

/* A worker takes tasks until jobs is closed and empty, even after the run is
 * cancelled: a task that was handed over is always done and reported. The
 * worker that takes the n-th task (-n) ends the run: by then all n are in. */
static void worker(void *arg) {
    int w = *(int *)arg;
    long id;
    /* practice: take tasks until jobs is closed; count each (the n-th cancels run), sleep --work, send its result (--break: quit first if run is cancelled) */
    while (chan_recv(jobs, &id)) {
        if (atomic_fetch_add(&taken, 1) + 1 == n)
            ctx_cancel_cause(run, n_taken); /* the run is over, as on Ctrl+C */
        time_sleep(work);
        if (broken && ctx_err(run))
            break; /* WRONG: this task is never reported, and what is left in jobs never taken */
        result r = {id, w, fail_every > 0 && id % fail_every == 0};
        chan_send(results, &r);
    }
    /* end practice */
    wg_done(&workers);
}

/* go func() { wg.Wait(); close(c) }(): closes c once its last sender is
 * done. It holds a reference of its own on c, so main's chan_free, before or
 * after the close, never pulls the channel from under it. */
typedef struct closer {
    waitgroup *wg;
    chan *c;
} closer;

static void close_after(void *p) {
    closer *cl = p;
    wg_wait(cl->wg);
    chan_close(cl->c);
    chan_free(cl->c); /* the reference go_close_after took for us */
    free(cl);
}

static void go_close_after(waitgroup *wg, chan *c) {
    closer *cl = malloc(sizeof *cl);
    if (cl == NULL)
        abort();
    *cl = (closer){wg, chan_ref(c)};
    go(close_after, cl);
}

/* Says, once, why the run is over (run's cause: the first cancellation's),
 * and stops the signal context (Go's stop()): a second Ctrl+C now ends the
 * program at once. */
static void begin_shutdown(context *signals) {
    printf("shutdown: %s; dispatchers stop, workers finish what was dispatched\n", ctx_cause(run));
    ctx_cancel(signals);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    flag_int_range(&ndispatchers, "dispatchers", 2, 1, 64, "goroutines making tasks, 1..64");
    flag_int_range(&nworkers, "w", 3, 1, 256, "workers in the pool, 1..256");
    flag_int_range(&n, "n", 0, 0, 1000000, "stop once `N` tasks are taken (0: no limit)");
    flag_int_range(&buffer, "buffer", 4, 0, 100000, "capacity of the jobs channel (0: unbuffered)");
    flag_int_range(&fail_every, "fail-every", 7, 0, 1000000,
                   "tasks whose id is a multiple of `K` fail (0: none)");
    flag_duration(&work, "work", 500 * MILLISECOND, "the time a task takes, at least 10ms");
    flag_duration(&limit, "duration", 0, "stop after this long (0: no limit)");
    flag_mode(&broken, "break", "quit", "workers quit on cancellation, dropping dispatched tasks");
    flag_parse(argc, argv);
    char buf[DURATION_STRING_SIZE];
    if (work < 10 * MILLISECOND)
        flag_fail("invalid value \"%s\" for flag -work: must be at least 10ms",
                  duration_string(work, buf));
    if (limit < 0)
        flag_fail("invalid value \"%s\" for flag -duration: must not be negative",
                  duration_string(limit, buf));
    if (flag_nargs() > 0)
        flag_fail("unexpected argument: %s", flag_args()[0]);

    /* The shutdown starts here: a signal cancels `signals`, and with it its
     * child `run`, which --duration and the n-th task cancel too; each says
     * why in its cause ("interrupt signal received", "time is up", ...). A
     * cause must outlive the contexts: literals, and n_taken, set here
     * before any goroutine starts. */
    snprintf(n_taken, sizeof n_taken, "%d tasks taken", n);
    context *signals = ctx_with_signals(ctx_background(), SIGINT, SIGTERM, 0);
    run = limit > 0 ? ctx_with_timeout_cause(signals, limit, "time is up")
                    : ctx_with_cancel_cause(signals);
    jobs = chan_make(sizeof(long), (size_t)buffer);
    results = chan_make(sizeof(result), 0);
    printf("ready: pid=%d (press Ctrl+C or send SIGTERM to stop)\n", (int)getpid());
    printf("start: %d dispatchers -> jobs (buffer %d) -> %d workers, %s a task -> results\n",
           ndispatchers, buffer, nworkers, duration_string(work, buf));

    int *ids = calloc((size_t)nworkers, sizeof *ids);
    long *per_worker = calloc((size_t)nworkers + 1, sizeof *per_worker);
    if (ids == NULL || per_worker == NULL)
        abort();
    for (int i = 0; i < ndispatchers; i++) {
        wg_add(&dispatchers, 1);
        go(dispatcher, NULL);
    }
    for (int i = 0; i < nworkers; i++) {
        ids[i] = i + 1;
        wg_add(&workers, 1);
        go(worker, &ids[i]);
    }
    /* practice: close jobs once the dispatchers are done, and results once the workers are */
    go_close_after(&dispatchers, jobs);
    go_close_after(&workers, results);
    /* end practice */

    /* The consumer: every result, until results is closed. The shutdown case
     * runs once, then is switched off by making its channel NULL. */
    long processed = 0, failed = 0;
    chan *done = ctx_done(run);
    for (;;) {
        result r;
        select_case cases[] = {select_recv(results, &r), select_recv(done, NULL)};
        if (chan_select(cases, 2) == 1) {
            begin_shutdown(signals);
            done = NULL; /* a NULL channel is never ready: the case is off */
            continue;
        }
        if (!cases[0].ok)
            break; /* closed: every worker has returned */
        printf("task %ld by worker %d: %s\n", r.id, r.worker, r.failed ? "failed" : "ok");
        per_worker[r.worker]++;
        if (r.failed)
            failed++;
        else
            processed++;
    }
    if (done != NULL && ctx_err(run)) /* results was closed before the select chose done */
        begin_shutdown(signals);

    /* Every worker has returned. Normally the dispatchers returned before
     * them (jobs is closed only after the last one), but --break workers quit
     * while the dispatchers may still be in their select: wait for them too,
     * so that dispatched is final and nobody uses jobs or run once they are
     * freed. */
    wg_wait(&dispatchers);
    for (int i = 1; i <= nworkers; i++)
        printf("worker %d: %ld tasks\n", i, per_worker[i]);
    long d = atomic_load(&dispatched);
    if (d != processed + failed)
        printf("lost: %ld dispatched tasks were never done\n", d - processed - failed);
    printf("summary: dispatched=%ld processed=%ld failed=%ld\n", d, processed, failed);

    free(per_worker);
    free(ids);
    chan_free(results);
    chan_free(jobs);
    ctx_free(run);
    ctx_free(signals);
    return d == processed + failed ? 0 : 1;
}
