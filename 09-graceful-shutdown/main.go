// 09-graceful-shutdown: workers take tasks until SIGINT or SIGTERM arrives;
// then they take no new one and finish the one in hand, main waits for them
// with a WaitGroup (wg.Add before go, wg.Done when a worker returns), prints
// a summary that proves no task was lost, and exits 0. A second signal
// during that wait ends the program at once.
//
// main.c is this program in C, on common/context.h and common/sync.h.
//
// Break it:
//
//	--break  main returns as soon as the signal arrives, without waiting for
//	         the workers: the tasks they hold are lost, and started > finished
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gopatterns/common/goflag"
)

// Set by main before the first worker starts, then only read.
var (
	limit     int64              // -n: tasks in all, 0: no limit
	work      time.Duration      // --work: the time a task takes
	cancelRun context.CancelFunc // begins the shutdown
)

var taken, started, finished atomic.Int64

// nextTask numbers the tasks 1, 2, 3, ...; it returns 0 once -n tasks are
// taken. The worker that takes the last one cancels the run: the shutdown
// begins.
func nextTask() int64 {
	n := taken.Add(1)
	if limit > 0 && n > limit {
		return 0
	}
	started.Add(1)
	if n == limit {
		cancelRun()
	}
	return n
}

// worker takes tasks until ctx is done. It looks at ctx only between tasks,
// with a select that has a default and so never blocks: a task in hand is
// always finished.
func worker(ctx context.Context, id int, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case <-ctx.Done():
			return // take no new task
		default:
		}
		n := nextTask()
		if n == 0 {
			return // -n: every task is taken
		}
		fmt.Printf("worker %d: task %d started\n", id, n)
		time.Sleep(work) // the task
		finished.Add(1)
		fmt.Printf("worker %d: task %d finished\n", id, n)
	}
}

func reason(signals, ctx context.Context) string {
	switch {
	case signals.Err() != nil:
		return "signal received"
	case ctx.Err() == context.DeadlineExceeded:
		return "time is up"
	}
	return fmt.Sprintf("all %d tasks started", limit)
}

func summary() {
	fmt.Printf("shutdown: started=%d finished=%d\n", started.Load(), finished.Load())
}

func main() {
	n := flag.Int("n", 0, "tasks to run, then shut down (0: no limit)")
	workers := flag.Int("w", 3, "workers taking tasks")
	flag.DurationVar(&work, "work", time.Second, "the time a task takes, 0..60s")
	runFor := flag.Duration("duration", 0, "shut down after this long (0: no limit)")
	broken := goflag.Mode("break", "nowait", "exit on the signal, abandoning the tasks in hand")
	flag.Parse()
	if *n < 0 || *n > 1000000 { // what flag_int_range checks in C
		goflag.Fail("invalid value \"%d\" for flag -n: must be 0..1000000", *n)
	}
	if *workers < 1 || *workers > 100 {
		goflag.Fail("invalid value \"%d\" for flag -w: must be 1..100", *workers)
	}
	if work < 0 || work > 60*time.Second {
		goflag.Fail("invalid value %q for flag -work: must be 0..60s", work.String())
	}
	if *runFor < 0 {
		goflag.Fail("invalid value %q for flag -duration: must not be negative", runFor.String())
	}
	if flag.NArg() > 0 {
		goflag.Fail("unexpected argument: %s", flag.Arg(0))
	}
	limit = int64(*n)

	// From here on SIGINT and SIGTERM cancel signals instead of killing us,
	// even if we were started with them ignored (as `cmd &` in a script is).
	// ctx is its child: -n and --duration end the run in the same way.
	signals, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ctx context.Context
	if *runFor > 0 {
		ctx, cancelRun = context.WithTimeout(signals, *runFor)
	} else {
		ctx, cancelRun = context.WithCancel(signals)
	}
	defer cancelRun()
	fmt.Printf("ready: pid=%d (press Ctrl+C or send SIGTERM to stop)\n", os.Getpid())

	var wg sync.WaitGroup
	for i := 1; i <= *workers; i++ {
		wg.Add(1)
		go worker(ctx, i, &wg)
	}

	<-ctx.Done()
	why := reason(signals, ctx) // before stop(), which cancels signals
	// stop() gives SIGINT and SIGTERM back the disposition they had before
	// NotifyContext, so a second Ctrl+C during the wait below ends the
	// program at once.
	stop()
	fmt.Printf("shutdown: %s, finishing %d in-flight tasks\n", why, started.Load()-finished.Load())
	if broken.Value() != "" {
		// WRONG: returning now ends the process with the workers mid-task.
		summary()
		return
	}
	wg.Wait()
	summary()
}
