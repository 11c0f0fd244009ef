// patterns/heartbeat: a worker that says it is alive, and a monitor that
// notices when it stops saying so. From Concurrency in Go (Katherine
// Cox-Buday), chapter 5, "Heartbeats". The C twin is main.c, beside this
// file: the same flags, the same output.
//
// Break it: --break watches without the timeout: when the worker stalls, the
// monitor waits for its next beat or result forever, and only the end of
// --duration stops the program, which then says that no stall was reported.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gopatterns/common/goflag"
)

const pulse = 0 // on the heartbeat channel: a pulse; any other value: unit N starts

var (
	start     = time.Now()
	stalledAt atomic.Int64 // when the worker stalled, since start; 0 while it has not
)

// worker does n units of work, each taking work, and beats: a pulse on every
// tick of interval, and a beat at the start of each unit.
func worker(done <-chan struct{}, n, stallAt int, work, interval time.Duration,
	wg *sync.WaitGroup) (<-chan int, <-chan int) {
	heartbeat, results := make(chan int, 1), make(chan int)
	go func() {
		defer wg.Done()
		defer close(heartbeat)
		defer close(results)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		// A pulse goes out only if the heartbeat channel has room now: a
		// monitor that is not listening must never hold the worker up.
		sendPulse := func() {
			select {
			case heartbeat <- pulse:
			default:
			}
		}
		for unit := 1; unit <= n; unit++ {
			if unit == stallAt {
				// Stuck, as on a lock nobody releases: no beat, no work, until done.
				stalledAt.Store(int64(time.Since(start)))
				fmt.Printf("worker: stalls before unit %d, without a beat\n", unit)
				<-done
				return
			}
			// The unit's beat: not a pulse, so it waits for the monitor (or done).
			select {
			case <-done:
				return
			case heartbeat <- unit:
			}
			worked := time.After(work) // the unit's work, which takes --work
		working:
			for {
				select {
				case <-done:
					return
				case <-ticker.C:
					sendPulse()
				case <-worked:
					break working
				}
			}
		sending:
			for {
				select {
				case <-done:
					return
				case <-ticker.C:
					sendPulse()
				case results <- unit:
					break sending
				}
			}
		}
	}()
	return heartbeat, results
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
	n := flag.Int("n", 8, "units of work")
	work := flag.Duration("work", 150*time.Millisecond, "the time a unit of work takes, 0..10s")
	interval := flag.Duration("interval", 100*time.Millisecond,
		"the time between two pulses, 1ms..10s; the monitor's timeout is twice that")
	stallAt := flag.Int("stall-at", 6, "the worker stalls before this unit, without a beat (0: never)")
	runFor := flag.Duration("duration", 3*time.Second, "the monitor gives up after this long, 0..60s")
	mistake := goflag.Mode("break", "no-timeout", "watch without a timeout: a stall goes unnoticed")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 1000)
	goflag.IntRange("stall-at", *stallAt, 0, 1000)
	goflag.DurationRange("work", *work, 0, 10*time.Second)
	goflag.DurationRange("interval", *interval, time.Millisecond, 10*time.Second)
	goflag.DurationRange("duration", *runFor, 0, 60*time.Second)

	fmt.Printf("heartbeat: %d units of %s, a pulse every %s and a beat per unit; ", *n, *work, *interval)
	if *stallAt >= 1 && *stallAt <= *n {
		fmt.Printf("the worker stalls before unit %d\n", *stallAt)
	} else {
		fmt.Printf("the worker never stalls\n")
	}

	var wg sync.WaitGroup
	wg.Add(1)
	done := make(chan struct{})
	heartbeat, results := worker(done, *n, *stallAt, *work, *interval, &wg)

	// The monitor: every beat starts the timeout again. A unit's result is
	// taken only after its beat (the case is off, nil, until then), so the
	// two lines of a unit never come out of order.
	timeout := 2 * *interval
	lastBeat := time.Now() // before the timer starts: it never fires early
	noBeat := time.NewTimer(timeout)
	var timedOut <-chan time.Time = noBeat.C
	if mistake.Value() != "" {
		timedOut = nil // WRONG: nothing notices a worker that has gone quiet
	}
	giveUp := time.After(*runFor)
	beats, pulses, doneUnits := 0, 0, 0
	stallReported := false
monitor:
	for {
		var resultsIfBeat <-chan int
		if beats > doneUnits {
			resultsIfBeat = results
		}
		select {
		case beat, ok := <-heartbeat:
			if !ok {
				break monitor // the worker did every unit
			}
			lastBeat = time.Now()
			if !noBeat.Stop() {
				<-noBeat.C // Go 1.19: drain a timer that fired before Reset
			}
			noBeat.Reset(timeout)
			if beat == pulse {
				pulses++
				fmt.Printf("monitor: pulse\n")
			} else {
				beats++
				fmt.Printf("monitor: unit %d starts\n", beat)
			}
		case unit, ok := <-resultsIfBeat:
			if !ok {
				break monitor
			}
			doneUnits++
			fmt.Printf("monitor: unit %d done\n", unit)
		case <-giveUp:
			fmt.Printf("monitor: --duration %s is over, no stall reported; the last beat came %s ago (timeout %s)\n",
				*runFor, time.Since(lastBeat), timeout)
			break monitor
		case <-timedOut:
			now, stalled := time.Since(start), time.Duration(stalledAt.Load())
			fmt.Printf("monitor: no beat for %s: the worker is not healthy\n", time.Since(lastBeat))
			if stalled == 0 {
				fmt.Printf("monitor: a false alarm: the worker had not stalled\n")
			} else {
				fmt.Printf("monitor: stall noticed after %s, bound 2 x interval = %s\n", now-stalled, timeout)
			}
			stallReported = stalled != 0
			break monitor
		}
	}
	close(done) // the worker returns, stalled or not
	wg.Wait()
	noBeat.Stop()

	verdict := "no stall reported"
	if stallReported {
		verdict = "stall reported"
	}
	fmt.Printf("summary: %d of %d units done; unit beats: %d, pulses: %d; %s\n", doneUnits, *n,
		beats, pulses, verdict)
	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
