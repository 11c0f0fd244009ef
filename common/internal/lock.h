/* lock.h: the runtime's lock, rt_mutex, after Go's runtime lock
 * (runtime/lock_futex.go). It guards each channel.
 *
 * Why not pthread_mutex_t: a channel's critical sections are a few dozen
 * nanoseconds, so a thread that finds the lock held spins a little while the
 * holder runs on another core, and only then sleeps on a futex; glibc's
 * default mutex goes to the kernel at once, which cost a futex call every few
 * values of a busy buffered channel.
 *
 * Contract:
 * - An rt_mutex is zero-initialised (RT_UNLOCKED) and needs no destroying.
 * - rt_lock blocks until the caller holds the lock; it is not recursive (a
 *   second rt_lock by the holder never returns).
 * - rt_unlock releases it and wakes one sleeper, if any. Unlocking a lock
 *   that is not held is a fatal error ("unlock of unlocked lock"), as in Go.
 * - A goroutine never parks while it holds an rt_mutex.
 * The fast paths are inline: one atomic each when the lock is free.
 */
#ifndef COMMON_INTERNAL_LOCK_H
#define COMMON_INTERNAL_LOCK_H

#include <stdatomic.h>
#include <stdint.h>

/* key: RT_UNLOCKED, RT_LOCKED, or RT_SLEEPING (locked, and someone may be
 * asleep on key, so the unlock must wake them). */
enum { RT_UNLOCKED, RT_LOCKED, RT_SLEEPING };
typedef struct {
    _Atomic uint32_t key;
} rt_mutex;

/* The slow paths, in lock.c. */
void rt_lock_slow(rt_mutex *m);
void rt_unlock_slow(rt_mutex *m, uint32_t old);

static inline void rt_lock(rt_mutex *m) {
    uint32_t expected = RT_UNLOCKED;
    if (!atomic_compare_exchange_weak_explicit(&m->key, &expected, RT_LOCKED, memory_order_acquire,
                                               memory_order_relaxed))
        rt_lock_slow(m);
}

/* A sleeper to wake and a lock that was not held both leave RT_LOCKED
 * behind: one branch on the fast path serves the wake-up and the check. */
static inline void rt_unlock(rt_mutex *m) {
    uint32_t old = atomic_exchange_explicit(&m->key, RT_UNLOCKED, memory_order_release);
    if (old != RT_LOCKED)
        rt_unlock_slow(m, old);
}

#endif
