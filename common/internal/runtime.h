/* runtime.h: the runtime as the floors above it see it. Not for exercises.
 *
 * The runtime is the ground floor of common/: internal/panic.c (panic, fatal
 * error, RT_CHECK), internal/clock.h, internal/os.c (futexes, cores),
 * internal/lock.c (rt_mutex), internal/sched.c (park, ready, the deadlock
 * count) and go.c (goroutines: spawning them, their records, the idle
 * threads). Channels, select, timers, contexts and WaitGroups include this one
 * header; it includes those of the runtime and adds what go.c offers them.
 *
 * Contract of go.c's part:
 * - g_current() returns the calling thread's record, never NULL. Main and
 *   the threads made by the program's pthread_create (go.c's) have one from
 *   the start; any other thread gets one on first use. Each counts as a
 *   goroutine until it exits.
 * - g_block_forever() blocks the calling goroutine for good (a nil channel,
 *   an empty select); it counts as blocked for the deadlock detector.
 * - go_spawn(fn, arg, done, done_arg) starts fn(arg) as a goroutine and never
 *   blocks; when fn returns, done(done_arg) is called on the goroutine's
 *   thread if done is not NULL (wg_go marks its WaitGroup so). The caller
 *   keeps ownership of arg and done_arg.
 */
#ifndef COMMON_INTERNAL_RUNTIME_H
#define COMMON_INTERNAL_RUNTIME_H

#include "common/internal/lock.h"
#include "common/internal/panic.h"
#include "common/internal/rand.h"
#include "common/internal/sched.h"

struct g *g_current(void);
_Noreturn void g_block_forever(void);
void go_spawn(void (*fn)(void *), void *arg, const char *name, void (*done)(void *),
              void *done_arg);

#endif
