/* 09-graceful-shutdown: workers take tasks until SIGINT or SIGTERM arrives;
 * then they take no new one and finish the one in hand, main waits for them
 * with a WaitGroup (the classic way: wg_add before go, wg_done when a worker
 * returns), prints a summary that proves no task was lost, and exits 0. A
 * second signal during that wait ends the program at once. Why the run
 * ended (which signal, the time, the -n tasks) is its context's cause.
 *
 * The Go it mirrors is main.go, beside this file (signal.NotifyContext, the
 * cause of Go 1.21's context, a select with a default between tasks,
 * sync.WaitGroup).
 *
 * Break it:
 *   --break  main returns as soon as the signal arrives, without waiting for
 *            the workers: the tasks they hold are lost, and started > finished
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "common/context.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_WORKERS 100

/* Set by main before the first worker starts, then only read. */
static int limit;            /* -n: tasks in all, 0: no limit */
static duration work;        /* --work: the time a task takes */
static context *run;         /* done when the shutdown begins; its cause says why */
static char all_started[64]; /* the cause -n gives: "all N tasks started" */

static atomic_long taken, started, finished;

/* Numbers the tasks 1, 2, 3, ...; returns 0 once -n tasks are taken. The
 * worker that takes the last one cancels run, with its cause: the shutdown
 * begins. */
static long next_task(void) {
    long n = atomic_fetch_add(&taken, 1) + 1;
    if (limit > 0 && n > limit)
        return 0;
    atomic_fetch_add(&started, 1);
    if (n == limit)
        ctx_cancel_cause(run, all_started);
    return n;
}

typedef struct worker_args {
    int id;
    context *ctx; /* done: take no new task */
    waitgroup *wg;
} worker_args;

/* Takes tasks until ctx is done. It looks at ctx only between tasks, with a
 * select that has a default and so never blocks: a task in hand is always
 * finished. */
static void worker(void *p) {
    worker_args *a = p;
    for (;;) {
        /* practice: take no new task once a->ctx is done: a select on its done channel, with a default */
        select_case cases[] = {select_recv(ctx_done(a->ctx), NULL)};
        if (chan_select_default(cases, 1) == 0)
            break;
        /* end practice */
        long n = next_task();
        if (n == 0)
            break; /* -n: every task is taken */
        printf("worker %d: task %ld started\n", a->id, n);
        time_sleep(work); /* the task */
        atomic_fetch_add(&finished, 1);
        printf("worker %d: task %ld finished\n", a->id, n);
    }
    wg_done(a->wg); /* Go's defer wg.Done() */
}

static void summary(void) {
    printf("shutdown: started=%ld finished=%ld\n", atomic_load(&started), atomic_load(&finished));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int workers;
    duration run_for;
    const char *broken;
    flag_int_range(&limit, "n", 0, 0, 1000000, "tasks to run, then shut down (0: no limit)");
    flag_int_range(&workers, "w", 3, 1, MAX_WORKERS, "workers taking tasks");
    flag_duration(&work, "work", SECOND, "the time a task takes, 0..60s");
    flag_duration(&run_for, "duration", 0, "shut down after this long (0: no limit)");
    flag_mode(&broken, "break", "nowait", "exit on the signal, abandoning the tasks in hand");
    flag_parse(argc, argv);
    char buf[DURATION_STRING_SIZE];
    if (work < 0 || work > 60 * SECOND)
        flag_fail("invalid value \"%s\" for flag -work: must be 0..60s",
                  duration_string(work, buf));
    if (run_for < 0)
        flag_fail("invalid value \"%s\" for flag -duration: must not be negative",
                  duration_string(run_for, buf));
    if (flag_nargs() > 0)
        flag_fail("unexpected argument: %s", flag_args()[0]);

    /* From here on SIGINT and SIGTERM cancel `signals` instead of killing
     * us, even if we were started with them ignored (as `cmd &` in a script
     * is), with the signal as the cause. run is its child: -n and --duration
     * end the run in the same way, each with a cause of its own. A cause
     * must outlive the contexts: literals, and a static array set before
     * the first worker starts. */
    snprintf(all_started, sizeof all_started, "all %d tasks started", limit);
    context *signals = ctx_with_signals(ctx_background(), SIGINT, SIGTERM, 0);
    run = run_for > 0 ? ctx_with_timeout_cause(signals, run_for, "time is up")
                      : ctx_with_cancel_cause(signals);
    printf("ready: pid=%d (press Ctrl+C or send SIGTERM to stop)\n", (int)getpid());

    static waitgroup wg = WAITGROUP_INIT;
    static worker_args args[MAX_WORKERS];
    for (int i = 0; i < workers; i++) {
        args[i] = (worker_args){i + 1, run, &wg};
        /* practice: start worker i: count it in the WaitGroup (wg_add), then go() */
        wg_add(&wg, 1);
        go(worker, &args[i]);
        /* end practice */
    }

    chan_recv(ctx_done(run), NULL);
    /* Why: the first cancellation's cause, fixed once run is done. */
    const char *why = ctx_cause(run);
    /* Go's stop(): SIGINT and SIGTERM get back what they had before (from a
     * terminal, the default), so a second Ctrl+C during the wait below ends
     * the program at once. */
    ctx_cancel(signals);
    printf("shutdown: %s, finishing %ld in-flight tasks\n", why,
           atomic_load(&started) - atomic_load(&finished));
    if (broken) {
        /* WRONG: returning now ends the process with the workers mid-task. */
        summary();
        return 0;
    }
    /* practice: wait for every worker to return */
    wg_wait(&wg);
    /* end practice */
    summary();
    ctx_free(run);
    ctx_free(signals);
    return 0;
}
