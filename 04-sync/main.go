// 04-sync: shared memory, guarded: a Mutex, an atomic, a RWMutex, a Once,
// and a sync.Cond as a start gate. main.c is its port to C.
//
// Break it: --break (or --break=race) also starts, behind the same gate, as
// many goroutines that count with nothing guarding the counter, as the race
// example of "Go in Action" (chapter 6) does: updates get lost, and the race
// detector (go build -race) names the race.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"gopatterns/common/goflag"
)

// Set by main before any goroutine starts, then only read.
var increments int

var wg sync.WaitGroup

// 1. Three counters, one per way of sharing: a mutex, an atomic, nothing.
var (
	mu          sync.Mutex
	withMutex   int64 // guarded by mu
	withAtomic  atomic.Int64
	unprotected int64 // guarded by nothing: only --break touches it
)

// 2. A start gate: a condition variable lets every goroutine wait for one
// event (main opening the gate), so they all start counting at once.
var (
	gate     = sync.NewCond(&sync.Mutex{})
	gateOpen bool // guarded by gate.L
)

func waitAtGate() {
	gate.L.Lock()
	for !gateOpen { // a loop, not an if: wakeups may be spurious
		gate.Wait()
	}
	gate.L.Unlock()
}

func openGate() {
	gate.L.Lock()
	gateOpen = true
	gate.Broadcast() // wake all the waiters, not just one
	gate.L.Unlock()
}

func count() {
	defer wg.Done()
	waitAtGate()
	for i := 0; i < increments; i++ {
		mu.Lock() // one goroutine at a time in here
		withMutex++
		mu.Unlock()
	}
	for i := 0; i < increments; i++ {
		withAtomic.Add(1) // an indivisible read-modify-write
	}
}

// The third counter, with nothing guarding it (--break), in goroutines of
// its own: counter++ written out as a load and a store, with a yield between.
func countUnprotected() {
	defer wg.Done()
	waitAtGate()
	for i := 0; i < increments; i++ {
		v := unprotected    // load
		runtime.Gosched()   // let another goroutine run here
		unprotected = v + 1 // store: whatever others stored meanwhile is lost
	}
}

// 3. A read-mostly table behind a RWMutex, filled lazily by a Once. Every
// slot holds the same version, so a reader that sees two versions saw a
// write half done: the lock exists to make that impossible.
const (
	slots  = 8
	reads  = 2000
	writes = 20
)

var (
	tableLock sync.RWMutex
	table     [slots]int // guarded by tableLock, after setup
	setup     sync.Once
	setupRuns atomic.Int32
	tornReads atomic.Int64
)

func fillTable() {
	setupRuns.Add(1)
	for s := range table {
		table[s] = 1 // no lock needed: Do runs this before any caller goes on
	}
}

func reader() {
	defer wg.Done()
	setup.Do(fillTable)
	for r := 0; r < reads; r++ {
		tableLock.RLock() // shared: readers don't block each other
		for s := 1; s < slots; s++ {
			if table[s] != table[0] {
				tornReads.Add(1)
				break
			}
		}
		tableLock.RUnlock()
	}
}

func writer() {
	defer wg.Done()
	setup.Do(fillTable)
	for w := 0; w < writes; w++ {
		tableLock.Lock() // exclusive: no reader sees a half-done write
		for s := range table {
			table[s]++
		}
		tableLock.Unlock()
	}
}

func main() {
	n := flag.Int("n", 4, "goroutines counting at once, 1..64")
	flag.IntVar(&increments, "increments", 10000, "increments per goroutine, 1..1000000")
	brk := goflag.Mode("break", "race", "also count with nothing guarding the counter: race")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 64)
	goflag.IntRange("increments", increments, 1, 1000000)
	if flag.NArg() > 0 {
		goflag.Fail("unexpected argument: %s", flag.Arg(0))
	}
	racy := brk.Value() != ""

	// The counters (and, with --break, as many unprotected ones): start them
	// all, then open the gate so they run together.
	for g := 0; g < *n; g++ {
		wg.Add(1)
		go count()
		if racy {
			wg.Add(1)
			go countUnprotected()
		}
	}
	openGate()
	wg.Wait() // also makes every goroutine's writes visible here
	want := int64(*n) * int64(increments)
	fmt.Printf("mutex:  want %d, got %d\n", want, withMutex)
	fmt.Printf("atomic: want %d, got %d\n", want, withAtomic.Load())
	if racy {
		note := ""
		if unprotected >= want && *n == 1 {
			note = " (one goroutine alone cannot race)"
		} else if unprotected >= want {
			note = " (luck, not safety: run it again)"
		}
		fmt.Printf("unprotected: want %d, got %d: %d updates lost%s\n", want, unprotected,
			want-unprotected, note)
	}

	// The table: the readers and one writer all call setup.Do first.
	for g := 0; g < *n; g++ {
		wg.Add(1)
		go reader()
	}
	wg.Add(1)
	go writer()
	wg.Wait()
	fmt.Printf("rwmutex: %d readers made %d reads during %d writes; torn reads: %d; version now %d\n",
		*n, *n*reads, writes, tornReads.Load(), table[0])
	fmt.Printf("once: setup ran %d time(s)\n", setupRuns.Load())
}
