/* patterns/errgroup: N fetches in a group: the first error cancels the rest.
 *
 * An errgroup (common/errgroup.h, golang.org/x/sync/errgroup in Go) is a
 * WaitGroup that also keeps the first error and, made with a context,
 * cancels that context when the error comes, so every fetch still working
 * gives up. errgroup_set_limit bounds how many run at once (errgroup_go
 * waits for a slot; errgroup_try_go refuses instead). Each fetch here is
 * simulated: it works for --work, or fails after a tenth of it (--fail),
 * unless the group's context ends first. The program counts what ran at
 * once, and the work done after the first error, which a group exists to
 * spare. The Go program this mirrors is main.go.
 *
 * Break it:
 *   --break=waitgroup   plain goroutines and a WaitGroup: the error is kept,
 *                       but nothing tells the others, and they all work on
 *                       to the end (the wasted work is counted)
 */
#include <stdatomic.h>
#include <stdio.h>

#include "common/context.h"
#include "common/errgroup.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_FETCHES 100

enum status { NOT_STARTED, DONE, FAILED, CANCELLED };

typedef struct fetch {
    int id;
    context *ctx;            /* the group's: cancelled by the first error */
    duration started, ended; /* since main began */
    enum status status;
} fetch;

static int n, limit, fail;
static duration work;
static instant start;
static fetch fetches[MAX_FETCHES];
static atomic_int active, peak;         /* fetches running now, and at most */
static _Atomic duration first_error_at; /* when the failing fetch failed; -1: not yet */
static char failure[64];                /* its error: it must outlive the group */

static duration since_start(void) {
    return time_since(start);
}

static char *ms(duration d, char *buf) { /* a duration, to the millisecond */
    return duration_string((d + MILLISECOND / 2) / MILLISECOND * MILLISECOND, buf);
}

/* One simulated fetch. Returns NULL, its failure, or why it gave up. */
static const char *fetch_one(void *arg) {
    fetch *f = arg;
    int now = atomic_fetch_add(&active, 1) + 1, most = atomic_load(&peak);
    while (now > most && !atomic_compare_exchange_weak(&peak, &most, now))
        ;
    f->started = since_start();
    timer *finished = timer_new(f->id == fail ? work / 10 : work);
    int chosen = 0;
    /* practice: wait for the work to finish, or for the group's context to end, whichever comes first */
    select_case cases[] = {select_recv(finished->c, NULL), select_recv(ctx_done(f->ctx), NULL)};
    chosen = chan_select(cases, 2);
    /* end practice */
    timer_free(finished); /* stopped, if the context ended first */
    f->ended = since_start();
    atomic_fetch_sub(&active, 1);

    char took[DURATION_STRING_SIZE];
    if (chosen == 1) {
        f->status = CANCELLED;
        printf("fetch %d: cancelled after %s: %s\n", f->id, ms(f->ended - f->started, took),
               ctx_err(f->ctx));
        return ctx_err(f->ctx);
    }
    if (f->id == fail) {
        f->status = FAILED;
        atomic_store(&first_error_at, f->ended);
        printf("fetch %d: failed after %s: 503 Service Unavailable\n", f->id,
               ms(f->ended - f->started, took));
        return failure;
    }
    f->status = DONE;
    printf("fetch %d: done in %s\n", f->id, ms(f->ended - f->started, took));
    return NULL;
}

/* --break=waitgroup: the fetches in plain goroutines. */
static waitgroup wg = WAITGROUP_INIT;
static pthread_mutex_t first_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *first_err; /* guarded by first_mu */

static void fetch_in_goroutine(void *arg) {
    const char *err = fetch_one(arg);
    pthread_mutex_lock(&first_mu);
    if (err && !first_err)
        first_err = err; /* kept, but nobody is told */
    pthread_mutex_unlock(&first_mu);
    wg_done(&wg);
}

