/* 07-pipeline: a generator, two stages and a sink joined by channels. Each
 * stage owns its output channel and closes it when it is done; small buffers
 * make a slow sink hold the generator back; a context stops it all early.
 *
 * The Go it mirrors (the Go blog's "Pipelines and cancellation"):
 *
 *     // gen sends 1..n on its own output in the same way: select on the
 *     // send and on ctx.Done(), and close(out) when it returns.
 *
 *     func stage(ctx context.Context, in <-chan int, f func(int) int) <-chan int {
 *         out := make(chan int, buffer)
 *         go func() {
 *             defer close(out)
 *             for v := range in {
 *                 select {
 *                 case out <- f(v):
 *                 case <-ctx.Done():
 *                     return
 *                 }
 *             }
 *         }()
 *         return out
 *     }
 *
 *     func main() {
 *         ctx, cancel := context.WithCancel(context.Background())
 *         out := stage(ctx, stage(ctx, gen(ctx, n), square), addOne)
 *         for v := range out {         // the sink
 *             fmt.Println("sink:", v)
 *             time.Sleep(delay)
 *             if got++; got == take {
 *                 cancel()             // every stage returns and closes its output
 *                 break
 *             }
 *         }
 *         // then wait (at most a second) for every stage to return
 *     }
 *
 * Break it:
 *   --break  the generator ignores the context (a plain `out <- i`): once the
 *            sink stops early, nobody will ever receive, and it blocks forever
 */
#include <getopt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define NSTAGES 3 /* generate, square, add one; the sink is main */

typedef struct stage {
    long (*f)(long); /* NULL for the generator */
    long n;          /* the generator: how many values */
    bool ignore_ctx; /* the generator under --break */
    chan *in, *out;
    context *ctx;
} stage;

/* Globals, so that even a stage that never returns (--break) can use them. */
static stage stages[NSTAGES];
static waitgroup running = WAITGROUP_INIT;
static atomic_int live;       /* stages that have not returned yet */
static atomic_long in_flight; /* made by the generator, not yet done by the sink */
static atomic_long max_in_flight;

static long square(long v) {
    return v * v;
}
static long add_one(long v) {
    return v + 1;
}

/* select { case out <- v: ; case <-ctx.Done(): }: false if cancelled. */
static bool send(context *ctx, chan *out, long v) {
    select_case cases[] = {select_send(out, &v), select_recv(ctx_done(ctx), NULL)};
    return chan_select(cases, 2) == 0;
}

/* The generator counts each value it makes, the sink each one it is done
 * with: the difference is what sits in the pipeline. Both run at once, hence
 * atomics; the maximum is kept with a compare-and-swap loop. */
static void count_new_value(void) {
    long now = atomic_fetch_add(&in_flight, 1) + 1;
    long max = atomic_load(&max_in_flight);
    while (now > max && !atomic_compare_exchange_weak(&max_in_flight, &max, now)) {
    }
}

static void run_stage(void *p) {
    stage *s = p;
    if (s->f == NULL) { /* the generator */
        for (long i = 1; i <= s->n; i++) {
            count_new_value();
            if (s->ignore_ctx)
                chan_send(s->out, &i); /* WRONG: blocks forever once nobody receives */
            else if (!send(s->ctx, s->out, i))
                break;
        }
    } else {
        long v;
        while (chan_recv(s->in, &v))
            if (!send(s->ctx, s->out, s->f(v)))
                break;
    }
    chan_close(s->out); /* Go's defer close(out): this stage is the only sender */
    atomic_fetch_sub(&live, 1);
    wg_done(&running);
}

/* Waits for every stage, but at most `limit`: a WaitGroup has no timeout,
 * so one goroutine waits on it and closes a channel that select can watch. */
static void wait_all(void *p) {
    chan *all_returned = p;
    wg_wait(&running);
    chan_close(all_returned);
    chan_free(all_returned);
}

static int wait_for_stages(duration limit) {
    chan *all_returned = chan_make(1, 0);
    go(wait_all, chan_ref(all_returned));
    chan *timeout = time_after(limit);
    select_case cases[] = {select_recv(all_returned, NULL), select_recv(timeout, NULL)};
    chan_select(cases, 2);
    chan_free(timeout);
    chan_free(all_returned);
    return atomic_load(&live);
}

