/* 04-sync: shared memory, guarded: Mutex, atomics, RWMutex, Once, Cond.
 *
 * The Go program this mirrors:
 *
 *     var mu sync.Mutex
 *     var withMutex int64  // guarded by mu
 *     var withAtomic atomic.Int64
 *     for g := 0; g < goroutines; g++ {
 *         go func() {
 *             defer wg.Done()
 *             gate.L.Lock() // a sync.Cond as a start gate
 *             for !open { gate.Wait() }
 *             gate.L.Unlock()
 *             for i := 0; i < increments; i++ {
 *                 mu.Lock(); withMutex++; mu.Unlock()
 *             }
 *             for i := 0; i < increments; i++ {
 *                 withAtomic.Add(1)
 *             }
 *         }()
 *     }
 *
 *     var table [8]int         // read-mostly: guarded by a sync.RWMutex
 *     var setup sync.Once      // the table is filled lazily, exactly once
 *     setup.Do(fillTable)
 *     rw.RLock(); ...read...; rw.RUnlock()   // many readers at once
 *     rw.Lock(); ...write...; rw.Unlock()    // one writer, alone
 *
 * Break it: --break (or --break=race) also starts, behind the same gate, as
 * many goroutines that count with nothing guarding the counter, as the race
 * example of "Go in Action" (chapter 6) does:
 *
 *             for i := 0; i < increments; i++ {
 *                 v := unprotected    // load
 *                 runtime.Gosched()   // let another goroutine run here
 *                 unprotected = v + 1 // store
 *             }
 *
 * Updates get lost, and ThreadSanitizer names the race.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/go.h"
#include "common/sync.h"

static const char synopsis[] =
    "usage: 04-sync [-g GOROUTINES] [-k INCREMENTS] [--break[=race]] [-h]";

/* Set by main before any goroutine starts, then only read. */
static long increments = 10000;
static bool racy;

static waitgroup wg = WAITGROUP_INIT;

/* 1. Three counters, one per way of sharing: a mutex, an atomic, nothing. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long with_mutex; /* guarded by mu */
static atomic_long with_atomic;
static long unprotected; /* guarded by nothing: only --break touches it */

/* 2. A start gate: a condition variable lets every goroutine wait for one
 * event (main opening the gate), so they all start counting at once. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open; /* guarded by gate_mu */

static void wait_at_gate(void) {
    pthread_mutex_lock(&gate_mu);
    while (!gate_open) /* a loop, not an if: wakeups may be spurious */
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
}

static void open_gate(void) {
    pthread_mutex_lock(&gate_mu);
    gate_open = true;
    pthread_cond_broadcast(&gate_cv); /* wake all the waiters, not just one */
    pthread_mutex_unlock(&gate_mu);
}

static void count(void *arg) {
    (void)arg;
    wait_at_gate();
    for (long i = 0; i < increments; i++) {
        pthread_mutex_lock(&mu); /* one goroutine at a time in here */
        with_mutex++;
        pthread_mutex_unlock(&mu);
    }
    for (long i = 0; i < increments; i++)
        atomic_fetch_add(&with_atomic, 1); /* one indivisible read-modify-write */
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
    for (long i = 0; i < increments; i++) {
        long v = unprotected; /* load */
        sched_yield();        /* Go's runtime.Gosched(): let another goroutine run */
        unprotected = v + 1;  /* store: whatever others stored meanwhile is lost */
    }
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
}

static long number(const char *flag, const char *s, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno == 0 && end != s && *end == '\0' && v >= 1 && v <= max)
        return v;
    fprintf(stderr, "04-sync: %s wants a whole number from 1 to %ld; %s\n", flag, max, synopsis);
    exit(2);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);

    long goroutines = 4;
    static const struct option flags[] = {
        {"help", no_argument, NULL, 'h'},
        {"break", optional_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "g:k:h", flags, NULL)) != -1) {
        switch (opt) {
        case 'g':
            goroutines = number("-g", optarg, 64);
            break;
        case 'k':
            increments = number("-k", optarg, 1000000);
            break;
        case 'b':
            racy = true;
            if (optarg == NULL || strcmp(optarg, "race") == 0)
                break;
            fprintf(stderr, "04-sync: --break takes only race; %s\n", synopsis);
            return 2;
        case 'h':
            printf("%s\n\n"
                   "  -g GOROUTINES   goroutines counting at once, 1..64 (default 4)\n"
                   "  -k INCREMENTS   increments per goroutine, 1..1000000 (default 10000)\n"
                   "  --break[=race]  also count with no lock at all\n"
                   "  -h, --help      this help\n",
                   synopsis);
            return 0;
        default:
            fprintf(stderr, "04-sync: unknown flag or missing value; %s\n", synopsis);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "04-sync: unexpected argument '%s'; %s\n", argv[optind], synopsis);
        return 2;
    }

    /* Counters (and, with --break, as many unprotected ones): start them all,
     * then open the gate so they run together. */
    for (long g = 0; g < goroutines; g++) {
        wg_go(&wg, count, NULL);
        if (racy)
            wg_go(&wg, count_unprotected, NULL);
    }
    open_gate();
    wg_wait(&wg); /* also makes every goroutine's writes visible here */
    long want = goroutines * increments;
    printf("mutex:  want %ld, got %ld\n", want, with_mutex);
    printf("atomic: want %ld, got %ld\n", want, atomic_load(&with_atomic));
    if (racy)
        printf("unprotected: want %ld, got %ld: %ld updates lost%s\n", want, unprotected,
               want - unprotected,
               unprotected < want ? ""
               : goroutines == 1  ? " (one goroutine alone cannot race)"
                                  : " (luck, not safety: run it again)");

    /* The table: the readers and one writer all call once_do first. */
    for (long g = 0; g < goroutines; g++)
        wg_go(&wg, reader, NULL);
    wg_go(&wg, writer, NULL);
    wg_wait(&wg);
    printf("rwmutex: %ld readers made %ld reads during %d writes; torn reads: %ld; "
           "version now %d\n",
           goroutines, goroutines * READS, WRITES, atomic_load(&torn_reads), table[0]);
    printf("once: setup ran %d time(s)\n", atomic_load(&setup_runs));
    return 0;
}
