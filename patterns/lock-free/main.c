/* patterns/lock-free: atomics and memory order, a compare-and-swap stack, a
 * single-producer single-consumer ring, and false sharing.
 *
 * An atomic read-modify-write (fetch_add) is one indivisible step; a load
 * and a store, each atomic, are two, and updates fall between them. An
 * atomic flag stored with release order publishes everything written before
 * it to whoever loads the flag with acquire order: a plain payload can travel
 * that way, where relaxed order would carry the flag alone. Compare-and-swap
 * builds a stack without a lock (R. Kent Treiber, 1986), if it is safe from
 * ABA: here nodes are indexes into an array that is never freed, and the top
 * carries a tag that every change increments, both in one 64-bit word. A ring
 * with one producer and one consumer needs no compare-and-swap at all (Leslie
 * Lamport, 1983). Counters of different threads that share a cache line slow
 * each other down although they share no data: false sharing. From the C11
 * memory model (cppreference's std::memory_order), Go's memory model
 * (go.dev/ref/mem), and Herlihy and Shavit, The Art of Multiprocessor
 * Programming. The Go program this mirrors is main.go, beside this file.
 *
 * Break it: --break=relaxed publishes the payload's flag with relaxed order,
 * and ThreadSanitizer reports the payload's data race; --break=plain counts
 * with a plain ++ on a long: a data race that loses updates too.
 */
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"

#define MAX_WORKERS 64
#define PAYLOAD     8  /* values in the published payload */
#define NODES       64 /* nodes of the stack */
#define MAX_SLOTS   65536

static int workers, n;      /* -w, -n; set before the first go() */
static bool relaxed, plain; /* --break=relaxed, --break=plain */
static chan *gate;          /* closed by main: every goroutine of a section starts at once */

/* Runs fn(i) in w goroutines, i = 0..w-1, behind the gate; returns how long they took. */
static duration run_all(void (*fn)(void *), int w) {
    static int ids[MAX_WORKERS];
    waitgroup wg = WAITGROUP_INIT;
    gate = chan_make(0, 0);
    for (int i = 0; i < w; i++) {
        ids[i] = i;
        wg_go(&wg, fn, &ids[i]);
    }
    instant start = time_now();
    chan_close(gate);
    wg_wait(&wg);
    duration took = time_since(start);
    chan_free(gate);
    return took;
}

/* ---- 1. A counter: fetch_add against a load and a store ---- */

static atomic_long one_step, two_steps;
static long unguarded; /* --break=plain: guarded by nothing */

static void count(void *arg) {
    (void)arg;
    chan_recv(gate, NULL);
    for (long i = 0; i < 10L * n; i++) {
        /* practice: add one to one_step in one indivisible step */
        atomic_fetch_add_explicit(&one_step, 1, memory_order_relaxed);
        /* end practice */
        if (plain) {
            unguarded++; /* WRONG: a data race, and updates lost */
        } else {
            long v = atomic_load_explicit(&two_steps, memory_order_relaxed);
            atomic_store_explicit(&two_steps, v + 1, memory_order_relaxed); /* another's v+1 lost */
        }
    }
}

/* ---- 2. Publish with release, read with acquire ---- */

static long payload[PAYLOAD];        /* plain memory: the flag's release publishes it */
static atomic_long published, taken; /* the round the producer published, the consumer took */
static atomic_long torn;             /* rounds the consumer saw half written */

static void producer(void *arg) {
    (void)arg;
    for (long r = 1; r <= n; r++) {
        while (atomic_load_explicit(&taken, memory_order_acquire) < r - 1)
            sched_yield(); /* the consumer has not read the last one yet */
        for (int i = 0; i < PAYLOAD; i++)
            payload[i] = r;
        if (relaxed)
            atomic_store_explicit(&published, r, memory_order_relaxed); /* WRONG: the flag alone */
        else
            atomic_store_explicit(&published, r, memory_order_release); /* the payload with it */
    }
}

static void consumer(void *arg) {
    (void)arg;
    for (long r = 1; r <= n; r++) {
        /* practice: wait until published says r, loading it with acquire order (relaxed with --break=relaxed) */
        if (relaxed)
            while (atomic_load_explicit(&published, memory_order_relaxed) < r)
                sched_yield();
        else
            while (atomic_load_explicit(&published, memory_order_acquire) < r)
                sched_yield();
        /* end practice */
        for (int i = 0; i < PAYLOAD; i++)
            if (payload[i] != r) {
                atomic_fetch_add(&torn, 1);
                break;
            }
        atomic_store_explicit(&taken, r, memory_order_release); /* done reading: write the next */
    }
}

