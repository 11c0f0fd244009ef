/* 03-select: wait on several channels at once.
 *
 * The Go program this mirrors:
 *
 *     fast, slow := produce(n, time.Millisecond), produce(n, 4*time.Millisecond)
 *     for fast != nil || slow != nil {
 *         select {
 *         case v, ok := <-fast:
 *             if !ok { fast = nil; continue } // a nil channel is never ready
 *             fmt.Println("fast", v)
 *         case v, ok := <-slow:
 *             if !ok { slow = nil; continue }
 *             fmt.Println("slow", v)
 *         }
 *     }
 *
 *     select { // a timeout
 *     case v := <-reply:
 *     case <-time.After(timeout):
 *     }
 *
 *     select { // non-blocking
 *     case v := <-msgs:
 *     default:
 *     }
 *
 * Break it: --break (or --break=spin) leaves a closed channel's case switched
 * on. A receive on a closed channel is always ready, so the select keeps
 * choosing it: the loop spins, and the program counts the wasted rounds.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

static const char synopsis[] =
    "usage: 03-select [-n N] [--timeout DURATION] [--work DURATION] [--break[=spin]] [-h]";

/* A producer sends 1..n, one per tick of its own ticker, then closes. */
struct producer {
    chan *out; /* our own reference; we are its only sender, so we close it */
    int n;
    duration every;
};

static void produce(void *arg) {
    struct producer *p = arg;
    ticker *tk = ticker_new(p->every);
    for (int i = 1; i <= p->n; i++) {
        chan_recv(tk->c, NULL); /* wait for the next tick */
        chan_send(p->out, &i);
    }
    ticker_free(tk); /* stops it: a ticker never stopped fires forever */
    chan_close(p->out);
    chan_free(p->out);
    free(p);
}

static chan *start_producer(int n, duration every) {
    struct producer *p = malloc(sizeof *p);
    if (p == NULL)
        abort();
    chan *c = chan_make(sizeof(int), 0);
    *p = (struct producer){.out = chan_ref(c), .n = n, .every = every};
    go(produce, p);
    return c;
}

/* 1. Merge two producers of different speeds until both are closed. */
static void merge(int n, bool spin) {
    const char *names[2] = {"fast", "slow"};
    chan *chans[2] = {start_producer(n, MILLISECOND), start_producer(n, 4 * MILLISECOND)};
    int v, got[2] = {0, 0};
    bool closed[2] = {false, false};
    long wasted = 0; /* rounds spent on a case already known to be closed */
    select_case cases[2] = {select_recv(chans[0], &v), select_recv(chans[1], &v)};
    while (!closed[0] || !closed[1]) {
        int i = chan_select(cases, 2);
        if (cases[i].ok) {
            printf("%s %d\n", names[i], v);
            got[i]++;
        } else if (closed[i]) {
            wasted++; /* only --break gets here: the case should be off */
        } else {
            closed[i] = true;
            printf("%s closed\n", names[i]);
            if (!spin)
                cases[i].c = NULL; /* switch the case off */
        }
    }
    printf("merge: fast=%d slow=%d wasted_rounds=%ld\n", got[0], got[1], wasted);
    chan_free(chans[0]);
    chan_free(chans[1]);
}

/* 2. A timeout: a slow call races a time_after channel. */
struct call {
    chan *reply; /* buffered (cap 1): the call can always send, even after we gave up */
    duration work;
    waitgroup wg;
};

static void slow_call(void *arg) {
    struct call *c = arg;
    time_sleep(c->work);
    int answer = 42;
    chan_send(c->reply, &answer); /* never blocks, thanks to the buffer */
    wg_done(&c->wg);
}

static void call_with_timeout(duration work, duration timeout) {
    struct call c = {.reply = chan_make(sizeof(int), 1), .work = work};
    wg_init(&c.wg);
    wg_add(&c.wg, 1);
    go(slow_call, &c);
    chan *deadline = time_after(timeout);
    int answer;
    select_case cases[2] = {select_recv(c.reply, &answer), select_recv(deadline, NULL)};
    if (chan_select(cases, 2) == 0)
        printf("call: answer %d\n", answer);
    else
        printf("call: timed out\n");
    chan_free(deadline); /* safe before or after it fired */
    /* Go would leave the late call to the garbage collector; we wait for it
     * so that its channel can be freed. */
    wg_wait(&c.wg);
    chan_free(c.reply);
}

/* 3. Non-blocking receive and send: with a default, select never waits. */
static void non_blocking(void) {
    chan *msgs = chan_make(sizeof(int), 0);
    int in, out = 7;
    select_case recv_case[1] = {select_recv(msgs, &in)};
    if (chan_select_default(recv_case, 1) == SELECT_DEFAULT)
        printf("non-blocking receive: nothing ready, took the default\n");
    select_case send_case[1] = {select_send(msgs, &out)};
    if (chan_select_default(send_case, 1) == SELECT_DEFAULT)
        printf("non-blocking send: no receiver ready, took the default\n");
    chan_free(msgs);
}

/* 4. A timer can be stopped before it fires; then it never sends. */
static void stop_a_timer(void) {
    timer *t = timer_new(SECOND);
    bool stopped = timer_stop(t);
    printf("timer: stopped before firing: %s\n", stopped ? "true" : "false");
    timer_free(t);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);

    long n = 5;
    duration timeout = 10 * MILLISECOND, work = 50 * MILLISECOND;
    bool spin = false;
    static const struct option flags[] = {
        {"timeout", required_argument, NULL, 't'},
        {"work", required_argument, NULL, 'w'},
        {"break", optional_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    for (int opt; (opt = getopt_long(argc, argv, "n:h", flags, NULL)) != -1;) {
        char *end = NULL;
        bool ok = true;
        if (opt == 'n') {
            errno = 0;
            n = strtol(optarg, &end, 10);
            ok = errno == 0 && end != optarg && *end == '\0' && n >= 1 && n <= 1000;
        } else if (opt == 't') {
            ok = duration_parse(optarg, &timeout) && timeout >= 0;
        } else if (opt == 'w') {
            ok = duration_parse(optarg, &work) && work >= 0;
        } else if (opt == 'b') {
            spin = true;
            ok = optarg == NULL || strcmp(optarg, "spin") == 0;
        } else if (opt == 'h') {
            printf("%s\n\n"
                   "  -n N                values per producer, 1..1000 (default 5)\n"
                   "  --timeout DURATION  how long to wait for the slow call (default 10ms)\n"
                   "  --work DURATION     how long the slow call takes (default 50ms)\n"
                   "  --break[=spin]      leave a closed channel's case on, and count the spins\n"
                   "  -h, --help          this help\n",
                   synopsis);
            return 0;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "03-select: bad flag or value; %s\n", synopsis);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "03-select: unexpected argument; %s\n", synopsis);
        return 2;
    }

    merge((int)n, spin);
    call_with_timeout(work, timeout);
    non_blocking();
    stop_a_timer();
    return 0;
}
