/* 10-mini-project: the whole path in one program.
 *
 *     dispatchers --jobs--> workers --results--> consumer (main)
 *
 * D dispatchers make tasks and send them on the jobs channel; W workers take
 * them, do them, and send a result each on the results channel; main prints
 * and counts the results. It stops after -n tasks per dispatcher, after
 * --duration, or on SIGINT/SIGTERM; whichever it is, nothing accepted is
 * lost: dispatched = processed + failed.
 *
 * The Go it mirrors:
 *
 *     func dispatcher(ctx context.Context, jobs chan<- int) {
 *         for i := 0; n == 0 || i < n; i++ {
 *             id := int(nextID.Add(1))
 *             select {
 *             case jobs <- id:
 *                 dispatched.Add(1) // only now is the task ours to finish
 *             case <-ctx.Done():
 *                 return
 *             }
 *         }
 *     }
 *
 *     func worker(w int, jobs <-chan int, results chan<- result) {
 *         for id := range jobs { // to the end, even after cancellation
 *             time.Sleep(work)
 *             results <- result{id, w, id%failEvery == 0}
 *         }
 *     }
 *
 *     func main() {
 *         ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
 *         ctx, cancel := context.WithTimeout(ctx, duration) // with --duration
 *         jobs, results := make(chan int, buffer), make(chan result)
 *         var dispatchers, workers sync.WaitGroup
 *         ... d times: dispatchers.Go(func() { dispatcher(ctx, jobs) })
 *         ... w times: workers.Go(func() { worker(i, jobs, results) })
 *         go func() { dispatchers.Wait(); close(jobs) }()  // no more jobs
 *         go func() { workers.Wait(); close(results) }()   // no more results
 *         done := ctx.Done()
 *         for {
 *             select {
 *             case r, ok := <-results:
 *                 if !ok { ...print the summary; return }
 *                 ...count r
 *             case <-done:
 *                 stop()      // a second signal now kills us
 *                 done = nil  // a nil channel is never ready: the case is off
 *             }
 *         }
 *     }
 *
 * Break it:
 *   --break  workers quit as soon as the context is done, dropping the task
 *            they just took and leaving the rest in the jobs buffer: after a
 *            signal or --duration, dispatched > processed + failed
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

typedef struct result {
    long id;
    int worker;
    bool failed;
} result;

/* Settings, and the channels and context everyone shares: main sets them
 * before the first goroutine starts, and from then on they are only read. */
static struct {
    long per_dispatcher; /* -n: tasks per dispatcher, 0 for no limit */
    duration work;       /* --work: how long a task takes */
    long fail_every;     /* --fail-every: task ids divisible by it fail; 0: none */
    bool broken;         /* --break */
    context *ctx;
    chan *jobs, *results;
} cfg = {10, 5 * MILLISECOND, 7, false, NULL, NULL, NULL};

static atomic_long next_id, dispatched;

static void dispatcher(void *unused) {
    (void)unused;
    for (long i = 0; cfg.per_dispatcher == 0 || i < cfg.per_dispatcher; i++) {
        long id = atomic_fetch_add(&next_id, 1) + 1;
        select_case cases[] = {select_send(cfg.jobs, &id), select_recv(ctx_done(cfg.ctx), NULL)};
        if (chan_select(cases, 2) == 1)
            return; /* cancelled: this id was never sent, so it does not count */
        atomic_fetch_add(&dispatched, 1);
    }
}

static void worker(void *arg) {
    int w = *(int *)arg;
    long id;
    while (chan_recv(cfg.jobs, &id)) {
        if (cfg.broken && ctx_err(cfg.ctx))
            return; /* WRONG: this task and those still buffered are lost */
        time_sleep(cfg.work);
        result r = {id, w, cfg.fail_every > 0 && id % cfg.fail_every == 0};
        chan_send(cfg.results, &r);
    }
}

/* Every dispatcher, every worker: main waits for them, and so does the
 * goroutine that closes each one's channel. Static, so that they outlive
 * main's frame whoever waits last. */
static waitgroup dispatchers = WAITGROUP_INIT, workers = WAITGROUP_INIT;

/* Closes c once wg reaches zero: the last sender is gone. It holds a
 * reference of its own on c, so main's chan_free, before or after the close,
 * never pulls the channel from under it. */
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

static const char usage[] =
    "usage: 10-mini-project [-d DISPATCHERS] [-w WORKERS] [-n TASKS] "
    "[--buffer N] [--duration D] [--work D] [--fail-every K] [--break] [-h]";

static void help(void) {
    printf("%s\n\n"
           "  -d N            dispatchers, 1..64 (default 2)\n"
           "  -w N            workers, 1..256 (default 3)\n"
           "  -n N            tasks per dispatcher, 0 for no limit (default 10)\n"
           "  --buffer N      jobs channel capacity, 0 for unbuffered (default 4)\n"
           "  --duration D    stop after D, such as 2s (default: no limit)\n"
           "  --work D        time each task takes (default 5ms)\n"
           "  --fail-every K  tasks whose id is divisible by K fail; 0: none (default 7)\n"
           "  --break         workers quit on cancellation, losing accepted tasks\n"
           "  -h, --help      this help\n"
           "Stops on SIGINT or SIGTERM too; a second signal ends it at once.\n",
           usage);
}

