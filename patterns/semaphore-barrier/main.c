/* patterns/semaphore-barrier: let at most N in at once; hold everyone at a
 * line between phases.
 *
 * A semaphore bounds how many goroutines are inside a section at once. The
 * simplest is a buffered channel: a send takes a place, a receive gives it
 * back, and the capacity is the limit. A weighted semaphore (x/sync's,
 * semaphore.h beside this file, checked exactly by tests/test_semaphore.c)
 * lets each caller take several units, serves them in FIFO order so that a
 * large request is not starved by small ones, and gives up when a context
 * ends. A barrier is the other way round: nobody goes on until all have
 * arrived. Reused phase after phase, it must tell its phases apart: a
 * generation count. From Allen B. Downey's The Little Book of Semaphores
 * (the reusable barrier), golang.org/x/sync/semaphore, and Concurrency in Go
 * (Katherine Cox-Buday), chapter 3. The Go program this mirrors is main.go,
 * beside this file.
 *
 * Break it: --break meets at a barrier with no generation count. It works for
 * the first phase; from then on it is open, a fast goroutine runs ahead into
 * the next phase while the others are still in this one, and the program's
 * own check of the phases' start and end says so (exit status 1).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "patterns/semaphore-barrier/semaphore.h"

#define MAX_WORKERS 64

static duration work; /* --work; set before the first go() */

/* ---- 1. A buffered channel as a semaphore ---- */

static chan *places;              /* capacity: the limit */
static atomic_long holding, peak; /* inside now, and the most at once */
static atomic_int jobs_done;

/* Raises *peak_seen to now if now is more. */
static void note_peak(atomic_long *peak_seen, long now) {
    long seen = atomic_load(peak_seen);
    while (now > seen && !atomic_compare_exchange_weak(peak_seen, &seen, now))
        ;
}

static void channel_job(void *arg) {
    static const char token = 0; /* struct{}{}: the value does not matter */
    /* practice: take a place (a send on places: it blocks while the channel is full), count yourself in, work, count yourself out, give the place back */
    chan_send(places, &token);
    note_peak(&peak, atomic_fetch_add(&holding, 1) + 1);
    time_sleep(work);
    atomic_fetch_sub(&holding, 1);
    chan_recv(places, NULL);
    /* end practice */
    atomic_fetch_add(&jobs_done, 1);
    wg_done(arg);
}

/* ---- 2. A weighted semaphore: units, FIFO, a context ---- */

static atomic_long in_use, in_use_peak; /* units of the weighted semaphore held */

struct weighted_job {
    weighted *s;
    int units;
    atomic_int *grants; /* each grant takes the next number */
    int granted_as;     /* this job's number */
    waitgroup *wg;
};

static void weighted_job(void *arg) {
    struct weighted_job *j = arg;
    weighted_acquire(j->s, ctx_background(), j->units); /* Background: never fails */
    j->granted_as = atomic_fetch_add(j->grants, 1);
    note_peak(&in_use_peak, atomic_fetch_add(&in_use, j->units) + j->units);
    time_sleep(work);
    atomic_fetch_sub(&in_use, j->units);
    weighted_release(j->s, j->units);
    wg_done(j->wg);
}

/* Waits until k callers are queued on s: a bounded poll (the queue is the
 * semaphore's business; this is only for the demonstration). */
static void wait_queued(weighted *s, int k) {
    while (weighted_waiting(s) < k)
        time_sleep(100 * MICROSECOND);
}

/* n jobs of 1..4 units through a semaphore of capacity units; then the
 * fairness of the queue, step by step. */
