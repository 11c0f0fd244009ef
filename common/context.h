/* context.h: Go's context package (Go 1.21), and os/signal's NotifyContext.
 *
 *     ctx := context.Background()              ->  context *ctx = ctx_background();
 *     ctx, cancel := context.WithCancel(p)     ->  context *ctx = ctx_with_cancel(p);
 *     ctx, cancel := context.WithTimeout(p, d) ->  context *ctx = ctx_with_timeout(p, d);
 *     ctx, cancel := context.WithDeadline(p,t) ->  context *ctx = ctx_with_deadline(p, t);
 *     ctx := context.WithValue(p, k, v)        ->  context *ctx = ctx_with_value(p, &k, v);
 *     ctx, stop := signal.NotifyContext(p, os.Interrupt, syscall.SIGTERM)
 *                         ->  context *ctx = ctx_with_signals(p, SIGINT, SIGTERM, 0);
 *     cancel() / stop()                        ->  ctx_cancel(ctx);
 *     defer cancel()                           ->  ctx_free(ctx);  (cancels, then releases)
 *     <-ctx.Done()                             ->  chan_recv(ctx_done(ctx), NULL);
 *     ctx.Err()                                ->  ctx_err(ctx)
 *   Go 1.21:
 *     ctx, cancel := context.WithCancelCause(p)  ->  context *ctx = ctx_with_cancel_cause(p);
 *     cancel(err)                                ->  ctx_cancel_cause(ctx, err);
 *     context.Cause(ctx)                         ->  ctx_cause(ctx)
 *     context.WithDeadlineCause(p, t, err)       ->  ctx_with_deadline_cause(p, t, err)
 *     context.WithTimeoutCause(p, d, err)        ->  ctx_with_timeout_cause(p, d, err)
 *     stop := context.AfterFunc(ctx, f)          ->  ctx_after *a = ctx_after_func(ctx, f, arg);
 *     stopped := stop()                          ->  bool stopped = ctx_after_stop(a);
 *                                                    ... ctx_after_free(a);
 *     ctx := context.WithoutCancel(p)            ->  context *ctx = ctx_without_cancel(p);
 *
 * Errors and causes are strings compared by pointer, as Go compares errors by
 * identity: NULL is Go's nil. ctx_err returns context_canceled or
 * deadline_exceeded; a cause is either of those or any string of the
 * program's own, which must outlive every context that carries it (a string
 * literal or a static array: "time is up").
 *
 * Contract:
 * - Background is never cancelled; its done channel is NULL (never ready in a
 *   select), its err and cause NULL, and it has no deadline.
 * - Cancelling closes done exactly once; err then becomes context_canceled (or
 *   deadline_exceeded at a deadline) and never changes again. Cancelling again
 *   does nothing. Cancelling a parent cancels every descendant; cancelling a
 *   child leaves the parent alone and detaches the child from it. A tree of
 *   any depth or width may be cancelled from any goroutine: cancelling
 *   follows a worklist, never a recursion on the depth.
 * - Causes (Go 1.21): ctx_cause is NULL until the context is done, then the
 *   cause it was cancelled with, fixed from then on like err. ctx_cancel and
 *   ctx_cancel_cause(ctx, NULL) give context_canceled; a deadline gives the
 *   cause given to ctx_with_deadline_cause (deadline_exceeded for none). A
 *   parent's cancellation hands its err and cause to every descendant, and a
 *   context made under a parent already done takes both at once. The first
 *   cancellation wins, its cause with it. ctx_cancel_cause works on any
 *   context made by ctx_with_* but values (ctx_with_cancel_cause is
 *   ctx_with_cancel under Go's name); on a signal context it is stop() too.
 * - A child's deadline is the earlier of its own and its parent's; a deadline
 *   already past cancels at once (with its cause). A child whose deadline comes
 *   after its parent's is a plain cancel context (Go's WithCancel): the
 *   parent's deadline, and cause, cancel it.
 * - ctx_value walks up the parents; the nearest key wins. Keys are compared by
 *   address: use the address of a static variable of your own as the key.
 * - ctx_without_cancel(parent) keeps parent's values and nothing else: never
 *   cancelled (done NULL, err and cause NULL), no deadline, whatever parent
 *   does. Contexts made under it are cancelled only by their own cancel,
 *   deadline or signal.
 * - ctx_after_func(ctx, f, arg) runs f(arg) once, in a goroutine of its own,
 *   after ctx is done (at once if it is done already; never for a context
 *   that cannot be cancelled). ctx_after_stop keeps it from running: it
 *   returns true if it did so, false if f was started already or stopped
 *   before; it never waits for f. Go's AfterFunc, whose stop is its result.
 * - ctx_with_signals: cancelled at the first of the given signals, even if the
 *   process was started with them ignored. Its err is context_canceled, as in
 *   Go; its cause names the signal, as Go 1.26's NotifyContext has it
 *   ("interrupt signal received", "terminated signal received": Go's signal
 *   names), and is the very pointer ctx_signal_cause(sig) returns. That is
 *   how a program says why it stops. ctx_cancel on it is Go's stop(): it
 *   cancels (cause context_canceled, if no signal came first) and, once no
 *   signal context wants a signal any more, gives it back the disposition it
 *   had when the first one took it: the default action for a program started
 *   from a terminal (so that a second Ctrl+C ends it at once), ignored for a
 *   background job started with SIGINT ignored, or a handler of the
 *   program's own. The handler is installed without SA_RESTART: a system call
 *   of yours that a signal interrupts may fail with EINTR (common/'s own waits
 *   retry).
 * - ctx_err returns one of the two error strings below, compared by pointer,
 *   or NULL while the context is not done.
 *
 * Ownership: every ctx_with_* (ctx_without_cancel too) returns a context
 * holding one reference for the caller, who gives it back with ctx_free
 * (which cancels first, as the deferred cancel() of Go). A child keeps its
 * parent alive, so contexts may be freed in any order. The done channel
 * belongs to the context: do not chan_free it. ctx_after_func returns a
 * handle the caller gives back with ctx_after_free, which does not stop it
 * (as dropping Go's stop does not): f still runs when ctx is done.
 */
