// The Go twin of tests/test_flag.c: the same flags through Go's own flag
// package and common/goflag (flag_mode, flag_int_range), so that
// common-flag.bats can compare the two line for line.
package main

import (
	"flag"
	"fmt"
	"time"

	"gopatterns/common/goflag"
)

func main() {
	n := flag.Int("n", 20, "jobs to run")
	w := flag.Int("w", 4, "workers in the pool")
	ordered := flag.Bool("ordered", false, "print the results by job id")
	v := flag.Bool("v", false, "verbose")
	work := flag.Duration("work", time.Millisecond, "the time a task takes")
	timeout := flag.Duration("timeout", 0, "give up after `limit` (0: never)")
	name := flag.String("name", "pool", "a name\nover two lines")
	brk := goflag.Mode("break", "share|nowait", "show the classic mistake: share or nowait")
	flag.Parse()
	goflag.IntRange("w", *w, 1, 1000) // what flag_int_range checks in C
	b := brk.Value()
	if b == "" {
		b = "off"
	}
	bi := func(x bool) int {
		if x {
			return 1
		}
		return 0
	}
	fmt.Printf("n=%d w=%d ordered=%d v=%d work=%s timeout=%s name=%s break=%s\n", *n, *w, bi(*ordered), bi(*v), *work, *timeout, *name, b)
	for _, a := range flag.Args() {
		fmt.Printf("arg %s\n", a)
	}
}
