// 02-channels: unbuffered handoff, buffered channels, closing, ranging.
// The Go program that main.c mirrors: same flags, same output, same exit
// statuses.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
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

// mode is --break: given bare it is the first mode, or --break=MODE.
type mode struct {
	modes []string
	value string
}

func (m *mode) String() string   { return m.value }
func (m *mode) IsBoolFlag() bool { return true }
func (m *mode) Set(s string) error {
	switch s {
	case "true":
		m.value = m.modes[0]
		return nil
	case "false":
		m.value = ""
		return nil
	}
	for _, x := range m.modes {
		if s == x {
			m.value = s
			return nil
		}
	}
	return errors.New("must be one of " + strings.Join(m.modes, "|"))
}

// check ends the program as flag.Parse does on a bad command line.
func check(ok bool, format string, args ...interface{}) {
	if !ok {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		flag.Usage()
		os.Exit(2)
	}
}

func main() {
	n := flag.Int("n", 5, "values the generator sends (1..1000)")
	capacity := flag.Int("capacity", 3, "room in the buffered channel (1..100)")
	brk := &mode{modes: []string{"send", "noclose"}}
	flag.Var(brk, "break", "show the classic mistake: send (nobody receives) or noclose (the range never ends)")
	flag.Parse()
	check(*n >= 1 && *n <= 1000, "invalid value \"%d\" for flag -n: must be 1..1000", *n)
	check(*capacity >= 1 && *capacity <= 100, "invalid value \"%d\" for flag -capacity: must be 1..100", *capacity)
	check(flag.NArg() == 0, "unexpected argument: %s", flag.Arg(0))

	switch brk.value {
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
