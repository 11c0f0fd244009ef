/* context.c: Go's context package (Go 1.21) and signal.NotifyContext.
 *
 * Kinds of context: background (a static singleton), value (a key and a
 * value over a parent), without-cancel (a parent's values, none of its
 * cancellation), cancel (a done channel, an error and a cause; deadline and
 * signal contexts are cancel contexts with a timer or a signal registration),
 * and after-func (a cancel context with no done channel whose cancellation
 * starts a function). A cancel or after-func context registers with its
 * nearest cancel ancestor, which cancels it along with itself.
 *
 * Invariants:
 * - err and cause go from NULL to their values once, under mu, in the same
 *   critical section that closes done; they never change again.
 * - A context is in its ancestor's children list exactly while its
 *   `registered` is true; both are guarded by the ancestor's mu. The list
 *   holds a reference to each child.
 * - A cancellation takes each cancelled context's children list out under
 *   its mu and moves the children onto its worklist (next_work), with the
 *   list's reference: a context is on at most one worklist, since it was in
 *   one list only. So cancelling never recurses, however deep the tree.
 * - An after-func's f is started at most once: whoever first sets
 *   after_claimed (its cancellation, or ctx_after_stop) decides.
 * - References: the caller's (ctx_free, ctx_after_free), each child's on its
 *   parent, the ancestor's list, an armed deadline timer's, the signal
 *   registry's. refs never goes below zero: the last one frees the context.
 *
 * Locking order: a context's mu, then the timer heap's (a deadline is armed
 * under mu), then a channel's lock (done is closed under mu). Never two
 * contexts' mu at once: cancel takes the children list out under mu and
 * cancels them after letting go. The signal registry lock is never held while
 * a context is cancelled. No goroutine is started under a lock.
 */
#include "common/context.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/internal/os.h"
#include "common/internal/runtime.h"
#include "common/internal/timer_internal.h"

const char context_canceled[] = "context canceled";
const char deadline_exceeded[] = "context deadline exceeded";

enum ctx_kind { CTX_BACKGROUND, CTX_VALUE, CTX_WITHOUT_CANCEL, CTX_CANCEL, CTX_AFTER };

#define MAX_SIGNALS 8

struct context {
    enum ctx_kind kind;
    atomic_int refs;
    context *parent; /* holds a reference; NULL for background */
    const void *key; /* value contexts */
    void *value;
    context *ancestor;  /* cancel, after-func: the nearest cancel ancestor, or NULL */
    pthread_mutex_t mu; /* cancel, after-func: guards err's and cause's change,
                           children and the registered flag of every child */
    chan *done;         /* cancel: closed when cancelled (after-func: NULL) */
    _Atomic(const char *) err;
    const char *cause;    /* set with err, under mu */
    context *children;    /* first child in the list */
    context *prev, *next; /* in the ancestor's list */
    bool registered;      /* in the ancestor's list (guarded by ancestor->mu) */
    context *next_work;   /* on a cancellation's worklist (its canceller's) */
    bool has_deadline;    /* deadline contexts: */
    instant deadline;     /* when the timer fires the cancel, */
    const char *dl_cause; /* with this cause (NULL: deadline_exceeded) */
    struct timer_entry timer;
    int signals[MAX_SIGNALS]; /* signal contexts: 0-terminated */
    bool notifying;           /* in the signal registry (guarded by sig_mu) */
    context *sig_next;        /* in the signal registry */
    void (*after_fn)(void *); /* after-func contexts: f and its arg, */
    void *after_arg;
    atomic_bool after_claimed; /* set by whoever decides f's fate */
};

static context background = {.kind = CTX_BACKGROUND};

context *ctx_background(void) {
    return &background;
}

static bool has_mu(const context *ctx) {
    return ctx->kind == CTX_CANCEL || ctx->kind == CTX_AFTER;
}

