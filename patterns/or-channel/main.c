/* patterns/or-channel: one done channel from many, and a range that honours
 * done.
 *
 * or_channel(chans...), Go's or(), returns a channel that is closed as soon as any of chans is:
 * the book's recursive version, one goroutine per two or three channels, and
 * one select over all of them at once. or_done(done, c) forwards c until c
 * closes or done does, so that a loop over a stream can stop early without
 * leaving a goroutine behind. From Concurrency in Go (Katherine Cox-Buday),
 * chapter 4, "The or-channel" and "The or-done-channel". The Go program this
 * mirrors is main.go, beside this file.
 *
 * Break it: --break forwards with a plain range that ignores done: once main
 * stops reading, the forwarder blocks on its send forever, and the count of
 * goroutines at the end says so.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_CHANNELS 100
#define STREAM       1000 /* values in the stream that or-done forwards */

static atomic_int or_goroutines; /* started by or_channel(), for the summary */

/* What an or_channel() goroutine works on: its own copy of the channels, with a
 * reference to each, so that nobody frees one under it. */
struct or_arg {
    int n;
    chan *chans[MAX_CHANNELS + 1];
    chan *or_done; /* ours to close */
};

static void or_goroutine(void *arg);

/* A channel closed as soon as one of chans[0..n) is closed (NULL for none).
 * The caller frees the result with chan_free. */
static chan *or_channel(chan **chans, int n) {
    if (n == 0)
        return NULL; /* the nil channel: never closed */
    if (n == 1)
        return chan_ref(chans[0]);
    struct or_arg *a = malloc(sizeof *a);
    a->n = n;
    for (int i = 0; i < n; i++)
        a->chans[i] = chan_ref(chans[i]);
    a->or_done = chan_make(0, 0); /* chan struct{}: only ever closed */
    chan *result = chan_ref(a->or_done);
    atomic_fetch_add(&or_goroutines, 1);
    go(or_goroutine, a);
    return result;
}

static void or_goroutine(void *arg) {
    struct or_arg *a = arg;
    chan *rest_done = NULL;
    /* practice: wait for the first of the channels to close: two of them, or three and or_channel() of the rest */
    if (a->n == 2) {
        select_case cases[2] = {select_recv(a->chans[0], NULL), select_recv(a->chans[1], NULL)};
        chan_select(cases, 2);
    } else {
        /* The rest, and our own or_done: when we return, the goroutines
         * below us see it closed and return too. */
        chan *rest[MAX_CHANNELS + 1];
        memcpy(rest, a->chans + 3, sizeof rest[0] * (size_t)(a->n - 3));
        rest[a->n - 3] = a->or_done;
        rest_done = or_channel(rest, a->n - 2);
        select_case cases[4] = {select_recv(a->chans[0], NULL), select_recv(a->chans[1], NULL),
                                select_recv(a->chans[2], NULL), select_recv(rest_done, NULL)};
        chan_select(cases, 4);
    }
    chan_close(a->or_done); /* Go's defer close(orDone) */
    /* end practice */
    chan_free(rest_done);
    for (int i = 0; i < a->n; i++)
        chan_free(a->chans[i]);
    chan_free(a->or_done);
    free(a);
}

/* The same with one select over every channel: one goroutine, whatever n. */
static void or_select_goroutine(void *arg) {
    struct or_arg *a = arg;
    select_case cases[MAX_CHANNELS];
    for (int i = 0; i < a->n; i++)
        cases[i] = select_recv(a->chans[i], NULL);
    chan_select(cases, a->n);
    chan_close(a->or_done);
    for (int i = 0; i < a->n; i++)
        chan_free(a->chans[i]);
    chan_free(a->or_done);
    free(a);
}

static chan *or_select(chan **chans, int n) {
    struct or_arg *a = malloc(sizeof *a);
    a->n = n;
    for (int i = 0; i < n; i++)
        a->chans[i] = chan_ref(chans[i]);
    a->or_done = chan_make(0, 0);
    chan *result = chan_ref(a->or_done);
    go(or_select_goroutine, a);
    return result;
}

/* or-done: a stream of ints, and a done channel, as one stream that ends
 * when either does. */
struct stream {
    chan *done, *in, *out; /* a reference to each */
    bool ignore_done;      /* --break */
};

