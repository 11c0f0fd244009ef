// 02-channels: unbuffered handoff, buffered channels, closing, ranging.
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

const nap = 20 * time.Millisecond // how long main keeps the sender waiting

// unbuffered: a send returns only once a receiver has taken the value.
func unbuffered() {
	ping := make(chan int) // unbuffered
	start := time.Now()
	var sendAt time.Duration // when, after start, the send returned
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done() // main's wg.Wait then sees sendAt
		ping <- 42      // blocks until main receives
		sendAt = time.Since(start)
	}()
	time.Sleep(nap) // the sender is stuck in its send all this time
	msg := <-ping
	wg.Wait()
	fmt.Printf("unbuffered: received %d after a %d ms nap; the send returned at +%d ms\n",
		msg, nap.Milliseconds(), sendAt.Milliseconds())
}

// buffered: up to cap sends complete with no receiver at all.
func buffered(capacity int) {
	buf := make(chan int, capacity)
	for i := 1; i <= capacity; i++ {
		buf <- i // room in the buffer: returns at once
		fmt.Printf("buffered: sent %d ahead, len=%d cap=%d\n", i, len(buf), cap(buf))
	}
	for len(buf) > 0 {
		v := <-buf // first in, first out
		fmt.Printf("buffered: received %d, len=%d\n", v, len(buf))
	}
}

// countTo is a generator: it makes out, is its only sender, closes it, and
// hands it out receive-only, so that the receiver cannot close it.
func countTo(n int, closeIt bool) <-chan int {
	out := make(chan int)
	go func() {
		for i := 1; i <= n; i++ {
			out <- i
		}
		if closeIt { // false only in --break=noclose
			close(out) // "no more values": ends the range in main
		}
	}()
	return out
}

func rangeOver(n int, closeIt bool) {
	c := countTo(n, closeIt)
	sum := 0
	for v := range c { // ends when c is closed and drained
		fmt.Println("range:", v)
		sum += v
	}
	v, ok := <-c // closed and drained: at once, zero and false
	fmt.Printf("range: done, sum=%d; one more receive gives v=%d ok=%t\n", sum, v, ok)
}

func main() {
	n := flag.Int("n", 5, "values the generator sends (1..1000)")
	capacity := flag.Int("capacity", 3, "room in the buffered channel (1..100)")
	brk := goflag.Mode("break", "send|noclose", "show the classic mistake: send (nobody receives) or noclose (the range never ends)")
	flag.Parse()
	goflag.IntRange("n", *n, 1, 1000)
	goflag.IntRange("capacity", *capacity, 1, 100)
	if flag.NArg() > 0 {
		goflag.Fail("unexpected argument: %s", flag.Arg(0))
	}

	switch brk.Value() {
	case "send":
		c := make(chan int)
		fmt.Println("break: sending on an unbuffered channel that nobody receives from")
		c <- 1 // blocks forever: the runtime sees it and stops us
		return
	case "noclose":
		fmt.Println("break: ranging over a channel whose sender never closes it")
		rangeOver(*n, false) // never returns
		return
	}

	unbuffered()
	buffered(*capacity)
	rangeOver(*n, true)
}
