// patterns/rate-limit: five rate limiters, the same burst through each.
//
// The C twin is main.c (with its limiters in rate_limit.h), beside this
// file: the same flags, the same output. The token bucket has the shape of
// golang.org/x/time/rate, which is not in the standard library: it is
// written here, as the other four are.
//
// Break it:
//
//	--break=per-request   each request makes a limiter of its own, full and
//	                      unused, and goes straight through: the program's
//	                      own check reports every limit blown
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"gopatterns/common/goflag"
)

// The clock the token bucket, the leaky bucket and the window read; the
// throttle and the bursty limiter read a channel of ticks instead.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// 1. The throttle: a request waits for the next tick.
func throttleWait(ticks <-chan time.Time) { <-ticks }

// 2. The bursty limiter: a channel of tokens, full at the start, refilled
// by ticks; Go by Example's, with a way to stop its refill goroutine.
type burstyLimiter struct {
	tokens chan time.Time
	done   chan struct{}
	wg     sync.WaitGroup
}

func newBursty(burst int, ticks <-chan time.Time) *burstyLimiter {
	b := &burstyLimiter{tokens: make(chan time.Time, burst), done: make(chan struct{})}
	for i := 0; i < burst; i++ {
		b.tokens <- time.Time{}
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			var t time.Time
			select {
			case t = <-ticks:
			case <-b.done:
				return
			}
			select {
			case b.tokens <- t:
			case <-b.done:
				return
			}
		}
	}()
	return b
}

func (b *burstyLimiter) Wait() { <-b.tokens }
func (b *burstyLimiter) Stop() { close(b.done); b.wg.Wait() }

// 3. The token bucket, in the shape of golang.org/x/time/rate. The tokens
// are counted in time, credit / every of them, so the arithmetic is exact.
type tokenBucket struct {
	clock     clock
	every     time.Duration // a token per every: rate.Every(every)
	burst     int           // the bucket holds at most burst tokens
	mu        sync.Mutex
	credit    time.Duration // negative while requests wait for reserved tokens
	last      time.Time     // when credit was last brought up to date
	lastEvent time.Time     // when the latest reservation may act
}

var errExceedsDeadline = errors.New("rate: Wait(n=1) would exceed context deadline")

func newTokenBucket(c clock, every time.Duration, burst int) *tokenBucket {
	return &tokenBucket{clock: c, every: every, burst: burst,
		credit: time.Duration(burst) * every, last: c.Now()}
}

func (tb *tokenBucket) advance(now time.Time) {
	full := time.Duration(tb.burst) * tb.every
	if now.After(tb.last) {
		earned := now.Sub(tb.last)
		if earned > full-tb.credit {
			tb.credit = full
		} else {
			tb.credit += earned
		}
		tb.last = now
	}
}

// Allow takes a token if there is one, and never waits.
func (tb *tokenBucket) Allow() bool {
	now := tb.clock.Now()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.advance(now)
	if tb.credit < tb.every {
		return false
	}
	tb.credit -= tb.every
	tb.lastEvent = now
	return true
}

// Wait reserves the next token, then waits until it is earned. It gives up
// at once if the context's deadline comes first, and when the context ends
// while it waits, giving the token back unless a later request reserved one.
func (tb *tokenBucket) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := tb.clock.Now()
	deadline, hasDeadline := ctx.Deadline()
	tb.mu.Lock()
	tb.advance(now)
	var wait time.Duration
	if tb.credit < tb.every {
		wait = tb.every - tb.credit
	}
	if hasDeadline && wait > deadline.Sub(now) {
		tb.mu.Unlock()
		return errExceedsDeadline
	}
	tb.credit -= tb.every
	act := now.Add(wait)
	tb.lastEvent = act
	tb.mu.Unlock()
	if wait == 0 {
		return nil
	}

	select {
	case <-tb.clock.After(wait):
		return nil
	case <-ctx.Done():
		now = tb.clock.Now()
		tb.mu.Lock()
		if act.After(now) && tb.lastEvent.Equal(act) {
			tb.advance(now)
			tb.credit += tb.every
			tb.lastEvent = act.Add(-tb.every)
		}
		tb.mu.Unlock()
		return ctx.Err()
	}
}

// 4. The leaky bucket: a queue that leaks one request per every.
type leakyBucket struct {
	clock    clock
	every    time.Duration
	capacity int // how many requests may wait in the bucket
	mu       sync.Mutex
	next     time.Time // when the next request may leave
}

func newLeakyBucket(c clock, every time.Duration, capacity int) *leakyBucket {
	return &leakyBucket{clock: c, every: every, capacity: capacity, next: c.Now()}
}

// Admit returns how long the request waits before it leaves, or -1 when the
// bucket is full and the request is dropped.
func (lb *leakyBucket) Admit() time.Duration {
	now := lb.clock.Now()
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.next.Before(now) {
		lb.next = now // the bucket ran dry: no credit for the idle time
	}
	wait := lb.next.Sub(now)
	if wait > 0 && int((wait-1)/lb.every) >= lb.capacity {
		return -1
	}
	lb.next = lb.next.Add(lb.every)
	return wait
}

