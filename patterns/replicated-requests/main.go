// patterns/replicated-requests: ask several replicas, take the first answer,
// cancel the rest. From Concurrency in Go (Katherine Cox-Buday), chapter 5,
// "Replicated Requests", and Dean and Barroso, "The Tail at Scale" (hedged
// requests). The C twin is main.c, beside this file: the same flags, the
// same output.
//
// Break it: --break makes the replicas ignore their context: every loser works
// to the end, for nothing, and the count of replicas that kept working says so.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gopatterns/common/goflag"
)

var (
	ignoreContext                bool         // --break; set before the first goroutine
	started, cancelled, finished atomic.Int32 // replicas, all runs
)

// replica answers with its id after its latency, unless cancelled first.
func replica(ctx context.Context, id int, latency time.Duration, answers chan<- int, wg *sync.WaitGroup) {
	defer wg.Done()
	started.Add(1)
	if ignoreContext {
		time.Sleep(latency) // WRONG: works to the end whatever happens
	} else {
		select {
		case <-time.After(latency):
		case <-ctx.Done():
			cancelled.Add(1)
			return
		}
	}
	finished.Add(1) // the winner, or a loser that did it all
	answers <- id   // never blocks: room for everyone
}

// request sends the first copy at once, each next one after hedge if no
// answer is in yet (hedge 0: all at once), and returns how long the answer
// took.
func request(latencies []time.Duration, hedge time.Duration) time.Duration {
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	answers := make(chan int, len(latencies))
	var wg sync.WaitGroup
	for sent, answered := 0, false; !answered; {
		if sent < len(latencies) {
			wg.Add(1)
			go replica(ctx, sent, latencies[sent], answers, &wg)
			sent++
		}
		if sent < len(latencies) && hedge > 0 { // the answer, or time to send the next copy
			select {
			case <-answers:
				answered = true
			case <-time.After(hedge):
			}
		} else if sent == len(latencies) {
			<-answers
			answered = true
		}
	}
	took := time.Since(start)
	cancel()  // the losers stop now
	wg.Wait() // and are gone, as in main.c
	return took
}

// nextRandom is splitmix64: the same latencies in C and in Go for the same seed.
func nextRandom(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// drawLatency: 1-5 ms nine times in ten, 30-60 ms the tenth.
func drawLatency(state *uint64) time.Duration {
	r := nextRandom(state)
	if r%10 == 9 {
		return 30*time.Millisecond + time.Duration(r/10%30000)*time.Microsecond
	}
	return 1*time.Millisecond + time.Duration(r/10%4000)*time.Microsecond
}

// run runs every request one way and prints its row of the table.
func run(name string, latencies [][]time.Duration, n int, hedge time.Duration) {
	took := make([]time.Duration, len(latencies))
	s0, c0, f0 := started.Load(), cancelled.Load(), finished.Load()
	for i := range latencies {
		took[i] = request(latencies[i][:n], hedge)
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	p := func(k int) string { return took[(len(took)-1)*k/100].Truncate(time.Microsecond).String() }
	fmt.Printf("%-11s %-10s %-10s %-10s %-10s %-8d %-10d %d\n", name, p(50), p(90), p(99), p(100),
		started.Load()-s0, cancelled.Load()-c0, int(finished.Load()-f0)-len(latencies))
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
	requests := flag.Int("n", 100, "requests to send, each way")
	replicas := flag.Int("replicas", 3, "replicas of each request")
	hedge := flag.Duration("hedge", 10*time.Millisecond, "hedged: the delay before the next copy")
	seed := flag.Int("seed", 1, "seed of the replicas' latencies")
	mistake := goflag.Mode("break", "ignore-context", "replicas ignore their context and work to the end")
	flag.Parse()
	goflag.IntRange("n", *requests, 1, 10000)
	goflag.IntRange("replicas", *replicas, 2, 16)
	if *hedge <= 0 {
		fmt.Fprintln(os.Stderr, "invalid value for flag -hedge: must be more than 0")
		flag.Usage()
		os.Exit(2)
	}
	ignoreContext = mistake.Value() != ""

	latencies := make([][]time.Duration, *requests)
	state := uint64(*seed)
	for i := range latencies {
		latencies[i] = make([]time.Duration, *replicas)
		for j := range latencies[i] {
			latencies[i][j] = drawLatency(&state)
		}
	}

	fmt.Printf("%d requests, %d replicas each, hedged after %s\n", *requests, *replicas, *hedge)
	fmt.Printf("%-11s %-10s %-10s %-10s %-10s %-8s %-10s %s\n", "", "p50", "p90", "p99", "max",
		"started", "cancelled", "kept working")
	run("single", latencies, 1, 0)
	run("replicated", latencies, *replicas, 0)
	run("hedged", latencies, *replicas, *hedge)
	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
