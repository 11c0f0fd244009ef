/* patterns/self-healing: a steward restarts its ward when the ward stops
 * beating, and the work goes on where it stopped.
 *
 * The ward is a goroutine that does the items of a piece of work one by one,
 * pulsing on its heartbeat every half --timeout (the lesson patterns/heartbeat).
 * The steward starts it and watches that heartbeat: after --timeout without a
 * beat, it closes the ward's done, waits until the ward has returned, and
 * starts a new one. The work outlives every ward: the next item is kept
 * outside them, and a ward counts an item done only once main has it, so the
 * new ward starts on the item the old one was stuck on, and every item is
 * done exactly once. From Concurrency in Go (Katherine Cox-Buday), chapter 5,
 * "Healing Unhealthy Goroutines". The Go program this mirrors is main.go,
 * beside this file.
 *
 * Break it: --break is a steward that does not watch the heartbeat: the first
 * ward that stalls is never restarted, and the work stops there, until
 * --duration ends the run with items missing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_ITEMS 10000

struct result {
    int item, ward; /* item done, and by which ward */
};

/* The work, which outlives every ward. next is read and written by the
 * running ward only: the steward starts a new ward once the old one has
 * returned, never before, so that two wards never do the same item. */
struct work {
    int n, next; /* items 1..n; next: the first one not yet done */
    int stall_every;
    duration item_time;
    chan *results; /* struct result, to main; the steward closes it */
};

/* One ward: its number, the work, and a reference to each of its channels. */
struct ward {
    int id;
    struct work *work;
    chan *done, *heartbeat;
    duration interval;
};

/* A pulse goes out only if the heartbeat has room now (patterns/heartbeat). */
static void send_pulse(chan *heartbeat) {
    char pulse = 0; /* a chan struct{}: what is sent does not matter */
    select_case cases[1] = {select_send(heartbeat, &pulse)};
    chan_select_default(cases, 1);
}

/* Waits until op proceeds, pulsing on every tick meanwhile; false if the
 * ward's done came first. */
static bool pulse_until(struct ward *w, ticker *pulse, select_case op) {
    for (;;) {
        select_case cases[3] = {select_recv(w->done, NULL), select_recv(pulse->c, NULL), op};
        switch (chan_select(cases, 3)) {
        case 0:
            return false;
        case 1:
            send_pulse(w->heartbeat);
            break;
        default:
            return true;
        }
    }
}

static void ward(void *arg) {
    struct ward *w = arg;
    struct work *work = w->work;
    ticker *pulse = ticker_new(w->interval);
    for (int did = 0; work->next <= work->n; did++) {
        struct result r = {work->next, w->id};
        if (work->stall_every > 0 && did == work->stall_every) {
            /* Stuck on an item, as on a call that never returns: no beat
             * and no work, until the steward closes done. */
            printf("ward %d: stalls on item %d (it did %d)\n", w->id, r.item, did);
            chan_recv(w->done, NULL);
            break;
        }
        chan *item = time_after(work->item_time); /* the item's work */
        bool worked = pulse_until(w, pulse, select_recv(item, NULL));
        chan_free(item);
        if (!worked || !pulse_until(w, pulse, select_send(work->results, &r)))
            break; /* stopped before main had it: the next ward does this item */
        /* practice: main has the item: count it done, so that the next ward goes on from the next one */
        work->next++;
        /* end practice */
    }
    ticker_free(pulse);
    chan_close(w->heartbeat); /* tells the steward we have returned */
    chan_free(w->heartbeat), chan_free(w->done);
    free(w);
}

struct steward {
    struct work *work;
    chan *done; /* main's: closed to stop everything */
    duration timeout;
    bool watch;    /* false: --break */
    int wards;     /* started so far; main reads it once the steward is done */
    waitgroup *wg; /* main waits for the steward here */
};

/* Starts the next ward on the work; *done and *heartbeat are the steward's. */
static void start_ward(struct steward *s, chan **done, chan **heartbeat) {
    struct ward *w = malloc(sizeof *w);
    *done = chan_make(0, 0);
    *heartbeat = chan_make(0, 1);
    *w = (struct ward){++s->wards, s->work, chan_ref(*done), chan_ref(*heartbeat), s->timeout / 2};
    printf("steward: ward %d starts at item %d\n", w->id, s->work->next);
    go(ward, w);
}

/* Closes the ward's done and waits until it has returned: it closes its
 * heartbeat last, so its last word on the work happens before ours. */
static void stop_ward(chan *done, chan *heartbeat) {
    chan_close(done);
    while (chan_recv(heartbeat, NULL)) /* a pulse may be left in it */
        ;
    chan_free(done), chan_free(heartbeat);
}

