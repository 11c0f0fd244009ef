// patterns/semaphore-barrier: let at most N in at once; hold everyone at a
// line between phases. A buffered channel as a semaphore, a weighted one in
// the shape of golang.org/x/sync/semaphore (written out below: the twins use
// the standard library only), and a reusable barrier with a generation
// count. From Allen B. Downey's The Little Book of Semaphores, x/sync, and
// Concurrency in Go (Katherine Cox-Buday), chapter 3. The C twin is main.c,
// beside this file: the same flags, the same output.
//
// Break it: --break meets at a barrier with no generation count: from the
// second phase on it is open, a fast goroutine runs ahead, and the program's
// own check of the phases says so (exit status 1).
package main

import (
	"container/list"
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

const maxWorkers = 64

var work time.Duration // --work; set before the first goroutine

// ---- 1. A buffered channel as a semaphore ----

var (
	places        chan struct{} // capacity: the limit
	holding, peak atomic.Int64  // inside now, and the most at once
	jobsDone      atomic.Int32
)

// notePeak raises *peakSeen to now if now is more.
func notePeak(peakSeen *atomic.Int64, now int64) {
	for seen := peakSeen.Load(); now > seen && !peakSeen.CompareAndSwap(seen, now); seen = peakSeen.Load() {
	}
}

func channelJob(wg *sync.WaitGroup) {
	places <- struct{}{} // take a place: blocks while the channel is full
	notePeak(&peak, holding.Add(1))
	time.Sleep(work)
	holding.Add(-1)
	<-places // give it back
	jobsDone.Add(1)
	wg.Done()
}

// ---- 2. A weighted semaphore: units, FIFO, a context ----

// weighted is x/sync/semaphore's Weighted (as it stands since golang/go#63615),
// in a few lines.
type weighted struct {
	size    int64
	cur     int64 // guarded by mu
	mu      sync.Mutex
	waiters list.List // of waiter, FIFO; guarded by mu
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when granted
}

func (s *weighted) Acquire(ctx context.Context, n int64) error {
	done := ctx.Done()
	s.mu.Lock()
	select {
	case <-done: // done before we got here: fail, even with room
		s.mu.Unlock()
		return ctx.Err()
	default:
	}
	if s.size-s.cur >= n && s.waiters.Len() == 0 { // room, and nobody ahead
		s.cur += n
		s.mu.Unlock()
		return nil
	}
	if n > s.size { // never: wait for ctx alone, without holding up the queue
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
	ready := make(chan struct{})
	elem := s.waiters.PushBack(waiter{n: n, ready: ready})
	s.mu.Unlock()

	select {
	case <-done: // ctx is done: leave the queue
		s.mu.Lock()
		select {
		case <-ready: // granted meanwhile: pretend we were not, give it back
			s.cur -= n
			s.notifyWaiters()
		default:
			isFront := s.waiters.Front() == elem
			s.waiters.Remove(elem)
			if isFront && s.size > s.cur {
				s.notifyWaiters() // those behind us may fit now
			}
		}
		s.mu.Unlock()
		return ctx.Err()
	case <-ready:
		select {
		case <-done: // granted, but ctx is done too: fail
			s.Release(n)
			return ctx.Err()
		default:
		}
		return nil
	}
}

func (s *weighted) TryAcquire(n int64) bool {
	s.mu.Lock()
	ok := s.size-s.cur >= n && s.waiters.Len() == 0
	if ok {
		s.cur += n
	}
	s.mu.Unlock()
	return ok
}

func (s *weighted) Release(n int64) {
	s.mu.Lock()
	s.cur -= n
	if s.cur < 0 {
		s.mu.Unlock()
		panic("semaphore: released more than held")
	}
	s.notifyWaiters()
	s.mu.Unlock()
}

// notifyWaiters grants the front of the queue while it fits; it stops at the
// first that does not, so that nobody behind it passes it.
func (s *weighted) notifyWaiters() {
	for next := s.waiters.Front(); next != nil; next = s.waiters.Front() {
		w := next.Value.(waiter)
		if s.size-s.cur < w.n {
			break
		}
		s.cur += w.n
		s.waiters.Remove(next)
		close(w.ready)
	}
}

// waiting says how many callers are queued (x/sync has no such method).
func (s *weighted) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiters.Len()
}

var inUse, inUsePeak atomic.Int64 // units of the weighted semaphore held

type weightedJob struct {
	s         *weighted
	units     int64
	grants    *atomic.Int32 // each grant takes the next number
	grantedAs int32         // this job's number
	wg        *sync.WaitGroup
}

func (j *weightedJob) run() {
	j.s.Acquire(context.Background(), j.units) // Background: never fails
	j.grantedAs = j.grants.Add(1) - 1
	notePeak(&inUsePeak, inUse.Add(j.units))
	time.Sleep(work)
	inUse.Add(-j.units)
	j.s.Release(j.units)
	j.wg.Done()
}

// waitQueued waits until k callers are queued on s: a bounded poll, for the
// demonstration only.
func waitQueued(s *weighted, k int) {
	for s.waiting() < k {
		time.Sleep(100 * time.Microsecond)
	}
}

// weightedDemo runs n jobs of 1..4 units through a semaphore of capacity
// units, then shows the fairness of the queue, step by step.
func weightedDemo(n, capacity int) {
	s := &weighted{size: int64(capacity)}
	var wg sync.WaitGroup
	var grants atomic.Int32
	jobs := make([]weightedJob, n+4)
	for i := 0; i < n; i++ {
		jobs[i] = weightedJob{s, int64(i%4 + 1), &grants, 0, &wg}
		wg.Add(1)
		go jobs[i].run()
	}
	wg.Wait()
	fmt.Printf("weighted semaphore: %d jobs of 1..4 units, %d units: peak %d held, %d done\n", n,
		capacity, inUsePeak.Load(), grants.Load())

	// Main holds everything; a job of all the units queues, then three of one.
	s.TryAcquire(int64(capacity))
	big, small := &jobs[n], jobs[n+1:]
	grants.Store(0)
	*big = weightedJob{s, int64(capacity), &grants, 0, &wg}
	wg.Add(1)
	go big.run()
	waitQueued(s, 1)
	for i := range small {
		small[i] = weightedJob{s, 1, &grants, 0, &wg}
		wg.Add(1)
		go small[i].run()
	}
	waitQueued(s, 4)
	s.Release(1) // one unit free, but the job at the front needs them all
	took := s.TryAcquire(1)
	fmt.Printf("weighted semaphore: one unit free, a job of %d queued first: TryAcquire(1) %t\n",
		capacity, took)
	if took {
		s.Release(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	err := s.Acquire(ctx, 1)
	cancel()
	if err != nil {
		fmt.Printf("weighted semaphore: Acquire(1) for 10ms: %v\n", err)
	} else {
		fmt.Printf("weighted semaphore: Acquire(1) for 10ms: granted\n")
		s.Release(1)
	}
	s.Release(int64(capacity - 1)) // all free: the queue goes in its order
	wg.Wait()
	inTurn := big.grantedAs == 0
	for i := range small {
		inTurn = inTurn && small[i].grantedAs > 0
	}
	turn := "in turn"
	if !inTurn {
		turn = "OUT OF TURN"
	}
	fmt.Printf("weighted semaphore: granted %s: the job of %d, then 3 jobs of 1 queued after it\n",
		turn, capacity)
}

// ---- 3. A reusable barrier ----

type barrier struct {
	mu         sync.Mutex
	cond       *sync.Cond // on mu
	n          int        // goroutines that meet at it
	arrived    int        // in this phase; guarded by mu
	generation uint64     // phases completed; guarded by mu
}

func (b *barrier) wait() {
	b.mu.Lock()
	generation := b.generation
	b.arrived++
	if b.arrived == b.n { // the last one in opens the barrier...
		b.arrived = 0 // ...and resets it for the next phase
		b.generation++
		b.cond.Broadcast()
	} else {
		for generation == b.generation {
			b.cond.Wait()
		}
	}
	b.mu.Unlock()
}

// waitNoGeneration is WRONG: no generation. It opens when the count of
// arrivals reaches n, which is right once. It cannot reset the count for the
// next phase (a waiter not yet awake would find it 0 and sleep forever), so
// it does not, and from the second phase on it is open.
func (b *barrier) waitNoGeneration() {
	b.mu.Lock()
	b.arrived++
	if b.arrived >= b.n {
		b.cond.Broadcast()
	}
	for b.arrived < b.n {
		b.cond.Wait()
	}
	b.mu.Unlock()
}

var (
	noGeneration bool         // --break; set before the first goroutine
	events       atomic.Int64 // a logical clock: each phase's start and end takes a tick
	starts, ends [][maxWorkers]int64
)

// phaseWorker does phase after phase of uneven work (worker 0 is the
// fastest), then meets the others at the barrier.
func phaseWorker(id, phases int, b *barrier, wg *sync.WaitGroup) {
	for k := 0; k < phases; k++ {
		starts[k][id] = events.Add(1) - 1
		time.Sleep(work * time.Duration(id%4+1))
		ends[k][id] = events.Add(1) - 1
		if noGeneration {
			b.waitNoGeneration()
		} else {
			b.wait()
		}
	}
	wg.Done()
}

// barrierDemo runs the phases and checks that no phase started before the
// last one ended.
func barrierDemo(workers, phases int) bool {
	starts = make([][maxWorkers]int64, phases)
	ends = make([][maxWorkers]int64, phases)
	b := &barrier{n: workers}
	b.cond = sync.NewCond(&b.mu)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go phaseWorker(i, phases, b, &wg)
	}
	wg.Wait() // also makes every worker's starts and ends visible here
	overlaps, first := 0, 0
	for k := 0; k+1 < phases; k++ {
		lastEnd, firstStart := int64(0), int64(-1)
		for i := 0; i < workers; i++ {
			if ends[k][i] > lastEnd {
				lastEnd = ends[k][i]
			}
			if firstStart < 0 || starts[k+1][i] < firstStart {
				firstStart = starts[k+1][i]
			}
		}
		if firstStart < lastEnd {
			if overlaps == 0 {
				first = k + 1
			}
			overlaps++
		}
	}
	name := "barrier"
	if noGeneration {
		name = "barrier (no generation)"
	}
	fmt.Printf("%s: %d goroutines, %d phases: ", name, workers, phases)
	if overlaps == 0 {
		fmt.Printf("every goroutine finished each phase before any began the next\n")
	} else {
		fmt.Printf("OVERLAP at %d of %d phase boundaries: phase %d began before phase %d ended\n",
			overlaps, phases-1, first+1, first)
	}
	return overlaps == 0
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
	n := flag.Int("n", 20, "jobs through each semaphore")
	limit := flag.Int("limit", 3, "places in the channel semaphore")
	capacity := flag.Int("capacity", 10, "units of the weighted semaphore")
	workers := flag.Int("w", 4, "goroutines meeting at the barrier")
	phases := flag.Int("phases", 20, "phases of work between barriers")
	flag.DurationVar(&work, "work", 2*time.Millisecond, "the time a job or a phase's step takes")
	mistake := goflag.Mode("break", "no-generation", "meet at a barrier with no generation count")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 10000)
	goflag.IntRange("limit", *limit, 1, 1000)
	goflag.IntRange("capacity", *capacity, 4, 1000)
	goflag.IntRange("w", *workers, 2, maxWorkers)
	goflag.IntRange("phases", *phases, 2, 1000)
	if work < 0 {
		fmt.Fprintln(os.Stderr, "invalid value for flag -work: must not be negative")
		flag.Usage()
		os.Exit(2)
	}
	noGeneration = mistake.Value() != ""

	places = make(chan struct{}, *limit)
	var wg sync.WaitGroup
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go channelJob(&wg)
	}
	wg.Wait()
	fmt.Printf("channel semaphore: %d jobs, at most %d at once: peak %d holding, %d done\n", *n, *limit,
		peak.Load(), jobsDone.Load())

	weightedDemo(*n, *capacity)
	phasesOK := barrierDemo(*workers, *phases)

	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
	if !phasesOK {
		os.Exit(1)
	}
}
