/* 02-channels: unbuffered handoff, buffered channels, closing, ranging.
 *
 * A channel hands a value from one goroutine to another, and the handoff also
 * orders the two. Three things to know about one, a function each: an
 * unbuffered send waits for its receiver (unbuffered), a buffer lets up to cap
 * sends run ahead of the receiver (buffered), and a generator closes the
 * channel it owns so that the range over it ends (range_over). The path is Go
 * by Example's, from "Channels" to "Range over Channels". main.go, beside this
 * file, is the Go program this one mirrors: same flags, same output.
 *
 * Break it: --break=send sends on a channel nobody receives from, and
 * --break=noclose forgets to close the generator's channel. Both end in Go's
 * "fatal error: all goroutines are asleep - deadlock!" and exit status 2.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"

#define NAP (20 * MILLISECOND) /* how long main keeps the sender waiting */

/* 1. Unbuffered: chan_send returns only once a receiver has taken the value. */
struct handoff {
    chan *ping;       /* unbuffered */
    instant start;    /* when main started the sender */
    duration send_at; /* when, after start, the sender's chan_send returned */
    waitgroup done;
};

static void sender(void *arg) {
    struct handoff *h = arg;
    int msg = 42;
    chan_send(h->ping, &msg); /* blocks until main receives */
    h->send_at = time_since(h->start);
    wg_done(&h->done); /* main's wg_wait then sees send_at */
}

static void unbuffered(void) {
    struct handoff h = {.ping = chan_make(sizeof(int), 0), .start = time_now()};
    wg_init(&h.done);
    wg_add(&h.done, 1);
    go(sender, &h);
    time_sleep(NAP); /* the sender is stuck in chan_send all this time */
    int msg = 0;
    /* practice: receive msg from h.ping: only then can the sender's chan_send return */
    chan_recv(h.ping, &msg);
    /* end practice */
    wg_wait(&h.done);
    printf("unbuffered: received %d after a %lld ms nap; the send returned at +%lld ms\n", msg,
           (long long)(NAP / MILLISECOND), (long long)(h.send_at / MILLISECOND));
    chan_free(h.ping);
}

/* 2. Buffered: up to cap sends complete with no receiver at all. */
static void buffered(int cap) {
    chan *buf = chan_make(sizeof(int), (size_t)cap);
    for (int i = 1; i <= cap; i++) {
        chan_send(buf, &i); /* room in the buffer: returns at once */
        printf("buffered: sent %d ahead, len=%zu cap=%zu\n", i, chan_len(buf), chan_cap(buf));
    }
    for (int v; chan_len(buf) > 0;) {
        chan_recv(buf, &v); /* first in, first out */
        printf("buffered: received %d, len=%zu\n", v, chan_len(buf));
    }
    chan_free(buf);
}

/* 3. A generator. Directions are a convention here, not a type as in Go:
 * the goroutine only sends on out (Go: chan<- int) and is its only sender, so
 * it is the one that closes it. */
struct generator {
    chan *out; /* our own reference, taken in count_to */
    int n;
    bool close_it; /* false only in --break=noclose */
};

static void count_loop(void *arg) {
    struct generator *g = arg;
    /* practice: send 1..g->n on g->out, then close it (if g->close_it): no more values */
    for (int i = 1; i <= g->n; i++)
        chan_send(g->out, &i);
    if (g->close_it)
        chan_close(g->out); /* "no more values": ends the range in main */
    /* end practice */
    chan_free(g->out);
    free(g);
}

/* Returns a channel that main only receives from (Go: <-chan int). Main
 * must not close it: it is not the sender. */
static chan *count_to(int n, bool close_it) {
    struct generator *g = malloc(sizeof *g);
    if (g == NULL)
        abort();
    chan *c = chan_make(sizeof(int), 0);
    /* The goroutine holds a reference of its own, so main's chan_free and its
     * own may come in either order: the channel goes with the last one. */
    *g = (struct generator){.out = chan_ref(c), .n = n, .close_it = close_it};
    go(count_loop, g);
    return c;
}

static void range_over(int n, bool close_it) {
    chan *c = count_to(n, close_it);
    int v = 0, sum = 0;
    /* practice: for v := range c: print "range: V" for each value and add it to sum */
    while (chan_recv(c, &v)) { /* ends when c is closed and drained */
        printf("range: %d\n", v);
        sum += v;
    }
    /* end practice */
    bool ok = chan_recv(c, &v); /* closed and drained: at once, zero and false */
    printf("range: done, sum=%d; one more receive gives v=%d ok=%s\n", sum, v,
           ok ? "true" : "false");
    chan_free(c);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, capacity;
    const char *mode;
    flag_int_range(&n, "n", 5, 1, 1000, "values the generator sends (1..1000)");
    flag_int_range(&capacity, "capacity", 3, 1, 100, "room in the buffered channel (1..100)");
    flag_mode(&mode, "break", "send|noclose",
              "show the classic mistake: send (nobody receives) or noclose (the range never ends)");
    flag_parse(argc, argv);
    if (flag_nargs() > 0)
        flag_fail("unexpected argument: %s", flag_args()[0]);

    if (mode && strcmp(mode, "send") == 0) {
        chan *c = chan_make(sizeof(int), 0);
        int v = 1;
        printf("break: sending on an unbuffered channel that nobody receives from\n");
        chan_send(c, &v); /* blocks forever: the runtime sees it and stops us */
        chan_free(c);
        return 0;
    }
    if (mode) { /* noclose */
        printf("break: ranging over a channel whose sender never closes it\n");
        range_over(n, false); /* never returns */
        return 0;
    }

    unbuffered();
    buffered(capacity);
    range_over(n, true);
    return 0;
}
