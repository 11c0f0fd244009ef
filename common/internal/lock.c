/* lock.c: the slow paths of rt_mutex: spin, then sleep on the futex.
 *
 * Invariants:
 * - key is RT_UNLOCKED, RT_LOCKED or RT_SLEEPING, nothing else.
 * - A thread asleep on key went to sleep only after it stored RT_SLEEPING, so
 *   the unlock that follows sees RT_SLEEPING and wakes one sleeper. A thread
 *   that wakes and takes the lock leaves RT_SLEEPING in key (others may still
 *   sleep): at worst one futex call too many, never a sleeper left behind.
 *
 * Locking order: an rt_mutex is the innermost lock of common/: nothing else
 * is locked while one is held, apart from other channels' locks, which
 * select.c takes in order of address.
 */
#include "common/internal/lock.h"

#include "common/internal/os.h"
#include "common/internal/panic.h"

/* Rounds of the lock's spin, and pauses per round (Go: 4 and 30). */
#define LOCK_SPIN_ROUNDS 4
#define LOCK_SPIN_PAUSES 30

void rt_lock_slow(rt_mutex *m) {
    /* wait is what we leave in key once we hold the lock: RT_SLEEPING once
     * we have slept (others may sleep too), so that unlock wakes them. */
    uint32_t wait = atomic_exchange_explicit(&m->key, RT_LOCKED, memory_order_acquire);
    if (wait == RT_UNLOCKED)
        return;
    /* On one core the holder cannot run while we spin. */
    int rounds = rt_ncpu > 1 ? LOCK_SPIN_ROUNDS : 0;
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

void rt_unlock_slow(rt_mutex *m, uint32_t old) {
    if (old == RT_UNLOCKED)
        go_fatal("unlock of unlocked lock");
    RT_CHECK(old == RT_SLEEPING, "lock: a lock word that is no lock state");
    futex_wake(&m->key);
}