/* ---- 3. A Treiber stack: compare-and-swap, safe from ABA ---- */

struct node {
    _Atomic uint32_t next; /* index + 1 of the node below; 0: none. Atomic: a stale pop reads it */
    long pops;             /* plain: only the goroutine that popped the node touches it */
    atomic_int holders;    /* the check: more than one at a time is a broken stack */
};
static struct node nodes[NODES]; /* never freed: a stale pop reads a live node */

/* The top: the tag in the high 32 bits, index + 1 of the top node in the low
 * 32 (0: empty). Every change increments the tag, so a pop that read the top,
 * then lost the processor while others popped it and pushed it back, finds the
 * tag changed and its compare-and-swap fails, however the same node came back. */
static _Atomic uint64_t top;
static atomic_long held_twice, pops;

static void push(uint32_t i) {
    uint64_t old = atomic_load_explicit(&top, memory_order_relaxed), new;
    /* practice: link node i above the top and swing the top to it (the tag + 1), retrying until the compare-and-swap succeeds; release order publishes the node */
    do {
        atomic_store_explicit(&nodes[i].next, (uint32_t)old, memory_order_relaxed);
        new = ((old >> 32) + 1) << 32 | (i + 1);
    } while (!atomic_compare_exchange_weak_explicit(&top, &old, new, memory_order_release,
                                                    memory_order_relaxed));
    /* end practice */
}

/* Returns the index of the node it took off the top, or -1 if empty. */
static int64_t pop(void) {
    uint64_t old = atomic_load_explicit(&top, memory_order_acquire), new;
    do {
        if ((uint32_t)old == 0)
            return -1;
        uint32_t next = atomic_load_explicit(&nodes[(uint32_t)old - 1].next, memory_order_relaxed);
        new = ((old >> 32) + 1) << 32 | next;
    } while (!atomic_compare_exchange_weak_explicit(&top, &old, new, memory_order_acquire,
                                                    memory_order_acquire));
    return (int64_t)(uint32_t)old - 1;
}

/* Takes node i for a moment: counts its pop, checks nobody else has it. */
static void hold(int64_t i) {
    if (atomic_fetch_add(&nodes[i].holders, 1) != 0)
        atomic_fetch_add(&held_twice, 1);
    nodes[i].pops++;
    atomic_fetch_add_explicit(&pops, 1, memory_order_relaxed);
    atomic_fetch_sub(&nodes[i].holders, 1);
}

/* Pop two, push them back: the very order in which ABA strikes an untagged
 * stack (another's pop saw A over B; A comes back, over something else). */
static void churn(void *arg) {
    (void)arg;
    chan_recv(gate, NULL);
    for (int k = 0; k < n; k++) {
        int64_t a = pop(), b = pop();
        if (a >= 0)
            hold(a), push((uint32_t)a);
        if (b >= 0)
            hold(b), push((uint32_t)b);
    }
}

/* Every node exactly once, and the pops counted on the nodes add up. A
 * broken stack may hold a cycle: pop no more than one too many. */
static bool stack_intact(void) {
    int seen[NODES] = {0}, count = 0;
    long counted = 0;
    for (int64_t i; count <= NODES && (i = pop()) >= 0; count++)
        seen[i]++;
    for (int i = 0; i < NODES; i++) {
        if (seen[i] != 1)
            return false;
        counted += nodes[i].pops;
    }
    return count == NODES && counted == atomic_load(&pops);
}

/* ---- 4. A ring with one producer and one consumer ---- */

static int slots; /* --slots */
static struct {
    alignas(64) atomic_size_t head; /* next to read: only the consumer stores it */
    alignas(64) atomic_size_t tail; /* next to write: only the producer stores it */
    alignas(64) long slot[MAX_SLOTS];
} ring;
static long ring_received, ring_out_of_order;

static void ring_producer(void *arg) {
    (void)arg;
    for (long v = 1; v <= (long)n * workers; v++) {
        size_t t = atomic_load_explicit(&ring.tail, memory_order_relaxed);
        while (t - atomic_load_explicit(&ring.head, memory_order_acquire) == (size_t)slots)
            sched_yield(); /* full */
        ring.slot[t % (size_t)slots] = v;
        atomic_store_explicit(&ring.tail, t + 1, memory_order_release);
    }
}

