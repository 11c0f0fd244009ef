/* errgroup.c: golang.org/x/sync/errgroup, built on a WaitGroup, a context
 * and, for a limit, a buffered channel used as a semaphore (one token per
 * active goroutine), exactly as the Go package does.
 *
 * Invariants:
 * - wg counts the goroutines started and not finished; with a limit, sem
 *   holds one token for each of them, taken before the start and given back
 *   after the function returned.
 * - err goes from NULL to the first error once, under mu, and never changes.
 *
 * Locking order: mu alone, never held while the context is cancelled or a
 * channel is used.
 */
#include "common/errgroup.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/go.h"
#include "common/internal/panic.h"
#include "common/select.h"
#include "common/sync.h"

struct errgroup {
    waitgroup wg;
    chan *sem;          /* NULL: no limit; else a token per active goroutine */
    pthread_mutex_t mu; /* guards err */
    const char *err;    /* the first error */
    context *ctx;       /* NULL without a context */
};

struct task {
    errgroup *g;
    errgroup_fn fn;
    void *arg;
};

errgroup *errgroup_new(void) {
    errgroup *g = xcalloc(1, sizeof *g);
    wg_init(&g->wg);
    pthread_mutex_init(&g->mu, NULL);
    return g;
}

errgroup *errgroup_with_context(context *parent, context **ctx) {
    errgroup *g = errgroup_new();
    g->ctx = ctx_with_cancel(parent);
    *ctx = g->ctx;
    return g;
}

void errgroup_set_limit(errgroup *g, int n) {
    if (g->sem && chan_len(g->sem) != 0) {
        char msg[120];
        snprintf(msg, sizeof msg,
                 "errgroup: modify limit while %zu goroutines in the group are still active",
                 chan_len(g->sem));
        go_panic(msg);
    }
    chan_free(g->sem);
    g->sem = n < 0 ? NULL : chan_make(1, (size_t)n);
}

static void run(void *p) {
    struct task *t = p;
    errgroup *g = t->g;
    const char *err = t->fn(t->arg);
    free(t);
    if (err) {
        pthread_mutex_lock(&g->mu);
        bool first = g->err == NULL;
        if (first)
            g->err = err;
        pthread_mutex_unlock(&g->mu);
        if (first && g->ctx)
            ctx_cancel_cause(g->ctx, err); /* the others learn why: ctx_cause */
    }
    if (g->sem)
        chan_recv(g->sem, NULL);
    wg_done(&g->wg);
}

static void start(errgroup *g, errgroup_fn fn, void *arg) {
    struct task *t = xmalloc(sizeof *t);
    *t = (struct task){.g = g, .fn = fn, .arg = arg};
    wg_add(&g->wg, 1);
    go_named(run, t, "a function of errgroup_go");
}

void errgroup_go(errgroup *g, errgroup_fn fn, void *arg) {
    if (g->sem) {
        unsigned char token = 0;
        chan_send(g->sem, &token);
    }
    start(g, fn, arg);
}

bool errgroup_try_go(errgroup *g, errgroup_fn fn, void *arg) {
    if (g->sem) {
        unsigned char token = 0;
        select_case c[] = {select_send(g->sem, &token)};
        if (chan_select_default(c, 1) == SELECT_DEFAULT)
            return false;
    }
    start(g, fn, arg);
    return true;
}

const char *errgroup_wait(errgroup *g) {
    wg_wait(&g->wg);
    pthread_mutex_lock(&g->mu);
    const char *err = g->err;
    pthread_mutex_unlock(&g->mu);
    if (g->ctx)
        ctx_cancel_cause(g->ctx, err); /* NULL: context_canceled */
    return err;
}

void errgroup_free(errgroup *g) {
    if (!g)
        return;
    ctx_free(g->ctx);
    chan_free(g->sem);
    pthread_mutex_destroy(&g->mu);
    free(g);
}
