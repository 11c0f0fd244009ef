/* 04-sync: shared memory, guarded: a Mutex, an atomic, a RWMutex, a Once, and
 * a condition variable (Go's sync.Cond) as a start gate.
 *
 * Goroutines that count into one variable must take turns (a mutex) or make
 * each increment one indivisible step (an atomic); a table read far more often
 * than written lets its readers in together (a read-write lock), and a Once
 * fills it, lazily, exactly once. The Go program this mirrors is main.go, next
 * to this file; the C is its line-for-line port, with Go's sync types as the
 * POSIX ones they are (pthread_mutex_t, pthread_rwlock_t, pthread_cond_t) and
 * <stdatomic.h> for sync/atomic.
 *
 * Break it: --break (or --break=race) also starts, behind the same gate, as
 * many goroutines that count with nothing guarding the counter, as the race
 * example of "Go in Action" (chapter 6) does: updates get lost, and
 * ThreadSanitizer (Go's race detector, in main.go's -race build) names the race.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/flag.h"
#include "common/go.h"
#include "common/sync.h"

/* Set by main before any goroutine starts, then only read. */
static int increments;

static waitgroup wg = WAITGROUP_INIT;

/* 1. Three counters, one per way of sharing: a mutex, an atomic, nothing. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long with_mutex; /* guarded by mu */
static atomic_long with_atomic;
static long unprotected; /* guarded by nothing: only --break touches it */

/* 2. A start gate: a condition variable lets every goroutine wait for one
 * event (main opening the gate), so they all start counting at once. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate = PTHREAD_COND_INITIALIZER;
static bool gate_open; /* guarded by gate_mu */

static void wait_at_gate(void) {
    pthread_mutex_lock(&gate_mu);
    while (!gate_open) /* a loop, not an if: wakeups may be spurious */
        pthread_cond_wait(&gate, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
}

static void open_gate(void) {
    pthread_mutex_lock(&gate_mu);
    gate_open = true;
    pthread_cond_broadcast(&gate); /* wake all the waiters, not just one */
    pthread_mutex_unlock(&gate_mu);
}

static void count(void *arg) {
    (void)arg;
    wait_at_gate();
    for (int i = 0; i < increments; i++) {
        /* practice: add 1 to with_mutex, holding mu while you do */
        pthread_mutex_lock(&mu); /* one goroutine at a time in here */
        with_mutex++;
        pthread_mutex_unlock(&mu);
        /* end practice */
    }
    for (int i = 0; i < increments; i++) {
        /* practice: add 1 to with_atomic, in one indivisible step */
        atomic_fetch_add(&with_atomic, 1); /* an indivisible read-modify-write */
        /* end practice */
    }
    wg_done(&wg);
}

/* The third counter, with nothing guarding it (--break), in goroutines of its
 * own. counter++ is three steps, a load, an add and a store, written out here
 * with a yield in the middle, where a busy machine may preempt a goroutine
 * anyway: two goroutines load the same value, both store value + 1, and one
 * update is lost. The loop holds no lock and no atomic, so nothing orders one
 * goroutine's accesses before another's, and ThreadSanitizer reports the race
 * however the goroutines happen to be timed. */
static void count_unprotected(void *arg) {
    (void)arg;
    wait_at_gate();
    for (int i = 0; i < increments; i++) {
        long v = unprotected; /* load */
        sched_yield();        /* Go's runtime.Gosched(): let another goroutine run */
        unprotected = v + 1;  /* store: whatever others stored meanwhile is lost */
    }
    wg_done(&wg);
}

/* 3. A read-mostly table behind a RWMutex, filled lazily by a Once. Every
 * slot holds the same version, so a reader that sees two versions saw a
 * write half done: the lock exists to make that impossible. */
#define SLOTS  8
#define READS  2000
#define WRITES 20
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static int table[SLOTS]; /* guarded by table_lock, after setup */
static once setup = ONCE_INIT;
static atomic_int setup_runs;
static atomic_long torn_reads;

static void fill_table(void *arg) {
    (void)arg;
    atomic_fetch_add(&setup_runs, 1);
    for (int s = 0; s < SLOTS; s++)
        table[s] = 1; /* no lock needed: once_do runs this before any caller goes on */
}

static void reader(void *arg) {
    (void)arg;
    once_do(&setup, fill_table, NULL);
    for (int r = 0; r < READS; r++) {
        pthread_rwlock_rdlock(&table_lock); /* shared: readers don't block each other */
        for (int s = 1; s < SLOTS; s++) {
            if (table[s] != table[0]) {
                atomic_fetch_add(&torn_reads, 1);
                break;
            }
        }
        pthread_rwlock_unlock(&table_lock);
    }
    wg_done(&wg);
}

static void writer(void *arg) {
    (void)arg;
    once_do(&setup, fill_table, NULL);
    for (int w = 0; w < WRITES; w++) {
        pthread_rwlock_wrlock(&table_lock); /* exclusive: no reader sees a half-done write */
        for (int s = 0; s < SLOTS; s++)
            table[s]++;
        pthread_rwlock_unlock(&table_lock);
    }
    wg_done(&wg);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);

    int n;
    const char *brk;
    flag_int_range(&n, "n", 4, 1, 64, "goroutines counting at once, 1..64");
    flag_int_range(&increments, "increments", 10000, 1, 1000000,
                   "increments per goroutine, 1..1000000");
    flag_mode(&brk, "break", "race", "also count with nothing guarding the counter: race");
    flag_parse(argc, argv);
    if (flag_nargs() > 0)
        flag_fail("unexpected argument: %s", flag_args()[0]);

    /* The counters (and, with --break, as many unprotected ones): start them
     * all, then open the gate so they run together. */
    for (int g = 0; g < n; g++) {
        wg_add(&wg, 1);
        go(count, NULL);
        if (brk) {
            wg_add(&wg, 1);
            go(count_unprotected, NULL);
        }
    }
    open_gate();
    wg_wait(&wg); /* also makes every goroutine's writes visible here */
    long want = (long)n * increments;
    printf("mutex:  want %ld, got %ld\n", want, with_mutex);
    printf("atomic: want %ld, got %ld\n", want, atomic_load(&with_atomic));
    if (brk)
        printf("unprotected: want %ld, got %ld: %ld updates lost%s\n", want, unprotected,
               want - unprotected,
               unprotected < want ? ""
               : n == 1           ? " (one goroutine alone cannot race)"
                                  : " (luck, not safety: run it again)");

    /* The table: the readers and one writer all call once_do first. */
    for (int g = 0; g < n; g++) {
        wg_add(&wg, 1);
        go(reader, NULL);
    }
    wg_add(&wg, 1);
    go(writer, NULL);
    wg_wait(&wg);
    printf("rwmutex: %d readers made %d reads during %d writes; torn reads: %ld; version now %d\n",
           n, n * READS, WRITES, atomic_load(&torn_reads), table[0]);
    printf("once: setup ran %d time(s)\n", atomic_load(&setup_runs));
    return 0;
}
