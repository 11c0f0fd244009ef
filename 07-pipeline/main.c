/* 07-pipeline: a generator, two stages and a sink joined by channels, as in
 * the Go blog's "Go Concurrency Patterns: Pipelines and cancellation". Each
 * stage owns its output channel and closes it when it returns; small buffers
 * make a slow sink hold the generator back (backpressure); and a done
 * channel, closed by main when the sink stops, tells every stage to return
 * (explicit cancellation: every send selects on done as well).
 * main.go is the Go program this one mirrors; README.md quotes both.
 *
 * Break it:
 *   --break  the generator ignores done (a plain send), and the sink stops
 *            early: nobody will ever receive the generator's next value, so it
 *            blocks forever. A goroutine leak, counted at the end: exit 1.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/timer.h"

static int buffer; /* --buffer: the capacity of every channel */

/* What one stage's goroutine captures (a closure, in Go). */
typedef struct stage_arg {
    chan *done;      /* closed by main when the sink stops: return */
    chan *in, *out;  /* in: NULL for the generator */
    long (*f)(long); /* what the stage does to each value */
    int n;           /* the generator: how many values */
    bool deaf;       /* the generator under --break: it ignores done */
} stage_arg;

/* The generator counts each value it makes, the sink each one it is done
 * with: the difference is what sits in the pipeline. Both run at once, hence
 * atomics; the maximum is kept with a compare-and-swap loop. */
static atomic_long in_flight, max_in_flight;

static void count_new_value(void) {
    long now = atomic_fetch_add(&in_flight, 1) + 1;
    long max = atomic_load(&max_in_flight);
    while (now > max && !atomic_compare_exchange_weak(&max_in_flight, &max, now)) {
    }
}

/* select { case out <- v: case <-done: }: false if done was closed. */
static bool send(chan *done, chan *out, long v) {
    select_case cases[] = {select_send(out, &v), select_recv(done, NULL)};
    return chan_select(cases, 2) == 0;
}

static void gen_run(void *p) {
    stage_arg *a = p;
    for (long i = 1; i <= a->n; i++) {
        count_new_value();
        if (a->deaf)
            chan_send(a->out, &i); /* WRONG: blocks forever once nobody receives */
        else if (!send(a->done, a->out, i))
            break;
    }
    chan_close(a->out); /* Go's defer close(out): each stage owns its output */
    chan_free(a->out);
    chan_free(a->done);
    free(a);
}

static void stage_run(void *p) {
    stage_arg *a = p;
    /* practice: for each value v received from a->in, send(a->done, a->out, a->f(v)), or stop */
    long v;
    while (chan_recv(a->in, &v))
        if (!send(a->done, a->out, a->f(v)))
            break; /* done is closed: nobody wants the rest */
    /* end practice */
    chan_close(a->out);
    chan_free(a->out);
    chan_free(a->in);
    chan_free(a->done);
    free(a);
}

/* gen and stage start a goroutine and return its output channel. The
 * goroutine holds references of its own to its channels, and frees them
 * when it returns; the caller frees the reference it is given. */
static chan *start_stage(void (*run)(void *), stage_arg a) {
    stage_arg *p = malloc(sizeof *p);
    *p = a;
    p->out = chan_make(sizeof(long), (size_t)buffer);
    chan_ref(p->in);
    chan_ref(p->done);
    chan *out = chan_ref(p->out);
    go(run, p);
    return out;
}

static chan *gen(chan *done, int n, bool deaf) {
    return start_stage(gen_run, (stage_arg){.done = done, .n = n, .deaf = deaf});
}

static chan *stage(chan *done, chan *in, long (*f)(long)) {
    return start_stage(stage_run, (stage_arg){.done = done, .in = in, .f = f});
}

static long square(long v) {
    return v * v;
}

static long add_one(long v) {
    return v + 1;
}

/* The goroutines beyond `before` still running once they have had `limit`
 * to return: a stage blocked forever never does. */
static int leaked(int before, duration limit) {
    instant start = time_now();
    while (go_num_goroutines() > before && time_since(start) < limit)
        time_sleep(MILLISECOND);
    return go_num_goroutines() - before;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, take;
    duration delay;
    const char *broken;
    flag_int_range(&n, "n", 20, 0, 1000000, "values to generate (0..1000000)");
    flag_int_range(&buffer, "buffer", 1, 0, 1000, "capacity of each channel (0..1000)");
    flag_int_range(&take, "take", 0, 0, 1000000, "the sink stops after `N` values (0: all)");
    flag_duration(&delay, "delay", 5 * MILLISECOND, "the time the sink spends on each value");
    flag_mode(&broken, "break", "deaf",
              "the generator ignores done, and the sink stops early (after --take, or 3)");
    flag_parse(argc, argv);
    if (flag_nargs() > 0)
        flag_fail("unexpected argument: %s", flag_args()[0]);
    if (broken && take == 0)
        take = 3;
    /* Once the sink stops, the generator can still send take + 3 x buffer + 2
     * values (the buffers, and one held by each middle stage): only with
     * more to send is it sure to block. */
    if (broken && n <= take + 3 * buffer + 2)
        flag_fail("--break needs -n above --take + 3 x --buffer + 2 = %d: a value left to block on",
                  take + 3 * buffer + 2);

    char d[DURATION_STRING_SIZE];
    printf("pipeline: generate 1..%d -> square -> add one -> sink (buffers of %d, sink takes %s "
           "per value)\n",
           n, buffer, duration_string(delay, d));
    int before = go_num_goroutines();
    /* Build the pipeline front to back: each stage's input is the output of
     * the one before. */
    chan *done = chan_make(1, 0);
    chan *c1 = gen(done, n, broken != NULL);
    chan *c2 = stage(done, c1, square);
    chan *out = stage(done, c2, add_one);

    /* The sink. While it sleeps, the stages fill their buffers and then
     * block on send: that is backpressure, and it stops the generator from
     * running ahead. */
    long got = 0, v;
    bool early = false;
    while (chan_recv(out, &v)) {
        printf("sink: %ld\n", v);
        time_sleep(delay);
        atomic_fetch_sub(&in_flight, 1);
        if (++got == take) {
            early = true; /* the stages may still have values to send */
            break;
        }
    }
    /* practice: tell every stage to return, whether the sink stopped early or not */
    chan_close(done);
    /* end practice */

    printf("sink: got %ld values%s\n", got, early ? ", then stopped early" : "");
    printf("in flight at most: %ld (bound: %d stages + %d buffers of %d = %d)\n",
           atomic_load(&max_in_flight), 4, 3, buffer, 4 + 3 * buffer);
    int stages_leaked = leaked(before, SECOND);
    printf("stages leaked: %d\n", stages_leaked);
    chan_free(out);
    chan_free(c2);
    chan_free(c1);
    chan_free(done);
    return stages_leaked > 0 ? 1 : 0;
}
