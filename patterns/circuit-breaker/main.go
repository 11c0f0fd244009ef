// patterns/circuit-breaker: stop calling a service that is failing, and try
// again later. The breaker is sony/gobreaker's, written here in a hundred
// lines (the twins use the standard library only); main.c has it in
// breaker.h. The C twin is main.c, beside this file: the same flags, the
// same output.
//
// Break it: --break calls the service without the breaker: while it fails,
// every request waits for its slow failure, the callers pile up, and the
// peak of goroutines waiting on the service says so.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gopatterns/common/goflag"
)

// The breaker, as gobreaker's CircuitBreaker.

type state int

const (
	stateClosed state = iota
	stateHalfOpen
	stateOpen
)

var stateName = [...]string{"closed", "half-open", "open"}

var (
	errOpenState       = errors.New("circuit breaker is open")
	errTooManyRequests = errors.New("too many requests")
)

// counts is what the breaker knows of the requests of its current generation.
type counts struct {
	requests                                  uint32 // let through
	totalSuccesses, totalFailures             uint32
	consecutiveSuccesses, consecutiveFailures uint32
}

type settings struct {
	maxRequests   uint32        // half-open: let through, and the successes that close; 0: 1
	interval      time.Duration // closed: the counts are cleared this often; 0: never
	timeout       time.Duration // open: for how long; 0: 60 s
	tripAfter     uint32        // closed: the consecutive failures that open it; 0: 6
	now           func() time.Time
	onStateChange func(from, to state, at time.Time) // called with the mutex held
}

type breaker struct {
	mu         sync.Mutex
	s          settings
	state      state
	generation uint64
	counts     counts
	expiry     time.Time // when the state (or the closed interval) ends; zero: never
}

func newBreaker(s settings) *breaker {
	if s.maxRequests == 0 {
		s.maxRequests = 1
	}
	if s.timeout <= 0 {
		s.timeout = 60 * time.Second
	}
	if s.tripAfter == 0 {
		s.tripAfter = 6 // gobreaker's ReadyToTrip: more than 5 consecutive failures
	}
	if s.interval < 0 {
		s.interval = 0
	}
	if s.now == nil {
		s.now = time.Now
	}
	cb := &breaker{s: s}
	cb.newGeneration(s.now())
	return cb
}

// newGeneration clears the counts and sets the expiry of the state.
func (cb *breaker) newGeneration(now time.Time) {
	cb.generation++
	cb.counts = counts{}
	cb.expiry = time.Time{}
	switch {
	case cb.state == stateOpen:
		cb.expiry = now.Add(cb.s.timeout)
	case cb.state == stateClosed && cb.s.interval > 0:
		cb.expiry = now.Add(cb.s.interval)
	}
}

func (cb *breaker) setState(to state, now time.Time) {
	if cb.state == to {
		return
	}
	from := cb.state
	cb.state = to
	cb.newGeneration(now)
	if cb.s.onStateChange != nil {
		cb.s.onStateChange(from, to, now)
	}
}

// stateAt is the state at now: an open breaker whose timeout has passed is
// half-open; a closed one past its interval starts a new generation.
func (cb *breaker) stateAt(now time.Time) state {
	switch {
	case cb.state == stateClosed && !cb.expiry.IsZero() && cb.expiry.Before(now):
		cb.newGeneration(now)
	case cb.state == stateOpen && cb.expiry.Before(now):
		cb.setState(stateHalfOpen, now)
	}
	return cb.state
}

// before lets a request through (its generation, nil) or refuses it.
func (cb *breaker) before() (uint64, error) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	st := cb.stateAt(cb.s.now())
	switch {
	case st == stateOpen:
		return cb.generation, errOpenState
	case st == stateHalfOpen && cb.counts.requests >= cb.s.maxRequests:
		return cb.generation, errTooManyRequests
	}
	cb.counts.requests++
	return cb.generation, nil
}

// after counts a request that ended, if the breaker is still in the
// generation it started in.
func (cb *breaker) after(generation uint64, success bool) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	now := cb.s.now()
	st := cb.stateAt(now)
	c := &cb.counts
	switch {
	case generation != cb.generation: // from an older generation: it does not count
	case success:
		c.totalSuccesses, c.consecutiveSuccesses, c.consecutiveFailures = c.totalSuccesses+1, c.consecutiveSuccesses+1, 0
		if st == stateHalfOpen && c.consecutiveSuccesses >= cb.s.maxRequests {
			cb.setState(stateClosed, now)
		}
	default:
		c.totalFailures, c.consecutiveFailures, c.consecutiveSuccesses = c.totalFailures+1, c.consecutiveFailures+1, 0
		if st == stateHalfOpen || (st == stateClosed && c.consecutiveFailures >= cb.s.tripAfter) {
			cb.setState(stateOpen, now)
		}
	}
}

// execute runs req if the breaker lets it through, and counts how it ended.
func (cb *breaker) execute(req func() error) error {
	generation, err := cb.before()
	if err != nil {
		return err
	}
	err = req()
	cb.after(generation, err == nil)
	return err
}

func (cb *breaker) currentState() state {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return cb.stateAt(cb.s.now())
}