static void ring_consumer(void *arg) {
    (void)arg;
    for (long want = 1; want <= (long)n * workers; want++) {
        size_t h = atomic_load_explicit(&ring.head, memory_order_relaxed);
        while (atomic_load_explicit(&ring.tail, memory_order_acquire) == h)
            sched_yield(); /* empty */
        long v = ring.slot[h % (size_t)slots];
        atomic_store_explicit(&ring.head, h + 1, memory_order_release);
        ring_received++;
        ring_out_of_order += v != want;
    }
}

/* ---- 5. False sharing ---- */

static atomic_long packed[MAX_WORKERS]; /* 8 bytes apart: eight to a cache line */
static struct padded_counter {
    alignas(64) atomic_long v; /* a cache line each */
} padded[MAX_WORKERS];

static void count_packed(void *arg) {
    int i = *(int *)arg;
    chan_recv(gate, NULL);
    for (long k = 0; k < 100L * n; k++)
        atomic_store_explicit(&packed[i],
                              atomic_load_explicit(&packed[i], memory_order_relaxed) + 1,
                              memory_order_relaxed);
}

static void count_padded(void *arg) {
    int i = *(int *)arg;
    chan_recv(gate, NULL);
    for (long k = 0; k < 100L * n; k++)
        atomic_store_explicit(&padded[i].v,
                              atomic_load_explicit(&padded[i].v, memory_order_relaxed) + 1,
                              memory_order_relaxed);
}

/* Both ways, the same work: each counter must hold 100n. */
static bool counters_exact(void) {
    for (int i = 0; i < workers; i++)
        if (atomic_load(&packed[i]) != 100L * n || atomic_load(&padded[i].v) != 100L * n)
            return false;
    return true;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mistake;
    flag_int_range(&workers, "w", 4, 2, MAX_WORKERS, "goroutines in each part");
    flag_int_range(&n, "n", 100000, 1, 10000000, "operations per goroutine");
    flag_int_range(&slots, "slots", 1024, 1, MAX_SLOTS, "slots of the ring");
    flag_mode(&mistake, "break", "relaxed|plain",
              "publish with relaxed order (in Go a plain flag), or count with a plain ++ (plain)");
    flag_parse(argc, argv);
    relaxed = mistake && strcmp(mistake, "relaxed") == 0;
    plain = mistake && strcmp(mistake, "plain") == 0;

    run_all(count, workers);
    long want = 10L * workers * n, got = plain ? unguarded : atomic_load(&two_steps);
    printf("counter: %d goroutines x %ld increments: fetch_add %ld, %s %ld (%ld lost)\n", workers,
           10L * n, atomic_load(&one_step), plain ? "plain ++" : "load+store", got, want - got);

    waitgroup wg = WAITGROUP_INIT;
    wg_go(&wg, producer, NULL);
    wg_go(&wg, consumer, NULL);
    wg_wait(&wg);
    printf("publish: %d payloads of %d values, %s: %ld read torn\n", n, PAYLOAD,
           relaxed ? "relaxed" : "released and acquired", atomic_load(&torn));

    for (uint32_t i = 0; i < NODES; i++)
        push(i);
    run_all(churn, workers);
    printf("stack: %d goroutines x %d rounds of two pops and two pushes on %d nodes: %ld pops, "
           "%ld held twice, %s\n",
           workers, n, NODES, atomic_load(&pops), atomic_load(&held_twice),
           stack_intact() ? "every node once at the end" : "NODES LOST OR DUPLICATED");

    wg_go(&wg, ring_producer, NULL);
    wg_go(&wg, ring_consumer, NULL);
    wg_wait(&wg);
    printf("ring: %ld values through %d slots: %ld received, %ld out of order\n", (long)n * workers,
           slots, ring_received, ring_out_of_order);

    duration took_packed = run_all(count_packed, workers);
    duration took_padded = run_all(count_padded, workers);
    char a[DURATION_STRING_SIZE], b[DURATION_STRING_SIZE];
    printf("false sharing: %d goroutines x %ld increments: packed %s, padded %s (%.1fx), %s\n",
           workers, 100L * n, duration_string(took_packed / MICROSECOND * MICROSECOND, a),
           duration_string(took_padded / MICROSECOND * MICROSECOND, b),
           (double)took_packed / (double)(took_padded > 0 ? took_padded : 1),
           counters_exact() ? "every count exact" : "COUNTS WRONG");

    /* go_leaks waits up to a second for goroutines to return, as goleak does,
     * and names on stderr any still running. */
    int left = 1 + go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", left, left - 1);
    return 0;
}
