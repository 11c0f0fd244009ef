// patterns/leaks: three classic goroutine leaks, found by a leak check, then
// fixed. From Concurrency in Go (Katherine Cox-Buday), chapter 4,
// "Preventing Goroutine Leaks". The C twin is main.c, beside this file: the
// same flags, the same output. Go's standard library has no leak check that
// names goroutines (uber-go/goleak is a module of its own): here it counts
// them with runtime.NumGoroutine, as goleak does before it reads the stacks.
//
// Break it: --break=send, --break=range or --break=ticker runs that one leak
// unfixed, and the check finds it.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"time"

	"gopatterns/common/goflag"
)

const replicas = 3

// 1. A send nobody receives: ask three replicas, keep the first answer.
func firstAnswer(leak bool) {
	size := replicas // the fix: room for all
	if leak {
		size = 0
	}
	answers := make(chan int, size)
	for i := 1; i <= replicas; i++ {
		go func(id int) {
			time.Sleep(time.Duration(id) * time.Millisecond)
			answers <- id // the losers wait here, if nobody makes room
		}(i)
	}
	fmt.Printf("blocked send: the first of %d answers came from replica %d\n", replicas, <-answers)
}

// 2. A range over a channel nobody closes.
func rangeWithoutClose(leak bool) {
	jobs := make(chan int)
	var wg sync.WaitGroup // counts jobs done: the worker lives on
	done := 0
	wg.Add(5)
	go func() {
		for range jobs { // ends only when the channel is closed
			done++
			wg.Done()
		}
	}()
	for job := 1; job <= 5; job++ {
		jobs <- job
	}
	wg.Wait() // every job done: the worker waits for the next one
	fmt.Printf("range without close: %d jobs done\n", done)
	if !leak {
		close(jobs) // the fix: the sender closes
	}
}

// 3. A ticker nobody stops, and the goroutine that serves it.
func forgottenTicker(leak bool) {
	tk := time.NewTicker(10 * time.Millisecond)
	var done chan struct{} // nil in the leak: nothing tells it to stop
	if !leak {
		done = make(chan struct{})
	}
	three := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ticks := 1; ; ticks++ {
			select {
			case <-tk.C:
			case <-done:
				return // the fix: done says stop
			}
			if ticks == 3 {
				close(three)
			}
		}
	}()
	<-three
	fmt.Printf("forgotten ticker: 3 ticks served\n")
	if !leak {
		close(done) // the fix: stop the goroutine, then the ticker
		wg.Wait()
		tk.Stop()
	}
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
	mistake := goflag.Mode("break", "send|range|ticker", "leave one leak unfixed: send, range or ticker")
	flag.Parse()

	firstAnswer(mistake.Value() == "send")
	rangeWithoutClose(mistake.Value() == "range")
	forgottenTicker(mistake.Value() == "ticker")

	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
