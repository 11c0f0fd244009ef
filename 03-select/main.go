// 03-select: wait on several channels at once.
// The Go program that main.c mirrors: same flags, same output, same exit
// statuses.
package main

import (
	"flag"
	"fmt"
	"sync"
	"time"

	"gopatterns/common/goflag"
)

// produce sends 1..n, one per tick of its own ticker, then closes.
func produce(n int, every time.Duration) <-chan int {
	out := make(chan int)
	go func() {
		tk := time.NewTicker(every)
		for i := 1; i <= n; i++ {
			<-tk.C // wait for the next tick
			out <- i
		}
		tk.Stop() // a ticker never stopped fires forever
		close(out)
	}()
	return out
}

// merge receives from two producers of different speeds until both are
// closed.
func merge(n int, spin bool) {
	names := [2]string{"fast", "slow"}
	in := [2]<-chan int{produce(n, time.Millisecond), produce(n, 10*time.Millisecond)}
	var got [2]int
	var closed [2]bool
	wasted := 0 // rounds spent on a case already known to be closed
	for !closed[0] || !closed[1] {
		var i, v int
		var ok bool
		select {
		case v, ok = <-in[0]:
			i = 0
		case v, ok = <-in[1]:
			i = 1
		}
		switch {
		case ok:
			fmt.Println(names[i], v)
			got[i]++
		case closed[i]:
			wasted++ // only --break gets here: the case should be off
		default:
			closed[i] = true
			fmt.Println(names[i], "closed")
			if !spin {
				in[i] = nil // a nil channel is never ready: the case is off
			}
		}
	}
	fmt.Printf("merge: fast=%d slow=%d wasted_rounds=%d\n", got[0], got[1], wasted)
}

// callWithTimeout: a slow call races a time.After channel.
func callWithTimeout(work, timeout time.Duration) {
	reply := make(chan int, 1) // buffered: the call can always send, even after we gave up
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(work)
		reply <- 42 // never blocks, thanks to the buffer
	}()
	select {
	case answer := <-reply:
		fmt.Println("call: answer", answer)
	case <-time.After(timeout):
		fmt.Println("call: timed out")
	}
	// Go could leave the late call to the garbage collector; we wait for it,
	// as the C must, so that both end the same way.
	wg.Wait()
}

// nonBlocking: with a default, select never waits.
func nonBlocking() {
	msgs := make(chan int) // unbuffered, and nobody on the other end
	select {
	case v := <-msgs:
		fmt.Println("non-blocking receive: got", v)
	default:
		fmt.Println("non-blocking receive: nothing ready, took the default")
	}
	out := 7
	select {
	case msgs <- out:
		fmt.Println("non-blocking send: sent", out)
	default:
		fmt.Println("non-blocking send: no receiver ready, took the default")
	}
}

// stopATimer: a timer can be stopped before it fires; then it never sends.
func stopATimer() {
	t := time.NewTimer(time.Second)
	fmt.Println("timer: stopped before firing:", t.Stop())
}

func main() {
	n := flag.Int("n", 5, "values per producer (1..1000)")
	timeout := flag.Duration("timeout", 10*time.Millisecond, "how long to wait for the slow call")
	work := flag.Duration("work", 50*time.Millisecond, "how long the slow call takes")
	brk := goflag.Mode("break", "spin", "show the classic mistake: spin (a closed case left on)")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 1000)
	if *timeout < 0 {
		goflag.Fail("invalid value \"%s\" for flag -timeout: must not be negative", *timeout)
	}
	if *work < 0 {
		goflag.Fail("invalid value \"%s\" for flag -work: must not be negative", *work)
	}
	if flag.NArg() > 0 {
		goflag.Fail("unexpected argument: %s", flag.Arg(0))
	}

	merge(*n, brk.Value() != "")
	callWithTimeout(*work, *timeout)
	nonBlocking()
	stopATimer()
}
