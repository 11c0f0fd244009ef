/* testlib.h: the tiny test framework of the common/ test programs.
 *
 * A program lists its cases and hands them to test_main:
 *   - no argument: runs every TEST case, prints "ok NAME" or "FAIL NAME: expected X got Y"
 *     per case, then "N passed, N failed"; exits 0 only if all passed.
 *   - a case name: runs that case only. TEST_EXIT cases (expected to panic, deadlock or die of
 *     a signal) run only this way; if one returns, that is a failure.
 * A watchdog thread turns a hung case into "TIMEOUT in case NAME" and exit status 3.
 * Checks work from any thread. Time bounds scale by TEST_TIME_SCALE (default 4 under a
 * sanitizer, 10 with TEST_QUICK=1, which valgrind runs use), never the lower bounds.
 */
#ifndef TESTS_TESTLIB_H
#define TESTS_TESTLIB_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/internal/os.h" /* rt_thread_create */
#include "common/timer.h"

/* TEST_TSAN under ThreadSanitizer, TEST_SANITIZER under it or AddressSanitizer (gcc, clang). */
#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif
#if defined(TEST_TSAN) || defined(__SANITIZE_ADDRESS__)
#define TEST_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_SANITIZER 1
#endif
#endif

typedef struct test_case {
    const char *name;
    void (*fn)(void);
    bool must_exit; /* expected to end the process: run by name only */
} test_case;

// clang-format off
#define TEST(f)      {#f, f, false}
#define TEST_EXIT(f) {#f, f, true}
// clang-format on

static atomic_int test_failures_; /* failed checks in the running case */
static char test_msg_[512];       /* the first one's message; guarded by test_mu_ */
static pthread_mutex_t test_mu_ = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(const char *) test_name_; /* the running case */
static _Atomic(instant) test_deadline_;  /* when the watchdog fires; 0: none */
static double test_scale_ = 1;           /* set once by test_main, before any thread */
static bool test_quick_;                 /* TEST_QUICK=1: smaller stress sizes */
static bool test_valgrind_;              /* TEST_VALGRIND=1: resident memory is valgrind's */

/* full normally, quick under TEST_QUICK=1 (valgrind). */
#define QUICK_OR(full, quick) (test_quick_ ? (quick) : (full))
/* secs seconds from now, scaled. */
#define TEST_SECONDS(secs) ((duration)((secs)*test_scale_ * SECOND))

