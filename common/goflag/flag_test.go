package goflag

import (
	"bytes"
	"flag"
	"os"
	"testing"
	"time"
)

// run parses args into a fresh flag.CommandLine named prog, with a -break
// mode of "share|nowait", then calls after; it returns the mode, what was
// written on the flag set's output, and the exit status (-1: none).
func run(t *testing.T, args []string, after func()) (mode string, out string, status int) {
	t.Helper()
	saved, savedExit, savedProg := flag.CommandLine, exit, os.Args[0]
	defer func() { flag.CommandLine, exit, os.Args[0] = saved, savedExit, savedProg }()
	os.Args[0] = "prog" // what flag.Usage names
	flag.CommandLine = flag.NewFlagSet("prog", flag.ContinueOnError)
	var buf bytes.Buffer
	flag.CommandLine.SetOutput(&buf)
	status = -1
	type exited struct{}
	exit = func(code int) { status = code; panic(exited{}) }
	brk := Mode("break", "share|nowait", "show the classic mistake: share or nowait")
	flag.Int("w", 4, "workers")
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exited); !ok {
				panic(r)
			}
		}
		mode, out = brk.Value(), buf.String()
	}()
	if err := flag.CommandLine.Parse(args); err != nil {
		return brk.Value(), buf.String(), 2
	}
	if after != nil {
		after()
	}
	return brk.Value(), buf.String(), status
}

const usage = `Usage of prog:
  -break
    	show the classic mistake: share or nowait
  -w int
    	workers (default 4)
`

func TestMode(t *testing.T) {
	for _, c := range []struct {
		args []string
		mode string
		rest int
	}{
		{nil, "", 0},
		{[]string{"--break"}, "share", 0},
		{[]string{"-break=true"}, "share", 0},
		{[]string{"-break=nowait"}, "nowait", 0},
		{[]string{"-break", "-break=false"}, "", 0},
		{[]string{"-break", "nowait"}, "share", 1}, // bare: never the next argument
	} {
		mode, out, status := run(t, c.args, nil)
		if mode != c.mode || out != "" || status != -1 {
			t.Errorf("%q: mode %q, output %q, status %d; want %q", c.args, mode, out, status, c.mode)
		}
		if n := flag.NArg(); c.rest == 0 && n != 0 {
			t.Errorf("%q: %d arguments left", c.args, n)
		}
	}
}

func TestModeRefused(t *testing.T) {
	for _, value := range []string{"bad", "", "share|nowait", "off"} {
		_, out, status := run(t, []string{"-break=" + value}, nil)
		want := "invalid boolean value \"" + value + "\" for -break: must be one of share|nowait\n" + usage
		if out != want || status != 2 {
			t.Errorf("-break=%s: status %d, output %q", value, status, out)
		}
	}
}

func TestUsage(t *testing.T) {
	_, out, status := run(t, []string{"-h"}, nil)
	if out != usage || status != 2 { // flag.ErrHelp; the lessons' ExitOnError exits 0
		t.Errorf("-h: status %d, output %q", status, out)
	}
}

func TestChecks(t *testing.T) {
	for _, c := range []struct {
		check func()
		line  string // "": passes
	}{
		{func() { IntRange("w", 1, 1, 1000) }, ""},
		{func() { IntRange("w", 1000, 1, 1000) }, ""},
		{func() { IntRange("w", 0, 1, 1000) }, `invalid value "0" for flag -w: must be 1..1000`},
		{func() { IntRange("w", -3, 1, 1000) }, `invalid value "-3" for flag -w: must be 1..1000`},
		{func() { IntRange("w", 1001, 1, 1000) }, `invalid value "1001" for flag -w: must be 1..1000`},
		{func() { DurationRange("work", 0, 0, 10*time.Second) }, ""},
		{func() { DurationRange("work", 11*time.Second, 0, 10*time.Second) },
			`invalid value "11s" for flag -work: must be 0s..10s`},
		{func() { DurationRange("interval", 500*time.Microsecond, time.Millisecond, time.Second) },
			`invalid value "500µs" for flag -interval: must be 1ms..1s`},
		{func() { Fail("unexpected argument: %s", "x") }, "unexpected argument: x"},
	} {
		_, out, status := run(t, nil, c.check)
		if c.line == "" && (out != "" || status != -1) {
			t.Errorf("want no failure: status %d, output %q", status, out)
		}
		if c.line != "" && (out != c.line+"\n"+usage || status != 2) {
			t.Errorf("want %q: status %d, output %q", c.line, status, out)
		}
	}
}
