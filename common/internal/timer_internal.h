/* timer_internal.h: timer entries, shared by timer.c and context.c (whose
 * deadlines are timer entries). Not for exercises.
 *
 * An entry either delivers the firing instant on a channel (timers, tickers,
 * time_after) or calls a function on the timer thread (a context's deadline).
 *
 * Contract:
 * - The owner of an entry sets when, period, c or fn and arg, and
 *   heap_index = SIZE_MAX (not armed), then arms it with timer_entry_start.
 *   Arming an entry that is armed already is a fatal error.
 * - An armed entry counts as a waker for the deadlock detector until it has
 *   fired or been stopped.
 * - fn runs on the timer thread with no lock of the timer's held, and must
 *   not block; it may stop and start timers (context cancellation does).
 * - timer_entry_stop never blocks on a callback: one already running is not
 *   waited for.
 * Ownership: the entry belongs to its owner (a timer, a ticker, a context),
 * who must stop it before freeing it; only a time_after entry
 * (one_shot_owned) is freed by the timer thread after it fires. An entry with
 * c holds a reference to c.
 */
#ifndef COMMON_INTERNAL_TIMER_INTERNAL_H
#define COMMON_INTERNAL_TIMER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/timer.h"

struct timer_entry {
    instant when;          /* when it fires next */
    duration period;       /* > 0 for a ticker */
    chan *c;               /* delivers the firing instant here (holds a reference)... */
    void (*fn)(void *arg); /* ...or calls fn(arg) on the timer thread, outside its lock */
    void *arg;
    bool one_shot_owned; /* time_after: the timer thread frees the entry after firing */
    size_t heap_index;   /* position in the heap, or SIZE_MAX when not armed */
};

/* Arms e to fire at e->when. */
void timer_entry_start(struct timer_entry *e);

/* Disarms e; returns true if it was armed (so it will not fire now). For a
 * channel timer, also drops a value fired but not yet received, and counts
 * that as prevented. */
bool timer_entry_stop(struct timer_entry *e);

#endif
