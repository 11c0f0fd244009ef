// patterns/map-reduce: count the words of a text with W workers, several
// ways, and check each against the count of one thread. From Dean and
// Ghemawat, "MapReduce: Simplified Data Processing on Large Clusters" (2004),
// and Blumofe and Leiserson's work stealing (Cilk). The C twin is main.c,
// beside this file: the same flags, the same text for the same seed, the same
// output.
//
// Break it: --break counts into one shared map without its mutex: a data
// race, which the race detector reports (and, often, the runtime's own check:
// "fatal error: concurrent map writes"), and counts lost, which the program's
// own check reports.
package main

import (
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

const vocabulary = 10000 // words the text draws from

// nextRandom is splitmix64: the same text in C and in Go for the same seed.
func nextRandom(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hashWord is FNV-1a, the same in C and in Go (whose own map hash is seeded
// at random): it picks a word's shard and its reducer.
func hashWord(w string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(w); i++ {
		h = (h ^ uint64(w[i])) * 0x100000001b3
	}
	return h
}

// differences counts the words m counts differently from ref: missing,
// wrong, or extra.
func differences(ref, m map[string]int) int {
	diff := 0
	for w, c := range ref {
		if m[w] != c {
			diff++
		}
	}
	for w := range m {
		if _, ok := ref[w]; !ok {
			diff++
		}
	}
	return diff
}

// checksum is order-independent, the same in C and in Go: a sum over the words.
func checksum(m map[string]int) uint64 {
	sum := uint64(0)
	for w, c := range m {
		z := hashWord(w) + uint64(c)
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		sum += z ^ (z >> 31)
	}
	return sum
}

// makeText draws n words by Zipf's law from vocabulary made-up words (the
// k-th most common k times rarer than the first, as in real text), 12 to a
// line.
func makeText(n int, seed uint64) string {
	var vocab [vocabulary]string
	var cum [vocabulary]uint64 // cumulative weights, 2^32/(k+1) each
	state, total := seed, uint64(0)
	for k := range vocab {
		r := nextRandom(&state)
		w := make([]byte, 2+r%8)
		for j := range w {
			w[j] = byte('a' + (r>>(8+5*j))%26)
		}
		vocab[k] = string(w)
		total += (1 << 32) / uint64(k+1)
		cum[k] = total
	}
	var b strings.Builder
	b.Grow(n * 10)
	for i := 0; i < n; i++ {
		r := nextRandom(&state) % total
		b.WriteString(vocab[sort.Search(vocabulary, func(k int) bool { return cum[k] > r })])
		if (i+1)%12 == 0 || i == n-1 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// makeTasks cuts the text into n tasks, task i weighing 2^(8(n-1-i)/n):
// from 128 down to 1, the big ones first, each cut at the start of a word.
func makeTasks(text string, n int) []string {
	tasks := make([]string, n)
	total, cum := uint64(0), uint64(0)
	for i := 0; i < n; i++ {
		total += 1 << (8 * (n - 1 - i) / n)
	}
	begin := 0
	for i := 0; i < n; i++ {
		cum += 1 << (8 * (n - 1 - i) / n)
		end := int(uint64(len(text)) * cum / total)
		for end > 0 && end < len(text) && text[end-1] != ' ' && text[end-1] != '\n' {
			end++
		}
		tasks[i] = text[begin:end]
		begin = end
	}
	return tasks
}

// mapTask calls emit for each word of the task (a substring of the text:
// no copy) and returns how many there were.
func mapTask(task string, emit func(w string, h uint64)) int {
	words := 0
	for p := 0; p < len(task); p++ {
		w := p
		for task[p] != ' ' && task[p] != '\n' {
			p++
		}
		emit(task[w:p], hashWord(task[w:p]))
		words++
	}
	return words
}

// locked is a map behind its own mutex.
type locked struct {
	sync.Mutex
	m map[string]int
}

// deque holds tasks[top:bottom] under its mutex: the owner's end is the bottom.
type deque struct {
	sync.Mutex
	tasks       []int
	top, bottom int
}

func (d *deque) pop() int {
	d.Lock()
	defer d.Unlock()
	if d.bottom == d.top {
		return -1
	}
	d.bottom--
	return d.tasks[d.bottom]
}

func (d *deque) steal() int {
	d.Lock()
	defer d.Unlock()
	if d.bottom == d.top {
		return -1
	}
	d.top++
	return d.tasks[d.top-1]
}

// What the workers of one variant share.
type run struct {
	tasks    []string
	schedule int      // queue, static or steal
	queue    chan int // task numbers, closed when all are in
	deques   []deque  // one per worker
	emit     func(wk *worker, w string, h uint64)
	reduce   []chan map[string]int // the shuffle: part r of each task to reducer r
}

const (
	queue = iota
	fixed
	steal
)

type worker struct {
	id            int
	own           map[string]int
	words, steals int
}

// nextTask is the next task for wk, or -1 once there is none.
func (r *run) nextTask(wk *worker) int {
	if r.schedule == queue {
		t, ok := <-r.queue
		if !ok {
			return -1
		}
		return t
	}
	t := r.deques[wk.id].pop()
	for k := 1; t < 0 && r.schedule == steal && k < len(r.deques); k++ {
		if t = r.deques[(wk.id+k)%len(r.deques)].steal(); t >= 0 {
			wk.steals++
		}
	}
	return t // -1: every deque was empty, and no task is ever added
}

func (r *run) mapWorker(wk *worker, wg *sync.WaitGroup) {
	defer wg.Done()
	for t := r.nextTask(wk); t >= 0; t = r.nextTask(wk) {
		if r.reduce == nil {
			wk.words += mapTask(r.tasks[t], func(w string, h uint64) { r.emit(wk, w, h) })
			continue
		}
		parts := make([]map[string]int, len(r.reduce))
		for i := range parts {
			parts[i] = make(map[string]int)
		}
		wk.words += mapTask(r.tasks[t], func(w string, h uint64) { parts[(h>>32)%uint64(len(parts))][w]++ })
		for i := range parts { // the shuffle: part i to reducer i
			r.reduce[i] <- parts[i]
		}
	}
}

func reduceWorker(in <-chan map[string]int, into map[string]int, wg *sync.WaitGroup) {
	defer wg.Done()
	for part := range in {
		for w, n := range part {
			into[w] += n
		}
	}
}

const (
	single = iota
	mutex
	unlocked
	sharded
	perWorker
	mapReduce
	static
	stealing
)

var names = []string{"single", "mutex", "unlocked", "sharded", "per-worker", "map-reduce", "static", "stealing"}

type config struct {
	tasks                     []string
	workers, reducers, shards int
}

// misplaced counts the words of m not where their hash puts them: part i
// of n holds only the words whose hash picks i.
func misplaced(m map[string]int, i, n int) int {
	wrong := 0
	for w := range m {
		if (hashWord(w)>>32)%uint64(n) != uint64(i) {
			wrong++
		}
	}
	return wrong
}

type outcome struct {
	took            time.Duration
	busiest, steals int // the words of the busiest worker; the tasks stolen
	misplaced       int // words at a shard or reducer their hash does not pick
}

// count counts the words with variant v.
func count(v int, c *config) (result map[string]int, o outcome) {
	result = make(map[string]int, vocabulary)
	start := time.Now()
	if v == single {
		for _, t := range c.tasks {
			o.busiest += mapTask(t, func(w string, h uint64) { result[w]++ })
		}
		o.took = time.Since(start)
		return result, o
	}
	r := run{tasks: c.tasks, schedule: queue}
	shared := locked{m: make(map[string]int, vocabulary)}
	shards := make([]locked, c.shards)
	switch v {
	case mutex:
		r.emit = func(_ *worker, w string, h uint64) {
			shared.Lock()
			shared.m[w]++
			shared.Unlock()
		}
	case unlocked:
		r.emit = func(_ *worker, w string, h uint64) { shared.m[w]++ } // WRONG: every worker at once
	case sharded:
		for s := range shards {
			shards[s].m = make(map[string]int)
		}
		r.emit = func(_ *worker, w string, h uint64) {
			shard := &shards[(h>>32)%uint64(len(shards))]
			shard.Lock()
			shard.m[w]++
			shard.Unlock()
		}
	default:
		r.emit = func(wk *worker, w string, h uint64) { wk.own[w]++ } // a map only this worker touches
	}
	reduced := make([]map[string]int, c.reducers)
	var reducers sync.WaitGroup
	if v == mapReduce {
		r.reduce = make([]chan map[string]int, c.reducers)
		for i := range r.reduce {
			r.reduce[i] = make(chan map[string]int, len(c.tasks))
			reduced[i] = make(map[string]int)
			reducers.Add(1)
			go reduceWorker(r.reduce[i], reduced[i], &reducers)
		}
	}
	if v == static || v == stealing { // worker i gets the i-th block of tasks
		r.schedule, r.deques = fixed, make([]deque, c.workers)
		if v == stealing {
			r.schedule = steal
		}
		for i := range r.deques {
			first, last := len(c.tasks)*i/c.workers, len(c.tasks)*(i+1)/c.workers
			for t := first; t < last; t++ { // the block's first task on top, for a thief;
				r.deques[i].tasks = append(r.deques[i].tasks, t) // its last for the owner
			}
			r.deques[i].bottom = last - first
		}
	} else {
		r.queue = make(chan int, len(c.tasks))
		for t := range c.tasks {
			r.queue <- t
		}
		close(r.queue)
	}
	workers := make([]worker, c.workers)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = worker{id: i, own: make(map[string]int)}
		wg.Add(1)
		go r.mapWorker(&workers[i], &wg)
	}
	wg.Wait()
	if v == mapReduce {
		for i := range r.reduce {
			close(r.reduce[i])
		}
		reducers.Wait()
	}
	if v == perWorker || v == static || v == stealing { // part of the work: the merge
		for i := range workers {
			for w, n := range workers[i].own {
				result[w] += n
			}
		}
	}
	o.took = time.Since(start)

	// The result, in one map to check it.
	parts := append([]map[string]int{shared.m}, reduced...)
	for s := range shards {
		o.misplaced += misplaced(shards[s].m, s, len(shards))
		parts = append(parts, shards[s].m)
	}
	for i := range reduced {
		o.misplaced += misplaced(reduced[i], i, len(reduced))
	}
	for _, m := range parts {
		for w, n := range m {
			result[w] += n
		}
	}
	for i := range workers {
		if workers[i].words > o.busiest {
			o.busiest = workers[i].words
		}
		o.steals += workers[i].steals
	}
	return result, o
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
	n := flag.Int("n", 1000000, "words in the text")
	workers := flag.Int("w", 4, "workers that map")
	ntasks := flag.Int("tasks", 64, "tasks the text is cut into")
	reducers := flag.Int("reducers", 4, "reducers of map-reduce")
	shards := flag.Int("shards", 16, "shards of the sharded map")
	seed := flag.Int("seed", 1, "seed of the text")
	mistake := goflag.Mode("break", "unlocked", "count into one shared map without its mutex")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 50000000)
	goflag.IntRange("w", *workers, 1, 64)
	goflag.IntRange("tasks", *ntasks, 1, 10000)
	goflag.IntRange("reducers", *reducers, 1, 64)
	goflag.IntRange("shards", *shards, 1, 1024)

	text := makeText(*n, uint64(*seed))
	c := config{makeTasks(text, *ntasks), *workers, *reducers, *shards}
	smallest, largest := len(text)+1, 0
	for _, t := range c.tasks {
		if len(t) < smallest {
			smallest = len(t)
		}
		if len(t) > largest {
			largest = len(t)
		}
	}
	fmt.Printf("%d words, %.1f MB, seed %d; %d tasks of %d to %d bytes; %d workers\n", *n,
		float64(len(text))/1e6, *seed, *ntasks, smallest, largest, *workers)
	fmt.Printf("%-11s %-10s %-8s %-8s %-17s %s\n", "variant", "time", "speedup", "busiest", "checksum",
		"counts")

	var ref map[string]int
	var one time.Duration
	wrong := 0
	for v := single; v <= stealing; v++ {
		if (mistake.Value() != "" && v == mutex) || (mistake.Value() == "" && v == unlocked) {
			continue
		}
		result, o := count(v, &c)
		diff := 0
		if v == single {
			ref, one = result, o.took
		} else {
			diff = differences(ref, result)
		}
		verdict := "= single"
		switch {
		case v == single:
			verdict = fmt.Sprintf("%d distinct words", len(ref))
		case diff > 0:
			verdict = fmt.Sprintf("DIFFER: %d words", diff)
		case o.misplaced > 0:
			verdict = fmt.Sprintf("MISPLACED: %d words", o.misplaced)
		case v == stealing:
			verdict = fmt.Sprintf("= single, %d steals", o.steals)
		}
		if diff > 0 || o.misplaced > 0 {
			wrong++
		}
		took := o.took
		if took == 0 {
			took = 1
		}
		fmt.Printf("%-11s %-10s %-8s %-8s %016x  %s\n", names[v], fmt.Sprintf("%.1fms", float64(o.took)/1e6),
			fmt.Sprintf("%.2fx", float64(one)/float64(took)), fmt.Sprintf("%d%%", (o.busiest*100+*n/2) / *n),
			checksum(result), verdict)
	}
	if wrong > 0 {
		fmt.Printf("main: %d variants failed their check\n", wrong)
	} else {
		fmt.Printf("main: every variant counted what one thread counts\n")
	}
	left := goroutinesAtEnd()
	fmt.Printf("goroutines at the end: %d (main and %d leaked)\n", left, left-1)
	if wrong > 0 {
		os.Exit(1)
	}
}
