/* 01-goroutines: start goroutines, give each its own argument, wait for them.
 *
 * A goroutine here is go(fn, arg): fn(arg) on a thread of its own. Nothing
 * waits for it, so main waits with a WaitGroup: wg_add before each go(),
 * wg_done at the goroutine's end, wg_wait until the count is zero. The Go
 * program this mirrors is main.go, beside this file; Go by Example's
 * "Goroutines" and "WaitGroups" pages are where it comes from.
 *
 * Break it:
 *   --break=share   every goroutine reads main's loop variable, which main keeps
 *                   changing: a data race (ThreadSanitizer names it)
 *   --break=nowait  main returns without waiting, and the goroutines die with it
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/flag.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_GOROUTINES 1000

/* Each goroutine's argument lives in its own slot of a static array, so it
 * outlives every goroutine, even the ones main abandons in --break=nowait. */
static int ids[MAX_GOROUTINES];
static waitgroup wg = WAITGROUP_INIT;
static duration work; /* set before the first go(), then only read */

/* How many goroutines got to the end. Atomic, because main reads it while
 * goroutines may still be adding to it. */
static atomic_int finished;

static void worker(void *arg) {
    time_sleep(work);
    /* We read our argument only now, after the work, as a closure in Go reads
     * a captured variable when it runs, not when it was started. */
    int id = *(int *)arg;
    printf("goroutine %d: done\n", id);
    atomic_fetch_add(&finished, 1);
    wg_done(&wg);
}

int main(int argc, char **argv) {
    /* Unbuffered, as Go's os.Stdout: each printf is one write, so a line is
     * never half in a buffer when main returns and exit() flushes it. */
    setvbuf(stdout, NULL, _IONBF, 0);
    int n;
    const char *mistake;
    flag_int_range(&n, "n", 5, 1, MAX_GOROUTINES, "goroutines to start");
    flag_duration(&work, "work", MILLISECOND, "the time each goroutine works");
    flag_mode(&mistake, "break", "share|nowait",
              "show a classic mistake: share the loop variable, or return without waiting "
              "(nowait)");
    flag_parse(argc, argv);
    bool share = mistake && strcmp(mistake, "share") == 0;

    /* One variable for the whole loop, as in Go before 1.22. Passing &i is
     * the bug --break=share shows: every goroutine then reads the same int,
     * which main keeps changing, and most of them see its last value. */
    int i;
    for (i = 1; i <= n; i++) {
        ids[i - 1] = i;
        /* practice: start goroutine i: count it in the WaitGroup first, then go(worker, ...) with a slot of its own */
        wg_add(&wg, 1); /* before go(): the goroutine may finish at once */
        if (share)
            go(worker, &i); /* WRONG: shared with main and every other goroutine */
        else
            go(worker, &ids[i - 1]); /* right: a slot of its own */
        /* end practice */
    }

    if (mistake && strcmp(mistake, "nowait") == 0) {
        /* Returning from main ends the process, and every goroutine still
         * sleeping goes with it: their lines are never printed. */
        printf("main: returning without waiting: %d of %d goroutines had finished\n",
               atomic_load(&finished), n);
        return 0;
    }
    /* practice: wait until every goroutine has called wg_done */
    wg_wait(&wg);
    /* end practice */
    printf("main: all %d goroutines done\n", n);
    return 0;
}