// The lesson.

const capacity = 4 // calls the service works on at once

// Set by main before the first goroutine, then only read.
var (
	runFor, work, timeout time.Duration
	start                 time.Time
	noBreaker             bool // --break
	cb                    *breaker
	slots                 = make(chan struct{}, capacity) // a token per call it works on
)

var (
	waiting, peak                                   atomic.Int32 // goroutines in callService now, and the most at once
	slowest                                         atomic.Int64 // the longest a call took, its wait for a slot included
	succeeded, failed, openRefused, halfOpenRefused atomic.Int32
)

var errTimedOut = errors.New("service timed out")

// nextRandom is splitmix64: the same draws in C and in Go for the same seed.
func nextRandom(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// failurePercent is the service's failure rate over the run: healthy,
// failing, healthy.
func failurePercent(at time.Duration) uint64 {
	if at >= runFor/4 && at < runFor*3/4 {
		return 90
	}
	return 2
}

// callService waits for a free slot, then the work, or the timeout if it fails.
func callService(draw uint64) error {
	called := time.Now()
	now := waiting.Add(1)
	for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
	}
	slots <- struct{}{} // blocks while the service is busy
	fails := draw%100 < failurePercent(time.Since(start))
	if fails {
		time.Sleep(timeout)
	} else {
		time.Sleep(work)
	}
	<-slots
	waiting.Add(-1)
	took := int64(time.Since(called))
	for s := slowest.Load(); took > s && !slowest.CompareAndSwap(s, took); s = slowest.Load() {
	}
	if fails {
		return errTimedOut
	}
	return nil
}

func request(draw uint64, wg *sync.WaitGroup) {
	defer wg.Done()
	call := func() error { return callService(draw) }
	var err error
	if noBreaker {
		err = call()
	} else {
		err = cb.execute(call)
	}
	switch err {
	case nil:
		succeeded.Add(1)
	case errOpenState:
		openRefused.Add(1)
	case errTooManyRequests:
		halfOpenRefused.Add(1)
	default:
		failed.Add(1)
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
	n := flag.Int("n", 1000, "requests, at an even pace over the run")
	flag.DurationVar(&runFor, "duration", 2*time.Second, "the run: the service fails from a quarter of it to three quarters")
	flag.DurationVar(&work, "work", 2*time.Millisecond, "the time a call that succeeds takes")
	flag.DurationVar(&timeout, "timeout", 40*time.Millisecond, "the time a call that fails takes")
	tripAfter := flag.Int("trip-after", 3, "consecutive failures that open the breaker")
	openFor := flag.Duration("open-for", 100*time.Millisecond, "how long the breaker stays open")
	halfOpen := flag.Int("half-open", 3, "requests let through half-open; as many successes close it")
	seed := flag.Int("seed", 1, "seed of the failures")
	mistake := goflag.Mode("break", "no-breaker", "call the service without the breaker")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 100000)
	goflag.IntRange("trip-after", *tripAfter, 1, 1000)
	goflag.IntRange("half-open", *halfOpen, 1, 1000)
	if runFor <= 0 || runFor > time.Hour || *openFor <= 0 {
		fmt.Fprintln(os.Stderr, "invalid duration or open-for: must be 0 < duration <= 1h, 0 < open-for")
		flag.Usage()
		os.Exit(2)
	}
	noBreaker = mistake.Value() != ""

	fmt.Printf("%d requests over %s; the service fails 90%% of calls from %s to %s (a failure takes %s), 2%% before and after\n",
		*n, runFor, runFor/4, runFor*3/4, timeout)
	if noBreaker {
		fmt.Println("no breaker")
	} else {
		fmt.Printf("breaker: opens after %d consecutive failures, stays open %s, lets %d through half-open\n",
			*tripAfter, *openFor, *halfOpen)
	}

	var wg sync.WaitGroup
	rng := uint64(*seed)
	start = time.Now()
	cb = newBreaker(settings{
		maxRequests: uint32(*halfOpen),
		timeout:     *openFor,
		tripAfter:   uint32(*tripAfter),
		now:         time.Now,
		onStateChange: func(from, to state, at time.Time) {
			fmt.Printf("at %s: %s -> %s\n", at.Sub(start).Truncate(time.Millisecond), stateName[from], stateName[to])
		},
	})
	for i := 0; i < *n; i++ {
		time.Sleep(time.Until(start.Add(runFor * time.Duration(i) / time.Duration(*n)))) // the pace: on time, or catching up
		wg.Add(1)
		go request(nextRandom(&rng), &wg)
	}
	wg.Wait()

	fast := openRefused.Load() + halfOpenRefused.Load()
	fmt.Printf("requests: %d = %d succeeded + %d failed + %d failed fast (%d open, %d half-open)\n", *n,
		succeeded.Load(), failed.Load(), fast, openRefused.Load(), halfOpenRefused.Load())
	fmt.Printf("waiting on the service at the peak: %d; the slowest call took %s\n", peak.Load(),
		time.Duration(slowest.Load()).Truncate(time.Millisecond))
	if !noBreaker {
		fmt.Printf("breaker at the end: %s\n", stateName[cb.currentState()])
	}
	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