static const char usage[] =
    "usage: 07-pipeline [-n COUNT] [--buffer N] [--delay DURATION] [--take N] [--break] [-h]";

static _Noreturn void usage_error(const char *what, const char *arg) {
    fprintf(stderr, "07-pipeline: %s (got '%s'); %s\n", what, arg, usage);
    exit(2);
}

static long parse_long(const char *s, long max, const char *what) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 0 || v > max)
        usage_error(what, s);
    return v;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    long n = 20, buffer = 1, take = -1;
    duration delay = 5 * MILLISECOND;
    bool broken = false;
    static const struct option opts[] = {
        {"buffer", required_argument, NULL, 'b'}, {"delay", required_argument, NULL, 'd'},
        {"take", required_argument, NULL, 't'},   {"break", no_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1;) {
        switch (c) {
        case 'n':
            n = parse_long(optarg, 1000000, "-n wants a count in 0..1000000");
            break;
        case 'b':
            buffer = parse_long(optarg, 1000, "--buffer wants a size in 0..1000");
            break;
        case 't':
            take = parse_long(optarg, 1000000, "--take wants a count in 0..1000000 (0: all)");
            break;
        case 'd':
            if (!duration_parse(optarg, &delay) || delay < 0 || delay > SECOND)
                usage_error("--delay wants a duration in 0..1s, such as 5ms", optarg);
            break;
        case 'B':
            broken = true;
            break;
        case 'h':
            printf("%s\n\n"
                   "Generates 1..COUNT through square and add-one stages to a sink.\n"
                   "  -n COUNT          values to generate, 0..1000000 (default 20)\n"
                   "  --buffer N        capacity of each channel, 0..1000 (default 1)\n"
                   "  --delay DURATION  time the sink spends on each value, 0..1s (default 5ms)\n"
                   "  --take N          the sink cancels the pipeline after N values (default 0: "
                   "all)\n"
                   "  --break           the generator ignores cancellation (implies --take 3)\n"
                   "  -h, --help        this help\n",
                   usage);
            return 0;
        default:
            usage_error("unknown flag or missing value", argv[optind - 1]);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument", argv[optind]);
    if (take < 0)
        take = broken ? 3 : 0;

    /* Build the pipeline front to back: each stage's input is the output of
     * the one before, and each output has room for `buffer` values. */
    context *ctx = ctx_with_cancel(ctx_background());
    long (*fs[NSTAGES])(long) = {NULL, square, add_one};
    chan *prev = NULL;
    for (int i = 0; i < NSTAGES; i++) {
        stages[i] = (stage){fs[i], n, broken, prev, chan_make(sizeof(long), (size_t)buffer), ctx};
        prev = stages[i].out;
        atomic_fetch_add(&live, 1);
        wg_add(&running, 1);
        go(run_stage, &stages[i]);
    }
    printf("pipeline: generate 1..%ld -> square -> add one -> sink (buffers of %ld, sink takes "
           "%gms per value)\n",
           n, buffer, (double)delay / MILLISECOND);

    /* The sink. While it sleeps, the stages fill their buffers and then
     * block on send: that is backpressure, and it stops the generator from
     * running ahead. */
    long got = 0, v;
    while (chan_recv(prev, &v)) {
        printf("sink: %ld\n", v);
        time_sleep(delay);
        atomic_fetch_sub(&in_flight, 1);
        if (++got == take) {
            ctx_cancel(ctx); /* tell every stage to stop, and stop reading */
            break;
        }
    }
    printf("sink: got %ld values%s\n", got, got == take ? ", then cancelled the pipeline" : "");
    printf("in flight at most: %ld (bound: %d stages + %d buffers of %ld = %ld)\n",
           atomic_load(&max_in_flight), NSTAGES + 1, NSTAGES, buffer,
           NSTAGES + 1 + NSTAGES * buffer);

    int leaked = wait_for_stages(SECOND);
    printf("stages leaked: %d\n", leaked);
    ctx_free(ctx);
    if (leaked > 0)
        return 1; /* a leaked stage may still use its channels: leave them be */
    for (int i = 0; i < NSTAGES; i++)
        chan_free(stages[i].out);
    return 0;
}
