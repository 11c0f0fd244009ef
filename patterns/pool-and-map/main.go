// patterns/pool-and-map: the two members of Go's sync the path leaves out,
// sync.Pool and sync.Map, measured against the plain way: allocating each
// time, a list behind a mutex; a map behind a sync.RWMutex, a sharded one.
// From Go's src/sync/pool.go and src/sync/map.go. The C twin is main.c,
// beside this file: the same flags, the same output; its pool and its
// sync.Map are its own, small versions of these.
//
// Break it: --break puts each buffer back before its last use. The wrappers
// around the pools mark a buffer free when it is put back and check the mark
// at the next get, so they count every buffer written after its put.
package main

import (
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
	message = 64 // bytes of a buffer a use writes
	free    = -1 // the owner of a buffer in the pool
)

type buffer struct {
	owner int // who holds it; free while in the pool
	data  []byte
}

// pool is what a row measures: sync.Pool, or a list behind a mutex.
type pool interface {
	Get() any
	Put(any)
}

// list is a pool without a per-thread cache: one stack under a mutex.
type list struct {
	mu   sync.Mutex
	free []any
	New  func() any
}

func (l *list) Get() any {
	l.mu.Lock()
	if n := len(l.free); n > 0 {
		b := l.free[n-1]
		l.free = l.free[:n-1]
		l.mu.Unlock()
		return b
	}
	l.mu.Unlock()
	return l.New()
}

func (l *list) Put(b any) {
	l.mu.Lock()
	l.free = append(l.free, b)
	l.mu.Unlock()
}

// The check around every pool: put marks a buffer free, get finds it still
// free unless somebody wrote it after its put.
var inUse atomic.Int64

func get(p pool) *buffer {
	b := p.Get().(*buffer)
	if b.owner != free {
		inUse.Add(1)
	}
	return b
}

func put(p pool, b *buffer) {
	b.owner = free
	p.Put(b)
}

// use marks the buffer as ours, writes a message, and checks that nobody
// else wrote it meanwhile.
func use(b *buffer, me int) bool {
	b.owner = me
	for i := 0; i < message; i++ {
		b.data[i] = byte('a' + me%26)
	}
	return b.owner == me && b.data[message-1] == byte('a'+me%26)
}

// poolRow runs one row of the pool's table: w goroutines, ops gets and puts
// each. It returns the times a buffer was found in use after its put.
func poolRow(name string, kind string, w, ops, size int, putEarly bool) int64 {
	var allocated atomic.Int64
	newBuffer := func() any {
		allocated.Add(1)
		return &buffer{owner: free, data: make([]byte, size)}
	}
	var p pool
	switch kind {
	case "list":
		p = &list{New: newBuffer}
	case "sync.Pool":
		p = &sync.Pool{New: newBuffer}
	}
	inUse.Store(0)
	var overwritten atomic.Int64 // uses that found another's mark on their buffer
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func(me int) {
			defer wg.Done()
			for k := 0; k < ops; k++ {
				if p == nil {
					if !use(newBuffer().(*buffer), me) {
						overwritten.Add(1)
					}
					continue
				}
				b := get(p)
				if putEarly {
					put(p, b) // WRONG: handed back, then used
				}
				if !use(b, me) {
					overwritten.Add(1)
				}
				if !putEarly {
					put(p, b)
				}
			}
		}(i)
	}
	wg.Wait()
	took := time.Since(start)
	total := int64(w) * int64(ops)
	n := inUse.Load() + overwritten.Load()
	fmt.Printf("%-13s %-9.1f %-10d %-8d %d\n", name, float64(took)/float64(total), allocated.Load(),
		total-allocated.Load(), n)
	return n
}

// rwMap is one map behind a read-write lock: loads share it, stores take it
// alone.
type rwMap struct {
	sync.RWMutex
	m map[int]int
}

// mix is splitmix64's finalizer: a key's hash, the same in C and in Go.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// anyMap is one of the three maps of the table.
type anyMap struct {
	shards []rwMap // rwmutex: one; sharded: many
	sync   *sync.Map
}

func (m *anyMap) load(key int) (int, bool) {
	if m.sync != nil {
		v, ok := m.sync.Load(key)
		if !ok {
			return 0, false
		}
		return v.(int), true
	}
	s := &m.shards[(mix(uint64(key))>>32)%uint64(len(m.shards))]
	s.RLock()
	v, ok := s.m[key]
	s.RUnlock()
	return v, ok
}

func (m *anyMap) store(key, value int) {
	if m.sync != nil {
		m.sync.Store(key, value)
		return
	}
	s := &m.shards[(mix(uint64(key))>>32)%uint64(len(m.shards))]
	s.Lock()
	s.m[key] = value
	s.Unlock()
}

const (
	writeOnce = iota
	disjoint
)

var kinds = []string{"rwmutex", "sharded", "sync.Map"}

