/* patterns/heartbeat: a worker that says it is alive, and a monitor that
 * notices when it stops saying so.
 *
 * The worker beats on its heartbeat channel in two ways: a pulse on every
 * tick of an interval, sent only if the monitor can take it at once (nobody
 * must ever wait for a heartbeat), and a beat at the start of every unit of
 * work, which the monitor must see. The monitor keeps a timeout of twice the
 * interval, started again at every beat: when it fires, the worker has missed
 * two pulses in a row, and the monitor reports the stall and closes done.
 * From Concurrency in Go (Katherine Cox-Buday), chapter 5, "Heartbeats". The
 * Go program this mirrors is main.go, beside this file.
 *
 * Break it: --break watches without the timeout: when the worker stalls, the
 * monitor waits for its next beat or result forever, and only the end of
 * --duration stops the program, which then says that no stall was reported.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define PULSE 0 /* on the heartbeat channel: a pulse; any other value: unit N starts */

static _Atomic instant stalled_at; /* when the worker stalled; 0 while it has not */

/* What the worker is given: a reference to each of its channels, and its work. */
struct worker {
    chan *done, *heartbeat, *results;
    int n, stall_at;
    duration work, interval;
    waitgroup *wg;
};

/* A pulse goes out only if the heartbeat channel has room now: a monitor that
 * is not listening must never hold the worker up. */
static void send_pulse(chan *heartbeat) {
    int pulse = PULSE;
    /* practice: send a pulse without ever waiting: a select with a default */
    select_case cases[1] = {select_send(heartbeat, &pulse)};
    chan_select_default(cases, 1);
    /* end practice */
}

/* Waits until op proceeds (the work's timer fires, or the monitor takes a
 * result), pulsing on every tick meanwhile. False if done came first. */