static inline void test_fail_(const char *file, int line, const char *fmt, ...) {
    pthread_mutex_lock(&test_mu_);
    if (atomic_fetch_add(&test_failures_, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(test_msg_, sizeof test_msg_, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof test_msg_)
            snprintf(test_msg_ + n, sizeof test_msg_ - n, " (%s:%d)", file, line);
        /* At once too, in case the process ends before the case does (deadlock, panic). */
        fprintf(stderr, "FAIL %s: %s\n", atomic_load(&test_name_), test_msg_);
    }
    pthread_mutex_unlock(&test_mu_);
}

#define EXPECT(cond)                                                                               \
    ((cond) ? (void)0 : test_fail_(__FILE__, __LINE__, "expected %s got false", #cond))
#define EXPECT_EQ(want, got) test_eq_((long long)(want), (long long)(got), #got, __FILE__, __LINE__)
static inline void test_eq_(long long want, long long got, const char *expr, const char *file,
                            int line) {
    if (want != got)
        test_fail_(file, line, "expected %s == %lld got %lld", expr, want, got);
}
/* Errors are strings compared by pointer, NULL for none. */
#define EXPECT_ERR(want, got) test_err_((want), (got), #got, __FILE__, __LINE__)
static inline void test_err_(const char *want, const char *got, const char *expr, const char *file,
                             int line) {
    if (want != got)
        test_fail_(file, line, "expected %s == \"%s\" got \"%s\"", expr, want ? want : "NULL",
                   got ? got : "NULL");
}
/* seen[v] counts how often value v arrived: each of 0..n-1 exactly once. */
#define EXPECT_EACH_ONCE(seen, n) test_each_once_((seen), (n), __FILE__, __LINE__)
static inline void test_each_once_(_Atomic unsigned char *seen, int64_t n, const char *file,
                                   int line) {
    for (int64_t v = 0; v < n; v++)
        if (seen[v] != 1) {
            test_fail_(file, line, "expected value %lld received once got %d times", (long long)v,
                       seen[v]);
            return;
        }
}
/* Polls cond every millisecond for up to secs (scaled) seconds; a failure if it never held. */
#define WAIT_FOR(cond, secs)                                                                       \
    do {                                                                                           \
        instant dl_ = time_now() + TEST_SECONDS(secs);                                             \
        for (; !(cond); time_sleep(MILLISECOND))                                                   \
            if (time_now() > dl_) {                                                                \
                test_fail_(__FILE__, __LINE__, "expected %s within %g s got timeout", #cond,       \
                           (double)(secs)*test_scale_);                                            \
                break;                                                                             \
            }                                                                                      \
    } while (0)

/* The kernel's state letter of thread tid of this process ('S': asleep), or 0 if it is gone. */
static inline char test_thread_state(int tid) {
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
    if (f)
        fclose(f);
    stat[n] = '\0';
    char *state = strrchr(stat, ')'); /* "tid (comm) S ..." */
    return state && state[1] == ' ' ? state[2] : 0;
}

/* The best outside evidence that a goroutine is blocked: it stored its thread id in *tid just
 * before the blocking call, and the kernel now shows that thread asleep. A short settle then
 * covers a sleep on the way in (e.g. a lock). A thread that returned instead, and so vanished
 * or never slept, is a failure. */
#define WAIT_BLOCKED(tid) test_wait_blocked_((tid), __FILE__, __LINE__)
static inline void test_wait_blocked_(atomic_int *tid, const char *file, int line) {
    for (instant dl = time_now() + TEST_SECONDS(5); time_now() < dl; time_sleep(MILLISECOND))
        if (atomic_load(tid) && test_thread_state(atomic_load(tid)) == 'S') {
            time_sleep(TEST_SECONDS(0.02));
            return;
        }
    test_fail_(file, line, "expected thread %d blocked got running or gone", atomic_load(tid));
}

static void *test_watchdog_(void *arg) {
    (void)arg;
    for (;;) {
        time_sleep(20 * MILLISECOND);
        instant dl = atomic_load(&test_deadline_);
        if (dl == 0 || time_now() < dl)
            continue;
        const char *msg = "";
        if (pthread_mutex_trylock(&test_mu_) == 0) /* a hung thread may hold it */
            msg = test_msg_;
        fprintf(stderr, "TIMEOUT in case %s%s%s\n", atomic_load(&test_name_),
                msg[0] ? " after FAIL: " : "", msg);
        printf("TIMEOUT in case %s\n", atomic_load(&test_name_));
        fflush(NULL);
        _exit(3);
    }
    return NULL;
}

static bool test_run_(const test_case *tc) {
    atomic_store(&test_failures_, 0);
    test_msg_[0] = '\0';
    atomic_store(&test_name_, tc->name);
    atomic_store(&test_deadline_, time_now() + TEST_SECONDS(30));
    tc->fn();
    atomic_store(&test_deadline_, 0);
    if (tc->must_exit)
        test_fail_(__FILE__, __LINE__, "expected the process to end got a return");
    pthread_mutex_lock(&test_mu_);
    bool ok = atomic_load(&test_failures_) == 0;
    if (ok)
        printf("ok %s\n", tc->name);
    else
        printf("FAIL %s: %s%s\n", tc->name, test_msg_,
               atomic_load(&test_failures_) > 1 ? " (and more)" : "");
    pthread_mutex_unlock(&test_mu_);
    return ok;
}

static int test_main(int argc, char **argv, const test_case *cases, int n) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *q = getenv("TEST_QUICK"), *s = getenv("TEST_TIME_SCALE");
    test_quick_ = q && strcmp(q, "1") == 0;
    test_valgrind_ = getenv("TEST_VALGRIND") && strcmp(getenv("TEST_VALGRIND"), "1") == 0;
#ifdef TEST_SANITIZER
    test_scale_ = 4;
#endif
    if (test_quick_)
        test_scale_ = 10;
    if (s && atof(s) > 0)
        test_scale_ = atof(s);
    pthread_t wd;
    /* libc's pthread_create: the watchdog never wakes a goroutine, so it must
     * not count as one, or no deadlock would ever be reported. */
    if (rt_thread_create(&wd, NULL, test_watchdog_, NULL) != 0 || pthread_detach(wd) != 0) {
        fprintf(stderr, "%s: cannot start the watchdog\n", argv[0]);
        return 2;
    }
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 ? strcmp(argv[1], cases[i].name) != 0 : cases[i].must_exit)
            continue;
        if (test_run_(&cases[i]))
            passed++;
        else
            failed++;
    }
    if (argc > 2 || (argc == 2 && passed + failed == 0)) {
        fprintf(stderr, "usage: %s [case]: unknown case '%s'\n", argv[0], argv[argc - 1]);
        return 2;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif
