// 06-fan-in-out: one jobs channel fanned out to -w workers, and their output
// channels fanned back in to one by merge, as in the Go blog's "Go
// Concurrency Patterns: Pipelines and cancellation" (its merge is this one).
// main.c is this program in C.
//
// Break it: --break makes merge forget the goroutine that closes its output;
// main's range loop waits forever after the last result, and the runtime
// reports "fatal error: all goroutines are asleep - deadlock!" (exit 2).
package main

import (
	"flag"
	"fmt"
	"sync"
	"time"

	"gopatterns/common/goflag"
)

type result struct {
	worker int // who did the job
	n      int // the job
	square int // the answer
}

// worker owns its output channel: it is the only sender, so it closes it when
// the jobs run out. Many workers read one jobs channel: each job goes to
// exactly one of them, whichever is ready first.
func worker(id int, jobs <-chan int, work time.Duration) <-chan result {
	out := make(chan result)
	go func() {
		defer close(out) // the worker owns out
		for n := range jobs {
			time.Sleep(work) // pretend the job takes a while
			out <- result{id, n, n * n}
		}
	}()
	return out
}

// merge: one forwarding goroutine per input copies it to out; when all of
// them are done, a last goroutine closes out. Without that close, whoever
// ranges over out waits forever after the last value.
func merge(broken bool, cs ...<-chan result) <-chan result {
	var wg sync.WaitGroup
	out := make(chan result)
	wg.Add(len(cs))
	for _, c := range cs {
		go func(c <-chan result) { // one forwarder per input
			for r := range c {
				out <- r
			}
			wg.Done()
		}(c)
	}
	if !broken { // --break forgets this goroutine: out is never closed
		go func() { wg.Wait(); close(out) }()
	}
	return out
}

func main() {
	n := flag.Int("n", 20, "jobs to fan out (0..100000)")
	w := flag.Int("w", 4, "workers, all reading one jobs channel (1..1000)")
	work := flag.Duration("work", 2*time.Millisecond, "the time each job takes")
	broken := goflag.Mode("break", "noclose", "merge never closes its output: the range deadlocks")
	flag.Parse()
	goflag.IntRange("n", *n, 0, 100000)
	goflag.IntRange("w", *w, 1, 1000)
	if flag.NArg() > 0 {
		goflag.Fail("unexpected argument: %s", flag.Arg(0))
	}

	fmt.Printf("fan-out: %d jobs to %d workers; fan-in: merge(%d channels)\n", *n, *w, *w)
	// The input: every job queued up front in a buffered channel, closed so
	// that the workers' range loops end once it is empty.
	jobs := make(chan int, *n)
	for i := 1; i <= *n; i++ {
		jobs <- i
	}
	close(jobs)
	outs := make([]<-chan result, *w)
	for i := range outs {
		outs[i] = worker(i, jobs, *work) // all read the same channel
	}

	// One range loop over one channel, however many workers feed it. The
	// order of the results depends on which worker finishes first.
	counts := make([]int, *w)
	total, sum := 0, 0
	for r := range merge(broken.Value() != "", outs...) {
		fmt.Printf("worker %d: %d squared is %d\n", r.worker, r.n, r.square)
		counts[r.worker]++
		total++
		sum += r.square
	}

	// How the load spread: it depends on timing, but it always adds up.
	for i, c := range counts {
		fmt.Printf("worker %d handled %d jobs\n", i, c)
	}
	fmt.Printf("total: %d results, sum of squares %d\n", total, sum)
}

// The command line, as common/flag.h has it in C.
