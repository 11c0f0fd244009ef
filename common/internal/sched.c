/* sched.c: parking, readying, and the deadlock detector.
 *
 * Invariants:
 * - sched_state packs two counts into one atomic word so that both are read
 *   and changed at once: the low 32 bits count running goroutines (not
 *   parked in g_park), the high 32 bits count wakers (pending timers, signal
 *   contexts). The word reads zero exactly when nothing can ever move again.
 *   Neither count goes below zero.
 * - A record's park_state is PARK_EMPTY whenever its goroutine is outside
 *   g_park with no g_ready pending; PARK_NOTIFIED from g_ready until g_park
 *   takes the news; PARK_SLEEPING only while its goroutine is counted out and
 *   asleep on the word, and then only g_ready may change it.
 * - A waker may still touch a record's futex word just after its goroutine
 *   returned; on a reused record that is only a spurious wake, which g_park
 *   tolerates (it sleeps again while the word reads PARK_SLEEPING).
 *
 * Parking: a bounded spin while a core is free (the waker is often running on
 * the other core and about to finish), its length adapted per goroutine to the
 * waits it has seen (see PARK_SPIN_MIN); a few yields of the core instead when
 * more goroutines run than there are cores; then FUTEX_WAIT on park_state.
 *
 * Locking order: none. Parking and readying are lock-free; the caller of
 * either holds no lock.
 */
#include "common/internal/sched.h"

#include <sched.h>

#include "common/internal/clock.h"
#include "common/internal/os.h"
#include "common/internal/panic.h"

enum { PARK_EMPTY, PARK_NOTIFIED, PARK_SLEEPING };

/* The spin before a goroutine sleeps in the kernel, in pauses (about 20 ns
 * each on the machines we measured). Sleeping costs the sleeper a context
 * switch and the waker a futex call, and a sleeping thread takes several
 * microseconds to run again, so a waker that finds its partner asleep often
 * falls asleep itself before the partner answers: both then sleep at every
 * handoff. The budget adapts, per goroutine, to how long its waits last: a
 * wait that a longer spin would have caught raises it (up to PARK_SPIN_MAX,
 * about 50 us), a long wait brings it down, so a goroutine that waits for
 * slow work stops burning its core. As Go spins only while a P is idle, we
 * spin only while no more goroutines run than there are cores. */
#define PARK_SPIN_MIN 50
#define PARK_SPIN_MAX 2500
#define PARK_SPIN_NS  20
/* Yields of the core before sleeping, when more goroutines run than cores. */
#define PARK_YIELDS 4

#define WAKER_ONE ((uint64_t)1 << 32)

static _Atomic uint64_t sched_state;

static _Noreturn void deadlock(void) {
    go_fatal("all goroutines are asleep - deadlock!");
}

void sched_running_begin(void) {
    atomic_fetch_add(&sched_state, 1);
}

/* One branch on the way out, taken only when we were the last running
 * goroutine: the deadlock test and the check share it. */
void sched_running_end(void) {
    uint64_t old = atomic_fetch_sub(&sched_state, 1);
    if ((uint32_t)old <= 1) {
        RT_CHECK((uint32_t)old == 1, "sched: running goroutines below zero");
        if (old == 1)
            deadlock();
    }
}

void sched_waker_begin(void) {
    atomic_fetch_add(&sched_state, WAKER_ONE);
}

void sched_waker_end(void) {
    uint64_t old = atomic_fetch_sub(&sched_state, WAKER_ONE);
    if ((old >> 32) <= 1) {
        RT_CHECK((old >> 32) == 1, "sched: wakers below zero");
        if (old == WAKER_ONE)
            deadlock();
    }
}

void g_park_init(struct g *g) {
    RT_CHECK(atomic_load_explicit(&g->park_state, memory_order_relaxed) == PARK_EMPTY,
             "sched: a record reused while its goroutine is parked");
    if (g->spin == 0)
        g->spin = PARK_SPIN_MIN;
}

/* Sets the spin budget after a wait that spun out and slept, waited ns in
 * all. A waker that ran on the core we spun on had to wait for our spin to
 * end: spinning only delayed it (both goroutines on one core), so spin less.
 * Otherwise a spin as long as this wait would have caught it, unless the wait
 * was longer than any spin worth making. */
static void spin_adapt(struct g *g, bool waker_on_our_core, int64_t waited) {
    uint64_t want = (uint64_t)waited / PARK_SPIN_NS;
    want += want / 4;
    if (waker_on_our_core || want > PARK_SPIN_MAX)
        g->spin /= 2;
    else
        g->spin = (uint32_t)want;
    if (g->spin < PARK_SPIN_MIN)
        g->spin = PARK_SPIN_MIN;
}

