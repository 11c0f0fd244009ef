/* 01-goroutines: start goroutines, give each its own argument, wait for them.
 *
 * The Go program this mirrors:
 *
 *     func worker(id int, work time.Duration, wg *sync.WaitGroup) {
 *         defer wg.Done()
 *         time.Sleep(work) // a little simulated work
 *         fmt.Printf("goroutine %d: done\n", id)
 *     }
 *
 *     func main() {
 *         var wg sync.WaitGroup
 *         for i := 1; i <= n; i++ {
 *             wg.Add(1)
 *             go worker(i, work, &wg) // i is copied: each goroutine gets its own
 *         }
 *         wg.Wait() // without it, main returns and every goroutine dies with it
 *         fmt.Printf("main: all %d goroutines done\n", n)
 *     }
 *
 * Break it:
 *   --break=share   every goroutine reads main's loop variable, which main keeps
 *                   changing: a data race (ThreadSanitizer names it)
 *   --break=nowait  main returns without waiting, and the goroutines die with it
 */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_GOROUTINES 1000

static const char synopsis[] =
    "usage: 01-goroutines [-n N] [-d DURATION] [--break[=share|nowait]] [-h]";

/* Each goroutine's argument lives in its own slot of a static array, so it
 * outlives every goroutine, even the ones main abandons in --break=nowait. */
static int ids[MAX_GOROUTINES];
static waitgroup wg = WAITGROUP_INIT;
static duration work = MILLISECOND; /* set before the first go(), then only read */

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

static int usage_error(const char *what) {
    fprintf(stderr, "01-goroutines: %s; %s\n", what, synopsis);
    return 2;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);

    long n = 5;
    const char *mode = NULL; /* NULL: do it right */
    static const struct option flags[] = {
        {"break", optional_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0; /* we print our own one-line error */
    for (int opt; (opt = getopt_long(argc, argv, "n:d:h", flags, NULL)) != -1;) {
        char *end;
        switch (opt) {
        case 'n':
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || n < 1 || n > MAX_GOROUTINES)
                return usage_error("-n wants a whole number from 1 to 1000");
            break;
        case 'd':
            if (!duration_parse(optarg, &work) || work < 0)
                return usage_error("-d wants a duration such as 1ms or 50us");
            break;
        case 'b':
            mode = optarg ? optarg : "share";
            if (strcmp(mode, "share") != 0 && strcmp(mode, "nowait") != 0)
                return usage_error("--break takes share or nowait");
            break;
        case 'h':
            printf("%s\n\n"
                   "Starts N goroutines that each sleep DURATION, then waits for them.\n"
                   "  -n N            goroutines to start, 1..1000 (default 5)\n"
                   "  -d DURATION     simulated work per goroutine (default 1ms)\n"
                   "  --break=share   pass every goroutine the address of one shared loop\n"
                   "                  variable (a data race; also what --break alone does)\n"
                   "  --break=nowait  return from main without waiting\n"
                   "  -h, --help      this help\n",
                   synopsis);
            return 0;
        default:
            return usage_error("unknown flag or missing value");
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument");
    bool share = mode && strcmp(mode, "share") == 0;
    bool nowait = mode && strcmp(mode, "nowait") == 0;

    /* One variable for the whole loop, as in Go before 1.22. Passing &i is
     * the bug --break=share shows: every goroutine then reads the same int,
     * which main keeps changing, and most of them see its last value. */
    int i;
    for (i = 1; i <= n; i++) {
        ids[i - 1] = i;
        wg_add(&wg, 1); /* before go(): the goroutine may finish at once */
        if (share)
            go(worker, &i); /* WRONG: shared with main and every other goroutine */
        else
            go(worker, &ids[i - 1]); /* right: a slot of its own */
    }

    if (nowait) {
        /* Returning from main ends the process, and every goroutine still
         * sleeping goes with it: their lines are never printed. */
        printf("main: returning without waiting: %d of %ld goroutines had finished\n",
               atomic_load(&finished), n);
        return 0;
    }
    wg_wait(&wg);
    printf("main: all %ld goroutines done\n", n);
    return 0;
}
