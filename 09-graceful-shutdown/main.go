// 09-graceful-shutdown: workers take tasks until SIGINT or SIGTERM arrives;
// then they take no new one and finish the one in hand, main waits for them
// with a WaitGroup (wg.Add before go, wg.Done when a worker returns), prints
// a summary that proves no task was lost, and exits 0. A second signal
// during that wait ends the program at once. Why the run ended (which
// signal, the time, the -n tasks) is its context's cause.
//
// main.c is this program in C, on common/context.h and common/sync.h. The
// causes are Go 1.21's (context.WithCancelCause, Cause); Debian's Go is 1.19,
// so they come from gopatterns/common/gocause, under the same names.
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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gopatterns/common/gocause"
	"gopatterns/common/goflag"
)

// Set by main before the first worker starts, then only read.
var (
	limit      int64            // -n: tasks in all, 0: no limit
	work       time.Duration    // --work: the time a task takes
	run        *gocause.Context // done when the shutdown begins; its cause says why
	allStarted string           // the cause -n gives: "all N tasks started"
)

var taken, started, finished atomic.Int64

// nextTask numbers the tasks 1, 2, 3, ...; it returns 0 once -n tasks are
// taken. The worker that takes the last one cancels the run, with its
// cause: the shutdown begins.
func nextTask() int64 {
	n := taken.Add(1)
	if limit > 0 && n > limit {
		return 0
	}
	started.Add(1)
	if n == limit {
		run.Cancel(allStarted)
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
	// even if we were started with them ignored (as `cmd &` in a script is),
	// with the signal as the cause. run is its child: -n and --duration end
	// the run in the same way, each with a cause of its own.
	allStarted = fmt.Sprintf("all %d tasks started", limit)
	signals, stop := gocause.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *runFor > 0 {
		run = gocause.WithTimeoutCause(signals, *runFor, "time is up")
	} else {
		run = gocause.WithCancelCause(signals)
	}
	defer run.Cancel("") // Go 1.21's defer cancel(nil)
	fmt.Printf("ready: pid=%d (press Ctrl+C or send SIGTERM to stop)\n", os.Getpid())

	var wg sync.WaitGroup
	for i := 1; i <= *workers; i++ {
		wg.Add(1)
		go worker(run, i, &wg)
	}

	<-run.Done()
	why := run.Cause() // the first cancellation's, fixed once run is done
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
