/* go.c: goroutines as detached threads, parking, and the deadlock detector.
 *
 * Invariants:
 * - sched_state packs two counts into one atomic word so that both are read
 *   and changed at once: the low 32 bits count running goroutines (not
 *   parked in g_park), the high 32 bits count wakers (pending timers, signal
 *   contexts). The word reads zero exactly when nothing can ever move again.
 * - A struct g is never freed: a finished goroutine's record goes on a free
 *   list for reuse. A waker may still touch a record's futex word just after
 *   its goroutine returned; on a reused record that is only a spurious wake,
 *   which g_park tolerates.
 *
 * - A finished goroutine's thread stays idle for a while (IDLE_LINGER, at
 *   most IDLE_MAX of them), and go() hands it the next function instead of
 *   asking the kernel for a new thread. Idle threads are not goroutines: they
 *   are not counted by the deadlock detector nor by go_num_goroutines.
 *
 * Parking: a bounded spin while a core is free (the waker is often running on
 * the other core and about to finish), its length adapted per goroutine to the
 * waits it has seen (see PARK_SPIN_MIN); a few yields of the core instead when
 * more goroutines run than there are cores; then FUTEX_WAIT on park_state.
 *
 * Channel locks (rt_mutex) spin a little, then sleep on a futex, as Go's
 * runtime lock does.
 */
#include "common/go.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/runtime.h"
#include "common/sync.h"
#include "common/timer.h"

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

static uint32_t ncpu = 1;

#define WAKER_ONE ((uint64_t)1 << 32)

static _Atomic uint64_t sched_state;
static atomic_int goroutines; /* alive goroutines, main included */

static pthread_mutex_t free_mu = PTHREAD_MUTEX_INITIALIZER;
static struct g *free_list; /* guarded by free_mu */

/* Idle threads kept for reuse, and how long one waits for work. */
#define IDLE_MAX            256
#define IDLE_LINGER_SECONDS 5

static pthread_mutex_t idle_mu = PTHREAD_MUTEX_INITIALIZER;
static struct g *idle_list; /* guarded by idle_mu */
static int idle_count;      /* guarded by idle_mu */

static _Thread_local struct g *current;
static pthread_key_t foreign_key; /* destructor counts out foreign threads */

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p)
        go_fatal("out of memory");
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        go_fatal("out of memory");
    return p;
}

_Noreturn void go_panic(const char *msg) {
    fprintf(stderr, "panic: %s\n", msg);
    abort();
}

_Noreturn void go_fatal(const char *msg) {
    fflush(stdout);
    fprintf(stderr, "fatal error: %s\n", msg);
    _exit(2);
}

static _Noreturn void deadlock(void) {
    go_fatal("all goroutines are asleep - deadlock!");
}

static void running_begin(void) {
    atomic_fetch_add(&sched_state, 1);
}

static void running_end(void) {
    if (atomic_fetch_sub(&sched_state, 1) == 1)
        deadlock();
}

void sched_waker_begin(void) {
    atomic_fetch_add(&sched_state, WAKER_ONE);
}

void sched_waker_end(void) {
    if (atomic_fetch_sub(&sched_state, WAKER_ONE) == WAKER_ONE)
        deadlock();
}

static struct g *g_alloc(void) {
    pthread_mutex_lock(&free_mu);
    struct g *g = free_list;
    if (g)
        free_list = g->next_free;
    pthread_mutex_unlock(&free_mu);
    if (!g)
        g = xcalloc(1, sizeof *g);
    g->fn = NULL;
    g->arg = NULL;
    g->wg = NULL;
    g->next_free = NULL;
    if (g->spin == 0)
        g->spin = PARK_SPIN_MIN;
    return g;
}

static void g_release(struct g *g) {
    pthread_mutex_lock(&free_mu);
    g->next_free = free_list;
    free_list = g;
    pthread_mutex_unlock(&free_mu);
}

static void foreign_exit(void *p) {
    current = NULL;
    atomic_fetch_sub(&goroutines, 1);
    g_release(p);
    running_end();
}

/* The main thread is a goroutine from the start. */
__attribute__((constructor)) static void runtime_init(void) {
    pthread_key_create(&foreign_key, foreign_exit);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    ncpu = n > 0 ? (uint32_t)n : 1;
    current = g_alloc();
    atomic_store(&goroutines, 1);
    running_begin();
}

