/* test_sync.c: WaitGroup and Once (common/sync.h), proven against common/SEMANTICS.md. */
#include <stdint.h>

#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "testlib.h"

/* A goroutine in wg_wait, watched by the test. */
typedef struct waiter {
    waitgroup *wg;
    atomic_int tid;
    atomic_bool done;
} waiter;

static void do_wait(void *arg) {
    waiter *w = arg;
    atomic_store(&w->tid, gettid());
    wg_wait(w->wg);
    atomic_store(&w->done, true);
}

static void wg_wait_returns_at_once_when_zero(void) {
    waitgroup a = WAITGROUP_INIT, b;
    wg_init(&b);
    wg_wait(&a);
    wg_wait(&b);
    wg_add(&b, 2);
    wg_add(&b, -2); /* back to zero */
    wg_wait(&b);
}

static void wg_wait_blocks_until_counter_reaches_zero(void) {
    waitgroup wg = WAITGROUP_INIT;
    wg_add(&wg, 3);
    waiter w = {.wg = &wg};
    go(do_wait, &w);
    WAIT_BLOCKED(&w.tid);
    for (int i = 0; i < 2; i++) {
        wg_done(&wg);
        time_sleep(10 * MILLISECOND); /* a chance to return too early */
        EXPECT(!atomic_load(&w.done));
    }
    wg_done(&wg);
    WAIT_FOR(atomic_load(&w.done), 5);
}

static void every_waiter_is_released_at_zero(void) {
    enum { N = 20 };
    waitgroup wg = WAITGROUP_INIT;
    wg_add(&wg, 1);
    waiter w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (waiter){.wg = &wg};
        go(do_wait, &w[i]);
    }
    for (int i = 0; i < N; i++)
        WAIT_BLOCKED(&w[i].tid);
    wg_done(&wg);
    for (int i = 0; i < N; i++)
        WAIT_FOR(atomic_load(&w[i].done), 5);
}

/* Plain writes before wg_done are visible after wg_wait (ThreadSanitizer checks the edge). */
enum { WORKERS = 64 };
static int64_t results[WORKERS];

typedef struct job {
    waitgroup *wg;
    int i;
} job;

static void work_then_done(void *arg) {
    job *j = arg;
    time_sleep(j->i % 4 * MILLISECOND);
    results[j->i] = j->i * 7;
    wg_done(j->wg);
}

static void wg_wait_sees_work_done_before_wg_done(void) {
    for (int round = 0; round < QUICK_OR(20, 3); round++) {
        waitgroup wg = WAITGROUP_INIT;
        job jobs[WORKERS];
        wg_add(&wg, WORKERS);
        for (int i = 0; i < WORKERS; i++) {
            results[i] = -1;
            jobs[i] = (job){&wg, i};
            go(work_then_done, &jobs[i]);
        }
        wg_wait(&wg); /* the waitgroup is reused round after round */
        for (int i = 0; i < WORKERS; i++)
            if (results[i] != i * 7)
                EXPECT_EQ(i * 7, results[i]);
    }
}

static void store_result(void *arg) {
    int i = (int)(intptr_t)arg;
    results[i] = i * 11;
}

static void wg_go_runs_each_function_and_marks_it_done(void) {
    waitgroup wg = WAITGROUP_INIT;
    for (int i = 0; i < WORKERS; i++) {
        results[i] = -1;
        wg_go(&wg, store_result, (void *)(intptr_t)i);
    }
    wg_wait(&wg);
    for (int i = 0; i < WORKERS; i++)
        if (results[i] != i * 11)
            EXPECT_EQ(i * 11, results[i]);
}

static void negative_waitgroup_counter_panics(void) {
    waitgroup wg = WAITGROUP_INIT;
    wg_done(&wg);
}

static void wg_add_below_zero_panics(void) {
    waitgroup wg = WAITGROUP_INIT;
    wg_add(&wg, 1);
    wg_add(&wg, -2);
}

/* once_do: one run, and every caller returns after it finished. */
typedef struct once_state {
    once o;
    atomic_int runs;
    int finished; /* plain: callers read it after once_do, ThreadSanitizer checks the edge */
    atomic_int callers_saw_unfinished;
} once_state;

static void slow_init(void *arg) {
    once_state *s = arg;
    atomic_fetch_add(&s->runs, 1);
    time_sleep(30 * MILLISECOND); /* the other callers arrive meanwhile */
    s->finished = 1;
}

static void other_init(void *arg) {
    once_state *s = arg;
    atomic_fetch_add(&s->runs, 100);
}

static void call_once(void *arg) {
    once_state *s = arg;
    once_do(&s->o, slow_init, s);
    if (s->finished != 1)
        atomic_fetch_add(&s->callers_saw_unfinished, 1);
    once_do(&s->o, other_init, s); /* a different function: still done */
}

static void once_runs_exactly_once_and_callers_wait_for_it(void) {
    enum { CALLERS = 16 };
    for (int round = 0; round < QUICK_OR(5, 1); round++) {
        once_state s = {.o = ONCE_INIT};
        waitgroup wg = WAITGROUP_INIT;
        for (int i = 0; i < CALLERS; i++)
            wg_go(&wg, call_once, &s);
        wg_wait(&wg);
        EXPECT_EQ(1, atomic_load(&s.runs));
        EXPECT_EQ(0, atomic_load(&s.callers_saw_unfinished));
        once_do(&s.o, other_init, &s);
        EXPECT_EQ(1, atomic_load(&s.runs));
    }
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(wg_wait_returns_at_once_when_zero),
        TEST(wg_wait_blocks_until_counter_reaches_zero),
        TEST(every_waiter_is_released_at_zero),
        TEST(wg_wait_sees_work_done_before_wg_done),
        TEST(wg_go_runs_each_function_and_marks_it_done),
        TEST(once_runs_exactly_once_and_callers_wait_for_it),
        TEST_EXIT(negative_waitgroup_counter_panics),
        TEST_EXIT(wg_add_below_zero_panics),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
