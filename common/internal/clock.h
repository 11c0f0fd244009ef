/* clock.h: the runtime's clock, after Go's nanotime: nanoseconds on the
 * monotonic clock, which a change of the wall clock never moves.
 *
 * The runtime reads it on slow paths only (a goroutine on its way to sleep, an
 * idle thread's linger). time_now (timer.h, two floors up) is this same clock
 * under the type the programs see, instant: the runtime cannot include
 * timer.h, so it counts in plain int64_t nanoseconds.
 *
 * Contract: rt_nanotime never blocks and never fails; it never goes back.
 */
#ifndef COMMON_INTERNAL_CLOCK_H
#define COMMON_INTERNAL_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NS_PER_MS  ((int64_t)1000000)
#define NS_PER_SEC ((int64_t)1000000000)

static inline int64_t rt_nanotime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

#endif