struct g *g_current(void) {
    if (!current) {
        /* A thread made with pthread_create: count it in until it exits. */
        current = g_alloc();
        atomic_fetch_add(&goroutines, 1);
        running_begin();
        pthread_setspecific(foreign_key, current);
    }
    return current;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val) {
    if (syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0) != 0 && errno == EINTR) {
        /* A signal arrived (signal contexts install their handler without
         * SA_RESTART). ThreadSanitizer defers a handler to the thread's next
         * intercepted call, and a raw futex is none: make one, so that the
         * handler runs now rather than never. Elsewhere a harmless query. */
        sigset_t mask;
        pthread_sigmask(SIG_SETMASK, NULL, &mask);
    }
}

static void futex_wake(_Atomic uint32_t *addr) {
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Rounds of the lock's spin, and pauses per round (Go: 4 and 30). */
#define LOCK_SPIN_ROUNDS 4
#define LOCK_SPIN_PAUSES 30

void rt_lock_slow(rt_mutex *m) {
    /* wait is what we leave in key once we hold the lock: RT_SLEEPING once
     * we have slept (others may sleep too), so that unlock wakes them. */
    uint32_t wait = atomic_exchange_explicit(&m->key, RT_LOCKED, memory_order_acquire);
    if (wait == RT_UNLOCKED)
        return;
    int rounds = ncpu > 1 ? LOCK_SPIN_ROUNDS : 0;
    for (;;) {
        for (int i = 0; i < rounds; i++) {
            uint32_t v;
            while ((v = atomic_load_explicit(&m->key, memory_order_relaxed)) == RT_UNLOCKED)
                if (atomic_compare_exchange_weak_explicit(&m->key, &v, wait, memory_order_acquire,
                                                          memory_order_relaxed))
                    return;
            for (int j = 0; j < LOCK_SPIN_PAUSES; j++)
                cpu_relax();
        }
        if (atomic_exchange_explicit(&m->key, RT_SLEEPING, memory_order_acquire) == RT_UNLOCKED)
            return;
        wait = RT_SLEEPING;
        futex_wait(&m->key, RT_SLEEPING);
    }
}

void rt_unlock_wake(rt_mutex *m) {
    futex_wake(&m->key);
}

/* Sets the spin budget after a wait that spun out and slept, waited ns in
 * all. A waker that ran on the core we spun on had to wait for our spin to
 * end: spinning only delayed it (both goroutines on one core), so spin less.
 * Otherwise a spin as long as this wait would have caught it, unless the wait
 * was longer than any spin worth making. */
static void spin_adapt(struct g *g, bool waker_on_our_core, duration waited) {
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
    return (uint32_t)atomic_load_explicit(&sched_state, memory_order_relaxed) <= ncpu;
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
    uint32_t expected = PARK_EMPTY;
    if (atomic_compare_exchange_strong_explicit(&g->park_state, &expected, PARK_SLEEPING,
                                                memory_order_acquire, memory_order_acquire)) {
        /* The clock and the core are read only on the way to sleep, which
         * costs microseconds anyway; a wait caught by the spin pays neither. */
        instant slept = spin ? time_now() : 0;
        int cpu = spin ? sched_getcpu() : -1;
        running_end();
        while (atomic_load_explicit(&g->park_state, memory_order_acquire) == PARK_SLEEPING)
            futex_wait(&g->park_state, PARK_SLEEPING);
        if (spin) {
            instant now = time_now();
            bool shared_core = g->waker_cpu == cpu;
            spin_adapt(g, shared_core, (duration)spin * PARK_SPIN_NS + now - slept);
            /* Our waker ran on our core while a core was free: move apart,
             * at most once a millisecond, so a machine whose other cores are
             * busy elsewhere does not make us pay for it at every wake-up. */
            if (shared_core && now - g->moved > MILLISECOND && sched_core_free()) {
                g->moved = now;
                move_off_core(cpu);
            }
        }
    }
woken:
    atomic_store_explicit(&g->park_state, PARK_EMPTY, memory_order_relaxed);
}

void g_ready(struct g *g) {
    /* A goroutine still spinning takes the news without a syscall. */
    uint32_t expected = PARK_EMPTY;
    if (atomic_compare_exchange_strong_explicit(&g->park_state, &expected, PARK_NOTIFIED,
                                                memory_order_release, memory_order_relaxed))
        return;
    /* It sleeps (only we can wake it, so the state stays SLEEPING): count it
     * in before it can run, or it could park again and take our share of the
     * count, which would then read zero while we still run. */
    running_begin();
    g->waker_cpu = sched_getcpu();
    atomic_store_explicit(&g->park_state, PARK_NOTIFIED, memory_order_release);
    futex_wake(&g->park_state);
}

_Noreturn void g_block_forever(void) {
    struct g *g = g_current();
    running_end();
    for (;;)
        pause();
    (void)g;
}

uint32_t g_rand(uint32_t n) {
    static _Thread_local uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = ((uint64_t)(uintptr_t)&state * 0x9E3779B97F4A7C15u) ^ (uint64_t)ts.tv_nsec ^
                ((uint64_t)ts.tv_sec << 32) ^ 1;
    }
    /* xorshift64*, then Lemire's multiply-shift to map into [0, n). */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    uint64_t r = (state * 0x2545F4914F6CDD1Du) >> 32;
    return (uint32_t)((r * n) >> 32);
}

