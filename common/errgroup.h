/* errgroup.h: golang.org/x/sync/errgroup.
 *
 *     g, ctx := errgroup.WithContext(p)  ->  context *ctx;
 *                                            errgroup *g = errgroup_with_context(p, &ctx);
 *     var g errgroup.Group               ->  errgroup *g = errgroup_new();
 *     g.SetLimit(n)                      ->  errgroup_set_limit(g, n);
 *     g.Go(f)                            ->  errgroup_go(g, f, arg);
 *     ok := g.TryGo(f)                   ->  bool ok = errgroup_try_go(g, f, arg);
 *     err := g.Wait()                    ->  const char *err = errgroup_wait(g);
 *
 * An error is a string, NULL for none (Go's nil error). A function run by the
 * group returns one.
 *
 * Contract:
 * - errgroup_go runs fn(arg) in a new goroutine; with a limit, it first blocks
 *   until fewer than the limit are active. errgroup_try_go never blocks: it
 *   returns false instead of waiting for a slot.
 * - The first non-NULL error is kept; with a context, that error cancels it
 *   and is its cause (ctx_cause), as x/sync's Group does with
 *   WithCancelCause: the others can tell why they were stopped.
 * - errgroup_wait waits for every goroutine, then cancels the group's context
 *   (cause: the first error, or context_canceled if none) and returns the
 *   first error.
 * - errgroup_set_limit(g, n) with n < 0 removes the limit; changing it while
 *   goroutines are active panics, as in Go.
 *
 * Ownership: the group belongs to the caller, who frees it with errgroup_free
 * after errgroup_wait. The context handed out by errgroup_with_context belongs
 * to the group and lives until errgroup_free. The error strings returned by
 * fn must outlive the group (string literals are the usual choice).
 */
#ifndef COMMON_ERRGROUP_H
#define COMMON_ERRGROUP_H

#include <stdbool.h>

#include "common/context.h"

typedef struct errgroup errgroup;
typedef const char *(*errgroup_fn)(void *arg);

errgroup *errgroup_new(void);
errgroup *errgroup_with_context(context *parent, context **ctx);
void errgroup_set_limit(errgroup *g, int n);
void errgroup_go(errgroup *g, errgroup_fn fn, void *arg);
bool errgroup_try_go(errgroup *g, errgroup_fn fn, void *arg);
const char *errgroup_wait(errgroup *g);
void errgroup_free(errgroup *g);

#endif