static void weighted_demo(int n, int capacity) {
    weighted s;
    weighted_init(&s, capacity);
    waitgroup wg = WAITGROUP_INIT;
    atomic_int grants = 0;
    struct weighted_job *jobs = calloc((size_t)n + 4, sizeof *jobs);
    for (int i = 0; i < n; i++) {
        jobs[i] = (struct weighted_job){&s, i % 4 + 1, &grants, 0, &wg};
        wg_add(&wg, 1);
        go(weighted_job, &jobs[i]);
    }
    wg_wait(&wg);
    printf("weighted semaphore: %d jobs of 1..4 units, %d units: peak %ld held, %d done\n", n,
           capacity, atomic_load(&in_use_peak), atomic_load(&grants));

    /* Main holds everything; a job of all the units queues, then three of one. */
    weighted_try_acquire(&s, capacity);
    struct weighted_job *big = &jobs[n], *small = &jobs[n + 1];
    atomic_store(&grants, 0);
    *big = (struct weighted_job){&s, capacity, &grants, 0, &wg};
    wg_add(&wg, 1);
    go(weighted_job, big);
    wait_queued(&s, 1);
    for (int i = 0; i < 3; i++) {
        small[i] = (struct weighted_job){&s, 1, &grants, 0, &wg};
        wg_add(&wg, 1);
        go(weighted_job, &small[i]);
    }
    wait_queued(&s, 4);
    weighted_release(&s, 1); /* one unit free, but the job at the front needs them all */
    bool took = weighted_try_acquire(&s, 1);
    printf("weighted semaphore: one unit free, a job of %d queued first: TryAcquire(1) %s\n",
           capacity, took ? "true" : "false");
    if (took)
        weighted_release(&s, 1);
    context *ctx = ctx_with_timeout(ctx_background(), 10 * MILLISECOND);
    const char *err = weighted_acquire(&s, ctx, 1);
    printf("weighted semaphore: Acquire(1) for 10ms: %s\n", err ? err : "granted");
    ctx_free(ctx);
    if (!err)
        weighted_release(&s, 1);
    weighted_release(&s, capacity - 1); /* all free: the queue goes in its order */
    wg_wait(&wg);
    bool in_turn = big->granted_as == 0;
    for (int i = 0; i < 3; i++)
        in_turn = in_turn && small[i].granted_as > 0;
    printf("weighted semaphore: granted %s: the job of %d, then 3 jobs of 1 queued after it\n",
           in_turn ? "in turn" : "OUT OF TURN", capacity);
    free(jobs);
    weighted_destroy(&s);
}

/* ---- 3. A reusable barrier ---- */

typedef struct barrier {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;                    /* goroutines that meet at it */
    int arrived;              /* in this phase; guarded by mu */
    unsigned long generation; /* phases completed; guarded by mu */
} barrier;

static void barrier_wait(barrier *b) {
    pthread_mutex_lock(&b->mu);
    /* practice: count yourself in; the last one in starts the next generation and wakes everyone, the others wait until the generation they arrived in is over */
    unsigned long generation = b->generation;
    if (++b->arrived == b->n) { /* the last one in opens the barrier... */
        b->arrived = 0;         /* ...and resets it for the next phase */
        b->generation++;
        pthread_cond_broadcast(&b->cv);
    } else {
        while (generation == b->generation) /* a loop: wakeups may be spurious */
            pthread_cond_wait(&b->cv, &b->mu);
    }
    /* end practice */
    pthread_mutex_unlock(&b->mu);
}

/* WRONG: no generation. It opens when the count of arrivals reaches n, which
 * is right once. It cannot reset the count for the next phase (a waiter not
 * yet awake would find it 0 and sleep forever), so it does not, and from the
 * second phase on it is open. */