func (lb *leakyBucket) Wait() bool {
	wait := lb.Admit()
	if wait > 0 {
		<-lb.clock.After(wait)
	}
	return wait >= 0
}

// 5. The sliding-window counter, estimated from two fixed windows.
type slidingWindow struct {
	clock     clock
	window    time.Duration
	limit     int64 // requests per window
	mu        sync.Mutex
	start     time.Time // when the current fixed window began
	prev, cur int64     // admitted in the previous and the current window
}

func newSlidingWindow(c clock, window time.Duration, limit int) *slidingWindow {
	return &slidingWindow{clock: c, window: window, limit: int64(limit), start: c.Now()}
}

// Allow admits the request and returns 0, or returns when to try again.
func (sw *slidingWindow) Allow() time.Duration {
	now := sw.clock.Now()
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if passed := int64(now.Sub(sw.start) / sw.window); passed > 0 {
		if passed == 1 {
			sw.prev = sw.cur
		} else {
			sw.prev = 0
		}
		sw.cur = 0
		sw.start = sw.start.Add(time.Duration(passed) * sw.window)
	}
	w, into := int64(sw.window), int64(now.Sub(sw.start))
	switch {
	case sw.prev*(w-into)+sw.cur*w < sw.limit*w:
		sw.cur++
		return 0
	case sw.prev == 0:
		return time.Duration(w - into)
	default:
		at := w*(sw.prev+sw.cur-sw.limit)/sw.prev + 1
		if at > w {
			at = w
		}
		return time.Duration(at - into)
	}
}

func (sw *slidingWindow) Wait() {
	for retry := sw.Allow(); retry > 0; retry = sw.Allow() {
		<-sw.clock.After(retry)
	}
}

const (
	ticker = iota
	bursty
	token
	leaky
	window
	limiters
)

var names = [limiters]string{"ticker", "bursty", "token", "leaky", "window"}

const maxRequests = 100

var (
	n, rate, burst int
	every, timeout time.Duration
	perRequest     bool // --break
)

// One limiter of each kind, behind one door.
type limiter struct {
	kind   int
	tick   *time.Ticker // the clock of the throttle and the bursty limiter
	bursty *burstyLimiter
	token  *tokenBucket
	leaky  *leakyBucket
	window *slidingWindow
}

func newLimiter(kind int) *limiter {
	l := &limiter{kind: kind}
	if kind == ticker || kind == bursty {
		l.tick = time.NewTicker(every)
	}
	switch kind {
	case bursty:
		l.bursty = newBursty(burst, l.tick.C)
	case token:
		l.token = newTokenBucket(realClock{}, every, burst)
	case leaky:
		l.leaky = newLeakyBucket(realClock{}, every, maxRequests) // room for every request
	case window:
		l.window = newSlidingWindow(realClock{}, time.Second, rate) // rate requests per second
	}
	return l
}

// Wait blocks until the request may go: nil, or why it may not.
func (l *limiter) Wait() error {
	switch l.kind {
	case ticker:
		throttleWait(l.tick.C) // the guide's <-limiter
	case bursty:
		l.bursty.Wait()
	case token: // a request waits for its token at most --timeout
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return l.token.Wait(ctx)
	case leaky:
		if !l.leaky.Wait() {
			return errors.New("dropped: the bucket is full")
		}
	case window:
		l.window.Wait()
	}
	return nil
}

func (l *limiter) Stop() {
	if l.bursty != nil {
		l.bursty.Stop()
	}
	if l.tick != nil {
		l.tick.Stop()
	}
}

type request struct {
	shared         *limiter // its lane's limiter
	asked, through time.Duration
	err            error // nil: it went through
}

var (
	lanes    [limiters]*limiter
	requests [limiters][maxRequests]request
	wg       sync.WaitGroup
	start    time.Time // before the first limiter was made
)

func handle(r *request) {
	defer wg.Done()
	r.asked = time.Since(start)
	if perRequest {
		mine := newLimiter(r.shared.kind) // WRONG: a fresh limiter, full, for this request alone
		r.err = mine.Wait()
		mine.Stop()
	} else {
		r.err = r.shared.Wait() // right: one limiter, shared by all
	}
	r.through = time.Since(start)
}

// firstTooEarly returns the first request let through too early: by time t,
// no more than burst + t / every may have gone. through is sorted. -1: none.
func firstTooEarly(through []time.Duration, laneBurst int) int {
	for k := laneBurst; k < len(through); k++ {
		if through[k] < time.Duration(k+1-laneBurst)*every {
			return k
		}
	}
	return -1
}

var through [limiters][]time.Duration // each lane's, sorted

