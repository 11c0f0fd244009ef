/* patterns/bridge: a channel of channels, read as one stream.
 *
 * Some producers hand out a sequence of channels (a page of results each, a
 * stage that is restarted, a connection per shard): a chan of chans. bridge
 * reads it as one stream: each inner channel to its end, in order, then the
 * next, and stops at once, wherever it is, when done is closed. It reads each
 * inner channel through or_done (common/stream.h, the lesson
 * patterns/or-channel). From Concurrency in Go (Katherine Cox-Buday), chapter
 * 4, "The bridge-channel". The Go program this mirrors is main.go, beside
 * this file.
 *
 * Ownership, which Go's garbage collector spares it: an inner channel is sent
 * with the reference its maker took, and whoever receives it frees it.
 *
 * Break it: --break reads the inner channels with a plain range and sends
 * that ignore done: when the consumer stops in the middle of one, the bridge
 * waits forever to hand over the next value, and the count of goroutines at
 * the end says so.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/stream.h"
#include "common/timer.h"

/* A stage's channels: a reference to each, given back when it returns. */
struct stage {
    chan *done, *in, *out;
    int n, per;       /* generate: n channels of per values */
    bool ignore_done; /* bridge: --break */
};

static struct stage *stage_new(chan *done, chan *in, chan *out) {
    struct stage *s = calloc(1, sizeof *s);
    *s = (struct stage){.done = chan_ref(done), .in = chan_ref(in), .out = out};
    return s;
}

static void stage_end(struct stage *s) {
    chan_close(s->out);
    chan_free(s->done), chan_free(s->in), chan_free(s->out);
    free(s);
}

/* Sends n channels on out, the i-th holding the values (i-1)*per+1 .. i*per,
 * until done is closed. */
static void generate(void *arg) {
    struct stage *s = arg;
    for (int i = 0; i < s->n; i++) {
        chan *inner = chan_make(sizeof(int), (size_t)s->per);
        for (int j = 1; j <= s->per; j++) {
            int v = i * s->per + j;
            chan_send(inner, &v);
        }
        chan_close(inner);
        select_case cases[2] = {select_send(s->out, &inner), select_recv(s->done, NULL)};
        if (chan_select(cases, 2) == 1) {
            chan_free(inner); /* never handed over: still ours */
            break;
        }
    }
    stage_end(s);
}

static void bridge_goroutine(void *arg) {
    struct stage *s = arg; /* in carries chan *: the channel of channels */
    for (;;) {
        chan *inner;
        select_case next[2] = {select_recv(s->in, &inner), select_recv(s->done, NULL)};
        if (chan_select(next, 2) == 1 || !next[0].ok)
            break;
        int v;
        if (s->ignore_done) {
            while (chan_recv(inner, &v))
                chan_send(s->out, &v); /* WRONG: waits forever once nobody reads */
        } else {
            /* practice: forward every value of inner through or_done, each send also waiting on done */
            chan *values = or_done(s->done, inner, sizeof v);
            while (chan_recv(values, &v)) {
                select_case send[2] = {select_send(s->out, &v), select_recv(s->done, NULL)};
                chan_select(send, 2);
            }
            chan_free(values);
            /* end practice */
        }
        chan_free(inner); /* the reference that came with it */
    }
    stage_end(s);
}

/* One stream of the values of every channel that chans carries. */
static chan *bridge(chan *done, chan *chans, bool ignore_done) {
    struct stage *s = stage_new(done, chans, chan_make(sizeof(int), 0));
    s->ignore_done = ignore_done;
    chan *out = chan_ref(s->out);
    go(bridge_goroutine, s);
    return out;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, per, stop_after;
    const char *mistake;
    flag_int_range(&n, "n", 5, 1, 100000, "inner channels");
    flag_int_range(&per, "per", 4, 2, 1000, "values in each inner channel");
    flag_int_range(&stop_after, "stop-after", 0, 0, 100000000,
                   "the consumer stops after this many values and closes done (0: reads them all)");
    flag_mode(&mistake, "break", "ignore-done",
              "read the inner channels ignoring done (the consumer then stops halfway)");
    flag_parse(argc, argv);
    if (mistake && (stop_after == 0 || stop_after % per == 0 || stop_after >= n * per))
        stop_after = (n * per) / 2 / per * per + 1; /* inside an inner channel */

    chan *done = chan_make(0, 0), *chans = chan_make(sizeof(chan *), 0);
    struct stage *source = stage_new(done, NULL, chan_ref(chans));
    source->n = n, source->per = per;
    go(generate, source);
    chan *values = bridge(done, chans, mistake != NULL);
    printf("bridge: %d channels of %d values, read as one stream\n", n, per);

    int v, count = 0;
    long long sum = 0;
    bool in_order = true;
    while ((stop_after == 0 || count < stop_after) && chan_recv(values, &v)) {
        in_order = in_order && v == count + 1;
        count++;
        sum += v;
    }
    if (stop_after > 0) {
        printf("consumer: stops after %d values and closes done\n", count);
        chan_close(done);
    }
    printf("consumer: %d values, sum %lld, %s\n", count, sum,
           in_order ? "in order" : "OUT OF ORDER");
    chan_free(values), chan_free(chans), chan_free(done);

    /* The leak check (go.h): a second for the goroutines to return, then
     * each one still alive is named on stderr. */
    int leaked = go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", 1 + leaked, leaked);
    return 0;
}
