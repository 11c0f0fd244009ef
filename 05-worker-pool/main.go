// 05-worker-pool: bounded concurrency with a fixed number of workers, and a
// timeout that cancels the rest by closing a done channel, as in Go's
// "Pipelines and cancellation" post. main.c is its port to C.
//
// The program also counts its goroutines (main aside) and prints the most
// that were alive at once: for the pool, W workers + the feeder.
//
// Break it: --break (or --break=unbounded) runs the pool, then the same jobs
// with one goroutine per job, and prints the two peaks side by side.
package main

import (
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gopatterns/common/goflag"
)

type result struct {
	job       int
	worker    int // 0: a goroutine of its own (--break)
	value     int
	cancelled bool
}

// How many goroutines of this run exist right now, and the most at once: a
// goroutine counts from the moment main starts it (its go statement) until
// its last statement. Only main starts goroutines, so only main raises peak.
var (
	alive atomic.Int32
	peak  int32 // main's alone
)

func started(wg *sync.WaitGroup) { // main, just before go
	wg.Add(1) // before go, never in the goroutine: Wait must not miss it
	if now := alive.Add(1); now > peak {
		peak = now
	}
}

func finished(wg *sync.WaitGroup) { // the goroutine's last statement
	alive.Add(-1)
	wg.Done()
}

// The work: wait for its time, unless done is closed first.
func process(job, worker int, work time.Duration, done <-chan struct{}) result {
	r := result{job: job, worker: worker}
	select {
	case <-time.After(work):
		r.value = job * job
	case <-done: // done closed: give up on this job
		r.cancelled = true
	}
	return r
}

// The pool: each worker takes jobs until the feeder closes the channel.
func worker(id int, jobs <-chan int, results chan<- result, work time.Duration,
	done <-chan struct{}, wg *sync.WaitGroup) {
	defer finished(wg)
	for job := range jobs {
		results <- process(job, id, work, done)
	}
}

func feed(n int, jobs chan<- int, wg *sync.WaitGroup) {
	defer finished(wg)
	for job := 1; job <= n; job++ {
		jobs <- job // blocks while the buffer is full: backpressure
	}
	close(jobs)
}

// The broken version: one goroutine per job, however many jobs there are.
func oneJob(job int, results chan<- result, work time.Duration, done <-chan struct{},
	wg *sync.WaitGroup) {
	defer finished(wg)
	results <- process(job, 0, work, done) // waits until main receives it
}

func printResult(r result) {
	if r.cancelled {
		fmt.Printf("job %d -> cancelled (worker %d)\n", r.job, r.worker)
	} else {
		fmt.Printf("job %d -> %d (worker %d)\n", r.job, r.value, r.worker)
	}
}

// What the command line asked for: the same for both runs of --break.
type settings struct {
	workers, jobs int
	work, timeout time.Duration // timeout 0: none
	ordered       bool
}

// run runs every job, on a pool of s.workers (or, unbounded, one goroutine
// per job), prints one line per result and a summary; it returns the peak
// number of goroutines alive at once.
func run(s settings, unbounded bool) int32 {
	// A buffer of one per worker lets the feeder run a little ahead, while
	// memory stays bounded however many jobs there are.
	jobs := make(chan int, s.workers)
	results := make(chan result)
	done := make(chan struct{}) // never sent on; main closes it at the timeout
	var wg sync.WaitGroup
	peak = 0
	if unbounded {
		for job := 1; job <= s.jobs; job++ {
			started(&wg)
			go oneJob(job, results, s.work, done, &wg)
		}
	} else {
		for id := 1; id <= s.workers; id++ {
			started(&wg)
			go worker(id, jobs, results, s.work, done, &wg)
		}
		started(&wg)
		go feed(s.jobs, jobs, &wg)
	}

	// Every job yields exactly one result, processed or cancelled. The
	// timeout is a case of the same select: when it fires, main closes done
	// and every worker's select sees it; a nil channel is never ready, so
	// without a timeout the case is off.
	var timeout <-chan time.Time
	if s.timeout > 0 {
		timeout = time.After(s.timeout)
	}
	timedOut := false
	processed, cancelled, sum := 0, 0, 0
	byJob := make([]result, s.jobs)
	for i := 0; i < s.jobs; {
		select {
		case r := <-results:
			i++
			if r.cancelled {
				cancelled++
			} else {
				processed++
			}
			sum += r.value
			if s.ordered {
				byJob[r.job-1] = r // print later, by job id
			} else {
				printResult(r)
			}
		case <-timeout:
			close(done) // a broadcast: every receiver sees a close
			timedOut = true
			timeout = nil // fired once: switch the case off
		}
	}
	for i := 0; s.ordered && i < s.jobs; i++ {
		printResult(byJob[i])
	}
	wg.Wait()

	fmt.Printf("timed out: %t\n", timedOut)
	fmt.Printf("summary: jobs=%d processed=%d cancelled=%d sum=%d peak_goroutines=%d\n", s.jobs,
		processed, cancelled, sum, peak)
	return peak
}

func main() {
	var s settings
	flag.IntVar(&s.workers, "w", 4, "workers in the pool, 1..1000")
	flag.IntVar(&s.jobs, "n", 20, "jobs to run, 1..10000")
	flag.DurationVar(&s.work, "work", time.Millisecond, "the time a job takes")
	flag.DurationVar(&s.timeout, "timeout", 0, "cancel the jobs not done by then (0: never)")
	flag.BoolVar(&s.ordered, "ordered", false, "print the results by job id")
	brk := goflag.Mode("break", "unbounded", "run the pool, then one goroutine per job, and compare: unbounded")
	flag.Parse()
	goflag.IntRange("w", s.workers, 1, 1000)
	goflag.IntRange("n", s.jobs, 1, 10000)
	if s.work < 0 {
		goflag.Fail("invalid value \"%s\" for flag -work: must not be negative", s.work)
	}
	if s.timeout < 0 {
		goflag.Fail("invalid value \"%s\" for flag -timeout: must not be negative", s.timeout)
	}
	if flag.NArg() > 0 {
		goflag.Fail("unexpected argument: %s", flag.Arg(0))
	}

	if brk.Value() == "" {
		run(s, false)
		return
	}
	// --break: the pool first, then the same jobs with no pool at all.
	fmt.Printf("pool of %d workers:\n", s.workers)
	poolPeak := run(s, false)
	fmt.Printf("one goroutine per job:\n")
	unboundedPeak := run(s, true)
	fmt.Printf("break: most goroutines at once (main aside): %d with the pool (%d workers + the feeder), "+
		"%d with one goroutine per job\n", poolPeak, s.workers, unboundedPeak)
}
