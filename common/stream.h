/* stream.h: or-done, from Concurrency in Go (Katherine Cox-Buday), chapter 4:
 * a range over a channel you do not own that stops when done closes.
 *
 *     for v := range orDone(done, c)    ->  chan *vals = or_done(done, c, sizeof v);
 *                                           while (chan_recv(vals, &v)) ...
 *
 * The lesson patterns/or-channel shows how it works; patterns/tee and
 * patterns/bridge build on this one.
 *
 * Contract:
 * - or_done starts one goroutine and returns at once, never blocking. It
 *   forwards in to the channel it returns, value by value, in order. That
 *   channel is new and unbuffered, and the goroutine closes it when it
 *   returns: once in is closed and drained, or as soon as done is closed,
 *   whether it was waiting to receive or to send.
 * - done is a channel that is only ever closed (chan struct{}); NULL is a
 *   done that never comes. elem_size is the size of in's elements.
 * Ownership: the returned channel holds a reference for the caller, who gives
 * it back with chan_free. The goroutine holds references of its own to done,
 * in and its output, so the caller may free its own at any time.
 */
#ifndef COMMON_STREAM_H
#define COMMON_STREAM_H

#include <stddef.h>

#include "common/chan.h"

chan *or_done(chan *done, chan *in, size_t elem_size);

#endif
