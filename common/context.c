/* context.c: Go's context package and signal.NotifyContext.
 *
 * Three kinds of context: background (a static singleton), value (a key and
 * a value over a parent), and cancel (a done channel and an error; deadline
 * and signal contexts are cancel contexts with a timer or a signal
 * registration). A cancel context registers with its nearest cancel
 * ancestor, which cancels it along with itself.
 *
 * Invariants:
 * - err goes from NULL to an error once, under mu, in the same critical
 *   section that closes done; it never changes again.
 * - A context is in its ancestor's children list exactly while its
 *   `registered` is true; both are guarded by the ancestor's mu. The list
 *   holds a reference to each child.
 * - References: the caller's (ctx_free), each child's on its parent, the
 *   ancestor's list, an armed deadline timer's, the signal registry's. refs
 *   never goes below zero: the last one frees the context.
 *
 * Locking order: a context's mu, then the timer heap's (a deadline is armed
 * under mu), then a channel's lock (done is closed under mu). Never two
 * contexts' mu at once: cancel takes the children list out under mu and
 * cancels them after letting go. The signal registry lock is never held while
 * a context is cancelled.
 */
#include "common/context.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/internal/runtime.h"
#include "common/internal/timer_internal.h"

const char context_canceled[] = "context canceled";
const char deadline_exceeded[] = "context deadline exceeded";

enum ctx_kind { CTX_BACKGROUND, CTX_VALUE, CTX_CANCEL };

#define MAX_SIGNALS 8

struct context {
    enum ctx_kind kind;
    atomic_int refs;
    context *parent; /* holds a reference; NULL for background */
    const void *key; /* value contexts */
    void *value;
    context *ancestor;  /* cancel: the nearest cancel ancestor, or NULL */
    pthread_mutex_t mu; /* cancel: guards err's change, children and the
                           registered flag of every child */
    chan *done;         /* cancel: closed when cancelled */
    _Atomic(const char *) err;
    context *children;    /* cancel: first child in the list */
    context *prev, *next; /* in the ancestor's list */
    bool registered;      /* in the ancestor's list (guarded by ancestor->mu) */
    bool has_deadline;
    instant deadline;
    struct timer_entry timer; /* deadline contexts: fires the cancel */
    int signals[MAX_SIGNALS]; /* signal contexts: 0-terminated */
    bool notifying;           /* in the signal registry (guarded by sig_mu) */
    context *sig_next;        /* in the signal registry */
};

static context background = {.kind = CTX_BACKGROUND};

context *ctx_background(void) {
    return &background;
}

static void ctx_unref(context *ctx) {
    while (ctx && ctx->kind != CTX_BACKGROUND) {
        int refs = atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel);
        if (refs != 1) {
            RT_CHECK(refs > 1, "context: reference count below zero");
            return;
        }
        context *parent = ctx->parent;
        if (ctx->kind == CTX_CANCEL) {
            chan_free(ctx->done);
            pthread_mutex_destroy(&ctx->mu);
        }
        free(ctx);
        ctx = parent;
    }
}

static context *ctx_new(context *parent, enum ctx_kind kind) {
    if (!parent)
        go_panic("cannot create context from nil parent");
    context *ctx = xcalloc(1, sizeof *ctx);
    ctx->kind = kind;
    atomic_init(&ctx->refs, 1);
    if (parent->kind != CTX_BACKGROUND)
        atomic_fetch_add(&parent->refs, 1);
    ctx->parent = parent;
    return ctx;
}

static context *cancel_ancestor(context *ctx) {
    while (ctx && ctx->kind == CTX_VALUE)
        ctx = ctx->parent;
    return ctx && ctx->kind == CTX_CANCEL ? ctx : NULL;
}

static void unregister_signals(context *ctx);
static void deadline_fired(void *arg);
static void cancel(context *ctx, const char *err, bool detach);

static void deadline_fired(void *arg) {
    context *ctx = arg;
    cancel(ctx, deadline_exceeded, true);
    ctx_unref(ctx); /* the timer's reference */
}

/* Cancels ctx and its descendants with err. detach: also leave the
 * ancestor's list (not when the ancestor itself is cancelling us). */
