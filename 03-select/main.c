/* 03-select: wait on several channels at once.
 *
 * select waits on several channel operations and goes on with the first that
 * can proceed (one at random when several can). Four uses, a function each:
 * merging two producers and switching a closed one's case off (merge), a
 * timeout on a slow call (call_with_timeout), a receive and a send that never
 * wait (non_blocking), and a timer stopped before it fires (stop_a_timer). The
 * path is Go by Example's, from "Select" to "Tickers". main.go, beside this
 * file, is the Go program this one mirrors: same flags, same output.
 *
 * Break it: --break (or --break=spin) leaves a closed channel's case switched
 * on. A receive on a closed channel is always ready, so the select keeps
 * choosing it: the loop spins until the other producer is done, and the
 * program counts the wasted rounds.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

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
    chan *chans[2] = {start_producer(n, MILLISECOND), start_producer(n, 10 * MILLISECOND)};
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
            /* practice: unless spin, switch case i off: a case on a NULL channel is never ready */
            if (!spin)
                cases[i].c = NULL; /* Go: in[i] = nil */
            /* end practice */
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
    int answer = 0;
    /* practice: select on c.reply and deadline: print "call: answer N" or "call: timed out" */
    select_case cases[2] = {select_recv(c.reply, &answer), select_recv(deadline, NULL)};
    if (chan_select(cases, 2) == 0)
        printf("call: answer %d\n", answer);
    else
        printf("call: timed out\n");
    /* end practice */
    chan_free(deadline); /* safe before or after it fired */
    /* Go would leave the late call to the garbage collector; we wait for it
     * so that its channel can be freed. */
    wg_wait(&c.wg);
    chan_free(c.reply);
}

/* 3. Non-blocking receive and send: with a default, select never waits. */
static void non_blocking(void) {
    chan *msgs = chan_make(sizeof(int), 0); /* unbuffered, and nobody on the other end */
    int in = 0, out = 7;
    /* practice: a receive and a send on msgs that take the default when not ready */
    select_case recv_case[1] = {select_recv(msgs, &in)};
    if (chan_select_default(recv_case, 1) == SELECT_DEFAULT)
        printf("non-blocking receive: nothing ready, took the default\n");
    else
        printf("non-blocking receive: got %d\n", in);
    select_case send_case[1] = {select_send(msgs, &out)};
    if (chan_select_default(send_case, 1) == SELECT_DEFAULT)
        printf("non-blocking send: no receiver ready, took the default\n");
    else
        printf("non-blocking send: sent %d\n", out);
    /* end practice */
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
    int n;
    duration timeout, work;
    const char *mode;
    flag_int_range(&n, "n", 5, 1, 1000, "values per producer (1..1000)");
    flag_duration(&timeout, "timeout", 10 * MILLISECOND, "how long to wait for the slow call");
    flag_duration(&work, "work", 50 * MILLISECOND, "how long the slow call takes");
    flag_mode(&mode, "break", "spin", "show the classic mistake: spin (a closed case left on)");
    flag_parse(argc, argv);
    char d[DURATION_STRING_SIZE];
    if (timeout < 0)
        flag_fail("invalid value \"%s\" for flag -timeout: must not be negative",
                  duration_string(timeout, d));
    if (work < 0)
        flag_fail("invalid value \"%s\" for flag -work: must not be negative",
                  duration_string(work, d));
    if (flag_nargs() > 0)
        flag_fail("unexpected argument: %s", flag_args()[0]);

    merge(n, mode != NULL);
    call_with_timeout(work, timeout);
    non_blocking();
    stop_a_timer();
    return 0;
}
