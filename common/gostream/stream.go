// Package gostream is common/stream.h's Go face for the twins: or-done, from
// Concurrency in Go (Katherine Cox-Buday), chapter 4, a range over a channel
// you do not own that stops when done closes.
//
//	for v := range gostream.OrDone(done, c)    ->  chan *vals = or_done(done, c, sizeof v);
//	                                               while (chan_recv(vals, &v)) ...
//
// The lesson patterns/or-channel shows how it works; patterns/tee and
// patterns/bridge build on this one, in C and in Go.
//
// Contract, as stream.h's: OrDone starts one goroutine and returns at once.
// It forwards in to the channel it returns, value by value, in order; that
// channel is new and unbuffered, and the goroutine closes it when it
// returns: once in is closed and drained, or as soon as done is closed,
// whether it was waiting to receive or to send. A nil done never comes.
package gostream

// OrDone forwards in until in closes or done does.
func OrDone[T any](done <-chan struct{}, in <-chan T) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		for {
			select {
			case <-done:
				return
			case v, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- v:
				case <-done:
					return
				}
			}
		}
	}()
	return out
}
