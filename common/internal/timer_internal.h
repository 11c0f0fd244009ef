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
 * - timer_entry_start, timer_entry_stop and timer_entry_reset are atomic per
 *   entry: any number of goroutines may call them on one entry at once, and
 *   whatever the interleaving the entry is in the heap at most once and fires
 *   at most once per arming (a ticker: once per due tick).
 * - An armed entry counts as a waker for the deadlock detector until it has
 *   fired or been stopped.
 * - fn runs on the timer thread with no lock of the timer's held, and must
 *   not block; it may stop and start timers (context cancellation does).
 * - timer_entry_stop never blocks on a callback: one already running is not
 *   waited for.
 * Ownership: the entry belongs to its owner (a timer, a ticker, a context),
 * who must stop it before freeing it. A timer's or a ticker's entry uses its
 * owner's reference to c. Only a time_after entry (one_shot_owned) belongs to
 * timer.c: it holds no reference to its channel, and goes (fired or not) when
 * it fires or when the channel's last reference is given back, whichever
 * comes first.
 */
#ifndef COMMON_INTERNAL_TIMER_INTERNAL_H
#define COMMON_INTERNAL_TIMER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/timer.h"

struct timer_entry {
    instant when;          /* when it fires next (heap_mu, once armed) */
    duration period;       /* > 0 for a ticker (heap_mu, once armed) */
    chan *c;               /* delivers the firing instant here... */
    void (*fn)(void *arg); /* ...or calls fn(arg) on the timer thread, outside its lock */
    void *arg;
    bool one_shot_owned; /* time_after: timer.c frees the entry */
    size_t heap_index;   /* position in the heap, or SIZE_MAX when not armed (heap_mu) */
};

/* Arms e to fire at e->when. */
void timer_entry_start(struct timer_entry *e);

/* Disarms e; returns true if it was armed (so it will not fire now). For a
 * channel timer, also drops a value fired but not yet received, and counts
 * that as prevented. */
bool timer_entry_stop(struct timer_entry *e);

/* Stops e and arms it again to fire at when (a ticker: then every period), in
 * one step; returns what timer_entry_stop would have. */
bool timer_entry_reset(struct timer_entry *e, instant when, duration period);

/* For tests: the entries armed now, and how often e is among them (0 or 1). */
size_t timer_heap_len(void);
size_t timer_heap_count(const struct timer_entry *e);

#endif