/* Parses a count flag into *out, or says why not and returns false. */
static bool count_flag(const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end != s && *end == '\0' && v >= lo && v <= hi) {
        *out = v;
        return true;
    }
    fprintf(stderr, "10-mini-project: %s wants a whole number in %ld..%ld, not '%s'; %s\n", flag,
            lo, hi, s, usage);
    return false;
}

static bool duration_flag(const char *flag, const char *s, duration *out) {
    if (duration_parse(s, out) && *out >= 0 && *out <= 3600 * SECOND)
        return true;
    fprintf(stderr, "10-mini-project: %s wants a duration such as 2s, not '%s'; %s\n", flag, s,
            usage);
    return false;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    long ndispatchers = 2, nworkers = 3, buffer = 4;
    duration limit = 0;
    static const struct option opts[] = {
        {"buffer", required_argument, NULL, 'b'},
        {"duration", required_argument, NULL, 'D'},
        {"work", required_argument, NULL, 'k'},
        {"fail-every", required_argument, NULL, 'f'},
        {"break", no_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "d:w:n:h", opts, NULL)) != -1;) {
        bool ok = true;
        switch (c) {
        case 'd':
            ok = count_flag("-d", optarg, 1, 64, &ndispatchers);
            break;
        case 'w':
            ok = count_flag("-w", optarg, 1, 256, &nworkers);
            break;
        case 'n':
            ok = count_flag("-n", optarg, 0, 1000000, &cfg.per_dispatcher);
            break;
        case 'b':
            ok = count_flag("--buffer", optarg, 0, 100000, &buffer);
            break;
        case 'f':
            ok = count_flag("--fail-every", optarg, 0, 1000000, &cfg.fail_every);
            break;
        case 'D':
            ok = duration_flag("--duration", optarg, &limit);
            break;
        case 'k':
            ok = duration_flag("--work", optarg, &cfg.work);
            break;
        case 'B':
            cfg.broken = true;
            break;
        case 'h':
            help();
            return 0;
        default:
            fprintf(stderr, "10-mini-project: unknown flag or missing value '%s'; %s\n",
                    argv[optind - 1], usage);
            return 2;
        }
        if (!ok)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "10-mini-project: unexpected argument '%s'; %s\n", argv[optind], usage);
        return 2;
    }

    /* The shutdown path starts here: a signal cancels `signals`, and with it
     * its child cfg.ctx, which --duration also cancels when the time is up. */
    context *signals = ctx_with_signals(ctx_background(), SIGINT, SIGTERM, 0);
    cfg.ctx = limit > 0 ? ctx_with_timeout(signals, limit) : ctx_with_cancel(signals);
    cfg.jobs = chan_make(sizeof(long), (size_t)buffer);
    cfg.results = chan_make(sizeof(result), 0);
    printf("ready: pid=%d (press Ctrl+C or send SIGTERM to stop)\n", (int)getpid());
    char tasks[24] = "unlimited";
    if (cfg.per_dispatcher > 0)
        snprintf(tasks, sizeof tasks, "%ld", cfg.per_dispatcher);
    printf("start: %ld dispatchers x %s tasks -> jobs (buffer %ld) -> %ld workers -> results\n",
           ndispatchers, tasks, buffer, nworkers);

    int *ids = calloc((size_t)nworkers, sizeof *ids);
    for (long i = 0; i < ndispatchers; i++)
        wg_go(&dispatchers, dispatcher, NULL);
    for (int i = 0; i < nworkers; i++) {
        ids[i] = i + 1;
        wg_go(&workers, worker, &ids[i]);
    }
    /* Each channel is closed once its last sender is done, never before. */
    go_close_after(&dispatchers, cfg.jobs);
    go_close_after(&workers, cfg.results);

    /* The consumer: drain results until the channel is closed. The shutdown
     * case runs once, then is switched off by making its channel NULL. */
    long processed = 0, failed = 0;
    long *per_worker = calloc((size_t)nworkers + 1, sizeof *per_worker);
    chan *done = ctx_done(cfg.ctx);
    for (;;) {
        result r;
        select_case cases[] = {select_recv(cfg.results, &r), select_recv(done, NULL)};
        if (chan_select(cases, 2) == 1) {
            ctx_cancel(signals); /* Go's stop(): a second signal now kills us */
            printf("shutdown: %s; dispatchers stop, workers finish what was dispatched\n",
                   ctx_err(cfg.ctx) == deadline_exceeded ? "time is up" : "signal received");
            done = NULL;
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

    /* Every worker has returned. Normally the dispatchers returned before
     * them (the workers' range ends only once jobs is closed), but --break
     * workers quit while the dispatchers may still be in their select: wait
     * for them too, so that dispatched is final and nobody uses jobs or the
     * context once they are freed. */
    wg_wait(&dispatchers);
    for (int i = 1; i <= nworkers; i++)
        printf("worker %d: %ld tasks\n", i, per_worker[i]);
    long d = atomic_load(&dispatched);
    if (d != processed + failed)
        printf("lost: %ld dispatched tasks were never done\n", d - processed - failed);
    printf("summary: dispatched=%ld processed=%ld failed=%ld\n", d, processed, failed);

    free(per_worker);
    free(ids);
    chan_free(cfg.results);
    chan_free(cfg.jobs);
    ctx_free(cfg.ctx);
    ctx_free(signals);
    return d == processed + failed ? 0 : 1;
}
