/* test_errgroup.c: errgroup (common/errgroup.h), proven against common/SEMANTICS.md. */
#include <stdint.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/errgroup.h"
#include "common/go.h"
#include "common/select.h"
#include "common/timer.h"
#include "testlib.h"

static const char *return_arg(void *arg) {
    return arg;
} /* the error to return */

static const char *wait_ctx_then_fail(void *arg) {
    EXPECT(!chan_recv(ctx_done(arg), NULL));
    return "second";
}

static const char *wait_ctx_then_return_err(void *arg) {
    EXPECT(!chan_recv(ctx_done(arg), NULL));
    return ctx_err(arg);
}

static const char *wait_closed(void *arg) {
    EXPECT(!chan_recv(arg, NULL));
    return NULL;
}

static void wait_with_no_goroutines_returns_null(void) {
    errgroup *g = errgroup_new();
    EXPECT_ERR(NULL, errgroup_wait(g));
    errgroup_free(g);
    context *ctx = NULL;
    g = errgroup_with_context(ctx_background(), &ctx);
    EXPECT(ctx != NULL);
    EXPECT_ERR(NULL, errgroup_wait(g));
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    errgroup_free(g);
}

enum { TASKS = 32 };
static int64_t results[TASKS]; /* plain: written by the tasks, read after wait */

static const char *slow_store(void *arg) {
    int i = (int)(intptr_t)arg;
    time_sleep(i % 5 * MILLISECOND);
    results[i] = i + 1;
    return NULL;
}

static void wait_waits_for_every_goroutine(void) {
    errgroup *g = errgroup_new();
    for (int i = 0; i < TASKS; i++) {
        results[i] = 0;
        errgroup_go(g, slow_store, (void *)(intptr_t)i);
    }
    EXPECT_ERR(NULL, errgroup_wait(g));
    for (int i = 0; i < TASKS; i++)
        if (results[i] != i + 1)
            EXPECT_EQ(i + 1, results[i]);
    errgroup_free(g);
}

static void first_error_is_kept(void) {
    /* A limit of 1 runs them one after the other, so "first" is surely first. */
    errgroup *g = errgroup_new();
    errgroup_set_limit(g, 1);
    static const char first[] = "first", third[] = "third";
    errgroup_go(g, return_arg, (void *)first);
    errgroup_go(g, return_arg, NULL);
    errgroup_go(g, return_arg, (void *)third);
    EXPECT_ERR(first, errgroup_wait(g));
    errgroup_free(g);
}

static void first_error_cancels_the_context_and_wait_returns_it(void) {
    context *ctx;
    errgroup *g = errgroup_with_context(ctx_background(), &ctx);
    for (int i = 0; i < 3; i++) /* these fail only once the context is cancelled */
        errgroup_go(g, wait_ctx_then_fail, ctx);
    static const char first[] = "first";
    errgroup_go(g, return_arg, (void *)first);
    EXPECT_ERR(first, errgroup_wait(g));
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    EXPECT_ERR(first, ctx_cause(ctx)); /* as x/sync: cancel(g.err) */
    errgroup_free(g);
}

static const char refused[] = "fetch 3: connection refused";

static const char *wait_ctx_then_check_cause(void *arg) {
    EXPECT(!chan_recv(ctx_done(arg), NULL));
    EXPECT_ERR(refused, ctx_cause(arg)); /* why it was stopped */
    return "stopped";
}

/* The others learn why they were stopped: the cause is the first error. */
static void the_others_see_the_first_error_as_the_cause(void) {
    context *ctx;
    errgroup *g = errgroup_with_context(ctx_background(), &ctx);
    for (int i = 0; i < 4; i++)
        errgroup_go(g, wait_ctx_then_check_cause, ctx);
    errgroup_go(g, return_arg, (void *)refused);
    EXPECT_ERR(refused, errgroup_wait(g));
    EXPECT_ERR(refused, ctx_cause(ctx));
    errgroup_free(g);
}

static void wait_cancels_the_context_without_error(void) {
    context *ctx;
    errgroup *g = errgroup_with_context(ctx_background(), &ctx);
    chan *gate = chan_make(1, 0);
    errgroup_go(g, wait_closed, gate);
    time_sleep(20 * MILLISECOND); /* a chance for an early cancel to show */
    EXPECT_ERR(NULL, ctx_err(ctx));
    chan_close(gate);
    EXPECT_ERR(NULL, errgroup_wait(g));
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    EXPECT_ERR(context_canceled, ctx_cause(ctx)); /* cancel(nil) */
    errgroup_free(g);
    chan_free(gate);
}

static void parent_cancel_reaches_the_group_context(void) {
    context *parent = ctx_with_cancel(ctx_background()), *ctx;
    errgroup *g = errgroup_with_context(parent, &ctx);
    errgroup_go(g, wait_ctx_then_return_err, ctx);
    ctx_cancel(parent);
    EXPECT_ERR(context_canceled, errgroup_wait(g));
    errgroup_free(g);
    ctx_free(parent);
}

/* With a limit of 3, 30 tasks: never more than 3 active at once, and 3 do run together. */
typedef struct limited {
    atomic_int active, max_active, started;
    int total, limit;
} limited;

