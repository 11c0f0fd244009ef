package gostream

import (
	"runtime"
	"testing"
	"time"
)

func TestForwardsInOrderUntilInCloses(t *testing.T) {
	in := make(chan int)
	go func() {
		for i := 0; i < 100; i++ {
			in <- i
		}
		close(in)
	}()
	want := 0
	for v := range OrDone(nil, in) {
		if v != want {
			t.Fatalf("got %d, want %d", v, want)
		}
		want++
	}
	if want != 100 {
		t.Fatalf("got %d values, want 100", want)
	}
}

// goroutinesBack waits for the goroutine count to fall to n, as goleak does.
func goroutinesBack(t *testing.T, n int) {
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left, want %d", runtime.NumGoroutine(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDoneStopsAWaitingReceive(t *testing.T) {
	before := runtime.NumGoroutine()
	done, in := make(chan struct{}), make(chan int) // nobody ever sends on in
	out := OrDone(done, in)
	close(done)
	if _, ok := <-out; ok {
		t.Fatal("a value from a channel nobody sent on")
	}
	goroutinesBack(t, before)
}

func TestDoneStopsAWaitingSend(t *testing.T) {
	before := runtime.NumGoroutine()
	done, in := make(chan struct{}), make(chan string, 1)
	in <- "never taken"
	out := OrDone(done, in)
	for len(in) > 0 { // the goroutine has it, and waits to send
		time.Sleep(time.Millisecond)
	}
	close(done)
	goroutinesBack(t, before)
	if _, ok := <-out; ok {
		t.Fatal("out not closed after done")
	}
}