#ifndef COMMON_CONTEXT_H
#define COMMON_CONTEXT_H

#include <stdbool.h>

#include "common/chan.h"
#include "common/timer.h"

typedef struct context context;

extern const char context_canceled[];  /* "context canceled" */
extern const char deadline_exceeded[]; /* "context deadline exceeded" */

context *ctx_background(void);
context *ctx_with_cancel(context *parent);
context *ctx_with_timeout(context *parent, duration d);
context *ctx_with_deadline(context *parent, instant deadline);
context *ctx_with_value(context *parent, const void *key, void *value);
/* The signals end with 0: ctx_with_signals(parent, SIGINT, SIGTERM, 0). */
context *ctx_with_signals(context *parent, ...);

void ctx_cancel(context *ctx);
chan *ctx_done(context *ctx);
const char *ctx_err(context *ctx);
/* Returns true and stores the deadline if the context has one. */
bool ctx_deadline(context *ctx, instant *deadline);
void *ctx_value(context *ctx, const void *key);
void ctx_free(context *ctx);

/* Go 1.21: causes. */
context *ctx_with_cancel_cause(context *parent);
void ctx_cancel_cause(context *ctx, const char *cause);
const char *ctx_cause(context *ctx);
context *ctx_with_deadline_cause(context *parent, instant deadline, const char *cause);
context *ctx_with_timeout_cause(context *parent, duration d, const char *cause);
/* The cause of a signal context cancelled by sig: "interrupt signal received"
 * for SIGINT; the same pointer every time. */
const char *ctx_signal_cause(int sig);

/* Go 1.21: WithoutCancel and AfterFunc. */
context *ctx_without_cancel(context *parent);
typedef struct ctx_after ctx_after;
ctx_after *ctx_after_func(context *ctx, void (*f)(void *arg), void *arg);
bool ctx_after_stop(ctx_after *a);
void ctx_after_free(ctx_after *a);

#endif