/* Holds a slot of the TryGo group until main closes hold. */
static const char *hold_slot(void *hold) {
    chan_recv(hold, NULL);
    return NULL;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0); /* unbuffered, as Go's os.Stdout */
    const char *mistake;
    flag_int_range(&n, "n", 10, 1, MAX_FETCHES, "fetches to run");
    flag_int_range(&limit, "limit", 3, 1, MAX_FETCHES, "how many fetches run at once (SetLimit)");
    flag_int_range(&fail, "fail", 4, 0, MAX_FETCHES,
                   "the fetch that fails, after a tenth of its work (0: none)");
    flag_duration(&work, "work", 200 * MILLISECOND, "the time a fetch takes");
    flag_mode(&mistake, "break", "waitgroup",
              "run the fetches in plain goroutines with a WaitGroup: an error stops nobody");
    flag_parse(argc, argv);
    if (fail > n)
        flag_fail("invalid value \"%d\" for flag -fail: past the last fetch (-n %d)", fail, n);
    bool plain = mistake != NULL;
    snprintf(failure, sizeof failure, "fetch %d: 503 Service Unavailable", fail);
    atomic_store(&first_error_at, -1);
    start = time_now();

    const char *err = NULL;
    if (!plain) {
        context *ctx; /* the group's: cancelled by the first error, or by wait */
        errgroup *g = errgroup_with_context(ctx_background(), &ctx);
        /* practice: limit the group, start every fetch in it (errgroup_go waits for a free slot), then wait for the first error */
        errgroup_set_limit(g, limit);
        for (int i = 0; i < n; i++) {
            fetches[i] = (fetch){.id = i + 1, .ctx = ctx};
            errgroup_go(g, fetch_one, &fetches[i]); /* waits for a free slot */
        }
        err = errgroup_wait(g);
        /* end practice */
        errgroup_free(g);
    } else {
        for (int i = 0; i < n; i++) { /* WRONG: no context to cancel, and no limit */
            fetches[i] = (fetch){.id = i + 1, .ctx = ctx_background()};
            wg_add(&wg, 1);
            go(fetch_in_goroutine, &fetches[i]);
        }
        wg_wait(&wg);
        err = first_err;
    }

    /* What ran, and what ran on after the first error: a fetch whose work
     * was still due after it and that finished it anyway. */
    int count[4] = {0}, ran_on = 0;
    duration wasted = 0, failed_at = atomic_load(&first_error_at);
    for (int i = 0; i < n; i++) {
        fetch *f = &fetches[i];
        count[f->status]++;
        if (failed_at >= 0 && f->status == DONE && f->started + work > failed_at) {
            ran_on++;
            wasted += f->ended - failed_at;
        }
    }
    char buf[DURATION_STRING_SIZE];
    if (err)
        printf("main: the first error: %s\n", err);
    else
        printf("main: no error\n");
    printf("main: %d done, %d failed, %d cancelled; at most %d at once ", count[DONE],
           count[FAILED], count[CANCELLED], atomic_load(&peak));
    if (count[NOT_STARTED])
        printf("(%d never started) ", count[NOT_STARTED]);
    if (plain)
        printf("(no limit)\n");
    else
        printf("(limit %d)\n", limit);
    printf("main: after the first error, %d fetches ran on to the end: %s of work wasted\n", ran_on,
           ms(wasted, buf));

    if (!plain) {
        /* TryGo never waits for a slot: it starts the function, or says no.
         * These hold their slots until main has tried them all, so that the
         * count does not depend on the machine's speed. */
        errgroup *t = errgroup_new();
        errgroup_set_limit(t, limit);
        chan *hold = chan_make(1, 0);
        int started = 0;
        for (int i = 0; i < n; i++)
            started += errgroup_try_go(t, hold_slot, hold);
        chan_close(hold);
        errgroup_wait(t);
        errgroup_free(t);
        chan_free(hold);
        printf("main: TryGo %d times with a limit of %d: %d started, %d refused\n", n, limit,
               started, n - started);
    }

    /* Every goroutine has said it is done; each returns right after. */
    printf("main: goroutines left: %d (main)\n", 1 + go_leaks(SECOND));
    return 0;
}
