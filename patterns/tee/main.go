// patterns/tee: one stream into two; each value goes to both readers.
// From Concurrency in Go (Katherine Cox-Buday), chapter 4, "The
// tee-channel". The C twin is main.c, beside this file: the same flags, the
// same output.
//
// Break it: --break tees with a plain range and sends that ignore done: when
// reader 2 stops early, the tee waits forever to hand it the next value,
// reader 1 waits forever for the tee, main waits for reader 1, and the
// runtime reports the deadlock.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"time"

	"gopatterns/common/goflag"
	"gopatterns/common/gostream"
)

// numbers is a stream of the values 1..n that knows nothing of done, as a
// channel you do not own: all there already, in a buffered channel, closed.
func numbers(n int) <-chan int {
	c := make(chan int, n)
	for v := 1; v <= n; v++ {
		c <- v
	}
	close(c)
	return c
}

// tee returns two channels that each receive every value of in.
func tee(done <-chan struct{}, in <-chan int, ignoreDone bool) (<-chan int, <-chan int) {
	out1, out2 := make(chan int), make(chan int)
	go func() {
		defer close(out1)
		defer close(out2)
		if ignoreDone {
			for v := range in {
				out1 <- v // WRONG: each waits forever for a reader that left
				out2 <- v
			}
			return
		}
		for v := range gostream.OrDone(done, in) {
			var out1, out2 = out1, out2 // shadowed: set to nil once sent
			for i := 0; i < 2; i++ {
				select {
				case <-done:
				case out1 <- v:
					out1 = nil
				case out2 <- v:
					out2 = nil
				}
			}
		}
	}()
	return out1, out2
}

func consume(id int, in <-chan int, done chan struct{}, stopAfter int, wg *sync.WaitGroup) {
	defer wg.Done()
	count, sum, inOrder := 0, 0, true
	for stopAfter == 0 || count < stopAfter {
		v, ok := <-in
		if !ok {
			break
		}
		inOrder = inOrder && v == count+1
		count++
		sum += v
	}
	if stopAfter > 0 {
		fmt.Printf("reader %d: stops after %d values and closes done\n", id, count)
		close(done)
	}
	order := "in order"
	if !inOrder {
		order = "OUT OF ORDER"
	}
	fmt.Printf("reader %d: %d values, sum %d, %s\n", id, count, sum, order)
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
	n := flag.Int("n", 10, "values to tee")
	stopAfter := flag.Int("stop-after", 0, "reader 2 stops after this many values and closes done (0: reads them all)")
	mistake := goflag.Mode("break", "ignore-done", "tee without or-done, ignoring done (reader 2 then stops halfway)")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 1000000)
	goflag.IntRange("stop-after", *stopAfter, 0, 1000000)
	if mistake.Value() != "" && *stopAfter == 0 {
		*stopAfter = (*n + 1) / 2 // the break needs a reader that leaves
	}

	done := make(chan struct{})
	out1, out2 := tee(done, numbers(*n), mistake.Value() != "")
	var wg sync.WaitGroup
	wg.Add(2)
	go consume(1, out1, done, 0, &wg)
	go consume(2, out2, done, *stopAfter, &wg)
	wg.Wait()

	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