static void barrier_wait_no_generation(barrier *b) {
    pthread_mutex_lock(&b->mu);
    if (++b->arrived >= b->n)
        pthread_cond_broadcast(&b->cv);
    while (b->arrived < b->n)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static bool no_generation; /* --break; set before the first go() */
static atomic_long events; /* a logical clock: each phase's start and end takes a tick */
static long (*starts)[MAX_WORKERS], (*ends)[MAX_WORKERS]; /* [phase][worker] */

struct phase_worker {
    int id, phases;
    barrier *b;
    waitgroup *wg;
};

/* Phase after phase of uneven work (worker 0 is the fastest), then the barrier. */
static void phase_worker(void *arg) {
    struct phase_worker *w = arg;
    for (int k = 0; k < w->phases; k++) {
        starts[k][w->id] = atomic_fetch_add(&events, 1);
        time_sleep(work * (w->id % 4 + 1));
        ends[k][w->id] = atomic_fetch_add(&events, 1);
        if (no_generation)
            barrier_wait_no_generation(w->b);
        else
            barrier_wait(w->b);
    }
    wg_done(w->wg);
}

/* Runs the phases and checks them: no phase starts before the last one ends.
 * Returns whether that held. */
static bool barrier_demo(int workers, int phases) {
    starts = calloc((size_t)phases, sizeof *starts);
    ends = calloc((size_t)phases, sizeof *ends);
    barrier b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, workers, 0, 0};
    waitgroup wg = WAITGROUP_INIT;
    struct phase_worker args[MAX_WORKERS];
    for (int i = 0; i < workers; i++) {
        args[i] = (struct phase_worker){i, phases, &b, &wg};
        wg_add(&wg, 1);
        go(phase_worker, &args[i]);
    }
    wg_wait(&wg); /* also makes every worker's starts and ends visible here */
    int overlaps = 0, first = 0;
    for (int k = 0; k + 1 < phases; k++) {
        long last_end = 0, first_start = -1;
        for (int i = 0; i < workers; i++) {
            last_end = ends[k][i] > last_end ? ends[k][i] : last_end;
            first_start =
                first_start < 0 || starts[k + 1][i] < first_start ? starts[k + 1][i] : first_start;
        }
        if (first_start < last_end && overlaps++ == 0)
            first = k + 1;
    }
    printf("barrier%s: %d goroutines, %d phases: ", no_generation ? " (no generation)" : "",
           workers, phases);
    if (overlaps == 0)
        printf("every goroutine finished each phase before any began the next\n");
    else
        printf("OVERLAP at %d of %d phase boundaries: phase %d began before phase %d ended\n",
               overlaps, phases - 1, first + 1, first);
    free(starts);
    free(ends);
    return overlaps == 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, limit, capacity, workers, phases;
    const char *mistake;
    flag_int_range(&n, "n", 20, 1, 10000, "jobs through each semaphore");
    flag_int_range(&limit, "limit", 3, 1, 1000, "places in the channel semaphore");
    flag_int_range(&capacity, "capacity", 10, 4, 1000, "units of the weighted semaphore");
    flag_int_range(&workers, "w", 4, 2, MAX_WORKERS, "goroutines meeting at the barrier");
    flag_int_range(&phases, "phases", 20, 2, 1000, "phases of work between barriers");
    flag_duration(&work, "work", 2 * MILLISECOND, "the time a job or a phase's step takes");
    flag_mode(&mistake, "break", "no-generation", "meet at a barrier with no generation count");
    flag_parse(argc, argv);
    if (work < 0)
        flag_fail("invalid value for flag -work: must not be negative");
    no_generation = mistake != NULL;

    places = chan_make(0, (size_t)limit); /* chan struct{}: one byte a place here */
    waitgroup wg = WAITGROUP_INIT;
    for (int i = 0; i < n; i++) {
        wg_add(&wg, 1);
        go(channel_job, &wg);
    }
    wg_wait(&wg);
    chan_free(places);
    printf("channel semaphore: %d jobs, at most %d at once: peak %ld holding, %d done\n", n, limit,
           atomic_load(&peak), atomic_load(&jobs_done));

    weighted_demo(n, capacity);
    bool phases_ok = barrier_demo(workers, phases);

    /* go_leaks waits up to a second for goroutines to return, as goleak does,
     * and names on stderr any still running. */
    int left = 1 + go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", left, left - 1);
    return phases_ok ? 0 : 1;
}
