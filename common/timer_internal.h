/* timer_internal.h: timer entries, shared by timer.c and context.c. */
#ifndef COMMON_TIMER_INTERNAL_H
#define COMMON_TIMER_INTERNAL_H

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
    size_t heap_index;   /* position in the heap, or NOT_IN_HEAP */
};

/* Arms e to fire at e->when. e must not be armed already. */
void timer_entry_start(struct timer_entry *e);

/* Disarms e; returns true if it was armed (so it will not fire now). For a
 * channel timer, also drops a value fired but not yet received, and counts
 * that as prevented. A callback already running is not waited for. */
bool timer_entry_stop(struct timer_entry *e);

#endif
