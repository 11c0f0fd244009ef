/* patterns/tee: one stream into two; each value goes to both readers.
 *
 * Like the tee command, tee(done, in) returns two channels that both receive
 * every value of in, in order. It reads in through or_done (common/stream.h,
 * the lesson patterns/or-channel), and each of its sends also waits on done,
 * so that when a reader loses interest and closes done, the tee and the other
 * reader stop, even though the stream itself knows nothing of done. From Concurrency in Go
 * (Katherine Cox-Buday), chapter 4, "The tee-channel". The Go program this mirrors is main.go,
 * beside this file.
 *
 * Break it: --break tees with a plain range and sends that ignore done: when
 * reader 2 stops early, the tee waits forever to hand it the next value,
 * reader 1 waits forever for the tee, main waits for reader 1, and the
 * runtime reports the deadlock.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/stream.h"
#include "common/sync.h"
#include "common/timer.h"

/* The tee's channels: a reference to each, given back when it returns. */
struct stage {
    chan *done, *in, *out1, *out2;
    bool ignore_done; /* --break */
};

/* A stream of the values 1..n that knows nothing of done, as a channel you
 * do not own: all there already, in a buffered channel, filled and closed. */
static chan *numbers(int n) {
    chan *c = chan_make(sizeof(int), (size_t)n);
    for (int v = 1; v <= n; v++)
        chan_send(c, &v);
    chan_close(c);
    return c;
}

static void tee_goroutine(void *arg) {
    struct stage *s = arg;
    int v;
    if (s->ignore_done) {
        while (chan_recv(s->in, &v)) {
            chan_send(s->out1, &v); /* WRONG: each waits forever for a reader that left */
            chan_send(s->out2, &v);
        }
    } else {
        chan *values = or_done(s->done, s->in, sizeof v);
        /* practice: send v to both outputs, in whichever order they are ready, unless done closes first */
        while (chan_recv(values, &v)) {
            /* A case that has sent is switched off (NULL) for the second
             * round, as the book sets out1 or out2 to nil. */
            select_case cases[3] = {select_recv(s->done, NULL), select_send(s->out1, &v),
                                    select_send(s->out2, &v)};
            for (int round = 0; round < 2; round++) {
                int i = chan_select(cases, 3);
                if (i > 0)
                    cases[i].c = NULL;
            }
        }
        /* end practice */
        chan_free(values);
    }
    chan_close(s->out1), chan_close(s->out2);
    chan_free(s->done), chan_free(s->in), chan_free(s->out1), chan_free(s->out2);
    free(s);
}

/* Two channels that each receive every value of in. */
static void tee(chan *done, chan *in, bool ignore_done, chan **out1, chan **out2) {
    struct stage *s = malloc(sizeof *s);
    *s = (struct stage){chan_ref(done), chan_ref(in), chan_make(sizeof(int), 0),
                        chan_make(sizeof(int), 0), ignore_done};
    *out1 = chan_ref(s->out1);
    *out2 = chan_ref(s->out2);
    go(tee_goroutine, s);
}

struct reader {
    int id;
    chan *in, *done;
    int stop_after; /* 0: read to the end; else stop after that many and close done */
    waitgroup *wg;
};

static void consume(void *arg) {
    struct reader *r = arg;
    int v, count = 0;
    long long sum = 0;
    bool in_order = true;
    while ((r->stop_after == 0 || count < r->stop_after) && chan_recv(r->in, &v)) {
        in_order = in_order && v == count + 1;
        count++;
        sum += v;
    }
    if (r->stop_after > 0) {
        printf("reader %d: stops after %d values and closes done\n", r->id, count);
        chan_close(r->done);
    }
    printf("reader %d: %d values, sum %lld, %s\n", r->id, count, sum,
           in_order ? "in order" : "OUT OF ORDER");
    wg_done(r->wg);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, stop_after;
    const char *mistake;
    flag_int_range(&n, "n", 10, 1, 1000000, "values to tee");
    flag_int_range(&stop_after, "stop-after", 0, 0, 1000000,
                   "reader 2 stops after this many values and closes done (0: reads them all)");
    flag_mode(&mistake, "break", "ignore-done",
              "tee without or-done, ignoring done (reader 2 then stops halfway)");
    flag_parse(argc, argv);
    if (mistake && stop_after == 0)
        stop_after = (n + 1) / 2; /* the break needs a reader that leaves */

    chan *done = chan_make(0, 0), *values = numbers(n), *out1, *out2;
    tee(done, values, mistake != NULL, &out1, &out2);

    waitgroup wg = WAITGROUP_INIT;
    struct reader readers[2] = {{1, out1, done, 0, &wg}, {2, out2, done, stop_after, &wg}};
    wg_add(&wg, 2);
    go(consume, &readers[0]);
    go(consume, &readers[1]);
    wg_wait(&wg);
    chan_free(values), chan_free(out1), chan_free(out2), chan_free(done);

    /* The leak check (go.h): a second for the goroutines to return, then
     * each one still alive is named on stderr. */
    int leaked = go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", 1 + leaked, leaked);
    return 0;
}
