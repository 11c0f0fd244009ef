/* sched.h: a goroutine's record, parking and readying, and the count that
 * finds a deadlock (Go's gopark, goready and checkdead).
 *
 * Every goroutine has a struct g with a parker: a futex word on which it
 * sleeps when it blocks. A blocked goroutine is woken by exactly one other
 * thread, the one that completed its operation (copied the value, closed the
 * channel, brought a WaitGroup to zero), by g_ready. A parking goroutine
 * first spins (or yields) a little; only when it really goes to sleep does it
 * count itself out of the running goroutines, after it has published that it
 * sleeps. g_ready counts it back in exactly when it finds it asleep, before
 * it could block itself. So the count of running goroutines never reads zero
 * while one of them is about to be woken: zero means a deadlock.
 *
 * "Wakers" are things outside the goroutines that may still wake one: pending
 * timers and signal contexts. Deadlock is "no goroutine running and no waker":
 * go_fatal("all goroutines are asleep - deadlock!").
 *
 * Contract:
 * - g_park(g) blocks the calling goroutine, whose record g is, until another
 *   thread calls g_ready(g); a g_ready that comes first makes it return at
 *   once. The caller holds no lock.
 * - g_ready(g) must be called exactly once per g_park, by the thread that
 *   completed g's operation, after it has written everything g will read
 *   (g_park's return happens after it). A second g_ready, or a g_park woken
 *   without one, is a fatal error ("sched: ...").
 * - sched_running_begin/end count a goroutine in and out of the running ones
 *   (go.c: at its start and end; g_park and g_ready in between). The last end
 *   with no waker left reports the deadlock.
 * - sched_waker_begin/end: something that may wake a goroutine later begins
 *   or ends. sched_waker_end must come after the waker's last g_ready.
 * - A count that would go below zero is a fatal error.
 * The records are go.c's: it allocates them, never frees them, and calls
 * g_park_init on each before its first park.
 */
#ifndef COMMON_INTERNAL_SCHED_H
#define COMMON_INTERNAL_SCHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct g {
    /* Parking (sched.c). */
    _Atomic uint32_t park_state; /* PARK_EMPTY, PARK_NOTIFIED or PARK_SLEEPING */
    uint32_t spin;               /* g_park's spin budget, adapted to its waits */
    int waker_cpu;               /* where g_ready ran when it found us asleep */
    int64_t moved;               /* when g_park last moved us off a shared core */
    /* The goroutine's life (go.c). */
    void (*fn)(void *); /* what the goroutine runs */
    void *arg;
    void (*done)(void *);      /* with done_arg: called when fn returns (wg_go), or NULL */
    void *done_arg;            /* what done is called with */
    struct g *next_free;       /* on the free list of recycled records */
    _Atomic uint32_t has_work; /* idle thread: set when go() hands it fn */
    struct g *next_idle;       /* on the list of idle threads (idle_mu) */
    bool idle;                 /* on that list (idle_mu) */
    /* For the leak check (go.c's live list, live_mu). */
    const char *name;                /* the function go() started, as written there */
    long goid;                       /* Go's goroutine id: main is 1 */
    struct g *live_prev, *live_next; /* on the list of goroutines started by go() */
};

/* Readies a record for its first park (a recycled one keeps its budget). */
void g_park_init(struct g *g);

void g_park(struct g *g);
void g_ready(struct g *g);
/* Whether g sleeps in g_park right now (a snapshot, for the leak check). */
bool g_asleep(struct g *g);

void sched_running_begin(void);
void sched_running_end(void);

void sched_waker_begin(void);
void sched_waker_end(void);

#endif
