// patterns/errgroup: N fetches in a group: the first error cancels the rest.
//
// The C twin is main.c, beside this file: the same flags, the same output.
// golang.org/x/sync/errgroup is not in the standard library, so the Group
// at the end of this file is a small one of our own with the same API
// (WithContext, Go, TryGo, SetLimit, Wait), written as x/sync's is.
//
// Break it:
//
//	--break=waitgroup   plain goroutines and a WaitGroup: the error is kept,
//	                    but nothing tells the others, and they all work on
//	                    to the end (the wasted work is counted)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gopatterns/common/goflag"
)

const (
	notStarted = iota
	done
	failed
	cancelled
)

type fetch struct {
	id             int
	ctx            context.Context // the group's: cancelled by the first error
	started, ended time.Duration   // since main began
	status         int
}

const maxFetches = 100

var (
	n, limit, fail int
	work           time.Duration
	start          time.Time
	fetches        [maxFetches]fetch
	active, peak   atomic.Int32 // fetches running now, and at most
	firstErrorAt   atomic.Int64 // when the failing fetch failed; -1: not yet
	failure        error
)

func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// fetchOne is one simulated fetch: nil, its failure, or why it gave up.
func fetchOne(f *fetch) error {
	now := active.Add(1)
	for most := peak.Load(); now > most && !peak.CompareAndSwap(most, now); most = peak.Load() {
	}
	f.started = time.Since(start)
	d := work
	if f.id == fail {
		d = work / 10
	}
	finished := time.NewTimer(d)
	defer finished.Stop()
	var ctxDone bool
	select {
	case <-finished.C:
	case <-f.ctx.Done():
		ctxDone = true
	}
	f.ended = time.Since(start)
	active.Add(-1)

	switch {
	case ctxDone:
		f.status = cancelled
		fmt.Printf("fetch %d: cancelled after %s: %v\n", f.id, ms(f.ended-f.started), f.ctx.Err())
		return f.ctx.Err()
	case f.id == fail:
		f.status = failed
		firstErrorAt.Store(int64(f.ended))
		fmt.Printf("fetch %d: failed after %s: 503 Service Unavailable\n", f.id, ms(f.ended-f.started))
		return failure
	}
	f.status = done
	fmt.Printf("fetch %d: done in %s\n", f.id, ms(f.ended-f.started))
	return nil
}