// nextKey is the key of goroutine id's next operation: any key when keys
// are written once; one of its own (key % workers == id) when they are
// disjoint. The state is splitmix64's: the same keys in C and in Go.
func nextKey(state *uint64, workload, id, workers, keys int) int {
	*state += 0x9e3779b97f4a7c15
	r := mix(*state)
	if workload == writeOnce {
		return int(r % uint64(keys))
	}
	own := (keys - id + workers - 1) / workers
	return int(r%uint64(own))*workers + id
}

// mapRow runs one row of the map's table; it returns 1 if its check failed.
func mapRow(workload, kind, w, ops, keys, shards int) int {
	m := anyMap{shards: make([]rwMap, 1)}
	switch kind {
	case 1:
		m.shards = make([]rwMap, shards)
	case 2:
		m.sync = new(sync.Map)
	}
	for s := range m.shards {
		m.shards[s].m = make(map[int]int)
	}
	wrongs := make([]int, w) // loads that saw a value no store wrote
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			state := uint64(id)
			for k := 0; k < ops; k++ {
				key := nextKey(&state, workload, id, w, keys)
				value, found := m.load(key)
				if workload == writeOnce { // a cache: the value of a key never changes
					if !found {
						m.store(key, 2*key+1)
					} else if value != 2*key+1 {
						wrongs[id]++
					}
				} else { // a counter per key, and only its goroutine counts it
					m.store(key, value+1)
				}
			}
		}(i)
	}
	wg.Wait()
	took := time.Since(start)

	// The check: what every key holds, against what the goroutines did.
	wrong, present, sum, expected := 0, 0, 0, 0
	touched := make([]bool, keys)
	for i := 0; i < w; i++ {
		wrong += wrongs[i]
		state := uint64(i) // the keys goroutine i used, again
		for k := 0; workload == writeOnce && k < ops; k++ {
			touched[nextKey(&state, workload, i, w, keys)] = true
		}
	}
	for k := 0; k < keys; k++ {
		if value, ok := m.load(k); ok {
			present++
			sum += value
			if workload == writeOnce && (value != 2*k+1 || !touched[k]) {
				wrong++
			}
		}
		if touched[k] {
			expected++
		}
	}
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "WRONG"
	}
	var check, name string
	if workload == writeOnce {
		if present != expected {
			wrong++
		}
		name, check = "write once", fmt.Sprintf("%s: %d keys, each with its value", verdict(wrong == 0), present)
	} else {
		if sum != w*ops {
			wrong++
		}
		name, check = "disjoint keys", fmt.Sprintf("%s: the counts add up to %d", verdict(wrong == 0), sum)
	}
	fmt.Printf("%-13s %-9s %-8.2f %s\n", name, kinds[kind], float64(w)*float64(ops)/(float64(took)/1e3), check)
	if wrong > 0 {
		return 1
	}
	return 0
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
	n := flag.Int("n", 50000, "operations per goroutine, in each row")
	w := flag.Int("w", 4, "goroutines")
	size := flag.Int("size", 4096, "bytes of a pooled buffer")
	keys := flag.Int("keys", 1000, "keys of the maps")
	shards := flag.Int("shards", 16, "shards of the sharded map")
	mistake := goflag.Mode("break", "put-early", "put each buffer back before its last use")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 100000000)
	goflag.IntRange("w", *w, 1, 64)
	goflag.IntRange("size", *size, message, 1<<20)
	goflag.IntRange("keys", *keys, 1, 10000000)
	goflag.IntRange("shards", *shards, 1, 1024)
	if *keys < *w {
		fmt.Fprintf(os.Stderr, "invalid value for flag -keys: must be at least -w (%d)\n", *w)
		flag.Usage()
		os.Exit(2)
	}
	putEarly := mistake.Value() != ""

	fmt.Printf("sync.Pool: %d goroutines x %d gets and puts, %d-byte buffers\n", *w, *n, *size)
	fmt.Printf("%-13s %-9s %-10s %-8s %s\n", "pool", "ns/op", "allocated", "reused", "in use after put")
	inUse := poolRow("no pool", "", *w, *n, *size, false)
	inUse += poolRow("shared list", "list", *w, *n, *size, putEarly)
	inUse += poolRow("cache + list", "sync.Pool", *w, *n, *size, putEarly)

	fmt.Printf("sync.Map: %d goroutines x %d loads and stores, %d keys\n", *w, *n, *keys)
	fmt.Printf("%-13s %-9s %-8s %s\n", "case", "map", "Mops/s", "check")
	wrong := 0
	for l := writeOnce; l <= disjoint; l++ {
		for k := range kinds {
			wrong += mapRow(l, k, *w, *n, *keys, *shards)
		}
	}

	if inUse > 0 {
		fmt.Printf("main: %d times a buffer was used after its put\n", inUse)
	}
	if wrong > 0 {
		fmt.Printf("main: %d maps failed their check\n", wrong)
	}
	if inUse == 0 && wrong == 0 {
		fmt.Printf("main: every buffer and every key checked\n")
	}
	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
	if inUse > 0 || wrong > 0 {
		os.Exit(1)
	}
}