static bool pulse_until(struct worker *w, ticker *pulse, select_case op) {
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

static void worker(void *arg) {
    struct worker *w = arg;
    ticker *pulse = ticker_new(w->interval);
    for (int unit = 1; unit <= w->n; unit++) {
        if (unit == w->stall_at) {
            /* Stuck, as on a lock nobody releases: no beat, no work, until done. */
            atomic_store(&stalled_at, time_now());
            printf("worker: stalls before unit %d, without a beat\n", unit);
            chan_recv(w->done, NULL);
            break;
        }
        /* practice: beat for this unit: unlike a pulse, it waits for the monitor (or for done) */
        select_case beat[2] = {select_recv(w->done, NULL), select_send(w->heartbeat, &unit)};
        if (chan_select(beat, 2) == 0)
            break;
        /* end practice */
        chan *work = time_after(w->work); /* the unit's work, which takes --work */
        bool worked = pulse_until(w, pulse, select_recv(work, NULL));
        chan_free(work);
        if (!worked || !pulse_until(w, pulse, select_send(w->results, &unit)))
            break;
    }
    ticker_free(pulse);
    chan_close(w->heartbeat), chan_close(w->results);
    chan_free(w->done), chan_free(w->heartbeat), chan_free(w->results);
    wg_done(w->wg);
    free(w);
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
    int n, stall_at;
    duration work, interval, run_for;
    const char *mistake;
    flag_int_range(&n, "n", 8, 1, 1000, "units of work");
    flag_duration(&work, "work", 150 * MILLISECOND, "the time a unit of work takes, 0..10s");
    flag_duration(&interval, "interval", 100 * MILLISECOND,
                  "the time between two pulses, 1ms..10s; the monitor's timeout is twice that");
    flag_int_range(&stall_at, "stall-at", 6, 0, 1000,
                   "the worker stalls before this unit, without a beat (0: never)");
    flag_duration(&run_for, "duration", 3 * SECOND, "the monitor gives up after this long, 0..60s");
    flag_mode(&mistake, "break", "no-timeout", "watch without a timeout: a stall goes unnoticed");
    flag_parse(argc, argv);
    check_duration("work", work, 0, 10 * SECOND);
    check_duration("interval", interval, MILLISECOND, 10 * SECOND);
    check_duration("duration", run_for, 0, 60 * SECOND);

    char b1[DURATION_STRING_SIZE], b2[DURATION_STRING_SIZE], b3[DURATION_STRING_SIZE];
    printf("heartbeat: %d units of %s, a pulse every %s and a beat per unit; ", n,
           duration_string(work, b1), duration_string(interval, b2));
    if (stall_at >= 1 && stall_at <= n)
        printf("the worker stalls before unit %d\n", stall_at);
    else
        printf("the worker never stalls\n");

    waitgroup wg = WAITGROUP_INIT;
    chan *done = chan_make(0, 0), *heartbeat = chan_make(sizeof(int), 1),
         *results = chan_make(sizeof(int), 0);
    struct worker *w = malloc(sizeof *w);
    *w = (struct worker){.done = chan_ref(done),
                         .heartbeat = chan_ref(heartbeat),
                         .results = chan_ref(results),
                         .n = n,
                         .stall_at = stall_at,
                         .work = work,
                         .interval = interval,
                         .wg = &wg};
    wg_add(&wg, 1);
    go(worker, w);

    /* The monitor: every beat starts the timeout again. A unit's result is
     * taken only after its beat (the case is off, NULL, until then), so the
     * two lines of a unit never come out of order. */
    duration timeout = 2 * interval;
    instant last_beat = time_now(); /* before the timer starts: it never fires early */
    timer *no_beat = timer_new(timeout);
    chan *timed_out = no_beat->c;
    if (mistake)
        timed_out = NULL; /* WRONG: nothing notices a worker that has gone quiet */
    chan *give_up = time_after(run_for);
    int beats = 0, pulses = 0, done_units = 0;
    bool stall_reported = false, finished = false;
    while (!finished) {
        int beat, unit;
        chan *results_if_beat = beats > done_units ? results : NULL;
        select_case cases[4] = {select_recv(heartbeat, &beat), select_recv(results_if_beat, &unit),
                                select_recv(give_up, NULL), select_recv(timed_out, NULL)};
        switch (chan_select(cases, 4)) {
        case 0:
            if (!cases[0].ok) {
                finished = true; /* the worker did every unit */
                break;
            }
            /* practice: a beat, pulse or unit: start the timeout again */
            last_beat = time_now();
            timer_reset(no_beat, timeout);
            /* end practice */
            if (beat == PULSE) {
                pulses++;
                printf("monitor: pulse\n");
            } else {
                beats++;
                printf("monitor: unit %d starts\n", beat);
            }
            break;
        case 1:
            if (!cases[1].ok) {
                finished = true;
                break;
            }
            done_units++;
            printf("monitor: unit %d done\n", unit);
            break;
        case 2:
            printf("monitor: --duration %s is over, no stall reported; the last beat came %s ago "
                   "(timeout %s)\n",
                   duration_string(run_for, b1), duration_string(time_since(last_beat), b2),
                   duration_string(timeout, b3));
            finished = true;
            break;
        case 3: {
            instant now = time_now(), stalled = atomic_load(&stalled_at);
            printf("monitor: no beat for %s: the worker is not healthy\n",
                   duration_string(now - last_beat, b1));
            if (stalled == 0)
                printf("monitor: a false alarm: the worker had not stalled\n");
            else
                printf("monitor: stall noticed after %s, bound 2 x interval = %s\n",
                       duration_string(now - stalled, b1), duration_string(timeout, b2));
            stall_reported = stalled != 0;
            finished = true;
            break;
        }
        }
    }
    chan_close(done); /* the worker returns, stalled or not */
    wg_wait(&wg);
    timer_free(no_beat);
    chan_free(give_up), chan_free(done), chan_free(heartbeat), chan_free(results);

    printf("summary: %d of %d units done; unit beats: %d, pulses: %d; %s\n", done_units, n, beats,
           pulses, stall_reported ? "stall reported" : "no stall reported");
    /* go_leaks waits up to a second for goroutines to return, as goleak does,
     * and names on stderr any still running. */
    int left = 1 + go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", left, left - 1);
    return 0;
}
