// patterns/retry-backoff: retries with exponential backoff and full jitter,
// dead letters, and an idempotency key. From the AWS Architecture Blog's
// "Exponential Backoff And Jitter" (Marc Brooker). The C twin is main.c,
// beside this file: the same flags, the same output.
//
// Break it:
//
//	--break=no-backoff  retry at once: a hot loop against a failing service,
//	                    and the attempts per second say so
//	--break=no-key      no idempotency key: a job delivered twice is done
//	                    twice, and the summary's count says so
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"gopatterns/common/goflag"
)

const attemptsMax = 20 // the largest -attempts

// Set by main before the first goroutine, then only read.
var (
	maxAttempts                      int
	baseWait, maxWait, timeout, work time.Duration
	noBackoff, noKey                 bool // --break
)

// job is a job as the queue delivers it. Its id is also its idempotency key.
type job struct {
	id       int
	failures int    // the service refuses this many attempts, then succeeds
	hangs    bool   // the service never answers it: only the deadline ends it
	rng      uint64 // the job's own random state, for its jitter
}

type outcome int

const (
	done outcome = iota
	dead
	cancelled
	skipped
)

var outcomeName = [...]string{"done", "dead-lettered", "cancelled", "skipped"}

type result struct {
	id, attempts int
	outcome      outcome
	err          error // the last error; nil when done
	retries      int
	waited       time.Duration // from each failure to the retry after it, in all
}

var errUnavailable = errors.New("service unavailable")

// nextRandom is splitmix64: the same jobs and waits in C and in Go for the
// same seed.
func nextRandom(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// sleepCtx waits d, or until ctx is done; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// call is one call of the service: it refuses the job's first attempts at
// once (a 503), then does the work; a job that hangs is never answered.
func call(ctx context.Context, j *job, attempt int) error {
	if j.hangs {
		<-ctx.Done()
		return ctx.Err()
	}
	if attempt <= j.failures {
		return errUnavailable
	}
	if !sleepCtx(ctx, work) {
		return ctx.Err()
	}
	return nil
}

// backoff is full jitter: the wait before retry k (after the k-th failure)
// is drawn from [0, min(maxWait, baseWait * 2^(k-1))).
func backoff(k int, rng *uint64) time.Duration {
	ceiling := baseWait
	for i := 1; i < k && ceiling <= maxWait/2; i++ {
		ceiling *= 2
	}
	if ceiling > maxWait {
		ceiling = maxWait
	}
	return time.Duration(nextRandom(rng) % uint64(ceiling))
}

// runJob runs one delivery of a job to its end: done, out of attempts
// (dead), or out of time (cancelled). The deadline runs from the first
// attempt.
func runJob(j job) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := result{id: j.id}
	for r.attempts = 1; ; r.attempts++ {
		r.err = call(ctx, &j, r.attempts)
		switch {
		case r.err == nil:
			r.outcome = done
			return r
		case r.err != errUnavailable: // the deadline came during the call
			r.outcome = cancelled
			return r
		case r.attempts == maxAttempts:
			r.outcome = dead
			return r
		}
		failed := time.Now()
		if !noBackoff && !sleepCtx(ctx, backoff(r.attempts, &j.rng)) {
			r.err = ctx.Err()
			r.outcome = cancelled
			return r
		}
		r.retries++
		r.waited += time.Since(failed)
	}
}

// keys is the idempotency store: a key is claimed once, by the first
// delivery that asks (a database does it with a unique key).
type keys struct {
	mu    sync.Mutex
	taken map[int]bool
}

func (k *keys) claim(key int) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	first := !k.taken[key]
	k.taken[key] = true
	return first
}

func worker(jobs <-chan job, results, deadLetters chan<- result, store *keys, wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range jobs {
		if !noKey && !store.claim(j.id) {
			results <- result{id: j.id, outcome: skipped}
			continue
		}
		r := runJob(j)
		if r.outcome == dead {
			deadLetters <- r
		} else {
			results <- r
		}
	}
}

