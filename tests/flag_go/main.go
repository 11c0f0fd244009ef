// The Go twin of tests/test_flag.c: the same flags through Go's own flag
// package, so that common-flag.bats can compare the two line for line.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// mode is a flag given bare (the first mode) or as -break=MODE.
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

func main() {
	n := flag.Int("n", 20, "jobs to run")
	w := flag.Int("w", 4, "workers in the pool")
	ordered := flag.Bool("ordered", false, "print the results by job id")
	v := flag.Bool("v", false, "verbose")
	work := flag.Duration("work", time.Millisecond, "the time a task takes")
	timeout := flag.Duration("timeout", 0, "give up after `limit` (0: never)")
	name := flag.String("name", "pool", "a name\nover two lines")
	brk := &mode{modes: []string{"share", "nowait"}}
	flag.Var(brk, "break", "show the classic mistake: share or nowait")
	flag.Parse()
	if *w < 1 || *w > 1000 { // what flag_int_range checks in C
		fmt.Fprintf(os.Stderr, "invalid value \"%d\" for flag -w: must be 1..1000\n", *w)
		flag.Usage()
		os.Exit(2)
	}
	b := brk.value
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
