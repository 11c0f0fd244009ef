/* os.c: futex waits, the real pthread_create, and the count of cores.
 *
 * Invariants: rt_ncpu >= 1, written once before main and read-only after.
 * real_pthread_create, once set, never changes.
 *
 * Locking order: none; a futex wait holds no lock of common/ (its callers let
 * go of theirs first).
 */
#include "common/internal/os.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <time.h>

uint32_t rt_ncpu = 1;

typedef int create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static _Atomic(create_fn *) real_pthread_create; /* libc's, or a sanitizer's in front of it */

/* The pthread_create that go.c's hides: a sanitizer's interceptor, which
 * must see every thread start, if one is linked in, else libc's. A sanitizer
 * runtime linked statically (clang's) makes its pthread_create a weak alias
 * of __interceptor_pthread_create (___interceptor_ from LLVM 17), which our
 * strong definition overrides, so that is the name to ask for; a shared one
 * (gcc's libtsan.so) is also the next pthread_create after ours. Looked up
 * on first use, since a constructor of another library may make a thread
 * before ours run; two threads looking it up at once find the same. */
static create_fn *find_pthread_create(void) {
    static const char *const names[] = {"__interceptor_pthread_create",
                                        "___interceptor_pthread_create"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        create_fn *f = (create_fn *)dlsym(RTLD_DEFAULT, names[i]);
        if (f)
            return f;
    }
    return (create_fn *)dlsym(RTLD_NEXT, "pthread_create");
}

int rt_thread_create(pthread_t *tid, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    create_fn *create = atomic_load_explicit(&real_pthread_create, memory_order_acquire);
    if (!create) {
        create = find_pthread_create();
        if (!create)
            return EAGAIN;
        atomic_store_explicit(&real_pthread_create, create, memory_order_release);
    }
    return create(tid, attr, fn, arg);
}

/* 101: before any other constructor of common/ (go.c's makes main's record). */
__attribute__((constructor(101))) static void count_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    rt_ncpu = n > 0 ? (uint32_t)n : 1;
}

/* After EINTR: a signal arrived (signal contexts install their handler
 * without SA_RESTART). ThreadSanitizer defers a handler to the thread's next
 * intercepted call, and a raw futex is none: make one, so that the handler
 * runs now rather than never. Elsewhere a harmless query. */
static void let_deferred_handlers_run(void) {
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, NULL, &mask);
}

void futex_wait(_Atomic uint32_t *addr, uint32_t val) {
    if (syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0) != 0 && errno == EINTR)
        let_deferred_handlers_run();
}

void futex_wait_for(_Atomic uint32_t *addr, uint32_t val, int64_t ns) {
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    if (syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0) != 0 && errno == EINTR)
        let_deferred_handlers_run();
}