// drawJob draws a job's fate from the seed: half succeed at once, two in
// five fail one to four times first, one in fourteen is always refused, one
// in twenty hangs.
func drawJob(id int, state *uint64) job {
	r := nextRandom(state) % 100
	j := job{id: id, rng: nextRandom(state), hangs: r >= 95, failures: math.MaxInt32}
	switch {
	case r < 50:
		j.failures = 0
	case r < 70:
		j.failures = 1
	case r < 80:
		j.failures = 2
	case r < 85:
		j.failures = 3
	case r < 88:
		j.failures = 4
	}
	return j
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
	n := flag.Int("n", 30, "jobs")
	workers := flag.Int("w", 4, "workers")
	flag.IntVar(&maxAttempts, "attempts", 5, "attempts of a job before it goes to the dead letters")
	flag.DurationVar(&baseWait, "backoff", 10*time.Millisecond,
		"the longest wait before the first retry; it doubles for each next one")
	flag.DurationVar(&maxWait, "max-backoff", time.Second, "the longest wait before any retry")
	flag.DurationVar(&timeout, "timeout", 500*time.Millisecond, "each job's deadline")
	flag.DurationVar(&work, "work", 2*time.Millisecond, "the time a call that succeeds takes")
	seed := flag.Int("seed", 1, "seed of the failures and of the jitter")
	mistake := goflag.Mode("break", "no-backoff|no-key", "retry at once (no-backoff), or do without the idempotency key (no-key)")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 10000)
	goflag.IntRange("w", *workers, 1, 100)
	goflag.IntRange("attempts", maxAttempts, 1, attemptsMax)
	if baseWait <= 0 || maxWait < baseWait || timeout <= 0 {
		fmt.Fprintln(os.Stderr, "invalid backoff or timeout: must be 0 < backoff <= max-backoff, 0 < timeout")
		flag.Usage()
		os.Exit(2)
	}
	noBackoff = mistake.Value() == "no-backoff"
	noKey = mistake.Value() == "no-key"

	// The queue, filled before the workers start: at least once, so one job
	// in five is delivered twice, right after itself.
	jobs := make(chan job, 2**n)
	state := uint64(*seed)
	twice := 0
	for id := 1; id <= *n; id++ {
		j := drawJob(id, &state)
		jobs <- j
		if nextRandom(&state)%5 == 0 {
			jobs <- j
			twice++
		}
	}
	close(jobs)
	fmt.Printf("%d jobs (%d delivered twice), %d workers, %d attempts, backoff %s..%s with full jitter, deadline %s\n",
		*n, twice, *workers, maxAttempts, baseWait, maxWait, timeout)

	results, deadLetters := make(chan result), make(chan result)
	store := &keys{taken: make(map[int]bool)}
	var wg sync.WaitGroup
	wg.Add(*workers)
	for i := 0; i < *workers; i++ {
		go worker(jobs, results, deadLetters, store, &wg)
	}
	go func() { // the workers' last one out closes both: nobody sends after that
		wg.Wait()
		close(results)
		close(deadLetters)
	}()

	// Every delivery ends on one of the two channels: read both to their close.
	endings, histogram := make([]int, *n+1), make([]int, maxAttempts+1)
	var count [4]int
	retries, waited := 0, time.Duration(0)
	for res, dl := results, deadLetters; res != nil || dl != nil; {
		var r result
		var ok bool
		select {
		case r, ok = <-res:
			if !ok {
				res = nil // closed: that case is off
				continue
			}
		case r, ok = <-dl:
			if !ok {
				dl = nil
				continue
			}
		}
		count[r.outcome]++
		if r.outcome == skipped {
			fmt.Printf("job %d: skipped: delivered again, its key was taken\n", r.id)
			continue
		}
		endings[r.id]++
		histogram[r.attempts]++
		retries += r.retries
		waited += r.waited
		if r.err != nil {
			fmt.Printf("job %d: %s at attempt %d: %v\n", r.id, outcomeName[r.outcome], r.attempts, r.err)
		} else {
			fmt.Printf("job %d: %s at attempt %d\n", r.id, outcomeName[r.outcome], r.attempts)
		}
	}

	most, moreThanOnce, never := 1, 0, 0
	for _, h := range histogram {
		if h > most {
			most = h
		}
	}
	fmt.Println("attempts  jobs")
	for a := 1; a <= maxAttempts; a++ {
		fmt.Printf("%8d  %4d  %s\n", a, histogram[a], strings.Repeat("#", (histogram[a]*40+most-1)/most))
	}
	for _, e := range endings[1:] {
		if e > 1 {
			moreThanOnce++
		}
		if e == 0 {
			never++
		}
	}
	fmt.Printf("ended: %d done + %d dead-lettered + %d cancelled = %d, for %d jobs; %d skipped\n",
		count[done], count[dead], count[cancelled], count[done]+count[dead]+count[cancelled], *n, count[skipped])
	fmt.Printf("jobs that ended more than once: %d, never: %d\n", moreThanOnce, never)
	if retries > 0 {
		if waited <= 0 {
			waited = 1
		}
		shown := waited // to the microsecond, or to the nanosecond below a millisecond
		if waited >= time.Millisecond {
			shown = waited.Truncate(time.Microsecond)
		}
		fmt.Printf("retries: %d, %s waiting in all: %d attempts per second\n", retries, shown,
			int64(float64(retries)*float64(time.Second)/float64(waited)))
	} else {
		fmt.Println("retries: 0")
	}
	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
