// patterns/bridge: a channel of channels, read as one stream.
// From Concurrency in Go (Katherine Cox-Buday), chapter 4, "The
// bridge-channel". The C twin is main.c, beside this file: the same flags,
// the same output.
//
// Break it: --break reads the inner channels with a plain range and sends
// that ignore done: when the consumer stops in the middle of one, the bridge
// waits forever to hand over the next value, and the count of goroutines at
// the end says so.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"time"

	"gopatterns/common/goflag"
	"gopatterns/common/gostream"
)

// generate sends n channels, the i-th holding the values (i-1)*per+1 ..
// i*per, until done is closed.
func generate(done <-chan struct{}, n, per int) <-chan (<-chan int) {
	chans := make(chan (<-chan int))
	go func() {
		defer close(chans)
		for i := 0; i < n; i++ {
			inner := make(chan int, per)
			for j := 1; j <= per; j++ {
				inner <- i*per + j
			}
			close(inner)
			select {
			case chans <- inner:
			case <-done:
				return
			}
		}
	}()
	return chans
}

// bridge is one stream of the values of every channel that chans carries.
func bridge(done <-chan struct{}, chans <-chan (<-chan int), ignoreDone bool) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for {
			var inner <-chan int
			select {
			case next, ok := <-chans:
				if !ok {
					return
				}
				inner = next
			case <-done:
				return
			}
			if ignoreDone {
				for v := range inner {
					out <- v // WRONG: waits forever once nobody reads
				}
				continue
			}
			for v := range gostream.OrDone(done, inner) {
				select {
				case out <- v:
				case <-done:
				}
			}
		}
	}()
	return out
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
	n := flag.Int("n", 5, "inner channels")
	per := flag.Int("per", 4, "values in each inner channel")
	stopAfter := flag.Int("stop-after", 0, "the consumer stops after this many values and closes done (0: reads them all)")
	mistake := goflag.Mode("break", "ignore-done", "read the inner channels ignoring done (the consumer then stops halfway)")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 100000)
	goflag.IntRange("per", *per, 2, 1000)
	goflag.IntRange("stop-after", *stopAfter, 0, 100000000)
	if mistake.Value() != "" && (*stopAfter == 0 || *stopAfter%*per == 0 || *stopAfter >= *n**per) {
		*stopAfter = (*n**per)/2 / *per * *per + 1 // inside an inner channel
	}

	done := make(chan struct{})
	values := bridge(done, generate(done, *n, *per), mistake.Value() != "")
	fmt.Printf("bridge: %d channels of %d values, read as one stream\n", *n, *per)

	count, sum, inOrder := 0, 0, true
	for *stopAfter == 0 || count < *stopAfter {
		v, ok := <-values
		if !ok {
			break
		}
		inOrder = inOrder && v == count+1
		count++
		sum += v
	}
	if *stopAfter > 0 {
		fmt.Printf("consumer: stops after %d values and closes done\n", count)
		close(done)
	}
	order := "in order"
	if !inOrder {
		order = "OUT OF ORDER"
	}
	fmt.Printf("consumer: %d values, sum %d, %s\n", count, sum, order)

	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
