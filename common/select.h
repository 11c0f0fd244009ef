/* select.h: Go's select statement.
 *
 *     select {                         select_case cases[] = {
 *     case v := <-in:                      select_recv(in, &v),
 *     case out <- w:                       select_send(out, &w),
 *     case <-ctx.Done():                   select_recv(ctx_done(ctx), NULL),
 *     }                                };
 *                                      switch (chan_select(cases, 3)) {
 *                                      case 0: ...  case 1: ...  case 2: ...
 *                                      }
 *     default:                         chan_select_default(...) returns
 *                                      SELECT_DEFAULT when no case is ready.
 *
 * Contract:
 * - Cases are sends and receives on any channels; the same channel may appear
 *   more than once. A case on a NULL channel is never ready: that is how a
 *   case is switched off.
 * - If one or more cases are ready, one of them is chosen uniformly at random.
 * - chan_select blocks until a case can proceed; with no cases it blocks
 *   forever. chan_select_default never blocks.
 * - A receive case on a closed channel is ready: it stores the zero value and
 *   sets its ok to false. A send case on a closed channel panics when chosen
 *   ("panic: send on closed channel").
 * - A blocked select is completed by exactly one operation: a value is never
 *   delivered twice nor lost.
 * - The cases array belongs to the caller; after the call, the chosen receive
 *   case's ok field tells whether a value was received.
 */
#ifndef COMMON_SELECT_H
#define COMMON_SELECT_H

#include "common/chan.h"

enum select_dir { SELECT_RECV, SELECT_SEND };

typedef struct select_case {
    chan *c; /* NULL switches the case off */
    enum select_dir dir;
    void *elem; /* send: the value; receive: where to store it, or NULL */
    bool ok;    /* receive: set to true for a value, false for closed */
} select_case;

/* chan_select_default's answer when no case was ready. */
#define SELECT_DEFAULT (-1)

static inline select_case select_recv(chan *c, void *elem) {
    return (select_case){.c = c, .dir = SELECT_RECV, .elem = elem, .ok = false};
}

static inline select_case select_send(chan *c, const void *elem) {
    return (select_case){.c = c, .dir = SELECT_SEND, .elem = (void *)elem, .ok = false};
}

/* Blocks until one case proceeds; returns its index. */
int chan_select(select_case *cases, int n);

/* Proceeds with a ready case and returns its index, or returns
 * SELECT_DEFAULT at once when none is ready. */
int chan_select_default(select_case *cases, int n);

#endif
