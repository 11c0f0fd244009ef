/* rand.h: cheap randomness for the runtime (Go's cheaprand), for select's
 * random order of cases.
 *
 * Contract: g_rand(n) returns a number in [0, n), uniform enough that no
 * select case starves; n > 0. It never blocks and takes no lock: each thread
 * has its own generator, seeded on first use from its address and the clock.
 * Not for anything that must be unpredictable.
 */
#ifndef COMMON_INTERNAL_RAND_H
#define COMMON_INTERNAL_RAND_H

#include <stdint.h>

#include "common/internal/clock.h"

static inline uint32_t g_rand(uint32_t n) {
    static _Thread_local uint64_t state;
    if (state == 0)
        state = ((uint64_t)(uintptr_t)&state * 0x9E3779B97F4A7C15u) ^ (uint64_t)rt_nanotime() ^ 1;
    /* xorshift64*, then Lemire's multiply-shift to map into [0, n). */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    uint64_t r = (state * 0x2545F4914F6CDD1Du) >> 32;
    return (uint32_t)((r * n) >> 32);
}

#endif