static void cancel(context *ctx, const char *err, bool detach) {
    pthread_mutex_lock(&ctx->mu);
    if (atomic_load(&ctx->err)) {
        pthread_mutex_unlock(&ctx->mu);
        return;
    }
    atomic_store(&ctx->err, err);
    chan_close(ctx->done);
    context *child = ctx->children;
    ctx->children = NULL;
    for (context *c = child; c; c = c->next)
        c->registered = false;
    pthread_mutex_unlock(&ctx->mu);

    while (child) {
        context *next = child->next;
        cancel(child, err, false);
        ctx_unref(child);
        child = next;
    }
    if (ctx->has_deadline && timer_entry_stop(&ctx->timer))
        ctx_unref(ctx); /* the timer's reference: it will not fire now */
    if (detach && ctx->ancestor) {
        context *a = ctx->ancestor;
        bool was = false;
        pthread_mutex_lock(&a->mu);
        if (ctx->registered) {
            if (ctx->prev)
                ctx->prev->next = ctx->next;
            else
                a->children = ctx->next;
            if (ctx->next)
                ctx->next->prev = ctx->prev;
            ctx->registered = false;
            was = true;
        }
        pthread_mutex_unlock(&a->mu);
        if (was)
            ctx_unref(ctx);
    }
}

/* Makes a cancel context under parent and joins its ancestor's list, or is
 * cancelled at once if the ancestor already is. Everything another thread may
 * read (the deadline, the timer, the signals) is set before the context is
 * published in the list. */
static context *cancel_ctx_new(context *parent, const instant *deadline, const int *signals) {
    context *ctx = ctx_new(parent, CTX_CANCEL);
    pthread_mutex_init(&ctx->mu, NULL);
    ctx->done = chan_make(1, 0);
    ctx->ancestor = cancel_ancestor(parent);
    ctx->timer.heap_index = SIZE_MAX;
    if (deadline) {
        ctx->has_deadline = true;
        ctx->deadline = *deadline;
        ctx->timer.when = *deadline;
        ctx->timer.fn = deadline_fired;
        ctx->timer.arg = ctx;
    }
    if (signals)
        memcpy(ctx->signals, signals, sizeof ctx->signals);
    context *a = ctx->ancestor;
    if (!a)
        return ctx;
    pthread_mutex_lock(&a->mu);
    const char *err = atomic_load(&a->err);
    if (!err) {
        atomic_fetch_add(&ctx->refs, 1);
        ctx->next = a->children;
        if (a->children)
            a->children->prev = ctx;
        a->children = ctx;
        ctx->registered = true;
    }
    pthread_mutex_unlock(&a->mu);
    if (err)
        cancel(ctx, err, false);
    return ctx;
}

context *ctx_with_cancel(context *parent) {
    return cancel_ctx_new(parent, NULL, NULL);
}

context *ctx_with_deadline(context *parent, instant deadline) {
    instant inherited;
    if (ctx_deadline(parent, &inherited) && inherited <= deadline)
        return cancel_ctx_new(parent, NULL, NULL); /* the parent's deadline comes first */
    context *ctx = cancel_ctx_new(parent, &deadline, NULL);
    if (deadline <= time_now()) {
        cancel(ctx, deadline_exceeded, true);
        return ctx;
    }
    /* Armed under mu, so that a cancel racing with us either finds it armed
     * (and stops it) or keeps it from being armed. */
    pthread_mutex_lock(&ctx->mu);
    if (!atomic_load(&ctx->err)) {
        atomic_fetch_add(&ctx->refs, 1);
        timer_entry_start(&ctx->timer);
    }
    pthread_mutex_unlock(&ctx->mu);
    return ctx;
}

context *ctx_with_timeout(context *parent, duration d) {
    return ctx_with_deadline(parent, time_now() + d);
}

context *ctx_with_value(context *parent, const void *key, void *value) {
    if (!key)
        go_panic("nil key");
    context *ctx = ctx_new(parent, CTX_VALUE);
    ctx->key = key;
    ctx->value = value;
    return ctx;
}

chan *ctx_done(context *ctx) {
    ctx = cancel_ancestor(ctx);
    return ctx ? ctx->done : NULL;
}

const char *ctx_err(context *ctx) {
    ctx = cancel_ancestor(ctx);
    if (!ctx)
        return NULL;
    /* Under mu, as Go's Err: err is set and done closed in one critical
     * section, so a non-NULL err means done is closed, and the other way. */
    pthread_mutex_lock(&ctx->mu);
    const char *err = atomic_load(&ctx->err);
    pthread_mutex_unlock(&ctx->mu);
    return err;
}

bool ctx_deadline(context *ctx, instant *deadline) {
    for (; ctx; ctx = ctx->parent) {
        if (ctx->has_deadline) {
            *deadline = ctx->deadline;
            return true;
        }
    }
    return false;
}

void *ctx_value(context *ctx, const void *key) {
    for (; ctx; ctx = ctx->parent)
        if (ctx->kind == CTX_VALUE && ctx->key == key)
            return ctx->value;
    return NULL;
}

void ctx_cancel(context *ctx) {
    if (!ctx || ctx->kind != CTX_CANCEL)
        return;
    cancel(ctx, context_canceled, true);
    unregister_signals(ctx);
}

