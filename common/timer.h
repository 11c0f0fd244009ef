/* timer.h: Go's time package, the parts concurrency needs.
 *
 *     time.Sleep(50*time.Millisecond)  ->  time_sleep(50 * MILLISECOND);
 *     <-time.After(time.Second)        ->  chan *c = time_after(SECOND); ... chan_free(c);
 *     t := time.NewTimer(d)            ->  timer *t = timer_new(d);  ... t->c ...
 *     t.Stop(), t.Reset(d)             ->  timer_stop(t), timer_reset(t, d); timer_free(t);
 *     tk := time.NewTicker(d)          ->  ticker *tk = ticker_new(d); ... tk->c ...
 *     tk.Stop()                        ->  ticker_stop(tk); ticker_free(tk);
 *     start := time.Now(); time.Since  ->  instant start = time_now(); time_since(start)
 *
 * Every time here is read off the monotonic clock, so a change of the wall
 * clock never shortens or stretches a timeout. An instant is nanoseconds on
 * that clock; a duration is nanoseconds.
 *
 * Timer and ticker channels carry an int64_t: the instant the timer fired.
 * They have a buffer of one: a ticker whose receiver is slow drops ticks
 * rather than queueing them. As in Go 1.23, once timer_stop or timer_reset
 * returns, no stale value is received from the timer's channel.
 *
 * As in Go, timer_stop and timer_reset (and ticker_stop, ticker_reset) may be
 * called on one timer from several goroutines at once: each call is atomic,
 * and whatever the interleaving a timer fires at most once per timer_new or
 * timer_reset.
 *
 * One timer thread with a heap serves every timer, ticker and deadline. Its
 * callbacks never block. Any ticker period > 0 works: one shorter than the
 * thread takes to fire it ticks as fast as the thread can (its receiver
 * misses the rest), and every other timer keeps firing meanwhile.
 *
 * Ownership: time_after returns a channel reference that the caller gives back
 * with chan_free (before or after it fired). Given back before it fired, its
 * pending timer leaves the heap at once, as in Go 1.23: a select with a
 * time_after(HOUR) case in a loop costs no memory, and a freed time_after no
 * longer counts as something that may wake a goroutine, so a deadlock is
 * still reported. timer_new and ticker_new return objects the caller frees
 * with timer_free and ticker_free, which stop them first (leaving the heap at
 * once too); their channel (t->c) must not be used after that. A ticker that
 * is never stopped keeps firing forever: the classic ticker leak.
 */
#ifndef COMMON_TIMER_H
#define COMMON_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/chan.h"

typedef int64_t duration; /* nanoseconds */
typedef int64_t instant;  /* nanoseconds on the monotonic clock */

#define NANOSECOND  ((duration)1)
#define MICROSECOND ((duration)1000)
#define MILLISECOND ((duration)1000000)
#define SECOND      ((duration)1000000000)

typedef struct timer {
    chan *c; /* receives the firing instant once */
    struct timer_entry *entry;
} timer;

typedef struct ticker {
    chan *c; /* receives the instant of each tick; a slow receiver misses ticks */
    struct timer_entry *entry;
} ticker;

instant time_now(void);
duration time_since(instant t);
/* Sleeps for d on the monotonic clock (d <= 0 returns at once). Sleeping does
 * not count as being blocked for the deadlock detector, as in Go. */
void time_sleep(duration d);

/* A channel that receives the instant once, after d. */
chan *time_after(duration d);

timer *timer_new(duration d);
/* Prevents the timer from firing; returns true if it did so, false if the
 * timer had already fired (and its value was received) or been stopped. */
bool timer_stop(timer *t);
/* Stops the timer and starts it again to fire after d; returns what
 * timer_stop would have returned. */
bool timer_reset(timer *t, duration d);
void timer_free(timer *t);

/* Ticks every period, the first time one period from now. period must be
 * > 0 (1 ns works): a smaller one panics, as Go's NewTicker does ("panic:
 * non-positive interval for NewTicker"; ticker_reset: "... for
 * Ticker.Reset"). ticker_reset also drops a tick not yet received. */
ticker *ticker_new(duration period);
void ticker_stop(ticker *t);
void ticker_reset(ticker *t, duration period);
void ticker_free(ticker *t);

/* Parses a Go-style duration such as "300ms", "1.5s", "2m", "10us" or "0".
 * Returns false on a malformed string. For the exercises' flags. */
bool duration_parse(const char *s, duration *out);

/* Writes d as Go's Duration.String does ("0s", "1.5ms", "500\u00b5s", "2m0s",
 * "1h0m0.5s") into buf, which holds DURATION_STRING_SIZE bytes; returns buf. */
#define DURATION_STRING_SIZE 32
char *duration_string(duration d, char *buf);

#endif
