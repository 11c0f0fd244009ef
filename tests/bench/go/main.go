// The Go half of `make bench`: the same workloads as tests/bench/bench.c,
// one function each, with the same names and the same steps, timed with
// time.Now. Each figure is printed as a `name<TAB>value` line for
// tests/bench/run.py.
//
//	usage: bench_go WORKLOAD N
//
// The driver sets GOMAXPROCS (the number of cores, then 1).
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func report(name string, value float64) { fmt.Printf("%s\t%.3f\n", name, value) }

func check(ok bool, workload, what string) {
	if !ok {
		fmt.Fprintf(os.Stderr, "bench_go: %s: %s\n", workload, what)
		os.Exit(1)
	}
}

func perOp(start time.Time, n int) float64 {
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// pingpong: main sends on a, the partner answers on b: one round trip.
func pingpong(name string, n, _ int) {
	a, b := make(chan int64), make(chan int64)
	var done sync.WaitGroup
	var v int64
	start := time.Now()
	done.Add(1)
	go func() {
		for i := 0; i < n; i++ {
			w := <-a
			b <- w + 1
		}
		done.Done()
	}()
	for i := 0; i < n; i++ {
		a <- v
		v = <-b
	}
	done.Wait()
	t := perOp(start, n)
	check(v == int64(n), name, "wrong count of round trips")
	report(name, t)
}

// handoff and spsc: one sender, main receives; k is the capacity.
func sendOneToN(c chan<- int64, n int, done *sync.WaitGroup) {
	for v := int64(1); v <= int64(n); v++ {
		c <- v
	}
	done.Done()
}

func stream(name string, n, k int) {
	c := make(chan int64, k)
	var done sync.WaitGroup
	var sum int64
	start := time.Now()
	done.Add(1)
	go sendOneToN(c, n, &done)
	for i := 0; i < n; i++ {
		sum += <-c
	}
	done.Wait()
	t := perOp(start, n)
	check(sum == int64(n)*int64(n+1)/2, name, "wrong sum")
	report(name, t)
}

// mpmc: k senders send n/k values each, k receivers drain until close.
type receiver struct {
	sum   int64
	count int
}

func mpmc(name string, n, k int) {
	per := n / k
	c := make(chan int64, 100)
	rs := make([]receiver, k)
	var senders, receivers sync.WaitGroup
	start := time.Now()
	senders.Add(k)
	receivers.Add(k)
	for i := 0; i < k; i++ {
		go func(r *receiver) {
			// Counts in locals: the receivers' records share cache lines.
			var sum int64
			count := 0
			for v := range c {
				sum += v
				count++
			}
			r.sum, r.count = sum, count
			receivers.Done()
		}(&rs[i])
		go sendOneToN(c, per, &senders)
	}
	senders.Wait()
	close(c)
	receivers.Wait()
	t := perOp(start, per*k)
	var sum int64
	count := 0
	for _, r := range rs {
		sum += r.sum
		count += r.count
	}
	check(count == per*k && sum == int64(k)*(int64(per)*int64(per+1)/2), name, "wrong count or sum")
	report(name, t)
}

// select: k senders on k unbuffered channels, main selects over all of them.
// Go's select is a statement, so each width is written out (as a C program
// would pass an array of k cases); reflect.Select would be far slower.
func selectOnce(cs []chan int64) int64 {
	var v int64
	switch len(cs) {
	case 2:
		select {
		case v = <-cs[0]:
		case v = <-cs[1]:
		}
	case 8:
		select {
		case v = <-cs[0]:
		case v = <-cs[1]:
		case v = <-cs[2]:
		case v = <-cs[3]:
		case v = <-cs[4]:
		case v = <-cs[5]:
		case v = <-cs[6]:
		case v = <-cs[7]:
		}
	case 32:
		select {
		case v = <-cs[0]:
		case v = <-cs[1]:
		case v = <-cs[2]:
		case v = <-cs[3]:
		case v = <-cs[4]:
		case v = <-cs[5]:
		case v = <-cs[6]:
		case v = <-cs[7]:
		case v = <-cs[8]:
		case v = <-cs[9]:
		case v = <-cs[10]:
		case v = <-cs[11]:
		case v = <-cs[12]:
		case v = <-cs[13]:
		case v = <-cs[14]:
		case v = <-cs[15]:
		case v = <-cs[16]:
		case v = <-cs[17]:
		case v = <-cs[18]:
		case v = <-cs[19]:
		case v = <-cs[20]:
		case v = <-cs[21]:
		case v = <-cs[22]:
		case v = <-cs[23]:
		case v = <-cs[24]:
		case v = <-cs[25]:
		case v = <-cs[26]:
		case v = <-cs[27]:
		case v = <-cs[28]:
		case v = <-cs[29]:
		case v = <-cs[30]:
		case v = <-cs[31]:
		}
	default:
		panic("no select of that width")
	}
	return v
}

func selectN(name string, n, k int) {
	per := n / k
	cs := make([]chan int64, k)
	for i := range cs {
		cs[i] = make(chan int64)
	}
	var done sync.WaitGroup
	var sum int64
	start := time.Now()
	done.Add(k)
	for i := 0; i < k; i++ {
		go sendOneToN(cs[i], per, &done)
	}
	for i := 0; i < per*k; i++ {
		sum += selectOnce(cs)
	}
	done.Wait()
	t := perOp(start, per*k)
	check(sum == int64(k)*(int64(per)*int64(per+1)/2), name, "wrong sum")
	report(name, t)
}

// nonblocking: no other goroutine; two figures.
func nonblocking(name string, n, _ int) {
	empty := make(chan int64, 1)
	closed := make(chan int64)
	close(closed)
	defaults, zeros := 0, 0

	start := time.Now()
	for i := 0; i < n; i++ {
		select {
		case <-empty:
		default:
			defaults++
		}
	}
	t := perOp(start, n)
	check(defaults == n, name, "select on an empty channel did not take the default")
	report("nonblocking-select-default", t)

	start = time.Now()
	for i := 0; i < n; i++ {
		if v, ok := <-closed; !ok && v == 0 {
			zeros++
		}
	}
	t = perOp(start, n)
	check(zeros == n, name, "receive on a closed channel did not return zero, false")
	report("nonblocking-recv-closed", t)
}

// worker-pool: a producer feeds jobs, k workers answer on results, a closer
// closes results when the workers are done, main collects.
func workerPool(name string, n, k int) {
	jobs, results := make(chan int64, 100), make(chan int64, 100)
	var workers, helpers sync.WaitGroup
	var sum int64
	count := 0
	start := time.Now()
	workers.Add(k)
	helpers.Add(2)
	go func() {
		for j := int64(1); j <= int64(n); j++ {
			jobs <- j
		}
		close(jobs)
		helpers.Done()
	}()
	for i := 0; i < k; i++ {
		go func() {
			for j := range jobs {
				results <- 2 * j
			}
			workers.Done()
		}()
	}
	go func() {
		workers.Wait()
		close(results)
		helpers.Done()
	}()
	for r := range results {
		sum += r
		count++
	}
	helpers.Wait()
	t := perOp(start, n)
	check(count == n && sum == int64(n)*int64(n+1), name, "wrong count or sum of results")
	report(name, t)
}

// spawn: n goroutines that only say they are done.
func spawn(name string, n, _ int) {
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go wg.Done()
	}
	wg.Wait()
	report(name, perOp(start, n))
}

