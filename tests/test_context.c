/* test_context.c: contexts (common/context.h), proven row by row against common/SEMANTICS.md. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"
#include "testlib.h"

/* Whether ctx's done channel is closed right now (never blocks; NULL is never ready). */
static bool is_done(context *ctx) {
    select_case cs[] = {select_recv(ctx_done(ctx), NULL)};
    int i = chan_select_default(cs, 1);
    EXPECT(i == SELECT_DEFAULT || !cs[0].ok); /* a done channel carries no values */
    return i == 0;
}

/* Waits on ctx's done channel, then checks it is closed rather than sent on. */
static void wait_done(context *ctx) {
    EXPECT(!chan_recv(ctx_done(ctx), NULL));
}

static int key_a, key_b, key_c; /* keys compare by address */

static void *xmalloc_or_die(size_t n) {
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void background_is_never_done(void) {
    context *bg = ctx_background();
    EXPECT(ctx_done(bg) == NULL);
    EXPECT(!is_done(bg));
    EXPECT_ERR(NULL, ctx_err(bg));
    instant dl = 42;
    EXPECT(!ctx_deadline(bg, &dl));
    EXPECT(ctx_value(bg, &key_a) == NULL);
}

static void err_strings_are_gos(void) {
    EXPECT(strcmp(context_canceled, "context canceled") == 0);
    EXPECT(strcmp(deadline_exceeded, "context deadline exceeded") == 0);
}

static void cancel_closes_done_and_sets_err(void) {
    context *ctx = ctx_with_cancel(ctx_background());
    EXPECT(ctx_done(ctx) != NULL);
    EXPECT(ctx_done(ctx) == ctx_done(ctx));
    EXPECT(!is_done(ctx));
    EXPECT_ERR(NULL, ctx_err(ctx));
    EXPECT(!ctx_deadline(ctx, &(instant){0}));
    ctx_cancel(ctx);
    EXPECT(is_done(ctx));
    wait_done(ctx);
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    ctx_cancel(ctx); /* again: nothing happens (closing done twice would panic) */
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    wait_done(ctx);
    ctx_free(ctx);
}

typedef struct watch {
    context *ctx;
    atomic_int tid;
    atomic_bool done;
} watch;

static void wait_done_then_check_err(void *arg) {
    watch *w = arg;
    atomic_store(&w->tid, gettid());
    wait_done(w->ctx);
    EXPECT(ctx_err(w->ctx) != NULL); /* done closed: err is already set */
    atomic_store(&w->done, true);
}

/* Err is NULL until done is closed, then one value forever; done closed implies err set. */
static void poll_err_until_done(void *arg) {
    watch *w = arg;
    const char *first = NULL;
    while (!atomic_load(&w->done)) {
        const char *e = ctx_err(w->ctx);
        if (first && e != first)
            EXPECT_ERR(first, e);
        if (e && !first) {
            first = e;
            EXPECT(is_done(w->ctx)); /* err set: done already closed */
        }
        if (!e && is_done(w->ctx))
            EXPECT(ctx_err(w->ctx) != NULL);
    }
    EXPECT_ERR(context_canceled, first ? first : ctx_err(w->ctx));
}

static void err_is_nil_until_done_then_never_changes(void) {
    for (int round = 0; round < QUICK_OR(100, 10); round++) {
        watch w = {.ctx = ctx_with_cancel(ctx_background())};
        waitgroup wg = WAITGROUP_INIT;
        wg_go(&wg, poll_err_until_done, &w);
        wg_go(&wg, wait_done_then_check_err, &w);
        time_sleep(round % 3 * 100 * MICROSECOND);
        ctx_cancel(w.ctx);
        wg_wait(&wg);
        EXPECT_ERR(context_canceled, ctx_err(w.ctx));
        ctx_free(w.ctx);
    }
}

typedef struct gate {
    context *ctx;
    atomic_int waiting;
} gate;

static void cancel_at_once(void *arg) {
    gate *g = arg;
    atomic_fetch_sub(&g->waiting, 1);
    while (atomic_load(&g->waiting) > 0) /* everyone cancels at the same moment */
        ;
    ctx_cancel(g->ctx);
}

static void concurrent_cancels_close_done_once(void) {
    for (int round = 0; round < QUICK_OR(100, 5); round++) {
        gate g = {.ctx = ctx_with_cancel(ctx_background()), .waiting = 4};
        waitgroup wg = WAITGROUP_INIT;
        for (int i = 0; i < 4; i++)
            wg_go(&wg, cancel_at_once, &g);
        wg_wait(&wg);
        EXPECT(is_done(g.ctx));
        EXPECT_ERR(context_canceled, ctx_err(g.ctx));
        ctx_free(g.ctx);
    }
}

static void cancelling_parent_cancels_every_descendant(void) {
    enum { N = 7 };
    context *c[N];
    c[0] = ctx_with_cancel(ctx_background());
    c[1] = ctx_with_cancel(c[0]);
    c[2] = ctx_with_value(c[0], &key_a, "a");
    c[3] = ctx_with_timeout(c[0], 3600 * SECOND);
    c[4] = ctx_with_cancel(c[1]);
    c[5] = ctx_with_cancel(c[2]); /* through a value context */
    c[6] = ctx_with_deadline(c[3], time_now() + 3600 * SECOND);
    watch w = {.ctx = c[5]};
    go(wait_done_then_check_err, &w);
    WAIT_BLOCKED(&w.tid);
    for (int i = 0; i < N; i++)
        EXPECT(!is_done(c[i]));
    ctx_cancel(c[0]);
    for (int i = 0; i < N; i++) {
        EXPECT(is_done(c[i]));
        EXPECT_ERR(context_canceled, ctx_err(c[i]));
    }
    WAIT_FOR(atomic_load(&w.done), 5);
    for (int i = N - 1; i >= 0; i--)
        ctx_free(c[i]);
}

static void cancelling_child_leaves_parent_and_siblings_alone(void) {
    context *parent = ctx_with_cancel(ctx_background());
    context *child = ctx_with_cancel(parent), *sibling = ctx_with_timeout(parent, 3600 * SECOND);
    context *grandchild = ctx_with_cancel(child);
    ctx_cancel(child);
    EXPECT(is_done(child));
    EXPECT(is_done(grandchild));
    EXPECT(!is_done(parent));
    EXPECT(!is_done(sibling));
    EXPECT_ERR(NULL, ctx_err(parent));
    EXPECT_ERR(NULL, ctx_err(sibling));
    ctx_free(grandchild);
    ctx_free(child); /* detached: the parent must not touch it again */
    ctx_cancel(parent);
    EXPECT(is_done(sibling));
    ctx_free(sibling);
    ctx_free(parent);
}

static void cancelled_children_are_detached_from_parent(void) {
    /* Cancelled, freed children must not stay on the parent: the parent's cancel would walk
     * freed memory (ASan, valgrind). */
    context *parent = ctx_with_cancel(ctx_background());
    for (int i = 0; i < QUICK_OR(10000, 1000); i++) {
        context *child = ctx_with_cancel(parent);
        ctx_cancel(child);
        ctx_free(child);
    }
    ctx_cancel(parent);
    ctx_free(parent);
}

static void child_of_done_parent_is_done_at_once(void) {
    context *parent = ctx_with_cancel(ctx_background());
    ctx_cancel(parent);
    context *child = ctx_with_cancel(parent), *value = ctx_with_value(parent, &key_a, NULL);
    context *timeout = ctx_with_timeout(parent, 3600 * SECOND);
    EXPECT(is_done(child));
    EXPECT(is_done(value));
    EXPECT(is_done(timeout));
    EXPECT_ERR(context_canceled, ctx_err(child));
    EXPECT_ERR(context_canceled, ctx_err(timeout));
    ctx_free(timeout);
    ctx_free(value);
    ctx_free(child);
    ctx_free(parent);
}

static void contexts_may_be_freed_in_any_order(void) {
    context *parent = ctx_with_value(ctx_background(), &key_a, "a");
    context *mid = ctx_with_timeout(parent, 3600 * SECOND);
    context *child = ctx_with_cancel(mid);
    instant mid_dl = 0, child_dl = 1;
    EXPECT(ctx_deadline(mid, &mid_dl));
    ctx_free(parent);
    ctx_free(mid); /* cancels mid, and so child; both stay readable through child */
    EXPECT(is_done(child));
    EXPECT_ERR(context_canceled, ctx_err(child));
    EXPECT(ctx_value(child, &key_a) != NULL && strcmp(ctx_value(child, &key_a), "a") == 0);
    EXPECT(ctx_deadline(child, &child_dl));
    EXPECT_EQ(mid_dl, child_dl);
    ctx_free(child);
}

static void deadline_exceeded_at_deadline(void) {
    instant start = time_now();
    context *ctx = ctx_with_timeout(ctx_background(), 50 * MILLISECOND);
    instant made = time_now(), dl = 0;
    EXPECT(ctx_deadline(ctx, &dl));
    EXPECT(dl >= start + 50 * MILLISECOND && dl <= made + 50 * MILLISECOND);
    EXPECT(!is_done(ctx));
    EXPECT_ERR(NULL, ctx_err(ctx));
    wait_done(ctx);
    EXPECT(time_now() >= dl);
    EXPECT(time_since(start) < TEST_SECONDS(1));
    EXPECT_ERR(deadline_exceeded, ctx_err(ctx));
    ctx_cancel(ctx); /* too late: err stays */
    EXPECT_ERR(deadline_exceeded, ctx_err(ctx));
    ctx_free(ctx);

    instant at = time_now() + 40 * MILLISECOND;
    ctx = ctx_with_deadline(ctx_background(), at);
    EXPECT(ctx_deadline(ctx, &dl));
    EXPECT_EQ(at, dl);
    wait_done(ctx);
    EXPECT(time_now() >= at);
    EXPECT_ERR(deadline_exceeded, ctx_err(ctx));
    ctx_free(ctx);
}

static void cancel_before_deadline_keeps_canceled(void) {
    context *ctx = ctx_with_timeout(ctx_background(), 30 * MILLISECOND);
    ctx_cancel(ctx);
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    time_sleep(60 * MILLISECOND); /* the deadline passes: err never changes */
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    ctx_free(ctx);
}

static void child_deadline_is_earlier_of_own_and_parents(void) {
    context *parent = ctx_with_timeout(ctx_background(), 60 * MILLISECOND);
    instant pdl = 0, dl = 0;
    EXPECT(ctx_deadline(parent, &pdl));
    context *later = ctx_with_timeout(parent, 3600 * SECOND);
    context *plain = ctx_with_cancel(parent), *value = ctx_with_value(parent, &key_a, NULL);
    context *kids[] = {later, plain, value};
    for (int i = 0; i < 3; i++) {
        EXPECT(ctx_deadline(kids[i], &dl));
        EXPECT_EQ(pdl, dl);
    }
    wait_done(later); /* at the parent's deadline, with the parent's error */
    EXPECT(time_now() >= pdl);
    EXPECT_ERR(deadline_exceeded, ctx_err(later));
    wait_done(plain); /* the timer cancels the children one after another */
    EXPECT_ERR(deadline_exceeded, ctx_err(plain));
    wait_done(value);
    for (int i = 0; i < 3; i++)
        ctx_free(kids[i]);
    ctx_free(parent);

    parent = ctx_with_timeout(ctx_background(), 3600 * SECOND);
    instant start = time_now();
    context *earlier = ctx_with_timeout(parent, 20 * MILLISECOND);
    EXPECT(ctx_deadline(earlier, &dl));
    EXPECT(dl >= start + 20 * MILLISECOND && dl < start + SECOND);
    wait_done(earlier);
    EXPECT_ERR(deadline_exceeded, ctx_err(earlier));
    EXPECT(!is_done(parent));
    ctx_free(earlier);
    ctx_free(parent);
}

static void past_deadline_cancels_at_once(void) {
    context *parent = ctx_with_cancel(ctx_background());
    context *ctx[] = {
        ctx_with_deadline(parent, time_now() - SECOND),
        ctx_with_deadline(parent, time_now()),
        ctx_with_timeout(parent, 0),
        ctx_with_timeout(parent, -SECOND),
    };
    for (int i = 0; i < 4; i++) {
        EXPECT(is_done(ctx[i]));
        EXPECT_ERR(deadline_exceeded, ctx_err(ctx[i]));
        ctx_free(ctx[i]);
    }
    EXPECT(!is_done(parent));
    ctx_free(parent);
}

static void value_lookup_nearest_key_wins(void) {
    context *a1 = ctx_with_value(ctx_background(), &key_a, "a1");
    context *mid = ctx_with_cancel(a1);
    context *b = ctx_with_value(mid, &key_b, "b");
    context *a2 = ctx_with_value(b, &key_a, "a2");
    EXPECT(ctx_value(a2, &key_a) && strcmp(ctx_value(a2, &key_a), "a2") == 0);
    EXPECT(ctx_value(a2, &key_b) && strcmp(ctx_value(a2, &key_b), "b") == 0);
    EXPECT(ctx_value(mid, &key_a) && strcmp(ctx_value(mid, &key_a), "a1") == 0);
    EXPECT(ctx_value(b, &key_a) && strcmp(ctx_value(b, &key_a), "a1") == 0);
    EXPECT(ctx_value(mid, &key_b) == NULL); /* only up, never down */
    EXPECT(ctx_value(a2, &key_c) == NULL);
    EXPECT(ctx_value(ctx_background(), &key_a) == NULL);
    EXPECT(!is_done(a2)); /* a value context is done with its parent only */
    ctx_cancel(mid);
    EXPECT(is_done(a2));
    EXPECT(!is_done(a1));
    ctx_free(a2);
    ctx_free(b);
    ctx_free(mid);
    ctx_free(a1);
}

static void signal_context_cancelled_by_raise_sigint(void) {
    context *ctx = ctx_with_signals(ctx_background(), SIGINT, SIGTERM, 0);
    EXPECT(!is_done(ctx));
    raise(SIGINT);
    wait_done(ctx);
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    ctx_free(ctx);
}

static void signal_context_cancelled_by_kill_sigterm(void) {
    context *parent = ctx_with_cancel(ctx_background());
    context *ctx = ctx_with_signals(parent, SIGINT, SIGTERM, 0);
    context *other = ctx_with_signals(ctx_background(), SIGUSR1, 0);
    kill(getpid(), SIGTERM); /* to the process, as `kill` does: any thread may take it */
    wait_done(ctx);
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    EXPECT(!is_done(parent));
    time_sleep(20 * MILLISECOND);
    EXPECT(!is_done(other)); /* not one of its signals */
    ctx_free(other);
    ctx_free(ctx);
    ctx_free(parent);
}

static void signal_context_works_when_started_with_signal_ignored(void) {
    signal(SIGINT, SIG_IGN); /* as a background job of a shell starts */
    context *a = ctx_with_signals(ctx_background(), SIGINT, 0);
    context *b = ctx_with_signals(ctx_background(), SIGINT, 0);
    raise(SIGINT);
    wait_done(a);
    wait_done(b); /* every context waiting for the signal */
    ctx_free(a);
    ctx_free(b);
}

/* The disposition of SIGINT right now. */
static void (*sigint_handler(void))(int) {
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    return sa.sa_handler;
}

static atomic_int own_handler_calls;
static void own_handler(int sig) {
    (void)sig;
    atomic_fetch_add(&own_handler_calls, 1);
}

/* Go's stop() restores what it found: an ignored SIGINT (a background job) stays ignored, a
 * handler of the program's own is its again, and only once the last context wanting the
 * signal is stopped. Run by name from a shell that ignores SIGINT, too (see the Bats file). */
static void signal_context_stop_restores_the_disposition_it_found(void) {
    if (sigint_handler() != SIG_IGN)
        signal(SIGINT, SIG_IGN); /* as a shell starts a background job */
    context *a = ctx_with_signals(ctx_background(), SIGINT, 0);
    context *b = ctx_with_signals(ctx_background(), SIGINT, SIGTERM, 0);
    raise(SIGINT);
    wait_done(a);
    wait_done(b);
    ctx_cancel(a);
    EXPECT(sigint_handler() != SIG_IGN); /* b still wants it */
    ctx_cancel(b);
    EXPECT(sigint_handler() == SIG_IGN);
    raise(SIGINT); /* ignored: we live on */
    ctx_free(a);
    ctx_free(b);

    signal(SIGINT, own_handler);
    context *c = ctx_with_signals(ctx_background(), SIGINT, 0);
    raise(SIGINT);
    wait_done(c);
    EXPECT_EQ(0, atomic_load(&own_handler_calls)); /* the context took it */
    ctx_free(c);
    EXPECT(sigint_handler() == own_handler);
    raise(SIGINT);
    EXPECT_EQ(1, atomic_load(&own_handler_calls));
    signal(SIGINT, SIG_IGN);
    printf("survived\n");
}

static void signal_context_cancelled_by_its_parent(void) {
    context *parent = ctx_with_cancel(ctx_background());
    context *ctx = ctx_with_signals(parent, SIGINT, 0);
    ctx_cancel(parent);
    EXPECT(is_done(ctx));
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    ctx_free(ctx);
    ctx_free(parent);
}

/* Go's stop(): after it, SIGINT has its default action again and ends the process (the Bats
 * test expects status 130). */
static void signal_context_stop_restores_default_action(void) {
    signal(SIGINT, SIG_DFL); /* as a program started from a terminal */
    context *ctx = ctx_with_signals(ctx_background(), SIGINT, 0);
    raise(SIGINT); /* the first Ctrl+C cancels */
    wait_done(ctx);
    ctx_cancel(ctx);
    printf("stopped\n");
    raise(SIGINT); /* the second one kills */
    time_sleep(TEST_SECONDS(5));
    ctx_free(ctx);
}

/* --- Go 1.21: causes --- */

static const char my_err[] = "my error", other_err[] = "other error", time_is_up[] = "time is up";

static void cause_is_the_given_cause_or_canceled(void) {
    EXPECT_ERR(NULL, ctx_cause(ctx_background()));
    context *ctx = ctx_with_cancel_cause(ctx_background());
    EXPECT_ERR(NULL, ctx_cause(ctx)); /* not done: no cause */
    ctx_cancel_cause(ctx, my_err);
    EXPECT(is_done(ctx));
    EXPECT_ERR(context_canceled, ctx_err(ctx)); /* Err stays one of the two */
    EXPECT_ERR(my_err, ctx_cause(ctx));
    ctx_cancel_cause(ctx, other_err); /* the first cancellation wins */
    ctx_cancel(ctx);
    EXPECT_ERR(my_err, ctx_cause(ctx));
    ctx_free(ctx);

    ctx = ctx_with_cancel_cause(ctx_background());
    ctx_cancel_cause(ctx, NULL); /* a nil cause is Canceled */
    EXPECT_ERR(context_canceled, ctx_cause(ctx));
    ctx_free(ctx);

    ctx = ctx_with_cancel(ctx_background());
    ctx_cancel(ctx);
    EXPECT_ERR(context_canceled, ctx_cause(ctx));
    ctx_free(ctx);

    ctx = ctx_with_timeout(ctx_background(), MILLISECOND);
    wait_done(ctx);
    EXPECT_ERR(deadline_exceeded, ctx_cause(ctx));
    ctx_free(ctx);
}

static void cause_of_a_parent_reaches_every_descendant(void) {
    context *parent = ctx_with_cancel_cause(ctx_background());
    context *value = ctx_with_value(parent, &key_a, "a");
    context *kids[] = {
        ctx_with_cancel(parent),
        ctx_with_cancel(value), /* through a value context */
        ctx_with_timeout(parent, 3600 * SECOND),
        ctx_with_timeout_cause(parent, 3600 * SECOND, other_err), /* the parent's comes first */
        ctx_with_signals(parent, SIGUSR2, 0),
    };
    enum { N = sizeof kids / sizeof kids[0] };
    context *grandchild = ctx_with_cancel(kids[2]);
    context *first = ctx_with_cancel_cause(parent); /* cancelled on its own before */
    ctx_cancel_cause(first, other_err);
    ctx_cancel_cause(parent, my_err);
    for (int i = 0; i < N; i++) {
        EXPECT_ERR(context_canceled, ctx_err(kids[i]));
        EXPECT_ERR(my_err, ctx_cause(kids[i]));
    }
    EXPECT_ERR(my_err, ctx_cause(value));
    EXPECT_ERR(my_err, ctx_cause(grandchild));
    EXPECT_ERR(other_err, ctx_cause(first));
    context *late = ctx_with_cancel(value); /* made after: done at once, with the cause */
    EXPECT(is_done(late));
    EXPECT_ERR(context_canceled, ctx_err(late));
    EXPECT_ERR(my_err, ctx_cause(late));
    ctx_free(late);
    ctx_free(first);
    ctx_free(grandchild);
    for (int i = 0; i < N; i++)
        ctx_free(kids[i]);
    ctx_free(value);
    ctx_free(parent);
}

static void deadline_cause_is_given_at_the_deadline(void) {
    instant start = time_now();
    context *ctx = ctx_with_timeout_cause(ctx_background(), 30 * MILLISECOND, time_is_up);
    EXPECT_ERR(NULL, ctx_cause(ctx));
    context *child = ctx_with_cancel(ctx);
    wait_done(ctx);
    EXPECT(time_since(start) >= 30 * MILLISECOND);
    EXPECT_ERR(deadline_exceeded, ctx_err(ctx));
    EXPECT_ERR(time_is_up, ctx_cause(ctx));
    /* The timer closes the parent's done before it cancels the children, as
       Go's cancelCtx.cancel does: wait for the child's own. */
    wait_done(child);
    EXPECT_ERR(deadline_exceeded, ctx_err(child)); /* the children get both */
    EXPECT_ERR(time_is_up, ctx_cause(child));
    ctx_free(child);
    ctx_free(ctx);

    instant at = time_now() + 20 * MILLISECOND, dl = 0;
    ctx = ctx_with_deadline_cause(ctx_background(), at, time_is_up);
    EXPECT(ctx_deadline(ctx, &dl));
    EXPECT_EQ(at, dl);
    wait_done(ctx);
    EXPECT_ERR(time_is_up, ctx_cause(ctx));
    ctx_free(ctx);

    ctx = ctx_with_timeout_cause(ctx_background(), 3600 * SECOND, time_is_up);
    ctx_cancel(ctx); /* cancelled before the deadline: Canceled, both */
    EXPECT_ERR(context_canceled, ctx_err(ctx));
    EXPECT_ERR(context_canceled, ctx_cause(ctx));
    ctx_free(ctx);

    ctx = ctx_with_timeout_cause(ctx_background(), -SECOND, time_is_up); /* past: at once */
    EXPECT(is_done(ctx));
    EXPECT_ERR(deadline_exceeded, ctx_err(ctx));
    EXPECT_ERR(time_is_up, ctx_cause(ctx));
    ctx_free(ctx);

    ctx = ctx_with_timeout_cause(ctx_background(), -SECOND, NULL);
    EXPECT_ERR(deadline_exceeded, ctx_cause(ctx));
    ctx_free(ctx);

    /* A later deadline under an earlier one: the parent's deadline, and its cause, decide. */
    context *parent = ctx_with_timeout_cause(ctx_background(), 20 * MILLISECOND, time_is_up);
    ctx = ctx_with_timeout_cause(parent, 3600 * SECOND, my_err);
    wait_done(ctx);
    EXPECT_ERR(deadline_exceeded, ctx_err(ctx));
    EXPECT_ERR(time_is_up, ctx_cause(ctx));
    ctx_free(ctx);
    ctx_free(parent);
}

/* --- Go 1.21: WithoutCancel --- */

static void without_cancel_keeps_the_values_and_nothing_else(void) {
    context *value = ctx_with_value(ctx_background(), &key_a, "a");
    context *parent = ctx_with_timeout(value, 3600 * SECOND);
    context *wc = ctx_without_cancel(parent);
    instant dl = 0;
    EXPECT(ctx_value(wc, &key_a) && strcmp(ctx_value(wc, &key_a), "a") == 0);
    EXPECT(ctx_done(wc) == NULL);
    EXPECT(!ctx_deadline(wc, &dl));
    context *child = ctx_with_cancel(wc), *timed = ctx_with_timeout(wc, 3600 * SECOND);
    instant parent_dl = 0;
    EXPECT(ctx_deadline(parent, &parent_dl));
    EXPECT(ctx_deadline(timed, &dl));
    EXPECT(dl > parent_dl); /* its own deadline: the parent's is not seen */
    ctx_cancel_cause(parent, my_err);
    EXPECT(!is_done(wc));
    EXPECT_ERR(NULL, ctx_err(wc));
    EXPECT_ERR(NULL, ctx_cause(wc));
    EXPECT(!is_done(child)); /* the parent's cancellation stops at wc */
    EXPECT(!is_done(timed));
    ctx_cancel(wc); /* nothing to cancel */
    EXPECT(!is_done(child));
    ctx_cancel(child); /* its own cancel still works */
    EXPECT(is_done(child));
    EXPECT_ERR(context_canceled, ctx_cause(child));
    ctx_free(timed);
    ctx_free(child);
    ctx_free(parent); /* wc keeps it alive for its values */
    ctx_free(value);
    EXPECT(ctx_value(wc, &key_a) && strcmp(ctx_value(wc, &key_a), "a") == 0);
    ctx_free(wc);
}

/* --- Go 1.21: AfterFunc --- */

typedef struct after_state {
    atomic_int runs;
    atomic_int tid;
    chan *hold; /* if not NULL, f waits for a value on it before returning */
} after_state;

static void after_fn(void *arg) {
    after_state *s = arg;
    chan *hold = s->hold; /* before we count: from then on s may be the next round's */
    atomic_store(&s->tid, gettid());
    atomic_fetch_add(&s->runs, 1);
    if (hold)
        EXPECT(chan_recv(hold, NULL));
}

static void after_func_runs_once_in_its_own_goroutine_after_cancel(void) {
    after_state s = {.hold = chan_make(sizeof(int64_t), 0)};
    context *ctx = ctx_with_cancel(ctx_background());
    ctx_after *a = ctx_after_func(ctx, after_fn, &s);
    time_sleep(10 * MILLISECOND);
    EXPECT_EQ(0, atomic_load(&s.runs)); /* not before ctx is done */
    ctx_cancel(ctx);                    /* returns while f runs, and waits for us */
    WAIT_FOR(atomic_load(&s.runs) == 1, 5);
    EXPECT(atomic_load(&s.tid) != gettid());
    chan_send(s.hold, &(int64_t){1}); /* f was running meanwhile, in its own goroutine */
    EXPECT(!ctx_after_stop(a));       /* too late: it was started */
    ctx_cancel(ctx);
    time_sleep(20 * MILLISECOND);
    EXPECT_EQ(1, atomic_load(&s.runs)); /* once */
    ctx_after_free(a);
    ctx_free(ctx);
    chan_free(s.hold);
}

static void after_func_on_a_done_context_runs_at_once(void) {
    after_state s = {.hold = NULL};
    context *ctx = ctx_with_cancel(ctx_background());
    ctx_cancel(ctx);
    ctx_after *a = ctx_after_func(ctx, after_fn, &s);
    WAIT_FOR(atomic_load(&s.runs) == 1, 5);
    EXPECT(!ctx_after_stop(a));
    ctx_after_free(a);
    ctx_free(ctx);
}

static void after_func_after_a_deadline_or_through_a_value(void) {
    after_state s = {.hold = NULL};
    context *ctx = ctx_with_timeout(ctx_background(), 10 * MILLISECOND);
    context *value = ctx_with_value(ctx, &key_a, NULL);
    ctx_after *a = ctx_after_func(value, after_fn, &s), *b = ctx_after_func(ctx, after_fn, &s);
    WAIT_FOR(atomic_load(&s.runs) == 2, 5); /* started on the timer thread, run as goroutines */
    ctx_after_free(a);
    ctx_after_free(b);
    ctx_free(value);
    ctx_free(ctx);
}

static void after_func_stopped_before_never_runs(void) {
    after_state s = {.hold = NULL};
    context *ctx = ctx_with_cancel(ctx_background());
    ctx_after *a = ctx_after_func(ctx, after_fn, &s);
    EXPECT(ctx_after_stop(a));  /* it prevented the run */
    EXPECT(!ctx_after_stop(a)); /* stopped already */
    ctx_cancel(ctx);
    time_sleep(20 * MILLISECOND);
    EXPECT_EQ(0, atomic_load(&s.runs));
    ctx_after_free(a);
    ctx_free(ctx);

    /* On contexts that are never cancelled: it never runs, and stop prevents that. */
    context *wc = ctx_without_cancel(ctx_background());
    ctx_after *b = ctx_after_func(ctx_background(), after_fn, &s),
              *c = ctx_after_func(wc, after_fn, &s);
    time_sleep(10 * MILLISECOND);
    EXPECT(ctx_after_stop(b));
    EXPECT(ctx_after_stop(c));
    EXPECT_EQ(0, atomic_load(&s.runs));
    ctx_after_free(b);
    ctx_after_free(c);
    ctx_free(wc);
}

static void after_func_freed_unstopped_still_runs(void) {
    after_state s = {.hold = NULL};
    context *ctx = ctx_with_cancel(ctx_background());
    ctx_after_free(ctx_after_func(ctx, after_fn, &s)); /* as dropping Go's stop */
    ctx_after_free(ctx_after_func(ctx, after_fn, &s));
    ctx_free(ctx); /* cancels: both run */
    WAIT_FOR(atomic_load(&s.runs) == 2, 5);
}

typedef struct after_race {
    context *ctx;
    chan *start;
} after_race;

static void cancel_on_start(void *arg) {
    after_race *r = arg;
    chan_recv(r->start, NULL);
    ctx_cancel(r->ctx);
}

/* Stop racing the cancellation: f runs exactly when stop says it did not prevent it. */
static void stress_after_func_stop_racing_cancel(void) {
    int stopped_count = 0, rounds = QUICK_OR(300, 30);
    for (int round = 0; round < rounds; round++) {
        after_state s = {.hold = NULL};
        after_race r = {.ctx = ctx_with_cancel(ctx_background()), .start = chan_make(1, 0)};
        ctx_after *a = ctx_after_func(r.ctx, after_fn, &s);
        waitgroup wg = WAITGROUP_INIT;
        wg_go(&wg, cancel_on_start, &r);
        chan_close(r.start);
        if (round % 2)
            time_sleep(round % 7 * 10 * MICROSECOND);
        bool stopped = ctx_after_stop(a);
        wg_wait(&wg);
        stopped_count += stopped;
        if (!stopped)
            WAIT_FOR(atomic_load(&s.runs) == 1, 5);
        time_sleep(stopped ? 100 * MICROSECOND : 0);
        EXPECT_EQ(stopped ? 0 : 1, atomic_load(&s.runs));
        ctx_after_free(a);
        ctx_free(r.ctx);
        chan_free(r.start);
    }
    EXPECT(stopped_count > 0 && stopped_count < rounds); /* both sides of the race were run */
}

/* --- signal contexts say which signal stopped them --- */

static void signal_context_cause_names_the_signal(void) {
    EXPECT(strcmp(ctx_signal_cause(SIGINT), "interrupt signal received") == 0);
    EXPECT(strcmp(ctx_signal_cause(SIGTERM), "terminated signal received") == 0);
    EXPECT(strcmp(ctx_signal_cause(SIGHUP), "hangup signal received") == 0);
    EXPECT(ctx_signal_cause(SIGINT) == ctx_signal_cause(SIGINT)); /* compared by pointer */
    char rt[64];
    snprintf(rt, sizeof rt, "signal %d signal received", SIGRTMIN); /* Go's name for others */
    EXPECT(strcmp(ctx_signal_cause(SIGRTMIN), rt) == 0);

    context *ctx = ctx_with_signals(ctx_background(), SIGUSR1, SIGUSR2, 0);
    context *child = ctx_with_cancel(ctx);
    kill(getpid(), SIGUSR2);
    wait_done(ctx);
    EXPECT_ERR(context_canceled, ctx_err(ctx)); /* Err as Go's: Canceled */
    EXPECT_ERR(ctx_signal_cause(SIGUSR2), ctx_cause(ctx));
    EXPECT(strcmp(ctx_cause(ctx), "user defined signal 2 signal received") == 0);
    wait_done(child); /* cancelled after its parent's done closes, as in Go */
    EXPECT_ERR(ctx_signal_cause(SIGUSR2), ctx_cause(child));
    ctx_cancel(ctx); /* stop(): the cause stays */
    EXPECT_ERR(ctx_signal_cause(SIGUSR2), ctx_cause(ctx));
    ctx_free(child);
    ctx_free(ctx);

    ctx = ctx_with_signals(ctx_background(), SIGUSR1, 0);
    ctx_cancel(ctx); /* stopped with no signal: Canceled */
    EXPECT_ERR(context_canceled, ctx_cause(ctx));
    ctx_free(ctx);
}

/* --- trees of any depth and width, cancelled from a goroutine's small stack --- */

typedef struct tree {
    context *root, *leaf;
    int n;
    context **all;
} tree;

static const char deep_cause[] = "the root was cancelled";

static void cancel_root_then_check_leaf(void *arg) {
    tree *t = arg;
    ctx_cancel_cause(t->root, deep_cause);
    EXPECT(is_done(t->leaf));
    EXPECT_ERR(context_canceled, ctx_err(t->leaf));
    EXPECT_ERR(deep_cause, ctx_cause(t->leaf));
}

static void free_all_from_a_goroutine(void *arg) {
    tree *t = arg;
    for (int i = 0; i < t->n; i++)
        ctx_free(t->all[i]);
}

static void cancel_a_100000_deep_chain_from_a_goroutine(void) {
    tree t = {.n = QUICK_OR(100000, 10000)};
    t.all = xmalloc_or_die((size_t)t.n * sizeof *t.all);
    t.root = t.all[0] = ctx_with_cancel(ctx_background());
    for (int i = 1; i < t.n; i++) /* every third a value context: lookups pass through them */
        t.all[i] =
            i % 3 ? ctx_with_cancel(t.all[i - 1]) : ctx_with_value(t.all[i - 1], &key_a, NULL);
    t.leaf = t.all[t.n - 1];
    waitgroup wg = WAITGROUP_INIT;
    wg_go(&wg, cancel_root_then_check_leaf, &t); /* GO_STACK_SIZE: 64 KiB */
    wg_wait(&wg);
    wg_go(&wg, free_all_from_a_goroutine, &t); /* root first: the chain goes with the leaf */
    wg_wait(&wg);
    free(t.all);
}

static void cancel_a_100000_wide_tree_from_a_goroutine(void) {
    tree t = {.n = QUICK_OR(100000, 10000)};
    t.all = xmalloc_or_die((size_t)t.n * sizeof *t.all);
    t.root = t.all[0] = ctx_with_cancel(ctx_background());
    for (int i = 1; i < t.n; i++) /* a few levels: 10 children each */
        t.all[i] = ctx_with_cancel(t.all[(i - 1) / 10]);
    t.leaf = t.all[t.n - 1];
    waitgroup wg = WAITGROUP_INIT;
    wg_go(&wg, cancel_root_then_check_leaf, &t);
    wg_wait(&wg);
    for (int i = 0; i < t.n; i++)
        if (!is_done(t.all[i]))
            EXPECT(!"a context of the cancelled tree is not done");
    wg_go(&wg, free_all_from_a_goroutine, &t);
    wg_wait(&wg);
    free(t.all);
}

/* --- stress --- */

typedef struct waiters {
    context *parent;
    chan *never;
    atomic_int started, woken;
} waiters;

static void select_on_child_done(void *arg) {
    waiters *w = arg;
    context *child = ctx_with_cancel(w->parent);
    atomic_fetch_add(&w->started, 1);
    select_case cs[] = {select_recv(w->never, NULL), select_recv(ctx_done(child), NULL)};
    EXPECT_EQ(1, chan_select(cs, 2));
    EXPECT(!cs[1].ok);
    EXPECT_ERR(context_canceled, ctx_err(child));
    atomic_fetch_add(&w->woken, 1);
    ctx_free(child);
}

static void stress_contexts_cancelled_while_done_selected_on(void) {
#ifdef TEST_TSAN
    int rounds = QUICK_OR(5, 2), n = 50; /* ThreadSanitizer starts threads slowly */
#else
    int rounds = QUICK_OR(20, 2), n = 50;
#endif
    for (int round = 0; round < rounds; round++) {
        waiters w = {.parent = ctx_with_cancel(ctx_background()),
                     .never = chan_make(sizeof(int64_t), 0)};
        waitgroup wg = WAITGROUP_INIT;
        for (int i = 0; i < n; i++)
            wg_go(&wg, select_on_child_done, &w);
        WAIT_FOR(atomic_load(&w.started) >= n / 2, 10); /* cancel while the rest arrive */
        ctx_cancel(w.parent);
        wg_wait(&wg);
        EXPECT_EQ(n, atomic_load(&w.woken));
        ctx_free(w.parent);
        chan_free(w.never);
    }
}

/* Children made while their parent is being cancelled all end up cancelled. */
typedef struct spawner {
    context *parent;
    context *kids[2000];
    int n;
} spawner;

static void make_children_until_parent_done(void *arg) {
    spawner *s = arg;
    while (s->n < 2000) {
        bool parent_done = is_done(s->parent);
        s->kids[s->n] =
            s->n % 2 ? ctx_with_cancel(s->parent) : ctx_with_timeout(s->parent, 3600 * SECOND);
        s->n++;
        if (parent_done)
            break;
    }
}

static void stress_children_made_while_parent_cancels_are_cancelled(void) {
    enum { SPAWNERS = 4 };
    static spawner s[SPAWNERS];
    for (int round = 0; round < QUICK_OR(20, 2); round++) {
        context *parent = ctx_with_cancel(ctx_background());
        waitgroup wg = WAITGROUP_INIT;
        for (int i = 0; i < SPAWNERS; i++) {
            s[i].parent = parent;
            s[i].n = 0;
            wg_go(&wg, make_children_until_parent_done, &s[i]);
        }
        time_sleep(round % 4 * 200 * MICROSECOND);
        ctx_cancel(parent);
        wg_wait(&wg);
        for (int i = 0; i < SPAWNERS; i++)
            for (int k = 0; k < s[i].n; k++) {
                if (!is_done(s[i].kids[k]))
                    EXPECT(!"a child of a cancelled parent is not done");
                ctx_free(s[i].kids[k]);
            }
        ctx_free(parent);
    }
}

/* A timeout racing an explicit cancel: err is whichever came first, and stays. */
static void stress_timeouts_racing_cancel(void) {
    unsigned seed = 3;
    int canceled = 0, exceeded = 0;
    for (int round = 0; round < QUICK_OR(1000, 100); round++) {
        context *ctx = ctx_with_timeout(ctx_background(), (rand_r(&seed) % 500) * MICROSECOND);
        instant dl = 0;
        EXPECT(ctx_deadline(ctx, &dl));
        time_sleep((rand_r(&seed) % 500) * MICROSECOND);
        instant cancel_at = time_now();
        ctx_cancel(ctx);
        const char *err = ctx_err(ctx);
        EXPECT(is_done(ctx));
        if (cancel_at < dl)
            EXPECT_ERR(context_canceled, err);
        EXPECT(err == context_canceled || err == deadline_exceeded);
        canceled += err == context_canceled;
        exceeded += err == deadline_exceeded;
        EXPECT_ERR(err, ctx_err(ctx));
        ctx_free(ctx);
    }
    EXPECT(canceled > 0 && exceeded > 0); /* both sides of the race were run */
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(background_is_never_done),
        TEST(err_strings_are_gos),
        TEST(cancel_closes_done_and_sets_err),
        TEST(err_is_nil_until_done_then_never_changes),
        TEST(concurrent_cancels_close_done_once),
        TEST(cancelling_parent_cancels_every_descendant),
        TEST(cancelling_child_leaves_parent_and_siblings_alone),
        TEST(cancelled_children_are_detached_from_parent),
        TEST(child_of_done_parent_is_done_at_once),
        TEST(contexts_may_be_freed_in_any_order),
        TEST(deadline_exceeded_at_deadline),
        TEST(cancel_before_deadline_keeps_canceled),
        TEST(child_deadline_is_earlier_of_own_and_parents),
        TEST(past_deadline_cancels_at_once),
        TEST(value_lookup_nearest_key_wins),
        TEST(signal_context_cancelled_by_raise_sigint),
        TEST(signal_context_cancelled_by_kill_sigterm),
        TEST(signal_context_works_when_started_with_signal_ignored),
        TEST(signal_context_cancelled_by_its_parent),
        TEST(signal_context_stop_restores_the_disposition_it_found),
        TEST(cause_is_the_given_cause_or_canceled),
        TEST(cause_of_a_parent_reaches_every_descendant),
        TEST(deadline_cause_is_given_at_the_deadline),
        TEST(without_cancel_keeps_the_values_and_nothing_else),
        TEST(after_func_runs_once_in_its_own_goroutine_after_cancel),
        TEST(after_func_on_a_done_context_runs_at_once),
        TEST(after_func_after_a_deadline_or_through_a_value),
        TEST(after_func_stopped_before_never_runs),
        TEST(after_func_freed_unstopped_still_runs),
        TEST(signal_context_cause_names_the_signal),
        TEST(cancel_a_100000_deep_chain_from_a_goroutine),
        TEST(cancel_a_100000_wide_tree_from_a_goroutine),
        TEST(stress_contexts_cancelled_while_done_selected_on),
        TEST(stress_children_made_while_parent_cancels_are_cancelled),
        TEST(stress_timeouts_racing_cancel),
        TEST(stress_after_func_stop_racing_cancel),
        TEST_EXIT(signal_context_stop_restores_default_action),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