/* Offers the thread of a finished goroutine for reuse; returns true when
 * go() handed it a new function, false when it should exit. */
static bool idle_wait(struct g *g) {
    atomic_store_explicit(&g->has_work, 0, memory_order_relaxed);
    pthread_mutex_lock(&idle_mu);
    if (idle_count >= IDLE_MAX) {
        pthread_mutex_unlock(&idle_mu);
        return false;
    }
    g->next_idle = idle_list;
    idle_list = g;
    g->idle = true;
    idle_count++;
    pthread_mutex_unlock(&idle_mu);

    instant deadline = time_now() + IDLE_LINGER_SECONDS * SECOND;
    while (!atomic_load_explicit(&g->has_work, memory_order_acquire)) {
        duration left = deadline - time_now();
        if (left <= 0) {
            pthread_mutex_lock(&idle_mu);
            bool still_idle = g->idle;
            if (still_idle) {
                struct g **p = &idle_list;
                while (*p != g)
                    p = &(*p)->next_idle;
                *p = g->next_idle;
                g->idle = false;
                idle_count--;
            }
            pthread_mutex_unlock(&idle_mu);
            if (still_idle)
                return false;
            deadline = time_now() + SECOND; /* go() took us meanwhile: wait for it */
            continue;
        }
        struct timespec ts = {.tv_sec = left / SECOND, .tv_nsec = left % SECOND};
        syscall(SYS_futex, &g->has_work, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    }
    return true;
}

static void *goroutine_main(void *p) {
    struct g *g = p;
    current = g;
    do {
        g->fn(g->arg);
        if (g->wg)
            wg_done(g->wg);
        atomic_fetch_sub(&goroutines, 1);
        running_end();
    } while (idle_wait(g));
    current = NULL;
    g_release(g);
    return NULL;
}

/* Hands fn to an idle thread, if there is one. */
static bool reuse_idle(void (*fn)(void *), void *arg, struct waitgroup *wg) {
    pthread_mutex_lock(&idle_mu);
    struct g *g = idle_list;
    if (g) {
        idle_list = g->next_idle;
        g->idle = false;
        idle_count--;
    }
    pthread_mutex_unlock(&idle_mu);
    if (!g)
        return false;
    g->fn = fn;
    g->arg = arg;
    g->wg = wg;
    atomic_store_explicit(&g->has_work, 1, memory_order_release);
    syscall(SYS_futex, &g->has_work, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return true;
}

void go_spawn(void (*fn)(void *), void *arg, struct waitgroup *wg) {
    atomic_fetch_add(&goroutines, 1);
    running_begin();
    if (reuse_idle(fn, arg, wg))
        return;
    struct g *g = g_alloc();
    g->fn = fn;
    g->arg = arg;
    g->wg = wg;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    size_t stack = GO_STACK_SIZE;
    if (stack < (size_t)PTHREAD_STACK_MIN)
        stack = PTHREAD_STACK_MIN;
    pthread_attr_setstacksize(&attr, stack);
    pthread_t tid;
    int err = pthread_create(&tid, &attr, goroutine_main, g);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "go: cannot start goroutine: %s", strerror(err));
        go_fatal(msg);
    }
}

void go(void (*fn)(void *), void *arg) {
    go_spawn(fn, arg, NULL);
}

int go_num_goroutines(void) {
    return atomic_load(&goroutines);
}