static void ctx_unref(context *ctx) {
    while (ctx && ctx->kind != CTX_BACKGROUND) {
        int refs = atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel);
        if (refs != 1) {
            RT_CHECK(refs > 1, "context: reference count below zero");
            return;
        }
        context *parent = ctx->parent;
        if (has_mu(ctx)) {
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

/* The context whose cancellation ctx shares: itself or the nearest cancel
 * context above it through value contexts; NULL below background or a
 * without-cancel context. */
static context *cancel_ancestor(context *ctx) {
    while (ctx && ctx->kind == CTX_VALUE)
        ctx = ctx->parent;
    return ctx && ctx->kind == CTX_CANCEL ? ctx : NULL;
}

static void unregister_signals(context *ctx);
static void cancel(context *ctx, const char *err, const char *cause, bool detach_it);

static void deadline_fired(void *arg) {
    context *ctx = arg;
    cancel(ctx, deadline_exceeded, ctx->dl_cause, true);
    ctx_unref(ctx); /* the timer's reference */
}

/* Marks ctx cancelled with err and cause and moves its children onto *work,
 * each with the reference its list held. Returns false if ctx was done
 * already. */
static bool cancel_one(context *ctx, const char *err, const char *cause, context **work) {
    pthread_mutex_lock(&ctx->mu);
    if (atomic_load(&ctx->err)) {
        pthread_mutex_unlock(&ctx->mu);
        return false;
    }
    ctx->cause = cause;
    atomic_store(&ctx->err, err);
    if (ctx->done)
        chan_close(ctx->done);
    for (context *c = ctx->children; c; c = c->next) {
        c->registered = false;
        c->next_work = *work;
        *work = c;
    }
    ctx->children = NULL;
    pthread_mutex_unlock(&ctx->mu);
    return true;
}

/* What a cancellation does outside ctx's lock: stop its deadline's timer,
 * start its after-func. The caller holds a reference to ctx. */
static void cancelled(context *ctx) {
    if (ctx->has_deadline && timer_entry_stop(&ctx->timer))
        ctx_unref(ctx); /* the timer's reference: it will not fire now */
    if (ctx->kind == CTX_AFTER && !atomic_exchange(&ctx->after_claimed, true))
        go_spawn(ctx->after_fn, ctx->after_arg, "a function of ctx_after_func", NULL, NULL);
}

/* Takes ctx out of its ancestor's list, if it is still there. */
static void detach(context *ctx) {
    context *a = ctx->ancestor;
    if (!a)
        return;
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
        ctx_unref(ctx); /* the list's reference */
}

/* Cancels ctx and its descendants with err and cause (NULL: err), depth
 * first from a worklist. detach: also leave the ancestor's list (not when the
 * ancestor itself is cancelling us). The caller holds a reference to ctx. */
static void cancel(context *ctx, const char *err, const char *cause, bool detach_it) {
    if (!cause)
        cause = err;
    context *work = NULL;
    if (!cancel_one(ctx, err, cause, &work))
        return;
    cancelled(ctx);
    if (detach_it)
        detach(ctx);
    while (work) {
        context *c = work;
        work = c->next_work;
        if (cancel_one(c, err, cause, &work))
            cancelled(c);
        ctx_unref(c); /* the list's reference, which the worklist took over */
    }
}

/* Makes a cancel or after-func context under parent and joins its
 * ancestor's list, or is cancelled at once (with the ancestor's err and
 * cause) if the ancestor already is. Everything another thread may read (the
 * deadline, the timer, the signals, the function) is set before the context
 * is published in the list: by the caller through init(ctx, init_arg). */
static context *cancel_ctx_new(context *parent, enum ctx_kind kind, void (*init)(context *, void *),
                               void *init_arg) {
    context *ctx = ctx_new(parent, kind);
    pthread_mutex_init(&ctx->mu, NULL);
    if (kind == CTX_CANCEL)
        ctx->done = chan_make(1, 0);
    ctx->ancestor = cancel_ancestor(parent);
    ctx->timer.heap_index = SIZE_MAX;
    if (init)
        init(ctx, init_arg);
    context *a = ctx->ancestor;
    if (!a)
        return ctx;
    pthread_mutex_lock(&a->mu);
    const char *err = atomic_load(&a->err), *cause = a->cause;
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
        cancel(ctx, err, cause, false);
    return ctx;
}

context *ctx_with_cancel(context *parent) {
    return cancel_ctx_new(parent, CTX_CANCEL, NULL, NULL);
}

context *ctx_with_cancel_cause(context *parent) {
    return ctx_with_cancel(parent);
}

struct deadline_init {
    instant deadline;
    const char *cause;
};

static void init_deadline(context *ctx, void *arg) {
    struct deadline_init *d = arg;
    ctx->has_deadline = true;
    ctx->deadline = d->deadline;
    ctx->dl_cause = d->cause;
    ctx->timer.when = d->deadline;
    ctx->timer.fn = deadline_fired;
    ctx->timer.arg = ctx;
}

context *ctx_with_deadline_cause(context *parent, instant deadline, const char *cause) {
    instant inherited;
    if (ctx_deadline(parent, &inherited) && inherited < deadline)
        return ctx_with_cancel(parent); /* the parent's deadline comes first */
    struct deadline_init d = {deadline, cause};
    context *ctx = cancel_ctx_new(parent, CTX_CANCEL, init_deadline, &d);
    if (deadline <= time_now()) {
        cancel(ctx, deadline_exceeded, cause, true);
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

context *ctx_with_deadline(context *parent, instant deadline) {
    return ctx_with_deadline_cause(parent, deadline, NULL);
}

context *ctx_with_timeout_cause(context *parent, duration d, const char *cause) {
    instant now = time_now();
    return ctx_with_deadline_cause(parent, d > INT64_MAX - now ? INT64_MAX : now + d, cause);
}

context *ctx_with_timeout(context *parent, duration d) {
    return ctx_with_timeout_cause(parent, d, NULL);
}

context *ctx_with_value(context *parent, const void *key, void *value) {
    if (!key)
        go_panic("nil key");
    context *ctx = ctx_new(parent, CTX_VALUE);
    ctx->key = key;
    ctx->value = value;
    return ctx;
}

context *ctx_without_cancel(context *parent) {
    return ctx_new(parent, CTX_WITHOUT_CANCEL);
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

const char *ctx_cause(context *ctx) {
    ctx = cancel_ancestor(ctx);
    if (!ctx)
        return NULL;
    pthread_mutex_lock(&ctx->mu);
    const char *cause = ctx->cause;
    pthread_mutex_unlock(&ctx->mu);
    return cause;
}

bool ctx_deadline(context *ctx, instant *deadline) {
    for (; ctx && ctx->kind != CTX_WITHOUT_CANCEL; ctx = ctx->parent) {
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

void ctx_cancel_cause(context *ctx, const char *cause) {
    if (!ctx || ctx->kind != CTX_CANCEL)
        return;
    cancel(ctx, context_canceled, cause, true);
    unregister_signals(ctx);
}

void ctx_cancel(context *ctx) {
    ctx_cancel_cause(ctx, NULL);
}

void ctx_free(context *ctx) {
    ctx_cancel(ctx);
    ctx_unref(ctx);
}

/* After-funcs. The handle is the context itself, under another name. */

static context *after_ctx(ctx_after *a) {
    return (context *)(void *)a;
}

struct after_init {
    void (*f)(void *);
    void *arg;
};

static void init_after(context *ctx, void *arg) {
    struct after_init *a = arg;
    ctx->after_fn = a->f;
    ctx->after_arg = a->arg;
}

ctx_after *ctx_after_func(context *ctx, void (*f)(void *arg), void *arg) {
    if (!f)
        go_panic("context: AfterFunc with a nil function");
    struct after_init a = {f, arg};
    return (ctx_after *)(void *)cancel_ctx_new(ctx, CTX_AFTER, init_after, &a);
}

bool ctx_after_stop(ctx_after *h) {
    context *a = after_ctx(h);
    if (atomic_exchange(&a->after_claimed, true))
        return false;                        /* started, or stopped before */
    cancel(a, context_canceled, NULL, true); /* leaves the ancestor's list */
    return true;
}

void ctx_after_free(ctx_after *h) {
    if (h)
        ctx_unref(after_ctx(h));
}

/* Signal contexts.
 *
 * The handler only writes the signal's number to a pipe (write is
 * async-signal-safe); a thread reads the pipe and cancels the contexts
 * waiting for that signal. The registry keeps, per signal, how many contexts
 * want it: the first installs the handler and keeps the disposition it
 * found, the last puts that one back (Go's signal.Stop). */

static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static context *sig_list;                /* contexts in the registry; guarded by sig_mu */
static int sig_wanted[NSIG];             /* guarded by sig_mu */
static struct sigaction sig_found[NSIG]; /* what the first one found; guarded by sig_mu */
static int sig_pipe[2] = {-1, -1};

/* Go's names of the signals (syscall's table), as "<name> signal received",
 * os/signal's cause. */
static const char *const sig_causes[] = {
    [SIGHUP] = "hangup signal received",
    [SIGINT] = "interrupt signal received",
    [SIGQUIT] = "quit signal received",
    [SIGILL] = "illegal instruction signal received",
    [SIGTRAP] = "trace/breakpoint trap signal received",
    [SIGABRT] = "aborted signal received",
    [SIGBUS] = "bus error signal received",
    [SIGFPE] = "floating point exception signal received",
    [SIGKILL] = "killed signal received",
    [SIGUSR1] = "user defined signal 1 signal received",
    [SIGSEGV] = "segmentation fault signal received",
    [SIGUSR2] = "user defined signal 2 signal received",
    [SIGPIPE] = "broken pipe signal received",
    [SIGALRM] = "alarm clock signal received",
    [SIGTERM] = "terminated signal received",
    [SIGSTKFLT] = "stack fault signal received",
    [SIGCHLD] = "child exited signal received",
    [SIGCONT] = "continued signal received",
    [SIGSTOP] = "stopped (signal) signal received",
    [SIGTSTP] = "stopped signal received",
    [SIGTTIN] = "stopped (tty input) signal received",
    [SIGTTOU] = "stopped (tty output) signal received",
    [SIGURG] = "urgent I/O condition signal received",
    [SIGXCPU] = "CPU time limit exceeded signal received",
    [SIGXFSZ] = "file size limit exceeded signal received",
    [SIGVTALRM] = "virtual timer expired signal received",
    [SIGPROF] = "profiling timer expired signal received",
    [SIGWINCH] = "window changed signal received",
    [SIGIO] = "I/O possible signal received",
    [SIGPWR] = "power failure signal received",
    [SIGSYS] = "bad system call signal received",
};
/* The others (real-time signals) as Go names them: "signal 34". */
static char sig_other_causes[NSIG][40];
static pthread_once_t sig_causes_once = PTHREAD_ONCE_INIT;

static void sig_causes_init(void) {
    for (int sig = 0; sig < NSIG; sig++)
        snprintf(sig_other_causes[sig], sizeof sig_other_causes[sig], "signal %d signal received",
                 sig);
}

const char *ctx_signal_cause(int sig) {
    if (sig > 0 && (size_t)sig < sizeof sig_causes / sizeof sig_causes[0] && sig_causes[sig])
        return sig_causes[sig];
    if (sig < 0 || sig >= NSIG)
        return NULL;
    pthread_once(&sig_causes_once, sig_causes_init);
    return sig_other_causes[sig];
}

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
        const char *cause = ctx_signal_cause(b);
        for (int i = 0; i < nhit; i++) {
            cancel(hit[i], context_canceled, cause, true);
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
    int err = rt_thread_create(&tid, &attr, signal_thread, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err != 0)
        go_fatal("cannot start the signal thread");
}

/* Installs on_signal for sig and keeps the disposition it replaces. */
static void take_signal(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* No SA_RESTART: a goroutine asleep on its futex returns from the wait
     * with EINTR, which lets ThreadSanitizer run a handler it deferred (see
     * futex_wait in internal/os.c). Every wait in common/ loops on EINTR. */
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, &sig_found[sig]);
}

/* Puts back what take_signal found: SIG_DFL, SIG_IGN or the program's own. */
static void give_signal_back(int sig) {
    sigaction(sig, &sig_found[sig], NULL);
}

static void init_signals(context *ctx, void *signals) {
    memcpy(ctx->signals, signals, sizeof ctx->signals);
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
    context *ctx = cancel_ctx_new(parent, CTX_CANCEL, init_signals, signals);
    pthread_once(&sig_once, signal_thread_start);

    sigset_t set;
    sigemptyset(&set);
    pthread_mutex_lock(&sig_mu);
    for (int i = 0; i < n; i++) {
        if (sig_wanted[ctx->signals[i]]++ == 0)
            take_signal(ctx->signals[i]);
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
                give_signal_back(ctx->signals[i]);
        was = true;
    }
    pthread_mutex_unlock(&sig_mu);
    if (was) {
        sched_waker_end();
        ctx_unref(ctx);
    }
}
