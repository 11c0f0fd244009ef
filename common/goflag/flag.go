// Package goflag is the Go face of common/flag.h: the few lines each Go twin
// would otherwise add to Go's flag package to print what its C lesson prints.
//
//	flag_mode(&brk, "break", "share|nowait", "...")   ->  brk := goflag.Mode("break", "share|nowait", "...")
//	                                                      brk.Value()  ("": off; C's NULL)
//	flag_int_range(&w, "w", 4, 1, 1000, "...")         ->  w := flag.Int("w", 4, "..."); after flag.Parse:
//	                                                      goflag.IntRange("w", *w, 1, 1000)
//	flag_fail("unexpected argument: %s", arg)          ->  goflag.Fail("unexpected argument: %s", arg)
//
// Everything registers on, and reports through, flag.CommandLine, as
// flag.Int and flag.Parse do. What goes wrong is said the way flag.Parse
// says it with ExitOnError: one line on the flag set's output (stderr), then
// flag.Usage, then exit status 2.
//
// Contract:
//   - Mode is a flag given bare (-break, or -break=true: the first mode) or
//     with a value (-break=nowait: one of the modes; -break=false: off). It is
//     a flag.Value whose IsBoolFlag is true, so -break never takes the next
//     argument, and the usage lists it as a bool (no value name, no default).
//     Any other value is refused as flag.Parse refuses a bad bool:
//     `invalid boolean value "bad" for -break: must be one of share|nowait`.
//   - IntRange is flag_int_range's check, made after flag.Parse (Go's flag.Int
//     has no range, and a flag.Value of our own would list as "-w value", not
//     "-w int"): a value outside min..max fails with
//     `invalid value "0" for flag -w: must be 1..1000`. Being after parsing,
//     it names the value as parsed (-w 0x0 is "0"), and any error of flag.Parse
//     itself comes first.
//   - DurationRange is the same for a time.Duration, the line the C lessons
//     give flag_fail: `invalid value "0s" for flag -interval: must be 1ms..10s`.
//   - Fail is flag_fail: a check of the program's own after flag.Parse.
//
// Call Mode before flag.Parse, once per name (a second is flag's panic, "flag
// redefined: NAME"); the checks after it.
package goflag

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// ModeValue is the flag Mode registers.
type ModeValue struct {
	modes []string
	value string
}

// Mode registers on flag.CommandLine a flag name with the given modes,
// separated by '|', the first one what a bare -name gives.
func Mode(name, modes, usage string) *ModeValue {
	m := &ModeValue{modes: strings.Split(modes, "|")}
	flag.Var(m, name, usage)
	return m
}

// Value is the mode given, or "" when the flag is off.
func (m *ModeValue) Value() string { return m.value }

// IsBoolFlag makes the flag one given bare, as a bool.
func (m *ModeValue) IsBoolFlag() bool { return true }

// String is flag.Value's: the mode, "" when off.
func (m *ModeValue) String() string { return m.value }

// Set is flag.Value's: "true" is the first mode, "false" off, else a mode.
func (m *ModeValue) Set(s string) error {
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

// exit is os.Exit; the package's test replaces it.
var exit = os.Exit

// Fail prints format (fmt's, one line) and the usage, and exits 2.
func Fail(format string, args ...interface{}) {
	fmt.Fprintf(flag.CommandLine.Output(), format+"\n", args...)
	flag.Usage()
	exit(2)
}

// IntRange fails unless min <= v <= max, v being flag name's value.
func IntRange(name string, v, min, max int) {
	if v < min || v > max {
		Fail("invalid value \"%d\" for flag -%s: must be %d..%d", v, name, min, max)
	}
}

// DurationRange fails unless min <= d <= max, d being flag name's value.
func DurationRange(name string, d, min, max time.Duration) {
	if d < min || d > max {
		Fail("invalid value \"%s\" for flag -%s: must be %s..%s", d, name, min, max)
	}
}
