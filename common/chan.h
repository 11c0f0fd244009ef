/* chan.h: Go's channels.
 *
 *     ch := make(chan int64, 8)   ->  chan *ch = chan_make(sizeof(int64_t), 8);
 *     ch <- v                     ->  chan_send(ch, &v);
 *     v, ok := <-ch               ->  bool ok = chan_recv(ch, &v);
 *     for v := range ch           ->  while (chan_recv(ch, &v))
 *     close(ch)                   ->  chan_close(ch);
 *     len(ch), cap(ch)            ->  chan_len(ch), chan_cap(ch)
 *
 * A channel carries elements of one fixed size, copied in and out by value: a
 * sender may reuse its variable as soon as chan_send returns. Size 0 is Go's
 * chan struct{} (a signal that carries no value): nothing is copied, and the
 * elem of chan_send and chan_recv may be NULL; it blocks, buffers, counts
 * and closes like any other size:
 *
 *     done := make(chan struct{}, 1)  ->  chan *done = chan_make(0, 1);
 *     done <- struct{}{}              ->  chan_send(done, NULL);
 *
 * Contract, row by row as in Go (NULL is the nil channel):
 * - chan_send blocks until a receiver has taken the value (capacity 0) or
 *   while the buffer is full; on NULL it blocks forever; on a closed channel,
 *   or if the channel is closed while it waits, it panics:
 *   "panic: send on closed channel".
 * - chan_recv blocks until a value is there and returns true; values come out
 *   in the order they went in, and a sender blocked on a full buffer keeps its
 *   place. On a closed channel it returns what is still buffered, then at
 *   once false with the element zeroed. On NULL it blocks forever. elem may be
 *   NULL to discard the value.
 * - chan_close wakes every blocked receiver (zero value, false) and every
 *   blocked sender (which panics). Closing NULL panics ("close of nil
 *   channel"), closing twice panics ("close of closed channel").
 * - chan_len and chan_cap are 0 for NULL.
 * Memory model: a send happens before the matching receive completes; on an
 * unbuffered channel the receive happens before the send completes; a close
 * happens before a receive that returns false because of it.
 *
 * Ownership: chan_make returns a channel holding one reference, which the
 * caller gives back with chan_free. Parts of common/ that deliver on a channel
 * later keep it alive while they may (timers, contexts hold references of
 * their own); chan_free on a time_after channel is safe even before it fires,
 * and takes its pending timer off the heap: the memory goes with the last
 * reference. Freeing a channel that a goroutine is still blocked on is
 * a bug, as is any use after the caller's chan_free. The receiver of the
 * last value may free at once: the sender's call may still be on its way
 * out, and chan_free waits for it to let go of the channel.
 */
#ifndef COMMON_CHAN_H
#define COMMON_CHAN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct chan chan;

/* Makes a channel of elements of elem_size bytes (0 for chan struct{}) with
 * room for cap of them; cap 0 makes an unbuffered channel. Never returns NULL (out of
 * memory is fatal). */
chan *chan_make(size_t elem_size, size_t cap);

/* Takes one more reference to c (NULL stays NULL). Returns c. */
chan *chan_ref(chan *c);

/* Gives back one reference; the last one frees the channel. NULL is a no-op. */
void chan_free(chan *c);

void chan_send(chan *c, const void *elem);
bool chan_recv(chan *c, void *elem);
void chan_close(chan *c);
size_t chan_len(chan *c);
size_t chan_cap(chan *c);

#endif
