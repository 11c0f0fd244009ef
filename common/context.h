/* context.h: Go's context package, and os/signal's NotifyContext.
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
 *
 * Contract:
 * - Background is never cancelled; its done channel is NULL (never ready in a
 *   select), its err NULL, and it has no deadline.
 * - Cancelling closes done exactly once; err then becomes context_canceled (or
 *   deadline_exceeded at a deadline) and never changes again. Cancelling again
 *   does nothing. Cancelling a parent cancels every descendant; cancelling a
 *   child leaves the parent alone and detaches the child from it.
 * - A child's deadline is the earlier of its own and its parent's; a deadline
 *   already past cancels at once.
 * - ctx_value walks up the parents; the nearest key wins. Keys are compared by
 *   address: use the address of a static variable of your own as the key.
 * - ctx_with_signals: cancelled at the first of the given signals, even if the
 *   process was started with them ignored. ctx_cancel on it is Go's stop():
 *   it cancels and restores the default action of those signals, so that a
 *   second Ctrl+C ends the program at once. The handler is installed
 *   without SA_RESTART: a system call of yours that a signal interrupts may
 *   fail with EINTR (common/'s own waits retry).
 * - ctx_err returns one of the two error strings below, compared by pointer,
 *   or NULL while the context is not done.
 *
 * Ownership: every ctx_with_* returns a context holding one reference for the
 * caller, who gives it back with ctx_free (which cancels first, as the
 * deferred cancel() of Go). A child keeps its parent alive, so contexts may be
 * freed in any order. The done channel belongs to the context: do not
 * chan_free it.
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

#endif
