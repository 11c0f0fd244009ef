/* 08-context-timeout: a deadline that cuts off a slow operation, a tree of
 * contexts where cancelling flows down and never up, a child's deadline
 * bounded by its parent's, and values looked up through the tree.
 *
 * The Go it mirrors:
 *
 *     func slowOp(ctx context.Context, work time.Duration) error {
 *         select {
 *         case <-time.After(work): // the work finished
 *             return nil
 *         case <-ctx.Done():       // we were told to give up
 *             return ctx.Err()
 *         }
 *     }
 *
 *     func main() {
 *         ctx, cancel := context.WithTimeout(context.Background(), timeout)
 *         defer cancel()
 *         fmt.Println(slowOp(ctx, work))       // context deadline exceeded
 *
 *         root, cancelRoot := context.WithCancel(context.Background())
 *         a, cancelA := context.WithCancel(root)
 *         a1, _ := context.WithCancel(a)
 *         b, _ := context.WithCancel(root)
 *         cancelA()                            // a and a1 stop; root and b go on
 *         cancelRoot()                         // root and b stop too
 *
 *         parent, _ := context.WithTimeout(context.Background(), 100*time.Millisecond)
 *         child, _ := context.WithTimeout(parent, time.Second)
 *         d, _ := child.Deadline()             // the parent's: the earlier one wins
 *
 *         ctx = context.WithValue(ctx, requestIDKey, "req-42")
 *         ctx.Value(requestIDKey)              // found by walking up the parents
 *     }
 *
 * Break it:
 *   --break  the slow operation ignores its context (a plain time.Sleep):
 *            it finishes its work long after the deadline, and we measure how long
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/go.h"
#include "common/select.h"
#include "common/timer.h"

static double ms(duration d) {
    return (double)d / (double)MILLISECOND;
}

/* Returns NULL when the work finished, or the context's error. */
static const char *slow_op(context *ctx, duration work, bool ignore_ctx) {
    if (ignore_ctx) {
        time_sleep(work); /* WRONG: deaf to ctx, it runs to the end */
        return NULL;
    }
    chan *finished = time_after(work);
    select_case cases[] = {select_recv(finished, NULL), select_recv(ctx_done(ctx), NULL)};
    int i = chan_select(cases, 2);
    chan_free(finished);
    return i == 0 ? NULL : ctx_err(ctx);
}

static void run_with_timeout(const char *what, duration work, duration timeout, bool broken) {
    instant start = time_now(), deadline;
    context *ctx = ctx_with_timeout(ctx_background(), timeout);
    ctx_deadline(ctx, &deadline);
    const char *err = slow_op(ctx, work, broken);
    instant end = time_now();
    printf("timeout: %s (%.0fms of work, %.0fms timeout): %s after %.0fms", what, ms(work),
           ms(timeout), err ? err : "finished", ms(end - start));
    /* The deadline never fires early; how late the operation returns is up
     * to the operation: a prompt one returns right at the deadline. */
    if (end >= deadline)
        printf(", %.1fms past the deadline", ms(end - deadline));
    else if (err)
        printf(", %.1fms BEFORE the deadline (a bug!)", ms(deadline - end));
    printf("\n");
    ctx_free(ctx); /* defer cancel(): frees the timer even when it never fired */
}

/* One goroutine per context of the tree, each waiting for its Done. */
typedef struct node {
    const char *name;
    context *ctx;
    chan *stopped; /* where it reports its index once its context is done */
    int index;
} node;

static void watch(void *p) {
    node *n = p;
    chan *stopped = n->stopped;
    int index = n->index;
    chan_recv(ctx_done(n->ctx), NULL);
    chan_send(stopped, &index); /* after this, main may free everything */
}

static void report(const char *step, node *tree, int n, int expect) {
    bool stopped[4] = {false};
    for (int i = 0; i < expect; i++) { /* wait for exactly the ones that must stop */
        int index;
        chan_recv(tree[0].stopped, &index);
        stopped[index] = true;
    }
    printf("tree: %-13s stopped:", step);
    for (int i = 0; i < n; i++)
        if (stopped[i])
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
    chan *stopped = chan_make(sizeof(int), 4);
    node tree[4];
    tree[0] = (node){"root", ctx_with_cancel(ctx_background()), stopped, 0};
    tree[1] = (node){"a", ctx_with_cancel(tree[0].ctx), stopped, 1};
    tree[2] = (node){"a1", ctx_with_cancel(tree[1].ctx), stopped, 2};
    tree[3] = (node){"b", ctx_with_cancel(tree[0].ctx), stopped, 3};
    for (int i = 0; i < 4; i++)
        go(watch, &tree[i]);
    printf("tree: root -> a -> a1, root -> b; a goroutine watches each\n");
    ctx_cancel(tree[1].ctx); /* a child: its subtree stops, its parent does not */
    report("cancel(a):", tree, 4, 2);
    ctx_cancel(tree[0].ctx); /* the root: everything below it stops */
    report("cancel(root):", tree, 4, 2);
    for (int i = 3; i >= 0; i--) /* any order: a child keeps its parent alive */
        ctx_free(tree[i].ctx);
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

static const char usage[] =
    "usage: 08-context-timeout [--timeout DURATION] [--work DURATION] [--break] [-h]";

static int usage_error(const char *what, const char *arg) {
    fprintf(stderr, "08-context-timeout: %s '%s'; %s\n", what, arg, usage);
    return 2;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    duration timeout = 50 * MILLISECOND, work = 200 * MILLISECOND;
    bool broken = false;
    static const struct option flags[] = {
        {"timeout", required_argument, NULL, 't'},
        {"work", required_argument, NULL, 'w'},
        {"break", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    for (int opt; (opt = getopt_long(argc, argv, "h", flags, NULL)) != -1;) {
        duration *d;
        switch (opt) {
        case 't':
            d = &timeout;
            break;
        case 'w':
            d = &work;
            break;
        case 'b':
            broken = true;
            continue;
        case 'h':
            printf("%s\n\n"
                   "Runs a slow operation, then a fast one (a fifth of the timeout), each under\n"
                   "the timeout; then shows a cancel tree, bounded deadlines and values.\n"
                   "  --timeout DURATION  deadline of each operation, 1us..10s (default 50ms)\n"
                   "  --work DURATION     time the slow operation takes, 1us..10s (default 200ms)\n"
                   "  --break             the slow operation ignores its context\n"
                   "  -h, --help          this help\n",
                   usage);
            return 0;
        default:
            return usage_error("unknown flag or missing value", argv[optind - 1]);
        }
        if (!duration_parse(optarg, d) || *d <= 0 || *d > 10 * SECOND)
            return usage_error("durations run from 1us to 10s, such as 50ms; not", optarg);
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);

    run_with_timeout("slow operation", work, timeout, broken);
    run_with_timeout("fast operation", timeout / 5, timeout, false);
    cancel_tree();
    bounded_deadlines();
    values();
    return 0;
}