void ctx_free(context *ctx) {
    ctx_cancel(ctx);
    ctx_unref(ctx);
}

/* Signal contexts.
 *
 * The handler only writes the signal's number to a pipe (write is
 * async-signal-safe); a thread reads the pipe and cancels the contexts
 * waiting for that signal. The registry keeps, per signal, how many contexts
 * want it: the first installs the handler, the last restores SIG_DFL. */

static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static context *sig_list;    /* contexts in the registry; guarded by sig_mu */
static int sig_wanted[NSIG]; /* guarded by sig_mu */
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig) {
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t n = write(sig_pipe[1], &b, 1);
    (void)n; /* a full pipe already holds a wake-up */
    errno = saved;
}

static bool wants(context *ctx, int sig) {
    for (int i = 0; i < MAX_SIGNALS && ctx->signals[i]; i++)
        if (ctx->signals[i] == sig)
            return true;
    return false;
}

static void *signal_thread(void *unused) {
    (void)unused;
    for (;;) {
        unsigned char b;
        ssize_t n = read(sig_pipe[0], &b, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != 1)
            go_fatal("signal pipe broken");
        /* Take references under the lock, cancel after letting it go. */
        pthread_mutex_lock(&sig_mu);
        int nhit = 0;
        for (context *c = sig_list; c; c = c->sig_next)
            nhit += wants(c, b);
        context **hit = xmalloc((size_t)nhit * sizeof *hit);
        nhit = 0;
        for (context *c = sig_list; c; c = c->sig_next) {
            if (wants(c, b)) {
                atomic_fetch_add(&c->refs, 1);
                hit[nhit++] = c;
            }
        }
        pthread_mutex_unlock(&sig_mu);
        for (int i = 0; i < nhit; i++) {
            cancel(hit[i], context_canceled, true);
            ctx_unref(hit[i]);
        }
        free(hit);
    }
    return NULL;
}

static pthread_once_t sig_once = PTHREAD_ONCE_INIT;

static void signal_thread_start(void) {
    if (pipe2(sig_pipe, O_CLOEXEC) != 0)
        go_fatal("cannot make the signal pipe");
    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The thread takes no signals itself: the handler runs on whichever
     * thread the kernel picks, and only writes to the pipe. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&tid, &attr, signal_thread, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err != 0)
        go_fatal("cannot start the signal thread");
}

static void set_action(int sig, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    /* No SA_RESTART: a goroutine asleep on its futex returns from the wait
     * with EINTR, which lets ThreadSanitizer run a handler it deferred (see
     * futex_wait in internal/os.c). Every wait in common/ loops on EINTR. */
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

context *ctx_with_signals(context *parent, ...) {
    int signals[MAX_SIGNALS] = {0};
    va_list ap;
    va_start(ap, parent);
    int n = 0, sig;
    while ((sig = va_arg(ap, int)) != 0) {
        if (sig < 1 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP || n == MAX_SIGNALS - 1)
            go_panic("ctx_with_signals: bad signal (signals end with 0, at most 7)");
        signals[n++] = sig;
    }
    va_end(ap);
    if (n == 0)
        go_panic(
            "ctx_with_signals: no signals (Go's NotifyContext with none means all; name them)");
    context *ctx = cancel_ctx_new(parent, NULL, signals);
    pthread_once(&sig_once, signal_thread_start);

    sigset_t set;
    sigemptyset(&set);
    pthread_mutex_lock(&sig_mu);
    for (int i = 0; i < n; i++) {
        if (sig_wanted[ctx->signals[i]]++ == 0)
            set_action(ctx->signals[i], on_signal);
        sigaddset(&set, ctx->signals[i]);
    }
    atomic_fetch_add(&ctx->refs, 1);
    ctx->sig_next = sig_list;
    sig_list = ctx;
    ctx->notifying = true;
    sched_waker_begin();
    pthread_mutex_unlock(&sig_mu);
    /* As Go's Notify: a signal blocked in this thread would never arrive. */
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return ctx;
}

static void unregister_signals(context *ctx) {
    if (!ctx->signals[0])
        return;
    bool was = false;
    pthread_mutex_lock(&sig_mu);
    if (ctx->notifying) {
        for (context **p = &sig_list; *p; p = &(*p)->sig_next) {
            if (*p == ctx) {
                *p = ctx->sig_next;
                break;
            }
        }
        ctx->notifying = false;
        for (int i = 0; i < MAX_SIGNALS && ctx->signals[i]; i++)
            if (--sig_wanted[ctx->signals[i]] == 0)
                set_action(ctx->signals[i], SIG_DFL);
        was = true;
    }
    pthread_mutex_unlock(&sig_mu);
    if (was) {
        sched_waker_end();
        ctx_unref(ctx);
    }
}
