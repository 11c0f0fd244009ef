// patterns/lock-free: atomics and memory order, a compare-and-swap stack, a
// single-producer single-consumer ring, and false sharing. From Go's memory
// model (go.dev/ref/mem), the C11 memory model, and Herlihy and Shavit, The
// Art of Multiprocessor Programming. The C twin is main.c, beside this file:
// the same flags, the same output.
//
// Go's atomics are all sequentially consistent: there is no relaxed order to
// get wrong. So --break=relaxed here publishes with a plain variable as the
// flag, which is what relaxed order amounts to for the payload (the flag
// arrives, the payload is not ordered with it), and go build -race reports
// it. --break=plain counts with a plain ++: a data race that loses updates.
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

const (
	maxWorkers = 64
	payloadLen = 8  // values in the published payload
	nodeCount  = 64 // nodes of the stack
	maxSlots   = 65536
)

var (
	workers, n     int  // -w, -n; set before the first goroutine
	relaxed, plain bool // --break=relaxed, --break=plain
)

// runAll runs fn(i) in w goroutines, i = 0..w-1, behind a gate that opens
// for all at once, and says how long they took.
func runAll(fn func(i int, gate <-chan struct{}), w int) time.Duration {
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			fn(i, gate)
		}(i)
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	return time.Since(start)
}

// ---- 1. A counter: Add against a Load and a Store ----

var (
	oneStep, twoSteps atomic.Int64
	unguarded         int64 // --break=plain: guarded by nothing
)

func count(_ int, gate <-chan struct{}) {
	<-gate
	for i := 0; i < 10*n; i++ {
		oneStep.Add(1) // one indivisible step
		if plain {
			unguarded++ // WRONG: a data race, and updates lost
		} else {
			v := twoSteps.Load()
			twoSteps.Store(v + 1) // another's v+1 lost
		}
	}
}

// ---- 2. Publish, then read: the Store and Load of an atomic order the payload ----

var (
	payload          [payloadLen]int64 // plain memory: the flag's Store publishes it
	published, taken atomic.Int64      // the round the producer published, the consumer took
	publishedPlain   int64             // --break=relaxed: a plain flag
	torn             atomic.Int64      // rounds the consumer saw half written
)

func producer() {
	for r := int64(1); r <= int64(n); r++ {
		for taken.Load() < r-1 {
			runtime.Gosched() // the consumer has not read the last one yet
		}
		for i := range payload {
			payload[i] = r
		}
		if relaxed {
			publishedPlain = r // WRONG: nothing orders the payload before it
		} else {
			published.Store(r) // the payload with it
		}
	}
}

func consumer() {
	for r := int64(1); r <= int64(n); r++ {
		if relaxed {
			for publishedPlain < r {
				runtime.Gosched()
			}
		} else {
			for published.Load() < r {
				runtime.Gosched()
			}
		}
		for i := range payload {
			if payload[i] != r {
				torn.Add(1)
				break
			}
		}
		taken.Store(r) // done reading: write the next
	}
}

// ---- 3. A Treiber stack: compare-and-swap, safe from ABA ----

type node struct {
	next    atomic.Uint32 // index + 1 of the node below; 0: none. Atomic: a stale pop reads it
	pops    int64         // plain: only the goroutine that popped the node touches it
	holders atomic.Int32  // the check: more than one at a time is a broken stack
}

var (
	nodes [nodeCount]node
	// top: the tag in the high 32 bits, index + 1 of the top node in the low
	// 32 (0: empty). Every change increments the tag.
	top             atomic.Uint64
	heldTwice, pops atomic.Int64
)

func push(i uint32) {
	for {
		old := top.Load()
		nodes[i].next.Store(uint32(old))
		if top.CompareAndSwap(old, (old>>32+1)<<32|uint64(i+1)) {
			return
		}
	}
}

// pop returns the index of the node it took off the top, or -1 if empty.
func pop() int {
	for {
		old := top.Load()
		if uint32(old) == 0 {
			return -1
		}
		next := nodes[uint32(old)-1].next.Load()
		if top.CompareAndSwap(old, (old>>32+1)<<32|uint64(next)) {
			return int(uint32(old)) - 1
		}
	}
}

// hold takes node i for a moment: counts its pop, checks nobody else has it.
func hold(i int) {
	if nodes[i].holders.Add(1) != 1 {
		heldTwice.Add(1)
	}
	nodes[i].pops++
	pops.Add(1)
	nodes[i].holders.Add(-1)
}

// churn pops two and pushes them back: the very order in which ABA strikes
// an untagged stack.
func churn(_ int, gate <-chan struct{}) {
	<-gate
	for k := 0; k < n; k++ {
		a, b := pop(), pop()
		if a >= 0 {
			hold(a)
			push(uint32(a))
		}
		if b >= 0 {
			hold(b)
			push(uint32(b))
		}
	}
}

