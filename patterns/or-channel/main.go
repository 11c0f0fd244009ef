// patterns/or-channel: one done channel from many, and a range that honours
// done. From Concurrency in Go (Katherine Cox-Buday), chapter 4, "The
// or-channel" and "The or-done-channel". The C twin is main.c, beside this
// file: the same flags, the same output.
//
// Break it: --break forwards with a plain range that ignores done: once main
// stops reading, the forwarder blocks on its send forever, and the count of
// goroutines at the end says so.
package main

import (
	"flag"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gopatterns/common/goflag"
)

const stream = 1000 // values in the stream that or-done forwards

var orGoroutines atomic.Int32 // started by or, for the summary

// or returns a channel that is closed as soon as one of channels is closed.
func or(channels ...<-chan struct{}) <-chan struct{} {
	switch len(channels) {
	case 0:
		return nil // the nil channel: never closed
	case 1:
		return channels[0]
	}
	orDone := make(chan struct{})
	orGoroutines.Add(1)
	go func() {
		defer close(orDone)
		switch len(channels) {
		case 2:
			select {
			case <-channels[0]:
			case <-channels[1]:
			}
		default:
			select {
			case <-channels[0]:
			case <-channels[1]:
			case <-channels[2]:
			case <-or(append(channels[3:], orDone)...):
			}
		}
	}()
	return orDone
}

// orSelect is the same with one select over every channel: one goroutine,
// whatever their number. Go's select has a fixed number of cases, so a
// variable number takes reflect.Select; common/'s chan_select takes an array.
func orSelect(channels ...<-chan struct{}) <-chan struct{} {
	orDone := make(chan struct{})
	cases := make([]reflect.SelectCase, len(channels))
	for i, c := range channels {
		cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)}
	}
	go func() {
		defer close(orDone)
		reflect.Select(cases)
	}()
	return orDone
}

// orDone forwards in until in closes or done does.
func orDone(done <-chan struct{}, in <-chan int, ignoreDone bool) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		if ignoreDone {
			for v := range in {
				out <- v // WRONG: blocks forever once nobody reads
			}
			return
		}
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
				}
			}
		}
	}()
	return out
}

// numbers is a stream of the values 1..n, all there already: a buffered
// channel, filled and closed. More values than main wants, so a forwarder
// always has one in hand when main stops reading.
func numbers(n int) <-chan int {
	c := make(chan int, n)
	for v := 1; v <= n; v++ {
		c <- v
	}
	close(c)
	return c
}

func report(name string, start time.Time, done <-chan struct{}) {
	<-done
	fmt.Printf("or (%s): closed after %s\n", name, time.Since(start))
}

// goroutinesAtEnd waits a bounded while for goroutines to finish returning,
// as goleak does, and says how many are left.
func goroutinesAtEnd() int {
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return runtime.NumGoroutine()
}

func main() {
	n := flag.Int("n", 10, "channels to or together")
	step := flag.Duration("step", 50*time.Millisecond, "the time between one channel's close and the next")
	take := flag.Int("take", 5, "values to read through or-done before closing done")
	mistake := goflag.Mode("break", "ignore-done", "forward with a range that ignores done")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 100)
	goflag.IntRange("take", *take, 1, stream-1)

	// n channels, closed one step apart in a shuffled order: channel first
	// closes first, each by a goroutine of its own.
	first := *n / 3
	var wg sync.WaitGroup
	afters := make([]time.Duration, *n)
	chans := make([]chan struct{}, *n)
	for i := range chans {
		afters[i] = *step * time.Duration((i-first+*n)%*n+1)
		chans[i] = make(chan struct{})
	}
	fmt.Printf("or: %d channels, the first closes after %s (channel %d)\n", *n, afters[first], first)
	start := time.Now()
	ins := make([]<-chan struct{}, *n)
	for i, c := range chans {
		ins[i] = c
	}
	recursive, selected := or(ins...), orSelect(ins...)
	for i := range chans {
		wg.Add(1)
		go func(c chan struct{}, after time.Duration) {
			defer wg.Done()
			time.Sleep(after)
			close(c)
		}(chans[i], afters[i])
	}
	report("recursive", start, recursive)
	report("select", start, selected)
	wg.Wait() // every signal closed: its goroutine is done

	// or-done: read take values of a longer stream, then stop.
	done := make(chan struct{})
	values := orDone(done, numbers(stream), mistake.Value() != "")
	sum := 0
	for i := 0; i < *take; i++ {
		v, ok := <-values
		if !ok {
			break
		}
		sum += v
	}
	close(done) // we want no more: everyone upstream returns
	fmt.Printf("or-done: read %d values (sum %d), then closed done\n", *take, sum)

	// Each or goroutine starts the next level before it waits, so the count
	// is whole only once they have all returned.
	left := goroutinesAtEnd()
	fmt.Printf("goroutines of or: recursive %d, select 1\n", orGoroutines.Load())
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
