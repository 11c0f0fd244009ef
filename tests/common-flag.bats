#!/usr/bin/env bats
# The flag package (common/flag.h): tests/test_flag.c registers one flag of
# every kind and prints what it parsed. Each command line below has the
# output Go's flag package gives for it; where Go is installed, the same
# command line also runs through tests/flag_go (the same flags in Go, with
# common/goflag for flag_mode and flag_int_range) and the two must agree byte
# for byte, usage and exit status included.
load test_helper

setup_file() {
    if command -v go >/dev/null 2>&1; then
        # A package of the module (gopatterns), as the lessons' twins: it uses common/goflag.
        (cd "$TOP" && GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$TOP/build/go/cache" \
            GOPATH="$TOP/build/go/path" go build -o "$BATS_FILE_TMPDIR/flag_go" ./tests/flag_go)
    fi
}

# parses ARGS EXPECTED: test_flag with ARGS (split on spaces) prints EXPECTED,
# exits 0, and writes nothing on stderr.
parses() {
    # shellcheck disable=SC2086
    run_bounded 5 "$TESTBIN/test_flag" $1
    assert_success
    assert_no_stderr
    assert_output "$2"
}

# refuses ARGS LINE: test_flag with ARGS exits 2 with nothing on stdout, LINE
# then the usage on stderr.
refuses() {
    # shellcheck disable=SC2086
    run_bounded 5 "$TESTBIN/test_flag" $1
    assert_equal "$status" 2
    assert_equal "$output" ""
    assert_equal "${stderr_lines[0]}" "$2"
    assert_equal "${stderr_lines[1]}" "Usage of $TESTBIN/test_flag:"
}

# same_as_go ARGS: the C and the Go twin print the same, stdout and stderr,
# and exit with the same status.
same_as_go() {
    [ -x "$BATS_FILE_TMPDIR/flag_go" ] || skip "no Go toolchain"
    local c g
    # shellcheck disable=SC2086
    c=$("$TESTBIN/test_flag" $1 2>&1; echo "status $?")
    # shellcheck disable=SC2086
    g=$("$BATS_FILE_TMPDIR/flag_go" $1 2>&1; echo "status $?")
    assert_equal "$c" "${g//$BATS_FILE_TMPDIR\/flag_go/$TESTBIN/test_flag}"
}

D="n=20 w=4 ordered=0 v=0 work=1ms timeout=0s name=pool break=off"

@test "flag: defaults, and -name, --name, -name=value, -name value" {
    parses "" "$D"
    parses "-n 5 --w=7 -ordered --v" "n=5 w=7 ordered=1 v=1 work=1ms timeout=0s name=pool break=off"
    parses "--work 1.5s --timeout=2m -name x" "n=20 w=4 ordered=0 v=0 work=1.5s timeout=2m0s name=x break=off"
}

@test "flag: ints as strconv.ParseInt(s, 0, 64): bases, signs, underscores" {
    parses "-n 0x1F" "${D/n=20/n=31}"
    parses "-n 077" "${D/n=20/n=63}"
    parses "-n 0b1_01" "${D/n=20/n=5}"
    parses "-n 1_000" "${D/n=20/n=1000}"
    parses "-n -7" "${D/n=20/n=-7}"
    parses "-n 2147483647" "${D/n=20/n=2147483647}"
    refuses "-n abc" 'invalid value "abc" for flag -n: parse error'
    refuses "-n 1__0" 'invalid value "1__0" for flag -n: parse error'
    refuses "-n 0x" 'invalid value "0x" for flag -n: parse error'
    # Go's int has 64 bits, C's 32: beyond them, C refuses with Go's words.
    refuses "-n 99999999999" 'invalid value "99999999999" for flag -n: value out of range'
}

@test "flag: bools take -b, -b=true, -b=F; never a separate argument" {
    parses "-v=F -ordered=1" "${D/ordered=0/ordered=1}"
    parses "-v false" "${D/v=0/v=1}
arg false"
    refuses "-ordered=maybe" 'invalid boolean value "maybe" for -ordered: parse error'
}

@test "flag: durations as time.ParseDuration, printed as Duration.String" {
    parses "-work 500us" "${D/work=1ms/work=500µs}"
    parses "-work -1.5ms" "${D/work=1ms/work=-1.5ms}"
    parses "-timeout 90m1.5s" "${D/timeout=0s/timeout=1h30m1.5s}"
    parses "-work 1ns" "${D/work=1ms/work=1ns}"
    refuses "-work 5" 'invalid value "5" for flag -work: parse error'
}

@test "flag: a range, and a mode given bare or with a value" {
    refuses "-w 0" 'invalid value "0" for flag -w: must be 1..1000'
    refuses "-w=1001" 'invalid value "1001" for flag -w: must be 1..1000'
    parses "--break" "${D/break=off/break=share}"
    parses "--break=nowait" "${D/break=off/break=nowait}"
    parses "-break=false" "$D"
    refuses "--break=bad" 'invalid boolean value "bad" for -break: must be one of share|nowait'
}

@test "flag: bad syntax, unknown flags, missing values" {
    refuses "-x" "flag provided but not defined: -x"
    refuses "--nope=3" "flag provided but not defined: -nope"
    refuses "-n" "flag needs an argument: -n"
    refuses "---x" "bad flag syntax: ---x"
    refuses "-=x" "bad flag syntax: -=x"
}

@test "flag: parsing stops at the first non-flag and after --" {
    parses "a b -n 5" "$D
arg a
arg b
arg -n
arg 5"
    parses "-- -n 5" "$D
arg -n
arg 5"
    parses "- -n 1" "$D
arg -
arg -n
arg 1"
}

@test "flag: -h and --help print Go's PrintDefaults on stderr and exit 0" {
    run_bounded 5 "$TESTBIN/test_flag" -h
    assert_success
    assert_equal "$output" ""
    expected="Usage of $TESTBIN/test_flag:
  -break
    	show the classic mistake: share or nowait
  -n int
    	jobs to run (default 20)
  -name string
    	a name
    	over two lines (default \"pool\")
  -ordered
    	print the results by job id
  -timeout limit
    	give up after limit (0: never)
  -v	verbose
  -w int
    	workers in the pool (default 4)
  -work duration
    	the time a task takes (default 1ms)"
    assert_equal "$stderr" "$expected"
    run_bounded 5 "$TESTBIN/test_flag" --help
    assert_success
    assert_equal "$stderr" "$expected"
}

@test "flag: every command line above gives what Go's flag package gives" {
    local args
    for args in "" "-h" "--help" "-x" "-n" "-n abc" "-n=5 -w 0" "-w 7 --ordered -v" "--break" \
        "--break=nowait" "--break=bad" "-break=false" "--work 1.5s --timeout=2m" "-timeout 90m1.5s" \
        "-work=500us" "-work 1ns" "-work 1h" "-work 1.000001s" "---x" "-=x" "-n 0x1F" "-n 1_000" \
        "-n 0b1_01" "-n 0_7" "-n 1__0" "-n _1" "-n 0x" "-ordered=maybe" "-- -n 5" "a b -n 5" "-name" \
        "-w=-3" "-n -7" "-n 077" "-n 2147483647" "-n -2147483648" "-v=F -ordered=1" "- -n 1" \
        "-work -1.5ms" "-v false" "-work 5" "--nope=3"; do
        echo "args: $args"
        same_as_go "$args"
    done
}