static void or_done_goroutine(void *arg) {
    struct stream *s = arg;
    int v;
    if (s->ignore_done) {
        while (chan_recv(s->in, &v))
            chan_send(s->out, &v); /* WRONG: blocks forever once nobody reads */
    } else {
        for (;;) {
            /* practice: forward one value from in to out, or return as soon as done is closed */
            select_case in[2] = {select_recv(s->done, NULL), select_recv(s->in, &v)};
            if (chan_select(in, 2) == 0 || !in[1].ok)
                break;
            select_case out[2] = {select_send(s->out, &v), select_recv(s->done, NULL)};
            chan_select(out, 2);
            /* end practice */
        }
    }
    chan_close(s->out);
    chan_free(s->done), chan_free(s->in), chan_free(s->out);
    free(s);
}

static chan *or_done(chan *done, chan *in, bool ignore_done) {
    struct stream *s = malloc(sizeof *s);
    *s = (struct stream){chan_ref(done), chan_ref(in), chan_make(sizeof(int), 0), ignore_done};
    chan *out = chan_ref(s->out);
    go(or_done_goroutine, s);
    return out;
}

/* A stream of the values 1..n, all there already: a buffered channel, filled
 * and closed. More values than main wants, so a forwarder always has one in
 * hand when main stops reading. */
static chan *numbers(int n) {
    chan *c = chan_make(sizeof(int), (size_t)n);
    for (int v = 1; v <= n; v++)
        chan_send(c, &v);
    chan_close(c);
    return c;
}

/* A channel closed after a while, by a goroutine of its own. */
struct signal {
    chan *c;
    duration after;
    waitgroup *wg;
};

static void close_after(void *arg) {
    struct signal *s = arg;
    time_sleep(s->after);
    chan_close(s->c);
    wg_done(s->wg);
}

static void report(const char *name, instant start, chan *done) {
    chan_recv(done, NULL);
    char took[DURATION_STRING_SIZE];
    printf("or (%s): closed after %s\n", name, duration_string(time_since(start), took));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, take;
    duration step;
    const char *mistake;
    flag_int_range(&n, "n", 10, 1, MAX_CHANNELS, "channels to or together");
    flag_duration(&step, "step", 50 * MILLISECOND,
                  "the time between one channel's close and the next");
    flag_int_range(&take, "take", 5, 1, STREAM - 1,
                   "values to read through or-done before closing done");
    flag_mode(&mistake, "break", "ignore-done", "forward with a range that ignores done");
    flag_parse(argc, argv);

    /* n channels, closed one step apart in a shuffled order: channel first
     * closes first. */
    struct signal signals[MAX_CHANNELS];
    chan *chans[MAX_CHANNELS];
    waitgroup wg = WAITGROUP_INIT;
    int first = n / 3;
    for (int i = 0; i < n; i++) {
        int rank = (i - first + n) % n; /* 0 for the first to close */
        chans[i] = chan_make(0, 0);
        signals[i] = (struct signal){chans[i], step * (rank + 1), &wg};
    }
    char after[DURATION_STRING_SIZE];
    printf("or: %d channels, the first closes after %s (channel %d)\n", n,
           duration_string(signals[first].after, after), first);
    instant start = time_now();
    chan *recursive = or_channel(chans, n), *selected = or_select(chans, n);
    for (int i = 0; i < n; i++) {
        wg_add(&wg, 1);
        go(close_after, &signals[i]);
    }
    report("recursive", start, recursive);
    report("select", start, selected);
    wg_wait(&wg); /* every signal closed: its goroutine is done */
    chan_free(recursive), chan_free(selected);
    for (int i = 0; i < n; i++)
        chan_free(chans[i]);

    /* or-done: read take values of a longer stream, then stop. */
    chan *done = chan_make(0, 0), *stream = numbers(STREAM);
    chan *values = or_done(done, stream, mistake != NULL);
    long long sum = 0;
    for (int i = 0, v; i < take && chan_recv(values, &v); i++)
        sum += v;
    chan_close(done); /* we want no more: everyone upstream returns */
    printf("or-done: read %d values (sum %lld), then closed done\n", take, sum);
    chan_free(values), chan_free(stream), chan_free(done);

    /* Each or_channel() goroutine starts the next level before it waits, so the
     * count is whole only once they have all returned. */
    int leaked = go_leaks(SECOND); /* names on stderr each one still alive */
    printf("goroutines of or: recursive %d, select 1\n", atomic_load(&or_goroutines));
    printf("goroutines at the end: %d (main and %d leaked)\n", 1 + leaked, leaked);
    return 0;
}