static const char *count_active(void *arg) {
    limited *l = arg;
    int now = atomic_fetch_add(&l->active, 1) + 1, max = atomic_load(&l->max_active);
    while (now > max && !atomic_compare_exchange_weak(&l->max_active, &max, now))
        ;
    atomic_fetch_add(&l->started, 1);
    /* Stay until the limit was reached once (or all started), so a limit that is too strict
     * shows as max_active < limit, and one that is too loose as more. */
    instant dl = time_now() + TEST_SECONDS(5);
    while (atomic_load(&l->max_active) < l->limit && atomic_load(&l->started) < l->total &&
           time_now() < dl)
        time_sleep(100 * MICROSECOND);
    time_sleep(MILLISECOND);
    atomic_fetch_sub(&l->active, 1);
    return NULL;
}

static void set_limit_bounds_active_goroutines(void) {
    limited l = {.total = 30, .limit = 3};
    errgroup *g = errgroup_new();
    errgroup_set_limit(g, l.limit);
    for (int i = 0; i < l.total; i++)
        errgroup_go(g, count_active, &l);
    EXPECT_ERR(NULL, errgroup_wait(g));
    EXPECT_EQ(l.limit, atomic_load(&l.max_active));
    EXPECT_EQ(l.total, atomic_load(&l.started));
    errgroup_free(g);
}

typedef struct starter {
    errgroup *g;
    chan *gate;
    atomic_int tid;
    atomic_bool done;
} starter;

static void go_one_more(void *arg) {
    starter *s = arg;
    atomic_store(&s->tid, gettid());
    errgroup_go(s->g, wait_closed, s->gate);
    atomic_store(&s->done, true);
}

static void go_blocks_for_a_slot(void) {
    starter s = {.g = errgroup_new(), .gate = chan_make(1, 0)};
    errgroup_set_limit(s.g, 1);
    errgroup_go(s.g, wait_closed, s.gate);
    go(go_one_more, &s);
    WAIT_BLOCKED(&s.tid);
    EXPECT(!atomic_load(&s.done));
    chan_close(s.gate); /* the first task ends, its slot goes to the second */
    WAIT_FOR(atomic_load(&s.done), 5);
    EXPECT_ERR(NULL, errgroup_wait(s.g));
    errgroup_free(s.g);
    chan_free(s.gate);
}

static const char *count_run(void *arg) {
    atomic_fetch_add((atomic_int *)arg, 1);
    return NULL;
}

static void try_go_returns_false_when_full(void) {
    errgroup *g = errgroup_new();
    chan *gate = chan_make(1, 0);
    atomic_int runs = 0;
    errgroup_set_limit(g, 2);
    EXPECT(errgroup_try_go(g, wait_closed, gate));
    EXPECT(errgroup_try_go(g, wait_closed, gate));
    EXPECT(!errgroup_try_go(g, count_run, &runs)); /* full: not started, and no wait */
    chan_close(gate);
    EXPECT_ERR(NULL, errgroup_wait(g));
    EXPECT_EQ(0, atomic_load(&runs));
    EXPECT(errgroup_try_go(g, count_run, &runs)); /* room again */
    EXPECT_ERR(NULL, errgroup_wait(g));
    EXPECT_EQ(1, atomic_load(&runs));
    errgroup_free(g);
    chan_free(gate);
}

static void negative_limit_removes_the_limit(void) {
    errgroup *g = errgroup_new();
    chan *gate = chan_make(1, 0);
    errgroup_set_limit(g, 1);
    errgroup_set_limit(g, -1);
    for (int i = 0; i < 20; i++)
        EXPECT(errgroup_try_go(g, wait_closed, gate));
    chan_close(gate);
    EXPECT_ERR(NULL, errgroup_wait(g));
    errgroup_free(g);
    chan_free(gate);
}

static void set_limit_while_active_panics(void) {
    errgroup *g = errgroup_new();
    chan *gate = chan_make(1, 0);
    errgroup_set_limit(g, 2);
    errgroup_go(g, wait_closed, gate);
    errgroup_set_limit(g, 3);
}

/* Many tasks failing at once: wait returns one of their errors, never another value. */
static void stress_concurrent_errors_keep_one(void) {
    static const char errs[8][4] = {"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7"};
    for (int round = 0; round < QUICK_OR(50, 5); round++) {
        context *ctx;
        errgroup *g = errgroup_with_context(ctx_background(), &ctx);
        for (int i = 0; i < 8; i++)
            errgroup_go(g, return_arg, (void *)errs[i]);
        const char *err = errgroup_wait(g);
        EXPECT(err >= errs[0] && err <= errs[7]);
        EXPECT_ERR(context_canceled, ctx_err(ctx));
        errgroup_free(g);
    }
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(wait_with_no_goroutines_returns_null),
        TEST(wait_waits_for_every_goroutine),
        TEST(first_error_is_kept),
        TEST(first_error_cancels_the_context_and_wait_returns_it),
        TEST(the_others_see_the_first_error_as_the_cause),
        TEST(wait_cancels_the_context_without_error),
        TEST(parent_cancel_reaches_the_group_context),
        TEST(set_limit_bounds_active_goroutines),
        TEST(go_blocks_for_a_slot),
        TEST(try_go_returns_false_when_full),
        TEST(negative_limit_removes_the_limit),
        TEST(stress_concurrent_errors_keep_one),
        TEST_EXIT(set_limit_while_active_panics),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
