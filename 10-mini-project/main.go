// 10-mini-project: the whole path in one program, and a shutdown that loses
// nothing. Dispatchers hand tasks over on the jobs channel, a pool of workers
// does them and sends one result each, and the results fan in to main. Ctrl+C
// (SIGINT), SIGTERM, the n-th task taken or --duration cancel one context,
// run, with a cause that says which; the dispatchers stop, the workers
// finish every task that was handed over, and the summary proves it:
// dispatched = processed + failed.
//
// main.c is the C port of this program, function for function. The causes
// are Go 1.21's (context.WithCancelCause, Cause); Debian's Go is 1.19, so
// they come from gopatterns/common/gocause, which has them under the same
// names.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gopatterns/common/gocause"
	"gopatterns/common/goflag"
)

type result struct {
	id     int
	worker int
	failed bool
}

// The flags, then what everyone shares: main sets them all before the first
// goroutine starts, and from then on they are only read.
var (
	ndispatchers = flag.Int("dispatchers", 2, "goroutines making tasks, 1..64")
	nworkers     = flag.Int("w", 3, "workers in the pool, 1..256")
	n            = flag.Int("n", 0, "stop once `N` tasks are taken (0: no limit)")
	buffer       = flag.Int("buffer", 4, "capacity of the jobs channel (0: unbuffered)")
	failEvery    = flag.Int("fail-every", 7, "tasks whose id is a multiple of `K` fail (0: none)")
	work         = flag.Duration("work", 500*time.Millisecond, "the time a task takes, at least 10ms")
	limit        = flag.Duration("duration", 0, "stop after this long (0: no limit)")
	broken       = goflag.Mode("break", "quit", "workers quit on cancellation, dropping dispatched tasks")

	run         *gocause.Context // cancelled by a signal, by --duration, or at the n-th task
	nTaken      string           // the cause at the n-th task: "N tasks taken"
	jobs        chan int
	results     chan result
	nextID      atomic.Int64
	dispatched  atomic.Int64
	taken       atomic.Int64
	dispatchers sync.WaitGroup
	workers     sync.WaitGroup
)

// A dispatcher makes tasks (ids from one counter, so they are unique) and
// hands them over until the run is cancelled. A task counts as dispatched
// only once its send has happened: from then on the program owes it a result.
func dispatcher() {
	defer dispatchers.Done()
	for {
		id := int(nextID.Add(1))
		if *n > 0 && id > *n {
			return // all n ids are given out
		}
		select {
		case jobs <- id:
			dispatched.Add(1)
		case <-run.Done():
			return // cancelled: this id was never sent, so it does not count
		}
	}
}

// A worker takes tasks until jobs is closed and empty, even after the run is
// cancelled: a task that was handed over is always done and reported. The
// worker that takes the n-th task (-n) ends the run: by then all n are in.
func worker(w int) {
	defer workers.Done()
	for id := range jobs {
		if taken.Add(1) == int64(*n) {
			run.Cancel(nTaken) // the run is over, as on Ctrl+C
		}
		time.Sleep(*work)
		if broken.Value() != "" && run.Err() != nil {
			return // WRONG: this task is never reported, and what is left in jobs never taken
		}
		results <- result{id, w, *failEvery > 0 && id%*failEvery == 0}
	}
}

// beginShutdown says, once, why the run is over (run's cause: the first
// cancellation's), and stops the signal context: a second Ctrl+C now ends
// the program at once.
func beginShutdown(stop func()) {
	fmt.Printf("shutdown: %s; dispatchers stop, workers finish what was dispatched\n", run.Cause())
	stop()
}

func main() {
	flag.Parse()
	goflag.IntRange("dispatchers", *ndispatchers, 1, 64)
	goflag.IntRange("w", *nworkers, 1, 256)
	goflag.IntRange("n", *n, 0, 1000000)
	goflag.IntRange("buffer", *buffer, 0, 100000)
	goflag.IntRange("fail-every", *failEvery, 0, 1000000)
	if *work < 10*time.Millisecond {
		goflag.Fail("invalid value \"%v\" for flag -work: must be at least 10ms", *work)
	}
	if *limit < 0 {
		goflag.Fail("invalid value \"%v\" for flag -duration: must not be negative", *limit)
	}
	if flag.NArg() > 0 {
		goflag.Fail("unexpected argument: %s", flag.Arg(0))
	}

	// The shutdown starts here: a signal cancels signals, and with it its
	// child run, which --duration and the n-th task cancel too; each says
	// why in its cause ("interrupt signal received", "time is up", ...).
	nTaken = fmt.Sprintf("%d tasks taken", *n)
	signals, stop := gocause.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *limit > 0 {
		run = gocause.WithTimeoutCause(signals, *limit, "time is up")
	} else {
		run = gocause.WithCancelCause(signals)
	}
	defer run.Cancel("") // Go 1.21's defer cancel(nil)
	jobs, results = make(chan int, *buffer), make(chan result)
	fmt.Printf("ready: pid=%d (press Ctrl+C or send SIGTERM to stop)\n", os.Getpid())
	fmt.Printf("start: %d dispatchers -> jobs (buffer %d) -> %d workers, %v a task -> results\n",
		*ndispatchers, *buffer, *nworkers, *work)

	for i := 0; i < *ndispatchers; i++ {
		dispatchers.Add(1)
		go dispatcher()
	}
	for w := 1; w <= *nworkers; w++ {
		workers.Add(1)
		go worker(w) // w is passed: each worker has its own
	}
	go func() { dispatchers.Wait(); close(jobs) }() // no more tasks
	go func() { workers.Wait(); close(results) }()  // no more results

	// The consumer: every result, until results is closed. The shutdown case
	// runs once, then is switched off by making its channel nil.
	processed, failed := 0, 0
	perWorker := make([]int, *nworkers+1)
	done := run.Done()
loop:
	for {
		select {
		case r, ok := <-results:
			if !ok {
				break loop // closed: every worker has returned
			}
			outcome := "ok"
			if r.failed {
				outcome = "failed"
				failed++
			} else {
				processed++
			}
			fmt.Printf("task %d by worker %d: %s\n", r.id, r.worker, outcome)
			perWorker[r.worker]++
		case <-done:
			beginShutdown(stop)
			done = nil // a nil channel is never ready: the case is off
		}
	}
	if done != nil && run.Err() != nil { // results was closed before the select chose done
		beginShutdown(stop)
	}

	// Every worker has returned; with --break the dispatchers may not have:
	// wait for them too, so that dispatched is final.
	dispatchers.Wait()
	for w := 1; w <= *nworkers; w++ {
		fmt.Printf("worker %d: %d tasks\n", w, perWorker[w])
	}
	d := int(dispatched.Load())
	if d != processed+failed {
		fmt.Printf("lost: %d dispatched tasks were never done\n", d-processed-failed)
	}
	fmt.Printf("summary: dispatched=%d processed=%d failed=%d\n", d, processed, failed)
	if d != processed+failed {
		os.Exit(1)
	}
}
