// 07-pipeline: a generator, two stages and a sink joined by channels, as in
// the Go blog's "Go Concurrency Patterns: Pipelines and cancellation". Each
// stage owns its output channel and closes it when it returns; small buffers
// make a slow sink hold the generator back (backpressure); and a done
// channel, closed by main when the sink stops, tells every stage to return
// (explicit cancellation: every send selects on done as well).
// main.c is this program in C.
//
// Break it: --break makes the generator ignore done (a plain send), and the
// sink stop early: nobody will ever receive the generator's next value, so it
// blocks forever. A goroutine leak, counted at the end: exit 1.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"gopatterns/common/goflag"
)

var buffer int // --buffer: the capacity of every channel

// The generator counts each value it makes, the sink each one it is done
// with: the difference is what sits in the pipeline. Both run at once, hence
// atomics; the maximum is kept with a compare-and-swap loop.
var inFlight, maxInFlight atomic.Int64

func countNewValue() {
	now := inFlight.Add(1)
	for {
		m := maxInFlight.Load()
		if now <= m || maxInFlight.CompareAndSwap(m, now) {
			return
		}
	}
}

// gen sends 1..n on its own channel, and closes it when it returns: when every
// value is sent, or when done is closed.
func gen(done <-chan struct{}, n int, deaf bool) <-chan int {
	out := make(chan int, buffer)
	go func() {
		defer close(out) // each stage owns its output
		for i := 1; i <= n; i++ {
			countNewValue()
			if deaf {
				out <- i // WRONG: blocks forever once nobody receives
				continue
			}
			select {
			case out <- i:
			case <-done:
				return
			}
		}
	}()
	return out
}

// stage sends f(v) for each v it receives, until in is closed or done is.
func stage(done <-chan struct{}, in <-chan int, f func(int) int) <-chan int {
	out := make(chan int, buffer)
	go func() {
		defer close(out)
		for v := range in {
			select {
			case out <- f(v):
			case <-done:
				return // done is closed: nobody wants the rest
			}
		}
	}()
	return out
}

func square(v int) int { return v * v }
func addOne(v int) int { return v + 1 }

// leaked: the goroutines beyond before still running once they have had
// limit to return. A stage blocked forever never does.
func leaked(before int, limit time.Duration) int {
	start := time.Now()
	for runtime.NumGoroutine() > before && time.Since(start) < limit {
		time.Sleep(time.Millisecond)
	}
	return runtime.NumGoroutine() - before
}

func main() {
	n := flag.Int("n", 20, "values to generate (0..1000000)")
	flag.IntVar(&buffer, "buffer", 1, "capacity of each channel (0..1000)")
	take := flag.Int("take", 0, "the sink stops after `N` values (0: all)")
	delay := flag.Duration("delay", 5*time.Millisecond, "the time the sink spends on each value")
	broken := goflag.Mode("break", "deaf", "the generator ignores done, and the sink stops early (after --take, or 3)")
	flag.Parse()
	goflag.IntRange("n", *n, 0, 1000000)
	goflag.IntRange("buffer", buffer, 0, 1000)
	goflag.IntRange("take", *take, 0, 1000000)
	if flag.NArg() > 0 {
		goflag.Fail("unexpected argument: %s", flag.Arg(0))
	}
	if broken.Value() != "" && *take == 0 {
		*take = 3
	}
	// Once the sink stops, the generator can still send take + 3 x buffer + 2
	// values (the buffers, and one held by each middle stage): only with
	// more to send is it sure to block.
	if broken.Value() != "" && *n <= *take+3*buffer+2 {
		goflag.Fail("--break needs -n above --take + 3 x --buffer + 2 = %d: a value left to block on", *take+3*buffer+2)
	}

	fmt.Printf("pipeline: generate 1..%d -> square -> add one -> sink (buffers of %d, sink takes %v per value)\n", *n, buffer, *delay)
	before := runtime.NumGoroutine()
	// Build the pipeline front to back: each stage's input is the output of
	// the one before.
	done := make(chan struct{})
	out := stage(done, stage(done, gen(done, *n, broken.Value() != ""), square), addOne)

	// The sink. While it sleeps, the stages fill their buffers and then
	// block on send: that is backpressure, and it stops the generator from
	// running ahead.
	got, early := 0, false
	for v := range out {
		fmt.Println("sink:", v)
		time.Sleep(*delay)
		inFlight.Add(-1)
		if got++; got == *take {
			early = true // the stages may still have values to send
			break
		}
	}
	close(done) // tell every stage to return

	stopped := ""
	if early {
		stopped = ", then stopped early"
	}
	fmt.Printf("sink: got %d values%s\n", got, stopped)
	fmt.Printf("in flight at most: %d (bound: %d stages + %d buffers of %d = %d)\n",
		maxInFlight.Load(), 4, 3, buffer, 4+3*buffer)
	stagesLeaked := leaked(before, time.Second)
	fmt.Printf("stages leaked: %d\n", stagesLeaked)
	if stagesLeaked > 0 {
		os.Exit(1)
	}
}

// The command line, as common/flag.h has it in C.
