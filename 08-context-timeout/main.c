/* 08-context-timeout: a context is the done channel of 05 and 07 made
 * standard. ctx_done(ctx) is the channel and ctx_cancel closes it, once,
 * however many times it is called; ctx_err says why it closed; a deadline
 * closes it by itself; contexts form a tree, where cancelling flows down and
 * never up, and a child's deadline is bounded by its parent's; and a context
 * carries a few request-scoped values, looked up through the tree.
 *
 * The Go it mirrors is main.go, beside this file (package context).
 *
 * Break it:
 *   --break  the operation sleeps, deaf to its context: it finishes its work
 *            long after the deadline, and we measure how long
 */
#include <stdbool.h>
#include <stdio.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/select.h"
#include "common/timer.h"

static const char *broken; /* --break: NULL, or "sleep" */

/* Does work that takes `work`, unless ctx is done first: returns NULL when
 * the work finished, or ctx_err(ctx). */
static const char *slow_op(context *ctx, duration work) {
    if (broken) {
        time_sleep(work); /* WRONG: deaf to ctx, it runs to the end */
        return NULL;
    }
    const char *err = NULL;
    /* practice: wait for the work (time_after) or for ctx's done channel, whichever comes first */
    chan *finished = time_after(work);
    select_case cases[] = {select_recv(finished, NULL), select_recv(ctx_done(ctx), NULL)};
    if (chan_select(cases, 2) == 1) /* we were told to give up */
        err = ctx_err(ctx);
    chan_free(finished);
    /* end practice */
    return err;
}

static double ms(duration d) {
    return (double)d / (double)MILLISECOND;
}

/* Runs slow_op under a deadline and reports how it ended. */
static void run_with_timeout(const char *what, duration work, duration timeout) {
    char w[DURATION_STRING_SIZE], t[DURATION_STRING_SIZE];
    instant start = time_now(), deadline;
    context *ctx = ctx_with_timeout(ctx_background(), timeout);
    ctx_deadline(ctx, &deadline);
    const char *err = slow_op(ctx, work);
    instant end = time_now();
    printf("timeout: %s (%s of work, %s timeout): %s after %.0fms", what, duration_string(work, w),
           duration_string(timeout, t), err ? err : "finished", ms(end - start));
    /* The deadline never fires early; how late the operation returns is up
     * to the operation: a prompt one returns right at the deadline. */
    if (end >= deadline)
        printf(", %.1fms past the deadline", ms(end - deadline));
    else if (err)
        printf(", %.1fms BEFORE the deadline (a bug!)", ms(deadline - end));
    printf("\n");
    ctx_free(ctx); /* defer cancel(): releases the timer, even when it never fired */
}

/* A context of the tree, and what its watcher needs. */
typedef struct node {
    const char *name;
    context *ctx;
    chan *stopped; /* where the watcher reports its index once ctx is done */
    int index;
} node;

/* Waits for ctx to be done, as 05's workers waited for their done channel,
 * and reports: this is how cancelling reaches a goroutine. */
static void watch(void *p) {
    node *n = p;
    /* practice: wait until n's context is done, then send n->index on n->stopped */
    chan_recv(ctx_done(n->ctx), NULL);
    chan_send(n->stopped, &n->index); /* the last thing a watcher does */
    /* end practice */
}

/* ctx_cancel has closed every done channel below it before it returns, so
 * ctx_err tells which watchers will report: wait for exactly those (never
 * for one whose context runs on), then list them, and the ones running. */
static void report(const char *step, node *tree, int n, bool *reported) {
    bool now[8] = {false};
    int want = 0;
    for (int i = 0; i < n; i++)
        if (ctx_err(tree[i].ctx) && !reported[i])
            want++;
    for (; want > 0; want--) {
        int i;
        chan_recv(tree[0].stopped, &i);
        now[i] = reported[i] = true;
    }
    printf("tree: %-13s stopped:", step);
    for (int i = 0; i < n; i++)
        if (now[i])
            printf(" %s (%s)", tree[i].name, ctx_err(tree[i].ctx));
    printf("; running:");
    int running = 0;
    for (int i = 0; i < n; i++)
        if (!ctx_err(tree[i].ctx)) {
            printf(" %s", tree[i].name);
            running++;
        }
    printf("%s\n", running ? "" : " none");
}

