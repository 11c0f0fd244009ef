/* 02-channels: unbuffered handoff, buffered channels, closing, ranging.
 *
 * The Go program this mirrors:
 *
 *     func countTo(n int) <-chan int { // the generator makes, owns and closes out
 *         out := make(chan int)
 *         go func() {
 *             defer close(out) // only the sender closes
 *             for i := 1; i <= n; i++ {
 *                 out <- i
 *             }
 *         }()
 *         return out
 *     }
 *
 *     func main() {
 *         ping := make(chan int) // unbuffered: the sender waits for the receiver
 *         go func() { ping <- 42 }()
 *         time.Sleep(20 * time.Millisecond)
 *         fmt.Println(<-ping)
 *
 *         buf := make(chan int, 3) // buffered: sends run ahead of the receiver
 *         buf <- 1; buf <- 2; buf <- 3
 *         fmt.Println(len(buf), cap(buf), <-buf, <-buf, <-buf)
 *
 *         c := countTo(5)
 *         for v := range c { // ends when c is closed and drained
 *             fmt.Println(v)
 *         }
 *         v, ok := <-c // 0 false: closed
 *     }
 *
 * Break it:
 *   --break=send     send on an unbuffered channel that nobody receives from
 *   --break=noclose  the generator forgets to close, so the range never ends
 * Both end in Go's "fatal error: all goroutines are asleep - deadlock!".
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"

#define NAP (20 * MILLISECOND)

static const char synopsis[] = "usage: 02-channels [-n N] [-c CAP] [--break[=send|noclose]] [-h]";

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
    wg_done(&h->done); /* wg_wait in main makes send_at visible to it */
}

static void unbuffered(void) {
    struct handoff h = {.ping = chan_make(sizeof(int), 0), .start = time_now()};
    wg_init(&h.done);
    wg_add(&h.done, 1);
    go(sender, &h);
    time_sleep(NAP); /* the sender is stuck in chan_send all this time */
    int msg;
    chan_recv(h.ping, &msg);
    wg_wait(&h.done);
    printf("unbuffered: received %d after a %lld ms nap; the send returned at +%lld ms\n", msg,
           (long long)(NAP / MILLISECOND), (long long)(h.send_at / MILLISECOND));
    chan_free(h.ping);
}

/* 2. Buffered: up to cap sends complete with no receiver at all. */
static void buffered(size_t cap) {
    chan *buf = chan_make(sizeof(int), cap);
    for (int i = 1; i <= (int)cap; i++) {
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
    chan *out;
    int n;
    bool close_it; /* false only in --break=noclose */
};

static void count_loop(void *arg) {
    struct generator *g = arg;
    for (int i = 1; i <= g->n; i++)
        chan_send(g->out, &i);
    if (g->close_it)
        chan_close(g->out); /* "no more values": wakes the range in main */
    chan_free(g->out);      /* our own reference, taken in count_to */
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
    int v, sum = 0;
    while (chan_recv(c, &v)) { /* for v := range c */
        printf("range: %d\n", v);
        sum += v;
    }
    bool ok = chan_recv(c, &v); /* closed and drained: at once, zero and false */
    printf("range: done, sum=%d; one more receive gives v=%d ok=%s\n", sum, v,
           ok ? "true" : "false");
    chan_free(c);
}

static long parse_flag(const char *s, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return (errno != 0 || end == s || *end != '\0' || v < 1 || v > max) ? -1 : v;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);

    long n = 5, cap = 3;
    const char *mode = NULL;
    static const struct option flags[] = {
        {"break", optional_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "n:c:h", flags, NULL)) != -1) {
        if (opt == 'n' && (n = parse_flag(optarg, 1000)) > 0)
            continue;
        if (opt == 'c' && (cap = parse_flag(optarg, 100)) > 0)
            continue;
        if (opt == 'b') {
            mode = optarg ? optarg : "send";
            if (strcmp(mode, "send") == 0 || strcmp(mode, "noclose") == 0)
                continue;
        }
        if (opt == 'h') {
            printf("%s\n\n"
                   "  -n N             values the generator sends, 1..1000 (default 5)\n"
                   "  -c CAP           capacity of the buffered channel, 1..100 (default 3)\n"
                   "  --break=send     send with no receiver (also what --break alone does)\n"
                   "  --break=noclose  the generator never closes its channel\n"
                   "  -h, --help       this help\n",
                   synopsis);
            return 0;
        }
        fprintf(stderr, "02-channels: bad flag or value (-n 1..1000, -c 1..100); %s\n", synopsis);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "02-channels: unexpected argument '%s'; %s\n", argv[optind], synopsis);
        return 2;
    }

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
        range_over((int)n, false); /* never returns */
        return 0;
    }

    unbuffered();
    buffered((size_t)cap);
    range_over((int)n, true);
    return 0;
}