// spawn-blocked: n goroutines blocked at once on one channel; the peak
// resident memory of the process is read while they all wait.
func vmHWMkB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "VmHWM:") {
			fields := strings.Fields(strings.TrimPrefix(line, "VmHWM:"))
			if len(fields) > 0 {
				kb, err := strconv.Atoi(fields[0])
				if err == nil {
					return kb
				}
			}
		}
	}
	return -1
}

func spawnBlocked(name string, n, _ int) {
	gate := make(chan int64)
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-gate
			finished.Done()
		}()
	}
	started.Wait()
	kb := vmHWMkB()
	check(kb > 0, name, "no VmHWM in /proc/self/status")
	report("spawn-blocked-rss-MB", float64(kb)/1024)
	close(gate)
	finished.Wait()
}

// timers: n time.After timers pending at once. The first is due timerLead
// after the start (long enough to arm them all first), the others follow in
// the order armed, spread over timerSpread. Lateness is the instant each
// channel delivers (the instant its timer fired) minus its deadline.
const (
	timerLead   = 500 * time.Millisecond
	timerSpread = 200 * time.Millisecond
)

func timers(name string, n, _ int) {
	cs := make([]<-chan time.Time, n)
	deadline := make([]time.Time, n)
	base := time.Now().Add(timerLead)
	step := timerSpread / time.Duration(n)

	start := time.Now()
	for i := 0; i < n; i++ {
		deadline[i] = base.Add(time.Duration(i) * step)
		cs[i] = time.After(time.Until(deadline[i]))
	}
	report("timers-arm", perOp(start, n))

	var total, max float64
	for i := 0; i < n; i++ {
		fired, ok := <-cs[i]
		check(ok, name, "timer channel closed")
		late := float64(fired.Sub(deadline[i]).Nanoseconds())
		total += late
		if late > max {
			max = late
		}
	}
	report("timers-late-mean-us", total/float64(n)/1e3)
	report("timers-late-max-us", max/1e3)
}

// The workloads, by the name the driver and the C half use; k is the
// capacity, the number of goroutines per side, or the number of channels.
type workload struct {
	run func(name string, n, k int)
	k   int
}

var workloads = map[string]workload{
	"pingpong":      {pingpong, 0},
	"handoff":       {stream, 0},
	"spsc-100":      {stream, 100},
	"mpmc-100":      {mpmc, 4},
	"select-2":      {selectN, 2},
	"nonblocking":   {nonblocking, 0},
	"worker-pool":   {workerPool, 4},
	"spawn":         {spawn, 0},
	"spawn-blocked": {spawnBlocked, 0},
	"timers":        {timers, 0},
	"mpmc-1x1":      {mpmc, 1},
	"mpmc-2x2":      {mpmc, 2},
	"mpmc-8x8":      {mpmc, 8},
	"mpmc-16x16":    {mpmc, 16},
	"select-8":      {selectN, 8},
	"select-32":     {selectN, 32},
}

func usage() {
	names := make([]string, 0, len(workloads))
	for name := range workloads {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: bench_go WORKLOAD N (N from 1 to 1000000000; WORKLOAD one of: %s)\n",
		strings.Join(names, " "))
	os.Exit(2)
}

func main() {
	if len(os.Args) != 3 {
		usage()
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 || n > 1000000000 {
		usage()
	}
	w, found := workloads[os.Args[1]]
	if !found {
		usage()
	}
	if n < w.k {
		fmt.Fprintf(os.Stderr, "bench_go: %s needs N of at least %d\n", os.Args[1], w.k)
		os.Exit(2)
	}
	w.run(os.Args[1], n, w.k)
}