static void cancel_tree(void) {
    context *root = ctx_with_cancel(ctx_background());
    context *a = ctx_with_cancel(root);
    context *a1 = ctx_with_cancel(a);
    context *b = ctx_with_cancel(root);
    chan *stopped = chan_make(sizeof(int), 4);
    node tree[] = {{"root", root, stopped, 0},
                   {"a", a, stopped, 1},
                   {"a1", a1, stopped, 2},
                   {"b", b, stopped, 3}};
    for (int i = 0; i < 4; i++)
        go(watch, &tree[i]);
    printf("tree: root -> a -> a1, root -> b; a goroutine watches each\n");
    bool reported[4] = {false};
    ctx_cancel(a); /* a child: its subtree stops, its parent does not */
    report("cancel(a):", tree, 4, reported);
    ctx_cancel(root); /* the root: everything below it stops */
    report("cancel(root):", tree, 4, reported);
    /* Every watcher has reported, its last act: nothing uses the tree now.
     * ctx_free is Go's deferred cancel(), and releases; in any order, as a
     * child keeps its parent alive. */
    ctx_free(b);
    ctx_free(a1);
    ctx_free(a);
    ctx_free(root);
    chan_free(stopped);
}

static void bounded_deadlines(void) {
    context *parent = ctx_with_timeout(ctx_background(), 100 * MILLISECOND);
    context *longer = ctx_with_timeout(parent, SECOND);
    context *shorter = ctx_with_timeout(parent, 20 * MILLISECOND);
    instant p, l, s;
    ctx_deadline(parent, &p);
    ctx_deadline(longer, &l);
    ctx_deadline(shorter, &s);
    printf("deadline: parent 100ms; child asking 1s gets the parent's deadline: %s; "
           "child asking 20ms keeps its own: %s\n",
           l == p ? "yes" : "no", s < p ? "yes" : "no");
    chan_recv(ctx_done(longer), NULL);
    printf("deadline: the 1s child ends with its parent (not before its deadline: %s): %s\n",
           time_now() >= p ? "yes" : "no", ctx_err(longer));
    ctx_free(shorter);
    ctx_free(longer);
    ctx_free(parent);
}

/* Keys are compared by address: each key is a variable of our own, so no
 * other package can collide with it (Go uses an unexported key type). */
static const char request_id_key = 0, user_key = 0, unknown_key = 0;

static void values(void) {
    context *req = ctx_with_value(ctx_background(), &request_id_key, "req-42");
    context *user = ctx_with_value(req, &user_key, "gopher");
    context *work = ctx_with_cancel(user); /* values pass through any kind of context */
    context *retry = ctx_with_value(work, &request_id_key, "req-42-retry");
    printf("values: from the bottom: request-id=%s user=%s; unknown key: %s\n",
           (char *)ctx_value(work, &request_id_key), (char *)ctx_value(work, &user_key),
           ctx_value(work, &unknown_key) ? "found" : "(nil)");
    printf("values: a child that sets request-id again sees %s, its parents still see %s\n",
           (char *)ctx_value(retry, &request_id_key), (char *)ctx_value(work, &request_id_key));
    ctx_free(retry);
    ctx_free(work);
    ctx_free(user);
    ctx_free(req);
}

/* Go's flag package has no range for a duration: checked after parsing. */
static void check_range(const char *name, duration d) {
    char buf[DURATION_STRING_SIZE];
    if (d < MICROSECOND || d > 10 * SECOND)
        flag_fail("invalid value \"%s\" for flag -%s: must be 1us..10s", duration_string(d, buf),
                  name);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    duration timeout, work;
    flag_duration(&timeout, "timeout", 50 * MILLISECOND,
                  "the deadline of each operation, 1us..10s");
    flag_duration(&work, "work", 200 * MILLISECOND, "the time the slow operation takes, 1us..10s");
    flag_mode(&broken, "break", "sleep", "the operation sleeps, deaf to its context");
    flag_parse(argc, argv);
    check_range("timeout", timeout);
    check_range("work", work);
    if (flag_nargs() > 0)
        flag_fail("unexpected argument: %s", flag_args()[0]);

    run_with_timeout("slow operation", work, timeout);
    run_with_timeout("fast operation", timeout / 5, timeout); /* done well before the deadline */
    cancel_tree();
    bounded_deadlines();
    values();
    return 0;
}
