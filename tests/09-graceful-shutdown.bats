#!/usr/bin/env bats
# 09-graceful-shutdown: with its defaults it runs until SIGINT or SIGTERM, a
# few lines a second; on the signal (or once -n tasks have started, or
# --duration is up) every task started is finished and the exit status is 0;
# the shutdown line gives the run's cause: which signal ("interrupt signal
# received", "terminated signal received"), "time is up" or "all N tasks
# started"; a second signal during the shutdown kills it; --break exits with
# tasks unfinished. Runs on the C (IMPL=c) and on the Go twin (IMPL=go).
#
# What stop() restores is the disposition found at start, in Go and in C
# (common/'s ctx_cancel): a second signal is sent where that is the default,
# SIGTERM (never ignored here) or SIGINT under job control.

load test_helper

# A program a failed test left running (a practice file that never stops,
# say) must not outlive the test.
teardown() {
    [ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null || true
}

setup() {
    out=$BATS_TEST_TMPDIR/out
    err=$BATS_TEST_TMPDIR/err
}

# start ARGS...: the program in the background, once it is taking signals.
# A background job of this shell starts with SIGINT ignored: the program
# must install its own handler, as NotifyContext and ctx_with_signals do.
start() {
    "$BIN/09-graceful-shutdown" "$@" >"$out" 2>"$err" 3>&- &
    pid=$!
    wait_for_line "$out" '^ready: pid=[0-9]+ \(press Ctrl\+C or send SIGTERM to stop\)$' 10
}

# check_graceful FILE: the closing line says started = finished, and the
# task lines agree: the same ids started and finished, each exactly once.
check_graceful() {
    local last s f
    last=$(tail -n 1 "$1")
    [[ $last =~ ^shutdown:\ started=([0-9]+)\ finished=([0-9]+)$ ]] || { echo "last line: '$last'"; return 1; }
    s=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
    [ "$s" -eq "$f" ] || { echo "started=$s finished=$f"; return 1; }
    awk -v s="$s" '
        / task [0-9]+ started$/ { started[$4]++; ns++ }
        / task [0-9]+ finished$/ { if (!($4 in started)) { print "finished before started: " $0; bad = 1 }
                                   finished[$4]++; nf++ }
        END {
            for (i = 1; i <= s; i++)
                if (started[i] != 1 || finished[i] != 1) {
                    print "task " i ": started " started[i] + 0 ", finished " finished[i] + 0; bad = 1
                }
            if (ns != s || nf != s) { print ns " started and " nf " finished lines, want " s; bad = 1 }
            exit bad
        }' "$1" | head -20
    [ "${PIPESTATUS[0]}" -eq 0 ]
}

# after_signal NAME: the program ended on its own with status 0, nothing on
# stderr, one shutdown line whose cause is that signal ("interrupt",
# "terminated"), and nothing lost.
after_signal() {
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    [ ! -s "$err" ] || { cat "$err"; return 1; }
    [ "$(grep -c '^shutdown: .*, finishing [0-9]* in-flight tasks$' "$out")" -eq 1 ] || { echo "not one shutdown line:"; cat "$out"; return 1; }
    grep -Eq "^shutdown: $1 signal received, finishing [0-9]+ in-flight tasks\$" "$out" || { cat "$out"; return 1; }
    check_graceful "$out"
}

ms() { echo $(($(date +%s%N) / 1000000)); }

@test "09-graceful-shutdown: defaults: runs until a signal, at a pace a person can read" {
    local t0 t4
    t0=$(ms)
    start
    # 3 workers and 1s tasks: task 4 waits for one of the first three to
    # finish, so it cannot start before a second has passed (a lower bound:
    # a loaded machine only makes it later).
    wait_for_line "$out" '^worker [0-9]+: task 4 started$' 10
    t4=$(ms)
    [ $((t4 - t0)) -ge 1000 ] || { echo "task 4 started after $((t4 - t0))ms"; cat "$out"; return 1; }
    kill -0 "$pid" || { echo "it stopped by itself"; cat "$out"; return 1; }
    ! grep -q '^shutdown:' "$out" || { cat "$out"; return 1; }
    kill -INT "$pid"
    wait_bounded "$pid" 10
    after_signal interrupt
}

@test "09-graceful-shutdown: SIGINT: stops taking tasks, finishes those in hand, exit 0" {
    start --work 100ms
    wait_for_line "$out" ' task [0-9]+ finished$' 10
    kill -INT "$pid"
    wait_bounded "$pid" 10
    after_signal interrupt
}

@test "09-graceful-shutdown: SIGTERM: the same graceful shutdown" {
    start -w 5 --work 50ms
    wait_for_line "$out" ' task [0-9]+ started$' 10
    kill -TERM "$pid"
    wait_bounded "$pid" 10
    after_signal terminated
}

@test "09-graceful-shutdown: a signal during a run with --duration and -n: the cause is the signal's" {
    # run is then ctx_with_timeout_cause (in Go, gocause.WithTimeoutCause) under the
    # signal context: the parent's cause reaches it, and -n's never comes.
    start -w 4 --work 20ms --duration 1h -n 1000000
    wait_for_line "$out" ' task [0-9]+ finished$' 10
    kill -TERM "$pid"
    wait_bounded "$pid" 10
    after_signal terminated
}

@test "09-graceful-shutdown: a signal right after readiness is still graceful" {
    start -w 8 --work 10ms
    kill -INT "$pid"
    wait_bounded "$pid" 10
    after_signal interrupt
}

@test "09-graceful-shutdown: a second SIGTERM during the shutdown ends it at once: status 143" {
    # Tasks of 5s make the shutdown last long enough to be interrupted; the
    # shutdown line is printed after stop(), so the second signal kills.
    start --work 5s
    wait_for_line "$out" ' task [0-9]+ started$' 10
    kill -TERM "$pid"
    wait_for_line "$out" '^shutdown: terminated signal received, finishing [0-9]+ in-flight tasks$' 10
    kill -TERM "$pid"
    wait_bounded "$pid" 4
    [ "$status" -eq 143 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    ! grep -q '^shutdown: started=' "$out" || { echo "the shutdown ran to its end"; return 1; }
}

@test "09-graceful-shutdown: a second SIGINT (Ctrl+C twice) ends it at once: status 130" {
    # Under job control the job starts with SIGINT at its default, as from a
    # terminal: what stop() restores is then the default in Go and in C.
    set -m
    "$BIN/09-graceful-shutdown" --work 5s >"$out" 2>"$err" 3>&- &
    pid=$!
    set +m
    wait_for_line "$out" ' task [0-9]+ started$' 10
    kill -INT "$pid"
    wait_for_line "$out" '^shutdown: interrupt signal received, finishing [0-9]+ in-flight tasks$' 10
    kill -INT "$pid"
    wait_bounded "$pid" 4
    [ "$status" -eq 130 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    ! grep -q '^shutdown: started=' "$out" || { echo "the shutdown ran to its end"; return 1; }
}

@test "09-graceful-shutdown: -n: exactly N tasks, each started and finished once" {
    run_bounded 10 "$BIN/09-graceful-shutdown" -n 6 -w 3 --work 10ms
    assert_success
    assert_no_stderr
    assert_line --regexp '^shutdown: all 6 tasks started, finishing [0-9]+ in-flight tasks$'
    assert_line "shutdown: started=6 finished=6"
    printf '%s\n' "$output" >"$out"
    check_graceful "$out"
    # main began the shutdown only when the run was over: a worker takes
    # task 4, 5 or 6 only after printing that its task before is finished,
    # so 3 finished lines come before the shutdown line.
    local before
    before=$(sed '/^shutdown:/q' "$out" | grep -c ' finished$')
    [ "$before" -ge 3 ] || { echo "$before finished lines before the shutdown"; cat "$out"; return 1; }
}

# bats test_tags=practice
@test "09-graceful-shutdown: --duration: stops by itself, many workers, every task finished" {
    # 500ms (2s under a sanitizer) is plenty for 20 workers to start: each
    # takes tasks of 20ms until the deadline.
    run_bounded 20 "$BIN/09-graceful-shutdown" -w 20 --work 20ms --duration $((500 * TIME_SCALE))ms
    assert_success
    assert_no_stderr
    assert_line --index 0 --regexp '^ready: pid=[0-9]+ '
    printf '%s\n' "$output" >"$out"
    grep -Eq '^shutdown: time is up, finishing [0-9]+ in-flight tasks$' "$out" || { tail "$out"; return 1; }
    grep -Eq '^worker [0-9]+: task 1 finished$' "$out" || { echo "no task ran"; tail "$out"; return 1; }
    check_graceful "$out"
}

@test "09-graceful-shutdown: --break: exits on the signal at once, with tasks started but never finished" {
    start --work 10s --break
    wait_for_line "$out" ' task [0-9]+ started$' 10
    kill -INT "$pid"
    wait_bounded "$pid" 5
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    grep -Eq '^shutdown: interrupt signal received, finishing [0-9]+ in-flight tasks$' "$out" || { cat "$out"; return 1; }
    local last
    last=$(tail -n 1 "$out")
    [[ $last =~ ^shutdown:\ started=([0-9]+)\ finished=([0-9]+)$ ]] || { echo "last: '$last'"; return 1; }
    [ "${BASH_REMATCH[1]}" -gt "${BASH_REMATCH[2]}" ] || { echo "$last"; return 1; }
}

@test "09-graceful-shutdown: -h and --help: Go's usage on stderr, exit 0" {
    assert_help 09-graceful-shutdown
    run_bounded 5 "$BIN/09-graceful-shutdown" --help
    assert_equal "$stderr" "Usage of $BIN/09-graceful-shutdown:
  -break
    	exit on the signal, abandoning the tasks in hand
  -duration duration
    	shut down after this long (0: no limit)
  -n int
    	tasks to run, then shut down (0: no limit)
  -w int
    	workers taking tasks (default 3)
  -work duration
    	the time a task takes, 0..60s (default 1s)"
}

@test "09-graceful-shutdown: bad flags and values: Go's error line, the usage, exit 2" {
    assert_bad_flags 09-graceful-shutdown "-w 0" "-w 101" "-w two" "-n -1" "--work 61s" "--work -1s" \
        "--duration" "--duration x" "--duration -1s" "--break=1" "--unknown" "more"
    local args want
    while IFS='|' read -r args want; do
        # shellcheck disable=SC2086
        run_bounded 5 "$BIN/09-graceful-shutdown" $args
        assert_equal "${stderr_lines[0]}" "$want"
    done <<'EOF'
-w 0|invalid value "0" for flag -w: must be 1..100
-n -1|invalid value "-1" for flag -n: must be 0..1000000
--work 61s|invalid value "1m1s" for flag -work: must be 0..60s
--duration -1s|invalid value "-1s" for flag -duration: must not be negative
--duration|flag needs an argument: -duration
--break=1|invalid boolean value "1" for -break: must be one of nowait
more|unexpected argument: more
EOF
}
