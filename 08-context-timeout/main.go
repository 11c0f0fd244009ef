// 08-context-timeout: a context is the done channel of 05 and 07 made
// standard. Done() is the channel and cancel() closes it, once, however many
// times it is called; Err() says why it closed; a deadline closes it by
// itself; contexts form a tree, where cancelling flows down and never up, and
// a child's deadline is bounded by its parent's; and a context carries a few
// request-scoped values, looked up through the tree.
//
// main.c is this program in C, on common/context.h.
//
// Break it:
//
//	--break  the operation sleeps, deaf to its context: it finishes its work
//	         long after the deadline, and we measure how long
package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"gopatterns/common/goflag"
)

var broken *goflag.ModeValue // --break

// slowOp does work that takes `work`, unless ctx is done first: it returns
// nil when the work finished, or ctx.Err().
func slowOp(ctx context.Context, work time.Duration) error {
	if broken.Value() != "" {
		time.Sleep(work) // WRONG: deaf to ctx, it runs to the end
		return nil
	}
	select {
	case <-time.After(work): // the work finished
		return nil
	case <-ctx.Done(): // we were told to give up
		return ctx.Err()
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runWithTimeout runs slowOp under a deadline and reports how it ended.
func runWithTimeout(what string, work, timeout time.Duration) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel() // releases the timer, even when it never fired
	deadline, _ := ctx.Deadline()
	err := slowOp(ctx, work)
	end := time.Now()
	result := "finished"
	if err != nil {
		result = err.Error()
	}
	fmt.Printf("timeout: %s (%v of work, %v timeout): %s after %.0fms", what, work, timeout,
		result, ms(end.Sub(start)))
	// The deadline never fires early; how late the operation returns is up
	// to the operation: a prompt one returns right at the deadline.
	if !end.Before(deadline) {
		fmt.Printf(", %.1fms past the deadline", ms(end.Sub(deadline)))
	} else if err != nil {
		fmt.Printf(", %.1fms BEFORE the deadline (a bug!)", ms(deadline.Sub(end)))
	}
	fmt.Println()
}

// A context of the tree.
type node struct {
	name string
	ctx  context.Context
}

// watch waits for ctx to be done, as 05's workers waited for their done
// channel, and reports: this is how cancelling reaches a goroutine.
func watch(ctx context.Context, index int, stopped chan<- int) {
	<-ctx.Done()
	stopped <- index // the last thing a watcher does
}

// cancel has closed every Done channel below it before it returns, so Err
// tells which watchers will report: wait for exactly those (never for one
// whose context runs on), then list them, and the ones running.
func report(step string, tree []node, reported []bool, stopped <-chan int) {
	now := make([]bool, len(tree))
	want := 0
	for i := range tree {
		if tree[i].ctx.Err() != nil && !reported[i] {
			want++
		}
	}
	for ; want > 0; want-- {
		i := <-stopped
		now[i], reported[i] = true, true
	}
	fmt.Printf("tree: %-13s stopped:", step)
	for i := range tree {
		if now[i] {
			fmt.Printf(" %s (%v)", tree[i].name, tree[i].ctx.Err())
		}
	}
	fmt.Print("; running:")
	running := 0
	for i := range tree {
		if tree[i].ctx.Err() == nil {
			fmt.Printf(" %s", tree[i].name)
			running++
		}
	}
	if running == 0 {
		fmt.Print(" none")
	}
	fmt.Println()
}

func cancelTree() {
	root, cancelRoot := context.WithCancel(context.Background())
	a, cancelA := context.WithCancel(root)
	a1, cancelA1 := context.WithCancel(a)
	b, cancelB := context.WithCancel(root)
	defer cancelA1()
	defer cancelB()
	tree := []node{{"root", root}, {"a", a}, {"a1", a1}, {"b", b}}
	stopped := make(chan int, len(tree))
	for i := range tree {
		go watch(tree[i].ctx, i, stopped)
	}
	fmt.Println("tree: root -> a -> a1, root -> b; a goroutine watches each")
	reported := make([]bool, len(tree))
	cancelA() // a child: its subtree stops, its parent does not
	report("cancel(a):", tree, reported, stopped)
	cancelRoot() // the root: everything below it stops
	report("cancel(root):", tree, reported, stopped)
}

func boundedDeadlines() {
	parent, cancelP := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelP()
	longer, cancelL := context.WithTimeout(parent, time.Second)
	defer cancelL()
	shorter, cancelS := context.WithTimeout(parent, 20*time.Millisecond)
	defer cancelS()
	p, _ := parent.Deadline()
	l, _ := longer.Deadline()
	s, _ := shorter.Deadline()
	fmt.Printf("deadline: parent 100ms; child asking 1s gets the parent's deadline: %s; "+
		"child asking 20ms keeps its own: %s\n", yes(l.Equal(p)), yes(s.Before(p)))
	<-longer.Done()
	fmt.Printf("deadline: the 1s child ends with its parent (not before its deadline: %s): %v\n",
		yes(!time.Now().Before(p)), longer.Err())
}

// A key type of our own: no other package can collide with its keys.
type key int

const (
	requestIDKey key = iota
	userKey
	unknownKey
)

func values() {
	req := context.WithValue(context.Background(), requestIDKey, "req-42")
	user := context.WithValue(req, userKey, "gopher")
	work, cancel := context.WithCancel(user) // values pass through any kind of context
	defer cancel()
	retry := context.WithValue(work, requestIDKey, "req-42-retry")
	unknown := "(nil)"
	if work.Value(unknownKey) != nil {
		unknown = "found"
	}
	fmt.Printf("values: from the bottom: request-id=%s user=%s; unknown key: %s\n",
		work.Value(requestIDKey), work.Value(userKey), unknown)
	fmt.Printf("values: a child that sets request-id again sees %s, its parents still see %s\n",
		retry.Value(requestIDKey), work.Value(requestIDKey))
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func main() {
	timeout := flag.Duration("timeout", 50*time.Millisecond, "the deadline of each operation, 1us..10s")
	work := flag.Duration("work", 200*time.Millisecond, "the time the slow operation takes, 1us..10s")
	broken = goflag.Mode("break", "sleep", "the operation sleeps, deaf to its context")
	flag.Parse()
	// Go's flag package has no range for a duration: checked after parsing.
	if *timeout < time.Microsecond || *timeout > 10*time.Second {
		goflag.Fail("invalid value %q for flag -timeout: must be 1us..10s", timeout.String())
	}
	if *work < time.Microsecond || *work > 10*time.Second {
		goflag.Fail("invalid value %q for flag -work: must be 1us..10s", work.String())
	}
	if flag.NArg() > 0 {
		goflag.Fail("unexpected argument: %s", flag.Arg(0))
	}

	runWithTimeout("slow operation", *work, *timeout)
	runWithTimeout("fast operation", *timeout/5, *timeout) // done well before the deadline
	cancelTree()
	boundedDeadlines()
	values()
}
