/* patterns/leaks: three classic goroutine leaks, found by a leak check, then
 * fixed.
 *
 * A goroutine that can never return is a leak: it holds its stack, its
 * channels and whatever they point to until the process ends, and nothing
 * reports it, because the program is not deadlocked: main goes on. The three
 * most common: a send nobody will receive, a range over a channel nobody will
 * close, a ticker nobody stops. go_leaks (common/go.h, in the spirit of
 * uber-go/goleak) finds them: it waits a moment for goroutines to return,
 * then names each one still alive. From "Detecting & preventing goroutine
 * leaks" of the roadmap this project grew from, and Concurrency in Go
 * (Katherine Cox-Buday), chapter 4, "Preventing Goroutine Leaks". The Go
 * program this mirrors is main.go, beside this file.
 *
 * Break it: --break=send, --break=range or --break=ticker runs that one leak
 * unfixed, and the check finds it.
 */
#include <stdio.h>
#include <string.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define REPLICAS 3

static bool leaky(const char *mistake, const char *which) {
    return mistake && strcmp(mistake, which) == 0;
}

/* 1. A send nobody receives: ask three replicas, keep the first answer. */
struct ask {
    chan *answers;
    int id;
};

static void answer(void *arg) {
    struct ask *a = arg;
    time_sleep((duration)a->id * MILLISECOND);
    chan_send(a->answers, &a->id); /* the losers wait here, if nobody makes room */
    chan_free(a->answers);
}

static void first_answer(bool leak) {
    static struct ask asks[REPLICAS];
    chan *answers = NULL;
    /* practice: make the answers channel so that the replicas that lose never block on their send */
    answers = chan_make(sizeof(int), leak ? 0 : REPLICAS); /* the fix: room for all */
    /* end practice */
    for (int i = 0; i < REPLICAS; i++) {
        asks[i] = (struct ask){chan_ref(answers), i + 1};
        go(answer, &asks[i]);
    }
    int first;
    chan_recv(answers, &first);
    printf("blocked send: the first of %d answers came from replica %d\n", REPLICAS, first);
    chan_free(answers);
}

/* 2. A range over a channel nobody closes. */
struct jobs {
    chan *c;
    int done;
    waitgroup *wg;
};

static void worker(void *arg) {
    struct jobs *j = arg;
    int job;
    while (chan_recv(j->c, &job)) { /* ends only when the channel is closed */
        j->done++;
        wg_done(j->wg);
    }
    chan_free(j->c);
}

static void range_without_close(bool leak) {
    static struct jobs j;
    waitgroup wg = WAITGROUP_INIT; /* counts jobs done: the worker lives on */
    chan *jobs = chan_make(sizeof(int), 0);
    j = (struct jobs){chan_ref(jobs), 0, &wg}; /* the worker's own reference */
    wg_add(&wg, 5);
    go(worker, &j);
    for (int job = 1; job <= 5; job++)
        chan_send(jobs, &job);
    wg_wait(&wg); /* every job done: the worker waits for the next one */
    printf("range without close: %d jobs done\n", j.done);
    /* practice: tell the worker there will be no more jobs, so that its range ends */
    if (!leak)
        chan_close(jobs); /* the fix: the sender closes */
    /* end practice */
    chan_free(jobs);
}

/* 3. A ticker nobody stops, and the goroutine that serves it. */
struct beat {
    ticker *tk;
    chan *done; /* NULL in the leak: nothing tells it to stop */
    int ticks;
    chan *three;  /* closed after the third tick */
    waitgroup wg; /* done when the goroutine returns */
};

static void tick_forever(void *arg) {
    struct beat *b = arg;
    for (;;) {
        select_case cases[2] = {select_recv(b->tk->c, NULL), select_recv(b->done, NULL)};
        if (chan_select(cases, 2) == 1)
            break; /* the fix: done says stop */
        if (++b->ticks == 3)
            chan_close(b->three);
    }
    wg_done(&b->wg);
}

static void forgotten_ticker(bool leak) {
    static struct beat b;
    b = (struct beat){ticker_new(10 * MILLISECOND), leak ? NULL : chan_make(0, 0), 0,
                      chan_make(0, 0), WAITGROUP_INIT};
    wg_add(&b.wg, 1);
    go(tick_forever, &b);
    chan_recv(b.three, NULL);
    printf("forgotten ticker: 3 ticks served\n");
    /* practice: stop the goroutine that serves the ticker, wait for it, then free the ticker */
    if (!leak) {
        chan_close(b.done); /* the fix: stop the goroutine, then the ticker */
        wg_wait(&b.wg);     /* it has returned: nobody uses the ticker now */
        ticker_free(b.tk);
        chan_free(b.done);
        chan_free(b.three);
    }
    /* end practice */
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mistake;
    flag_mode(&mistake, "break", "send|range|ticker",
              "leave one leak unfixed: send, range or ticker");
    flag_parse(argc, argv);

    first_answer(leaky(mistake, "send"));
    range_without_close(leaky(mistake, "range"));
    forgotten_ticker(leaky(mistake, "ticker"));

    /* The leak check: a second for every goroutine to return, then each one
     * still alive is named on stderr. */
    int leaked = go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", 1 + leaked, leaked);
    return 0;
}