// timeline prints a column per half period, a digit per request through.
func timeline() {
	col := every / 2
	width := 0
	for l := 0; l < limiters; l++ {
		if c := len(through[l]); c > 0 && int(through[l][c-1]/col)+1 > width {
			width = int(through[l][c-1]/col) + 1
		}
	}
	fmt.Printf("one column per %s, a digit for the requests let through in it:\n%-10s", col, "")
	for c := 0; c < width; c += 10 { // a label every ten columns
		w := 0
		if c+10 < width {
			w = 10
		}
		fmt.Printf("%-*s", w, time.Duration(c)*col)
	}
	fmt.Println()
	for l := 0; l < limiters; l++ {
		var b strings.Builder
		k := 0
		for c := 0; c < width; c++ {
			in := 0
			for ; k < len(through[l]) && int(through[l][k]/col) == c; k++ {
				in++
			}
			switch {
			case in == 0:
				b.WriteByte('.')
			case in > 9:
				b.WriteByte('+')
			default:
				b.WriteByte(byte('0' + in))
			}
		}
		fmt.Printf("%-10s%s\n", names[l], b.String())
	}
}

// report prints one lane: what went at once, the rate of those that waited,
// and the check. It returns whether the limiter held.
func report(l, laneBurst int) bool {
	atOnce, waited, gaveUp := 0, 0, 0
	first, last := time.Duration(-1), time.Duration(-1)
	var why error
	for i := 0; i < n; i++ {
		r := &requests[l][i]
		switch {
		case r.err != nil:
			gaveUp++
			why = r.err
		case r.through-r.asked < every/2:
			atOnce++
		default:
			waited++
			if first < 0 || r.through < first {
				first = r.through
			}
			if r.through > last {
				last = r.through
			}
		}
	}
	fmt.Printf("%s: %d through, %d at once, then %d", names[l], len(through[l]), atOnce, waited)
	if waited >= 2 {
		span := last - first
		if span <= 0 {
			span = 1
		}
		fmt.Printf(" at %.2f/s", float64(waited-1)*float64(time.Second)/float64(span))
	}
	fmt.Printf(" (configured %d/s)", rate)
	if gaveUp > 0 {
		fmt.Printf(", %d gave up (%v)", gaveUp, why)
	}
	k := firstTooEarly(through[l], laneBurst)
	if k < 0 {
		fmt.Printf(": held\n")
		return true
	}
	fmt.Printf(": BLOWN: #%d through at %s, not allowed before %s\n", k+1,
		through[l][k].Round(time.Millisecond), (time.Duration(k+1-laneBurst) * every).Round(time.Millisecond))
	return false
}

func main() {
	flag.IntVar(&n, "n", 15, "requests in the burst")
	flag.IntVar(&rate, "rate", 5, "requests per second each limiter lets through")
	flag.IntVar(&burst, "burst", 3, "requests the bursty limiter and the token bucket let through at once")
	flag.DurationVar(&timeout, "timeout", 10*time.Second, "how long a request waits for the token bucket before it gives up")
	mistake := goflag.Mode("break", "per-request", "make a limiter in each request instead of one for all: it limits nothing")
	flag.Parse()
	goflag.IntRange("n", n, 1, maxRequests)
	goflag.IntRange("rate", rate, 1, 1000)
	goflag.IntRange("burst", burst, 1, maxRequests)
	perRequest = mistake.Value() != ""
	every = time.Second / time.Duration(rate)
	fmt.Printf("a burst of %d requests at once into each limiter: %d/s, burst %d\n", n, rate, burst)

	start = time.Now()
	for l := 0; l < limiters; l++ {
		lanes[l] = newLimiter(l)
	}
	for l := 0; l < limiters; l++ {
		for i := 0; i < n; i++ {
			requests[l][i] = request{shared: lanes[l]}
			wg.Add(1)
			go handle(&requests[l][i])
		}
	}
	wg.Wait()
	for l := 0; l < limiters; l++ {
		lanes[l].Stop()
	}

	for l := 0; l < limiters; l++ {
		for i := 0; i < n; i++ {
			if requests[l][i].err == nil {
				through[l] = append(through[l], requests[l][i].through)
			}
		}
		sort.Slice(through[l], func(i, j int) bool { return through[l][i] < through[l][j] })
	}
	timeline()
	// What each may let through at once: the throttle waits for its first tick.
	laneBurst := [limiters]int{0, burst, burst, 1, rate}
	blown := 0
	for l := 0; l < limiters; l++ {
		if !report(l, laneBurst[l]) {
			blown++
		}
	}
	if blown > 0 {
		fmt.Printf("main: %d of %d limiters let more through than burst + rate x elapsed\n", blown, limiters)
	} else {
		fmt.Printf("main: every limiter held its limit: never more than burst + rate x elapsed\n")
	}

	// Every goroutine has called wg.Done; each returns right after.
	for end := time.Now().Add(time.Second); runtime.NumGoroutine() > 1 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("main: goroutines left: %d (main)\n", runtime.NumGoroutine())
	if blown > 0 {
		os.Exit(1)
	}
}