/* Moves the calling thread off cpu, to another core it may run on, and
 * leaves its affinity as it was. Linux wakes a thread on or near its waker's
 * core, so two goroutines that wake each other in turn can end up sharing one
 * core while the other idles, and nothing moves them apart: each runs only
 * while the other sleeps, so no core ever sees two runnable threads to
 * balance. Every handoff then costs a sleep and a wake-up. */
static void move_off_core(int cpu) {
    cpu_set_t mask, others;
    if (cpu < 0 || sched_getaffinity(0, sizeof mask, &mask) != 0 || !CPU_ISSET(cpu, &mask))
        return;
    others = mask;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) > 0 && sched_setaffinity(0, sizeof others, &others) == 0)
        sched_setaffinity(0, sizeof mask, &mask);
}

static bool sched_core_free(void) {
    return (uint32_t)atomic_load_explicit(&sched_state, memory_order_relaxed) <= rt_ncpu;
}

void g_park(struct g *g) {
    /* Spin while a core is free for the waker, else yield ours to it. */
    bool core_free = sched_core_free();
    uint32_t spin = core_free ? g->spin : 0;
    int yields = core_free ? 0 : PARK_YIELDS;
    for (uint32_t i = 0; i < spin; i++) {
        if (atomic_load_explicit(&g->park_state, memory_order_acquire) == PARK_NOTIFIED)
            goto woken;
        cpu_relax();
    }
    for (int i = 0; i < yields; i++) {
        if (atomic_load_explicit(&g->park_state, memory_order_acquire) == PARK_NOTIFIED)
            goto woken;
        sched_yield();
    }
    /* Publish SLEEPING before counting ourselves out: a waker that sees it
     * counts us in again, one that does not leaves us counted in. Either way
     * the count never reads zero while we are about to be woken. */
    uint32_t state = PARK_EMPTY;
    if (atomic_compare_exchange_strong_explicit(&g->park_state, &state, PARK_SLEEPING,
                                                memory_order_acquire, memory_order_acquire)) {
        /* The clock and the core are read only on the way to sleep, which
         * costs microseconds anyway; a wait caught by the spin pays neither. */
        int64_t slept = spin ? rt_nanotime() : 0;
        int cpu = spin ? sched_getcpu() : -1;
        sched_running_end();
        while ((state = atomic_load_explicit(&g->park_state, memory_order_acquire)) ==
               PARK_SLEEPING)
            futex_wait(&g->park_state, PARK_SLEEPING);
        RT_CHECK(state == PARK_NOTIFIED, "sched: a goroutine woken without g_ready");
        if (spin) {
            int64_t now = rt_nanotime();
            bool shared_core = g->waker_cpu == cpu;
            spin_adapt(g, shared_core, (int64_t)spin * PARK_SPIN_NS + now - slept);
            /* Our waker ran on our core while a core was free: move apart,
             * at most once a millisecond, so a machine whose other cores are
             * busy elsewhere does not make us pay for it at every wake-up. */
            if (shared_core && now - g->moved > NS_PER_MS && sched_core_free()) {
                g->moved = now;
                move_off_core(cpu);
            }
        }
    } else {
        RT_CHECK(state == PARK_NOTIFIED, "sched: g_park of a goroutine already asleep");
    }
woken:
    atomic_store_explicit(&g->park_state, PARK_EMPTY, memory_order_relaxed);
}

void g_ready(struct g *g) {
    /* A goroutine still spinning takes the news without a syscall. */
    uint32_t state = PARK_EMPTY;
    if (atomic_compare_exchange_strong_explicit(&g->park_state, &state, PARK_NOTIFIED,
                                                memory_order_release, memory_order_relaxed))
        return;
    RT_CHECK(state == PARK_SLEEPING, "sched: g_ready of a goroutine already readied");
    /* It sleeps (only we can wake it, so the state stays SLEEPING): count it
     * in before it can run, or it could park again and take our share of the
     * count, which would then read zero while we still run. */
    sched_running_begin();
    g->waker_cpu = sched_getcpu();
    atomic_store_explicit(&g->park_state, PARK_NOTIFIED, memory_order_release);
    futex_wake(&g->park_state);
}

bool g_asleep(struct g *g) {
    return atomic_load_explicit(&g->park_state, memory_order_relaxed) == PARK_SLEEPING;
}
