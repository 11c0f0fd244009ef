/* os.h: what the runtime takes from Linux: futexes to sleep and be woken on,
 * the number of cores, and a pause for spin loops (Go's os_linux.go).
 *
 * Contract:
 * - futex_wait(addr, val) sleeps while *addr == val, until a futex_wake on
 *   addr, a signal, or no reason at all: callers loop on their own condition.
 *   futex_wait_for gives up after ns nanoseconds as well.
 * - futex_wake(addr) wakes one thread sleeping on addr, if any; waking nobody
 *   is harmless, so a waker may call it on a word it no longer has a reason
 *   to touch (a spurious wake for whoever sleeps there now).
 * - rt_thread_create is the real pthread_create (libc's, or a sanitizer's
 *   interceptor in front of it), for the runtime's own threads
 *   (goroutines, the timer and signal threads) and a test harness's: go.c
 *   defines pthread_create for the program, to count its threads as
 *   goroutines, and the runtime's threads must not be counted so.
 * - rt_ncpu is the number of online cores, counted before main starts (os.c's
 *   constructor runs first of common/'s); read-only afterwards.
 */
#ifndef COMMON_INTERNAL_OS_H
#define COMMON_INTERNAL_OS_H

#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

extern uint32_t rt_ncpu;

int rt_thread_create(pthread_t *tid, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

void futex_wait(_Atomic uint32_t *addr, uint32_t val);
void futex_wait_for(_Atomic uint32_t *addr, uint32_t val, int64_t ns);

static inline void futex_wake(_Atomic uint32_t *addr) {
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* One pause of a spin loop: lets the other hyperthread run, saves power. */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
