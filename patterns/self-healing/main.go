// patterns/self-healing: a steward restarts its ward when the ward stops
// beating, and the work goes on where it stopped. From Concurrency in Go
// (Katherine Cox-Buday), chapter 5, "Healing Unhealthy Goroutines". The C
// twin is main.c, beside this file: the same flags, the same output.
//
// Break it: --break is a steward that does not watch the heartbeat: the first
// ward that stalls is never restarted, and the work stops there, until
// --duration ends the run with items missing.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"time"

	"gopatterns/common/goflag"
)

type result struct {
	item, ward int // item done, and by which ward
}

// work outlives every ward. next is read and written by the running ward
// only: the steward starts a new ward once the old one has returned, never
// before, so that two wards never do the same item.
type work struct {
	n, next    int // items 1..n; next: the first one not yet done
	stallEvery int
	itemTime   time.Duration
	results    chan result // to main; the steward closes it
}

// ward does the work's items from w.next on, pulsing on its heartbeat every
// interval, until the work is done or done is closed; it closes its heartbeat
// when it returns.
func ward(id int, w *work, done <-chan struct{}, interval time.Duration) <-chan struct{} {
	heartbeat := make(chan struct{}, 1)
	go func() {
		defer close(heartbeat) // tells the steward we have returned
		pulse := time.NewTicker(interval)
		defer pulse.Stop()
		// A pulse goes out only if the heartbeat has room now (patterns/heartbeat).
		sendPulse := func() {
			select {
			case heartbeat <- struct{}{}:
			default:
			}
		}
		for did := 0; w.next <= w.n; did++ {
			r := result{w.next, id}
			if w.stallEvery > 0 && did == w.stallEvery {
				// Stuck on an item, as on a call that never returns: no beat
				// and no work, until the steward closes done.
				fmt.Printf("ward %d: stalls on item %d (it did %d)\n", id, r.item, did)
				<-done
				return
			}
			item := time.After(w.itemTime) // the item's work
		working:
			for {
				select {
				case <-done:
					return
				case <-pulse.C:
					sendPulse()
				case <-item:
					break working
				}
			}
		sending:
			for {
				select {
				case <-done:
					return // stopped before main had it: the next ward does this item
				case <-pulse.C:
					sendPulse()
				case w.results <- r:
					break sending
				}
			}
			w.next++ // main has the item: the next ward goes on from the next one
		}
	}()
	return heartbeat
}

type steward struct {
	work    *work
	done    <-chan struct{} // main's: closed to stop everything
	timeout time.Duration
	watch   bool // false: --break
	wards   int  // started so far; main reads it once the steward is done
}

// startWard starts the next ward on the work.
func (s *steward) startWard() (chan struct{}, <-chan struct{}) {
	s.wards++
	done := make(chan struct{})
	fmt.Printf("steward: ward %d starts at item %d\n", s.wards, s.work.next)
	return done, ward(s.wards, s.work, done, s.timeout/2)
}

// stopWard closes the ward's done and waits until it has returned: it closes
// its heartbeat last, so its last word on the work happens before ours.
func stopWard(done chan struct{}, heartbeat <-chan struct{}) {
	close(done)
	for range heartbeat { // a pulse may be left in it
	}
}

func (s *steward) run(wg *sync.WaitGroup) {
	defer wg.Done()
	defer close(s.work.results) // no ward will ever send again
	lastBeat := time.Now()
	noBeat := time.NewTimer(s.timeout)
	defer noBeat.Stop()
	timedOut := noBeat.C
	if !s.watch {
		timedOut = nil // WRONG: a ward that stops beating stays stopped
	}
	wardDone, wardHeartbeat := s.startWard()
	for {
		select {
		case <-s.done:
			stopWard(wardDone, wardHeartbeat)
			return
		case _, ok := <-wardHeartbeat:
			if !ok {
				fmt.Printf("steward: ward %d finished the work\n", s.wards)
				return
			}
			if !noBeat.Stop() {
				<-noBeat.C // Go 1.19: drain a timer that fired before Reset
			}
		case <-timedOut:
			fmt.Printf("steward: no beat from ward %d for %s: restarting it\n", s.wards, time.Since(lastBeat))
			stopWard(wardDone, wardHeartbeat)
			wardDone, wardHeartbeat = s.startWard()
		}
		lastBeat = time.Now() // a beat, or a new ward: the timeout starts again
		noBeat.Reset(s.timeout)
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
	w := &work{next: 1}
	flag.IntVar(&w.n, "n", 20, "items of work")
	flag.DurationVar(&w.itemTime, "work", 20*time.Millisecond, "the time an item takes, 0..10s")
	timeout := flag.Duration("timeout", 200*time.Millisecond,
		"the steward restarts a ward after this long without a beat, 2ms..10s")
	flag.IntVar(&w.stallEvery, "stall-every", 7, "each ward stalls after this many items (0: never)")
	runFor := flag.Duration("duration", 3*time.Second, "main stops everything after this long, 0..60s")
	mistake := goflag.Mode("break", "no-watch", "a steward that does not watch the heartbeat: a stalled ward stays stalled")
	flag.Parse()
	goflag.IntRange("n", w.n, 1, 10000)
	goflag.IntRange("stall-every", w.stallEvery, 0, 10000)
	goflag.DurationRange("work", w.itemTime, 0, 10*time.Second)
	goflag.DurationRange("timeout", *timeout, 2*time.Millisecond, 10*time.Second)
	goflag.DurationRange("duration", *runFor, 0, 60*time.Second)

	fmt.Printf("self-healing: %d items of %s; a ward silent for %s is restarted; ", w.n, w.itemTime, *timeout)
	if w.stallEvery > 0 {
		fmt.Printf("each ward stalls once it has done %d\n", w.stallEvery)
	} else {
		fmt.Printf("no ward stalls\n")
	}

	var wg sync.WaitGroup
	done := make(chan struct{})
	w.results = make(chan result)
	s := &steward{work: w, done: done, timeout: *timeout, watch: mistake.Value() == ""}
	wg.Add(1)
	go s.run(&wg)

	// main takes the results, whichever ward sends them, until the steward
	// closes the channel; at --duration it closes done, and goes on taking
	// results until then.
	timesDone := make([]int, w.n+1)
	last, inOrder := 0, true
	giveUp := time.After(*runFor)
results:
	for {
		select {
		case r, ok := <-w.results:
			if !ok {
				break results
			}
			fmt.Printf("item %d done by ward %d\n", r.item, r.ward)
			timesDone[r.item]++
			inOrder = inOrder && r.item == last+1
			last = r.item
		case <-giveUp:
			fmt.Printf("main: --duration %s is over: closing done\n", *runFor)
			close(done)
			giveUp = nil // the case is off from now on
		}
	}
	wg.Wait()

	distinct, twice := 0, 0
	for _, t := range timesDone[1:] {
		if t > 0 {
			distinct++
		}
		if t > 1 {
			twice++
		}
	}
	fmt.Printf("summary: %d of %d items done, %d missing, ", distinct, w.n, w.n-distinct)
	if twice == 0 && inOrder {
		fmt.Printf("each exactly once, in order")
	} else {
		order := ""
		if !inOrder {
			order = ", OUT OF ORDER"
		}
		fmt.Printf("%d done more than once%s", twice, order)
	}
	fmt.Printf("; wards started: %d, restarts: %d\n", s.wards, s.wards-1)
	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
