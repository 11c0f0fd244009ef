// 01-goroutines: start goroutines, give each its own argument, wait for them.
//
// The C twin is main.c, beside this file: the same flags, the same output.
//
// Break it:
//
//	--break=share   every goroutine reads main's loop variable, which main keeps
//	                changing: a data race (go build -race names it)
//	--break=nowait  main returns without waiting, and the goroutines die with it
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gopatterns/common/goflag"
)

var (
	wg       sync.WaitGroup
	finished atomic.Int32 // how many goroutines got to the end
)

func worker(id int, work time.Duration) {
	defer wg.Done()
	time.Sleep(work) // a little simulated work
	fmt.Printf("goroutine %d: done\n", id)
	finished.Add(1)
}

func main() {
	n := flag.Int("n", 5, "goroutines to start")
	work := flag.Duration("work", time.Millisecond, "the time each goroutine works")
	mistake := goflag.Mode("break", "share|nowait", "show a classic mistake: share the loop variable, or return without waiting (nowait)")
	flag.Parse()
	if *n < 1 || *n > 1000 {
		fmt.Fprintf(os.Stderr, "invalid value \"%d\" for flag -n: must be 1..1000\n", *n)
		flag.Usage()
		os.Exit(2)
	}

	for i := 1; i <= *n; i++ {
		wg.Add(1) // before go: the goroutine may finish at once
		if mistake.Value() == "share" {
			go func() { worker(i, *work) }() // WRONG: the closure shares main's one i
		} else {
			go worker(i, *work) // right: i is copied, each goroutine gets its own
		}
	}

	if mistake.Value() == "nowait" {
		// Returning from main ends the program, and every goroutine with it.
		fmt.Printf("main: returning without waiting: %d of %d goroutines had finished\n",
			finished.Load(), *n)
		return
	}
	wg.Wait() // without it, main returns and every goroutine dies with it
	fmt.Printf("main: all %d goroutines done\n", *n)
}
