#!/usr/bin/env bats
# 09-graceful-shutdown: on SIGINT or SIGTERM (or when --duration is up) every
# task started is finished and the exit status is 0; a second SIGINT during
# the shutdown kills it (130); --break exits with tasks unfinished.

load test_helper

setup() {
    out=$BATS_TEST_TMPDIR/out
    err=$BATS_TEST_TMPDIR/err
}

# start ARGS...: the program in the background, once it is taking signals.
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

@test "defaults: stops by itself after --duration, every task finished" {
    run_bounded 10 "$BIN/09-graceful-shutdown"
    assert_success
    assert_no_stderr
    assert_line --index 0 --regexp '^ready: pid=[0-9]+ '
    assert_line --regexp '^shutdown: time is up, finishing [0-9]+ in-flight tasks$'
    printf '%s\n' "$output" >"$out"
    check_graceful "$out"
}

@test "SIGINT: stops taking tasks, finishes those in hand, exit 0" {
    start --duration 0
    wait_for_line "$out" ' task [0-9]+ started$' 10
    kill -INT "$pid"
    wait_bounded "$pid" 10
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    [ ! -s "$err" ] || { cat "$err"; return 1; }
    grep -Eq '^shutdown: signal received, finishing [0-9]+ in-flight tasks$' "$out"
    check_graceful "$out"
}

@test "SIGTERM: the same graceful shutdown" {
    start --duration 0 -w 5 --task 50ms
    wait_for_line "$out" ' task [0-9]+ started$' 10
    kill -TERM "$pid"
    wait_bounded "$pid" 10
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    [ ! -s "$err" ] || { cat "$err"; return 1; }
    grep -Eq '^shutdown: signal received, finishing [0-9]+ in-flight tasks$' "$out"
    check_graceful "$out"
}

@test "a signal right after readiness is still graceful" {
    start --duration 0 -w 8 --task 10ms
    kill -INT "$pid"
    wait_bounded "$pid" 10
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    check_graceful "$out"
}

@test "a second SIGINT during the shutdown ends it at once: status 130" {
    # Tasks of 5s make the shutdown last long enough to be interrupted.
    start --duration 0 --task 5s
    wait_for_line "$out" ' task [0-9]+ started$' 10
    kill -INT "$pid"
    wait_for_line "$out" '^shutdown: signal received, finishing [0-9]+ in-flight tasks$' 10
    kill -INT "$pid"
    wait_bounded "$pid" 4
    [ "$status" -eq 130 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    if grep -q '^shutdown: started=' "$out"; then
        echo "the shutdown ran to its end"
        return 1
    fi
}

@test "many workers, short tasks: started always equals finished" {
    run_bounded 20 "$BIN/09-graceful-shutdown" -w 20 --task 1ms --duration 200ms
    assert_success
    assert_no_stderr
    printf '%s\n' "$output" >"$out"
    check_graceful "$out"
}

@test "--break: exits on the signal at once, with tasks started but never finished" {
    start --duration 0 --task 10s --break
    wait_for_line "$out" ' task [0-9]+ started$' 10
    kill -INT "$pid"
    wait_bounded "$pid" 5
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    local last
    last=$(tail -n 1 "$out")
    [[ $last =~ ^shutdown:\ started=([0-9]+)\ finished=([0-9]+)$ ]] || { echo "last: '$last'"; return 1; }
    [ "${BASH_REMATCH[1]}" -gt "${BASH_REMATCH[2]}" ] || { echo "$last"; return 1; }
}

@test "-h and --help: usage on stdout, exit 0" {
    assert_help 09-graceful-shutdown
}

@test "bad flags: a one-line usage error, exit 2" {
    local args
    for args in "-w 0" "-w 101" "-w two" "--task 61s" "--task -1s" "--duration" "--duration x" \
        "--unknown" "more"; do
        # shellcheck disable=SC2086
        run_bounded 10 "$BIN/09-graceful-shutdown" $args
        [ "$status" -eq 2 ] && [ -z "$output" ] && [ "$(wc -l <<<"$stderr")" -eq 1 ] &&
            [[ $stderr == "09-graceful-shutdown: "*"usage: 09-graceful-shutdown "* ]] ||
            { echo "args '$args': status $status, stdout '$output', stderr '$stderr'"; return 1; }
    done
}
