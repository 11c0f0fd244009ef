/* 09-graceful-shutdown: workers take tasks until SIGINT or SIGTERM arrives,
 * then take no new ones, finish the ones they hold, and the program exits 0.
 * A second signal during that wait ends it at once.
 *
 * The Go it mirrors:
 *
 *     func worker(ctx context.Context, id int) {
 *         for {
 *             select {
 *             case <-ctx.Done():
 *                 return // take no new task
 *             default:
 *             }
 *             n := started.Add(1)
 *             time.Sleep(task) // a task in hand is always finished
 *             finished.Add(1)
 *         }
 *     }
 *
 *     func main() {
 *         ctx, stop := signal.NotifyContext(context.Background(),
 *             os.Interrupt, syscall.SIGTERM)
 *         defer stop()
 *         fmt.Printf("ready: pid=%d ...\n", os.Getpid())
 *         var wg sync.WaitGroup
 *         for i := 1; i <= workers; i++ {
 *             wg.Go(func() { worker(ctx, i) })
 *         }
 *         <-ctx.Done()
 *         stop() // restore the default: a second Ctrl+C kills us at once
 *         wg.Wait()
 *         fmt.Printf("shutdown: started=%d finished=%d\n", started.Load(), finished.Load())
 *     }
 *
 * Break it:
 *   --break  exit as soon as the signal arrives, without waiting for the
 *            workers: the tasks they held are lost, and started > finished
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/context.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_WORKERS 100

/* Set by main before the first worker starts, then only read. */
static context *run;
static duration task_time = 150 * MILLISECOND;
static int ids[MAX_WORKERS];

static atomic_long started, finished;

static bool done(context *ctx) {
    select_case cases[] = {select_recv(ctx_done(ctx), NULL)};
    return chan_select_default(cases, 1) == 0;
}

static void worker(void *arg) {
    int id = *(int *)arg;
    while (!done(run)) { /* checked only between tasks: a task is never cut */
        long n = atomic_fetch_add(&started, 1) + 1;
        printf("worker %d: task %ld started\n", id, n);
        time_sleep(task_time);
        atomic_fetch_add(&finished, 1);
        printf("worker %d: task %ld finished\n", id, n);
    }
}

static const char usage[] =
    "usage: 09-graceful-shutdown [-w WORKERS] [--task DURATION] [--duration DURATION] [--break] "
    "[-h]";

static int fail(const char *what, const char *arg) {
    fprintf(stderr, "09-graceful-shutdown: %s: '%s'; %s\n", what, arg, usage);
    return 2;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    long workers = 3;
    duration limit = 500 * MILLISECOND;
    bool broken = false;
    static const struct option longopts[] = {
        {"workers", required_argument, NULL, 'w'},  {"task", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'}, {"break", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "w:h", longopts, NULL)) != -1;) {
        char *end;
        switch (c) {
        case 'w':
            workers = strtol(optarg, &end, 10);
            if (end == optarg || *end || workers < 1 || workers > MAX_WORKERS)
                return fail("-w wants 1..100 workers", optarg);
            break;
        case 't':
            if (!duration_parse(optarg, &task_time) || task_time < 0 || task_time > 60 * SECOND)
                return fail("--task wants a duration in 0..60s", optarg);
            break;
        case 'd':
            if (!duration_parse(optarg, &limit) || limit < 0)
                return fail("--duration wants a duration (0: until a signal)", optarg);
            break;
        case 'b':
            broken = true;
            break;
        case 'h':
            printf(
                "%s\n\n"
                "Runs workers on tasks until SIGINT or SIGTERM, or until --duration has\n"
                "passed, then lets them finish what they hold.\n"
                "  -w WORKERS           workers, 1..100 (default 3)\n"
                "  --task DURATION      time each task takes, 0..60s (default 150ms)\n"
                "  --duration DURATION  stop after this long; 0: only on a signal (default 500ms)\n"
                "  --break              exit at once on the signal, abandoning the tasks in hand\n"
                "  -h, --help           this help\n",
                usage);
            return 0;
        default:
            return fail("unknown flag or missing value", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail("unexpected argument", argv[optind]);

    /* From here on SIGINT and SIGTERM cancel `signals` instead of killing
     * us, even if we were started with them ignored (as `cmd &` does). */
    context *signals = ctx_with_signals(ctx_background(), SIGINT, SIGTERM, 0);
    run = limit > 0 ? ctx_with_timeout(signals, limit) : ctx_with_cancel(signals);
    printf("ready: pid=%d (press Ctrl+C or send SIGTERM to stop)\n", (int)getpid());
    waitgroup wg = WAITGROUP_INIT;
    for (int i = 0; i < workers; i++) {
        ids[i] = i + 1;
        wg_go(&wg, worker, &ids[i]);
    }

    chan_recv(ctx_done(run), NULL);
    /* Go's stop(): the signals get their default action back, so a second
     * Ctrl+C during the wait below ends the program at once (status 130). */
    ctx_cancel(signals);
    printf("shutdown: %s, finishing %ld in-flight tasks\n",
           ctx_err(run) == deadline_exceeded ? "time is up" : "signal received",
           atomic_load(&started) - atomic_load(&finished));
    if (broken) {
        /* WRONG: returning now ends the process with the workers mid-task. */
        printf("shutdown: started=%ld finished=%ld\n", atomic_load(&started),
               atomic_load(&finished));
        return 0;
    }
    wg_wait(&wg);
    printf("shutdown: started=%ld finished=%ld\n", atomic_load(&started), atomic_load(&finished));
    ctx_free(run);
    ctx_free(signals);
    return 0;
}