static void steward(void *arg) {
    struct steward *s = arg;
    chan *ward_done, *ward_heartbeat;
    instant last_beat = time_now();
    timer *no_beat = timer_new(s->timeout);
    chan *timed_out = no_beat->c;
    if (!s->watch)
        timed_out = NULL; /* WRONG: a ward that stops beating stays stopped */
    start_ward(s, &ward_done, &ward_heartbeat);
    for (;;) {
        select_case cases[3] = {select_recv(s->done, NULL), select_recv(ward_heartbeat, NULL),
                                select_recv(timed_out, NULL)};
        int i = chan_select(cases, 3);
        if (i == 0) {
            stop_ward(ward_done, ward_heartbeat);
            break;
        }
        if (i == 1 && !cases[1].ok) {
            printf("steward: ward %d finished the work\n", s->wards);
            chan_free(ward_done), chan_free(ward_heartbeat);
            break;
        }
        if (i == 2) {
            char quiet[DURATION_STRING_SIZE];
            printf("steward: no beat from ward %d for %s: restarting it\n", s->wards,
                   duration_string(time_since(last_beat), quiet));
            /* practice: stop the silent ward, wait until it has returned, then start a new one */
            stop_ward(ward_done, ward_heartbeat);
            start_ward(s, &ward_done, &ward_heartbeat);
            /* end practice */
        }
        last_beat = time_now(); /* a beat, or a new ward: the timeout starts again */
        timer_reset(no_beat, s->timeout);
    }
    timer_free(no_beat);
    chan_close(s->work->results); /* no ward will ever send again */
    wg_done(s->wg);
}

/* Go's flag package has no range for a duration: checked after parsing. */
static void check_duration(const char *name, duration d, duration min, duration max) {
    char v[DURATION_STRING_SIZE], lo[DURATION_STRING_SIZE], hi[DURATION_STRING_SIZE];
    if (d < min || d > max)
        flag_fail("invalid value \"%s\" for flag -%s: must be %s..%s", duration_string(d, v), name,
                  duration_string(min, lo), duration_string(max, hi));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct work work = {.next = 1};
    duration timeout, run_for;
    const char *mistake;
    flag_int_range(&work.n, "n", 20, 1, MAX_ITEMS, "items of work");
    flag_duration(&work.item_time, "work", 20 * MILLISECOND, "the time an item takes, 0..10s");
    flag_duration(&timeout, "timeout", 200 * MILLISECOND,
                  "the steward restarts a ward after this long without a beat, 2ms..10s");
    flag_int_range(&work.stall_every, "stall-every", 7, 0, MAX_ITEMS,
                   "each ward stalls after this many items (0: never)");
    flag_duration(&run_for, "duration", 3 * SECOND,
                  "main stops everything after this long, 0..60s");
    flag_mode(&mistake, "break", "no-watch",
              "a steward that does not watch the heartbeat: a stalled ward stays stalled");
    flag_parse(argc, argv);
    check_duration("work", work.item_time, 0, 10 * SECOND);
    check_duration("timeout", timeout, 2 * MILLISECOND, 10 * SECOND);
    check_duration("duration", run_for, 0, 60 * SECOND);

    char b1[DURATION_STRING_SIZE], b2[DURATION_STRING_SIZE];
    printf("self-healing: %d items of %s; a ward silent for %s is restarted; ", work.n,
           duration_string(work.item_time, b1), duration_string(timeout, b2));
    if (work.stall_every > 0)
        printf("each ward stalls once it has done %d\n", work.stall_every);
    else
        printf("no ward stalls\n");

    waitgroup wg = WAITGROUP_INIT;
    chan *done = chan_make(0, 0);
    work.results = chan_make(sizeof(struct result), 0);
    struct steward s = {&work, done, timeout, mistake == NULL, 0, &wg};
    wg_add(&wg, 1);
    go(steward, &s);

    /* main takes the results, whichever ward sends them, until the steward
     * closes the channel; at --duration it closes done, and goes on taking
     * results until then. */
    static int times_done[MAX_ITEMS + 1];
    int last = 0;
    bool in_order = true;
    chan *give_up = time_after(run_for);
    for (;;) {
        struct result r;
        select_case cases[2] = {select_recv(work.results, &r), select_recv(give_up, NULL)};
        if (chan_select(cases, 2) == 1) {
            printf("main: --duration %s is over: closing done\n", duration_string(run_for, b1));
            chan_close(done);
            chan_free(give_up);
            give_up = NULL; /* the case is off from now on */
            continue;
        }
        if (!cases[0].ok)
            break;
        printf("item %d done by ward %d\n", r.item, r.ward);
        times_done[r.item]++;
        in_order = in_order && r.item == last + 1;
        last = r.item;
    }
    wg_wait(&wg);
    chan_free(give_up), chan_free(done), chan_free(work.results);

    int distinct = 0, twice = 0;
    for (int i = 1; i <= work.n; i++)
        distinct += times_done[i] > 0, twice += times_done[i] > 1;
    printf("summary: %d of %d items done, %d missing, ", distinct, work.n, work.n - distinct);
    if (twice == 0 && in_order)
        printf("each exactly once, in order");
    else
        printf("%d done more than once%s", twice, in_order ? "" : ", OUT OF ORDER");
    printf("; wards started: %d, restarts: %d\n", s.wards, s.wards - 1);
    /* go_leaks waits up to a second for goroutines to return, as goleak does,
     * and names on stderr any still running. */
    int left = 1 + go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", left, left - 1);
    return 0;
}