func main() {
	flag.IntVar(&n, "n", 10, "fetches to run")
	flag.IntVar(&limit, "limit", 3, "how many fetches run at once (SetLimit)")
	flag.IntVar(&fail, "fail", 4, "the fetch that fails, after a tenth of its work (0: none)")
	flag.DurationVar(&work, "work", 200*time.Millisecond, "the time a fetch takes")
	mistake := goflag.Mode("break", "waitgroup", "run the fetches in plain goroutines with a WaitGroup: an error stops nobody")
	flag.Parse()
	goflag.IntRange("n", n, 1, maxFetches)
	goflag.IntRange("limit", limit, 1, maxFetches)
	goflag.IntRange("fail", fail, 0, maxFetches)
	if fail > n {
		fmt.Fprintf(os.Stderr, "invalid value \"%d\" for flag -fail: past the last fetch (-n %d)\n", fail, n)
		flag.Usage()
		os.Exit(2)
	}
	plain := mistake.Value() != ""
	failure = fmt.Errorf("fetch %d: 503 Service Unavailable", fail)
	firstErrorAt.Store(-1)
	start = time.Now()

	var err error
	if !plain {
		g, ctx := WithContext(context.Background()) // ctx: cancelled by the first error, or by Wait
		g.SetLimit(limit)
		for i := 0; i < n; i++ {
			f := &fetches[i]
			*f = fetch{id: i + 1, ctx: ctx}
			g.Go(func() error { return fetchOne(f) }) // waits for a free slot
		}
		err = g.Wait()
	} else {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := 0; i < n; i++ { // WRONG: no context to cancel, and no limit
			f := &fetches[i]
			*f = fetch{id: i + 1, ctx: context.Background()}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if e := fetchOne(f); e != nil {
					mu.Lock()
					if err == nil {
						err = e // kept, but nobody is told
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}

	// What ran, and what ran on after the first error: a fetch whose work
	// was still due after it and that finished it anyway.
	var count [4]int
	ranOn, wasted, failedAt := 0, time.Duration(0), time.Duration(firstErrorAt.Load())
	for i := 0; i < n; i++ {
		f := &fetches[i]
		count[f.status]++
		if failedAt >= 0 && f.status == done && f.started+work > failedAt {
			ranOn++
			wasted += f.ended - failedAt
		}
	}
	if err != nil {
		fmt.Printf("main: the first error: %v\n", err)
	} else {
		fmt.Printf("main: no error\n")
	}
	fmt.Printf("main: %d done, %d failed, %d cancelled; at most %d at once ", count[done],
		count[failed], count[cancelled], peak.Load())
	if count[notStarted] > 0 {
		fmt.Printf("(%d never started) ", count[notStarted])
	}
	if plain {
		fmt.Printf("(no limit)\n")
	} else {
		fmt.Printf("(limit %d)\n", limit)
	}
	fmt.Printf("main: after the first error, %d fetches ran on to the end: %s of work wasted\n",
		ranOn, ms(wasted))

	if !plain {
		// TryGo never waits for a slot: it starts the function, or says no.
		// These hold their slots until main has tried them all, so that the
		// count does not depend on the machine's speed.
		var t Group
		t.SetLimit(limit)
		hold := make(chan struct{})
		started := 0
		for i := 0; i < n; i++ {
			if t.TryGo(func() error { <-hold; return nil }) {
				started++
			}
		}
		close(hold)
		t.Wait()
		fmt.Printf("main: TryGo %d times with a limit of %d: %d started, %d refused\n", n, limit, started,
			n-started)
	}

	// Every goroutine has said it is done; each returns right after.
	for end := time.Now().Add(time.Second); runtime.NumGoroutine() > 1 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("main: goroutines left: %d (main)\n", runtime.NumGoroutine())
}

// A Group is golang.org/x/sync/errgroup's, in small: a WaitGroup that keeps
// the first error and, made by WithContext, cancels its context with it.
type Group struct {
	cancel  func()
	wg      sync.WaitGroup
	sem     chan struct{} // a token per active goroutine; nil: no limit
	errOnce sync.Once
	err     error
}

func WithContext(ctx context.Context) (*Group, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	return &Group{cancel: cancel}, ctx
}

func (g *Group) done() {
	if g.sem != nil {
		<-g.sem
	}
	g.wg.Done()
}

// Wait waits for every goroutine, then cancels the context and returns the
// first error.
func (g *Group) Wait() error {
	g.wg.Wait()
	if g.cancel != nil {
		g.cancel()
	}
	return g.err
}

func (g *Group) run(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.done()
		if err := f(); err != nil {
			g.errOnce.Do(func() {
				g.err = err
				if g.cancel != nil {
					g.cancel()
				}
			})
		}
	}()
}

// Go runs f in a new goroutine, first waiting for a slot if there is a limit.
func (g *Group) Go(f func() error) {
	if g.sem != nil {
		g.sem <- struct{}{}
	}
	g.run(f)
}

// TryGo runs f in a new goroutine only if a slot is free now.
func (g *Group) TryGo(f func() error) bool {
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		default:
			return false
		}
	}
	g.run(f)
	return true
}

// SetLimit bounds the active goroutines to n; n < 0 removes the limit.
func (g *Group) SetLimit(n int) {
	if n < 0 {
		g.sem = nil
		return
	}
	if len(g.sem) != 0 {
		panic(fmt.Errorf("errgroup: modify limit while %v goroutines in the group are still active", len(g.sem)))
	}
	g.sem = make(chan struct{}, n)
}
