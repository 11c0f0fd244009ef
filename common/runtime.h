/* runtime.h: internals shared by the sources of common/. Not for exercises.
 *
 * Every goroutine has a struct g with a parker: a futex word on which it
 * sleeps when it blocks. A blocked goroutine is woken by exactly one other
 * thread, the one that completed its operation (copied the value, or closed
 * the channel), by g_ready. A parking goroutine first spins (or yields) a
 * little; only when it really goes to sleep does it count itself out of the
 * running goroutines, after it has published that it sleeps. g_ready counts it
 * back in exactly when it finds it asleep, before it could block itself. So
 * the count of running goroutines never reads zero while one of them is about
 * to be woken: zero means a deadlock.
 *
 * "Wakers" are things outside the goroutines that may still wake one: pending
 * timers and signal contexts. Deadlock is "no goroutine running and no waker".
 */
#ifndef COMMON_RUNTIME_H
#define COMMON_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct g {
    _Atomic uint32_t park_state; /* PARK_EMPTY, PARK_NOTIFIED or PARK_SLEEPING */
    uint32_t spin;               /* g_park's spin budget, adapted to its waits */
    int waker_cpu;               /* where g_ready ran when it found us asleep */
    int64_t moved;               /* when g_park last moved us off a shared core */
    void (*fn)(void *);          /* what a goroutine runs */
    void *arg;
    struct waitgroup *wg;      /* wg_go: marked done when fn returns */
    struct g *next_free;       /* on the free list of recycled records */
    _Atomic uint32_t has_work; /* idle thread: set when go() hands it fn */
    struct g *next_idle;       /* on the list of idle threads (idle_mu) */
    bool idle;                 /* on that list (idle_mu) */
};

/* A channel's lock, after Go's runtime lock (runtime/lock_futex.go). Its
 * critical sections are a few dozen nanoseconds, so a thread that finds it
 * held spins a little while the holder runs on another core, and only then
 * sleeps on a futex; glibc's default mutex goes to the kernel at once, which
 * cost a futex call every few values of a busy buffered channel. key is
 * RT_UNLOCKED, RT_LOCKED, or RT_SLEEPING (locked, and someone may sleep). */
enum { RT_UNLOCKED, RT_LOCKED, RT_SLEEPING };
typedef struct {
    _Atomic uint32_t key;
} rt_mutex;

void rt_lock_slow(rt_mutex *m);
void rt_unlock_wake(rt_mutex *m);

static inline void rt_lock(rt_mutex *m) {
    uint32_t expected = RT_UNLOCKED;
    if (!atomic_compare_exchange_weak_explicit(&m->key, &expected, RT_LOCKED, memory_order_acquire,
                                               memory_order_relaxed))
        rt_lock_slow(m);
}

static inline void rt_unlock(rt_mutex *m) {
    if (atomic_exchange_explicit(&m->key, RT_UNLOCKED, memory_order_release) == RT_SLEEPING)
        rt_unlock_wake(m);
}

/* The calling thread's record. Threads not started by go() (main included)
 * get one on first use. */
struct g *g_current(void);

/* Blocks the calling goroutine until another thread calls g_ready(g). Counts
 * it as blocked meanwhile, and reports a deadlock if it was the last one. */
void g_park(struct g *g);

/* Counts g as running again and wakes it. Must be called exactly once per
 * g_park, by the thread that completed g's operation, after it has written
 * everything g will read. */
void g_ready(struct g *g);

/* Blocks the calling goroutine forever (nil channel, empty select). */
_Noreturn void g_block_forever(void);

/* Something that may wake a goroutine later (a pending timer, a signal
 * context) begins or ends. sched_waker_end must come after the waker's last
 * g_ready. */
void sched_waker_begin(void);
void sched_waker_end(void);

/* Starts fn(arg) as a goroutine; with wg, calls wg_done(wg) when fn returns. */
void go_spawn(void (*fn)(void *), void *arg, struct waitgroup *wg);

/* A uniformly random number in [0, n), from a per-thread generator. */
uint32_t g_rand(uint32_t n);

/* Go's panic: prints "panic: msg" on stderr and aborts. */
_Noreturn void go_panic(const char *msg);

/* Go's fatal error: prints "fatal error: msg" on stderr and exits with 2. */
_Noreturn void go_fatal(const char *msg);

/* malloc/calloc that treat out of memory as fatal. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);

#endif