// stackIntact: every node exactly once, and the pops counted on the nodes
// add up. A broken stack may hold a cycle: pop no more than one too many.
func stackIntact() bool {
	var seen [nodeCount]int
	count, counted := 0, int64(0)
	for i := pop(); i >= 0 && count <= nodeCount; i = pop() {
		seen[i]++
		count++
	}
	for i := range nodes {
		if seen[i] != 1 {
			return false
		}
		counted += nodes[i].pops
	}
	return count == nodeCount && counted == pops.Load()
}

// ---- 4. A ring with one producer and one consumer ----

var (
	slots int // --slots
	ring  struct {
		head atomic.Uint64 // next to read: only the consumer stores it
		_    [56]byte
		tail atomic.Uint64 // next to write: only the producer stores it
		_    [56]byte
		slot [maxSlots]int64
	}
	ringReceived, ringOutOfOrder int64
)

func ringProducer() {
	for v := int64(1); v <= int64(n*workers); v++ {
		t := ring.tail.Load()
		for t-ring.head.Load() == uint64(slots) {
			runtime.Gosched() // full
		}
		ring.slot[t%uint64(slots)] = v
		ring.tail.Store(t + 1)
	}
}

func ringConsumer() {
	for want := int64(1); want <= int64(n*workers); want++ {
		h := ring.head.Load()
		for ring.tail.Load() == h {
			runtime.Gosched() // empty
		}
		v := ring.slot[h%uint64(slots)]
		ring.head.Store(h + 1)
		ringReceived++
		if v != want {
			ringOutOfOrder++
		}
	}
}

// ---- 5. False sharing ----

var (
	packed [maxWorkers]int64 // 8 bytes apart: eight to a cache line
	padded [maxWorkers]struct {
		v int64
		_ [56]byte // a cache line each
	}
)

// Each goroutine counts on its own counter, plainly: nobody else touches it
// until main reads it after wg.Wait.
func countPacked(i int, gate <-chan struct{}) {
	<-gate
	for k := 0; k < 100*n; k++ {
		packed[i]++
	}
}

func countPadded(i int, gate <-chan struct{}) {
	<-gate
	for k := 0; k < 100*n; k++ {
		padded[i].v++
	}
}

// countersExact: both ways, the same work: each counter must hold 100n.
func countersExact() bool {
	for i := 0; i < workers; i++ {
		if packed[i] != int64(100*n) || padded[i].v != int64(100*n) {
			return false
		}
	}
	return true
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
	flag.IntVar(&workers, "w", 4, "goroutines in each part")
	flag.IntVar(&n, "n", 100000, "operations per goroutine")
	flag.IntVar(&slots, "slots", 1024, "slots of the ring")
	mistake := goflag.Mode("break", "relaxed|plain", "publish with relaxed order (in Go a plain flag), or count with a plain ++ (plain)")
	flag.Parse()
	goflag.IntRange("w", workers, 2, maxWorkers)
	goflag.IntRange("n", n, 1, 10000000)
	goflag.IntRange("slots", slots, 1, maxSlots)
	relaxed = mistake.Value() == "relaxed"
	plain = mistake.Value() == "plain"

	runAll(count, workers)
	want, got, how := int64(10*workers*n), twoSteps.Load(), "load+store"
	if plain {
		got, how = unguarded, "plain ++"
	}
	fmt.Printf("counter: %d goroutines x %d increments: fetch_add %d, %s %d (%d lost)\n", workers,
		10*n, oneStep.Load(), how, got, want-got)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); producer() }()
	go func() { defer wg.Done(); consumer() }()
	wg.Wait()
	order := "released and acquired"
	if relaxed {
		order = "relaxed"
	}
	fmt.Printf("publish: %d payloads of %d values, %s: %d read torn\n", n, payloadLen, order, torn.Load())

	for i := uint32(0); i < nodeCount; i++ {
		push(i)
	}
	runAll(churn, workers)
	heldTwiceNow, popsNow := heldTwice.Load(), pops.Load()
	intact := "NODES LOST OR DUPLICATED"
	if stackIntact() {
		intact = "every node once at the end"
	}
	fmt.Printf("stack: %d goroutines x %d rounds of two pops and two pushes on %d nodes: %d pops, "+
		"%d held twice, %s\n", workers, n, nodeCount, popsNow, heldTwiceNow, intact)

	wg.Add(2)
	go func() { defer wg.Done(); ringProducer() }()
	go func() { defer wg.Done(); ringConsumer() }()
	wg.Wait()
	fmt.Printf("ring: %d values through %d slots: %d received, %d out of order\n",
		n*workers, slots, ringReceived, ringOutOfOrder)

	tookPacked := runAll(countPacked, workers)
	tookPadded := runAll(countPadded, workers)
	if tookPadded <= 0 {
		tookPadded = 1
	}
	exact := "COUNTS WRONG"
	if countersExact() {
		exact = "every count exact"
	}
	fmt.Printf("false sharing: %d goroutines x %d increments: packed %s, padded %s (%.1fx), %s\n",
		workers, 100*n, tookPacked.Truncate(time.Microsecond), tookPadded.Truncate(time.Microsecond),
		float64(tookPacked)/float64(tookPadded), exact)

	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
}
