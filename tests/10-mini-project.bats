#!/usr/bin/env bats
# 10-mini-project: however it stops (-n tasks taken, --duration, SIGINT,
# SIGTERM), nothing dispatched is lost: dispatched = processed + failed, every
# result is printed once, the per-worker counts add up; the one shutdown line
# gives the run's cause: "interrupt signal received" (SIGINT), "terminated
# signal received" (SIGTERM), "time is up" (--duration), "N tasks taken"
# (-n), whichever came first. With the defaults it runs until a signal, at a
# pace a person can read, and `make run` in a real terminal shows it (tmux).
# --break always loses tasks, and says so.

load test_helper

setup() {
    out=$BATS_TEST_TMPDIR/stdout err=$BATS_TEST_TMPDIR/stderr
    sock=gopatterns-10-$$-$BATS_TEST_NUMBER # a private tmux server per test
}

teardown() {
    # A program a failed test left running (a practice file that never
    # stops, say) must not outlive the test.
    [ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null || true
    if command -v tmux >/dev/null 2>&1; then
        env -u TMUX tmux -L "$sock" kill-server 2>/dev/null || true
    fi
}

# launch ARGS...: starts 10-mini-project in the background (fd 3 closed, or
# Bats would wait for it) and returns once its signal context is in place.
launch() {
    "$BIN/10-mini-project" "$@" >"$out" 2>"$err" 3>&- &
    pid=$!
    wait_for_line "$out" '^ready: pid=[0-9]+ ' 10
}

# check_summary FILE WORKERS FAIL_EVERY [DISPATCHED]: the last line is the
# summary with dispatched = processed + failed (= DISPATCHED if given, and
# then the task ids are exactly 1..DISPATCHED); one line per result, no task
# twice, failures exactly the ids that are multiples of FAIL_EVERY, and
# per-worker counts that match the result lines.
check_summary() {
    awk -v workers="$2" -v k="$3" -v want="${4:-}" '
        /^task [0-9]+ by worker [0-9]+: (ok|failed)$/ {
            id = $2; w = $5; sub(":", "", w)
            if (seen[id]++) { print "task " id " twice"; bad = 1 }
            if (($6 == "failed") != (k > 0 && id % k == 0)) { print "wrong outcome: " $0; bad = 1 }
            if ($6 == "ok") ok++; else failed++
            by[w]++; n++
            if (id + 0 > maxid) maxid = id + 0
        }
        /^worker [0-9]+: [0-9]+ tasks$/ { count[$2 + 0] = $3; ncount++; sum += $3 }
        { last = $0 }
        END {
            if (!match(last, /^summary: dispatched=[0-9]+ processed=[0-9]+ failed=[0-9]+$/)) {
                print "last line: " last; exit 1
            }
            split(last, f, /[ =]/); d = f[3]; p = f[5]; fl = f[7]
            if (d != p + fl) { print "dispatched " d " != processed " p " + failed " fl; bad = 1 }
            if (p != ok + 0 || fl != failed + 0) { print "summary " p "/" fl ", lines " ok + 0 "/" failed + 0; bad = 1 }
            if (ncount != workers) { print ncount " worker lines, want " workers; bad = 1 }
            for (i = 1; i <= workers; i++)
                if (count[i] != by[i] + 0) { print "worker " i ": " count[i] " vs " by[i] + 0 " lines"; bad = 1 }
            if (sum != n) { print "worker counts sum to " sum ", results " n; bad = 1 }
            if (want != "" && (d != want || maxid != want)) { print "dispatched " d ", max id " maxid ", want " want; bad = 1 }
            exit bad
        }' "$1" | head -20
    [ "${PIPESTATUS[0]}" -eq 0 ]
}

# check_cause FILE CAUSE: one shutdown line in FILE, and it gives CAUSE.
check_cause() {
    local lines
    lines=$(grep '^shutdown: ' "$1")
    assert_equal "$lines" "shutdown: $2; dispatchers stop, workers finish what was dispatched"
}

# check_lost: the last run lost tasks and said so: exit status 1, nothing on
# stderr, D > P + F in the summary and a "lost:" line with the difference.
check_lost() {
    assert_failure 1
    assert_no_stderr
    check_lost_lines
}

check_lost_lines() {
    [[ ${lines[-1]} =~ ^summary:\ dispatched=([0-9]+)\ processed=([0-9]+)\ failed=([0-9]+)$ ]] ||
        { echo "last line: ${lines[-1]}"; return 1; }
    local d=${BASH_REMATCH[1]} p=${BASH_REMATCH[2]} f=${BASH_REMATCH[3]}
    [ "$d" -gt $((p + f)) ] || { echo "nothing lost: ${lines[-1]}"; return 1; }
    assert_line "lost: $((d - p - f)) dispatched tasks were never done"
}

# run_counted ARGS...: a run that stops at its -n, checked in full: exactly
# the ids 1..n, each once.
run_counted() {
    local w=$1 n=$2
    shift 2
    run_bounded 20 "$BIN/10-mini-project" -w "$w" -n "$n" --work 10ms "$@"
    assert_success
    assert_no_stderr
    assert_line "shutdown: $n tasks taken; dispatchers stop, workers finish what was dispatched"
    printf '%s\n' "$output" >"$out"
    check_summary "$out" "$w" 7 "$n" || { echo "-w $w -n $n $*"; return 1; }
}

# bats test_tags=practice
@test "10-mini-project: -n 20: tasks 1..20 each done once, 7 and 14 fail, exit 0" {
    run_bounded 5 "$BIN/10-mini-project" -n 20 --work 10ms
    assert_success
    assert_no_stderr
    assert_line --index 0 --regexp '^ready: pid=[0-9]+ \(press Ctrl\+C or send SIGTERM to stop\)$'
    assert_line --index 1 "start: 2 dispatchers -> jobs (buffer 4) -> 3 workers, 10ms a task -> results"
    assert_line "shutdown: 20 tasks taken; dispatchers stop, workers finish what was dispatched"
    assert_equal "${lines[-1]}" "summary: dispatched=20 processed=18 failed=2"
    printf '%s\n' "$output" >"$out"
    check_summary "$out" 3 7 20
}

@test "10-mini-project: the defaults run until a signal, at a pace a person can read" {
    local t0 ms
    t0=$(date +%s%N)
    launch
    assert_equal "$(sed -n 2p "$out")" "start: 2 dispatchers -> jobs (buffer 4) -> 3 workers, 500ms a task -> results"
    # Three workers with 500ms tasks: the 4th result needs some worker's
    # second task, so it cannot come before a second has passed.
    wait_for_line "$out" '^(task [0-9]+ by worker [0-9]+: (ok|failed)$)' 10
    until [ "$(grep -c '^task ' "$out")" -ge 4 ]; do
        kill -0 "$pid" 2>/dev/null || { echo "it ended on its own:"; cat "$out"; return 1; }
        [ $(($(date +%s%N) - t0)) -lt $((20 * TIME_SCALE * 1000000000)) ] || { cat "$out"; return 1; }
        sleep 0.05
    done
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ "$ms" -ge 990 ] || { echo "4 results in ${ms}ms: faster than a person reads"; return 1; }
    kill -0 "$pid" || { echo "it ended on its own"; return 1; }
    ! grep -q '^shutdown:' "$out" || { echo "a shutdown with no signal:"; cat "$out"; return 1; }
    kill -TERM "$pid"
    wait_bounded "$pid" 20
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$err"; tail "$out"; return 1; }
    [ ! -s "$err" ] || { cat "$err"; return 1; }
    check_cause "$out" "terminated signal received"
    check_summary "$out" 3 7
}

@test "10-mini-project: one worker or many, unbuffered or large buffer: the same accounting" {
    run_counted 1 20
    run_counted 64 100
    run_counted 3 30 --buffer 0
    run_counted 3 30 --buffer 1000
    run_counted 1 15 --buffer 0 --dispatchers 1
    run_counted 64 400 --buffer 0 --dispatchers 8
    run_counted 2 100 --buffer 5000 --dispatchers 8
    run_counted 256 1 --buffer 0 --dispatchers 64
}

@test "10-mini-project: --fail-every: 1 fails everything, 0 nothing" {
    run_bounded 10 "$BIN/10-mini-project" -n 20 --work 10ms --fail-every 1
    assert_success
    assert_equal "${lines[-1]}" "summary: dispatched=20 processed=0 failed=20"
    run_bounded 10 "$BIN/10-mini-project" -n 100 --work 10ms -w 8 --fail-every 0
    assert_success
    assert_equal "${lines[-1]}" "summary: dispatched=100 processed=100 failed=0"
    printf '%s\n' "$output" >"$out"
    check_summary "$out" 8 0 100
}

@test "10-mini-project: SIGINT: dispatchers stop, workers finish everything dispatched, exit 0" {
    launch --work 50ms
    wait_for_line "$out" '^task [0-9]+ by worker' 10
    kill -INT "$pid"
    wait_bounded "$pid" 10
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$err"; tail "$out"; return 1; }
    [ ! -s "$err" ] || { cat "$err"; return 1; }
    check_cause "$out" "interrupt signal received"
    check_summary "$out" 3 7
}

@test "10-mini-project: SIGTERM: the same, unbuffered with many workers" {
    launch --buffer 0 -w 16 --dispatchers 4 --work 20ms
    wait_for_line "$out" '^task [0-9]+ by worker' 10
    kill -TERM "$pid"
    wait_bounded "$pid" 10
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$err"; tail "$out"; return 1; }
    [ ! -s "$err" ] || { cat "$err"; return 1; }
    check_cause "$out" "terminated signal received"
    check_summary "$out" 16 7
}

@test "10-mini-project: SIGINT right after readiness, with a large buffer: still nothing lost" {
    launch --buffer 1000 -w 16 --work 10ms
    kill -INT "$pid"
    wait_bounded "$pid" 20
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$err"; tail "$out"; return 1; }
    check_cause "$out" "interrupt signal received"
    check_summary "$out" 16 7
}

@test "10-mini-project: a second SIGINT during the shutdown ends it at once: status 130" {
    # One worker, 500ms tasks, 4 buffered: once the first result is out, the
    # shutdown has at least 2s of accepted work to finish. The program starts
    # with SIGINT at its default, as from a terminal: a script's background
    # job starts with it ignored, and Go's stop() would restore that (README).
    env --default-signal=INT "$BIN/10-mini-project" --dispatchers 1 -w 1 --buffer 4 \
        >"$out" 2>"$err" 3>&- &
    pid=$!
    wait_for_line "$out" '^task 1 by worker 1: ok$' 10
    kill -INT "$pid"
    wait_for_line "$out" '^shutdown: interrupt signal received; ' 10
    kill -INT "$pid"
    wait_bounded "$pid" 2
    [ "$status" -eq 130 ] || { echo "status $status"; cat "$out" "$err"; return 1; }
    if grep -q '^summary:' "$out"; then
        echo "the shutdown ran to its end"
        return 1
    fi
}

@test "10-mini-project: --duration stops it, and nothing is lost" {
    run_bounded 10 "$BIN/10-mini-project" --duration 300ms --work 10ms
    assert_success
    assert_no_stderr
    printf '%s\n' "$output" >"$out"
    check_cause "$out" "time is up"
    check_summary "$out" 3 7
}

@test "10-mini-project: --duration and -n together: the first to come is the cause" {
    # 10ms tasks on 3 workers: a million take far more than 300ms, and 10
    # far less than an hour. run is ctx_with_timeout_cause (gocause.WithTimeoutCause).
    run_bounded 10 "$BIN/10-mini-project" --duration 300ms -n 1000000 --work 10ms
    assert_success
    printf '%s\n' "$output" >"$out"
    check_cause "$out" "time is up"
    check_summary "$out" 3 7
    run_bounded 10 "$BIN/10-mini-project" --duration 1h -n 10 --work 10ms
    assert_success
    printf '%s\n' "$output" >"$out"
    check_cause "$out" "10 tasks taken"
    check_summary "$out" 3 7 10
}

@test "10-mini-project: a signal during a run with --duration: the cause is the signal's" {
    # The signal cancels the parent of run: the parent's cause reaches run.
    launch --duration 1h -n 1000000 --work 20ms
    wait_for_line "$out" '^task [0-9]+ by worker' 10
    kill -TERM "$pid"
    wait_bounded "$pid" 10
    [ "$status" -eq 0 ] || { echo "status $status"; cat "$err"; tail "$out"; return 1; }
    check_cause "$out" "terminated signal received"
    check_summary "$out" 3 7
}

@test "10-mini-project: --break loses dispatched tasks in every shape, and says so: exit 1" {
    # Bounded by -n, the worker that takes the n-th task cancels the run
    # before it sleeps, so with --break it drops at least that task.
    local args
    for args in "-n 20" "-n 1 --buffer 0 -w 1 --dispatchers 1" "-n 5 --buffer 0 -w 256 --dispatchers 64" \
        "-n 50 --buffer 1000 -w 1" "-n 30 --fail-every 1" "-n 200 --buffer 0 -w 64 --dispatchers 8" \
        "--duration 200ms --buffer 8" "--duration 200ms -n 100000 -w 1"; do
        # shellcheck disable=SC2086 # split on purpose
        run_bounded 10 "$BIN/10-mini-project" --break --work 20ms $args
        check_lost || { echo "args: --break --work 20ms $args"; return 1; }
    done
    run_bounded 10 "$BIN/10-mini-project" --break=quit -n 20 --work 10ms
    check_lost
    run_bounded 10 "$BIN/10-mini-project" --break=false -n 20 --work 10ms
    assert_success
    assert_equal "${lines[-1]}" "summary: dispatched=20 processed=18 failed=2"
}

@test "10-mini-project: --break with the defaults: Ctrl+C loses the tasks in flight" {
    launch --break
    wait_for_line "$out" '^task [0-9]+ by worker' 10
    kill -INT "$pid"
    wait_bounded "$pid" 10
    [ "$status" -eq 1 ] || { echo "status $status"; cat "$err"; tail "$out"; return 1; }
    [ ! -s "$err" ] || { cat "$err"; return 1; }
    check_cause "$out" "interrupt signal received"
    run cat "$out"
    check_lost_lines
}

@test "10-mini-project: --break on the race-detector build: tasks are lost, but nothing races or is freed in use" {
    # The workers quit while 64 dispatchers may still be in their select on
    # the jobs channel and the context: main must wait for them before it
    # reads dispatched or frees what they use. (When it did not, about one
    # run in three ended in a ThreadSanitizer report on chan_free, exit 66.)
    local i
    for i in 1 2 3; do
        run_bounded 10 "$TSAN_BIN/10-mini-project" --duration 200ms --break --work 10ms \
            --dispatchers 64 -w 2 --buffer 4
        check_lost
        run_bounded 10 "$TSAN_BIN/10-mini-project" -n 50 --break --work 10ms --dispatchers 64 -w 2
        check_lost
    done
}

@test "10-mini-project: -h and --help: the usage on stderr, exit 0" {
    assert_help 10-mini-project
}

@test "10-mini-project: bad flags and values: Go's error line and the usage, exit 2" {
    assert_bad_flags 10-mini-project "--dispatchers 0" "--dispatchers 65" "-w 0" "-w 257" "-w many" \
        "-n -1" "--buffer -1" "--buffer 1e3" "--duration 2" "--duration -1s" "--work forever" \
        "--work 5ms" "--work 0" "--fail-every x" "-w" "--frobnicate" "--break=maybe" "-d 2" "stray"
    run_bounded 5 "$BIN/10-mini-project" -w 0
    assert_equal "${stderr_lines[0]}" 'invalid value "0" for flag -w: must be 1..256'
    run_bounded 5 "$BIN/10-mini-project" --work 5ms
    assert_equal "${stderr_lines[0]}" 'invalid value "5ms" for flag -work: must be at least 10ms'
    run_bounded 5 "$BIN/10-mini-project" --duration -1s
    assert_equal "${stderr_lines[0]}" 'invalid value "-1s" for flag -duration: must not be negative'
    run_bounded 5 "$BIN/10-mini-project" --break=maybe
    assert_equal "${stderr_lines[0]}" 'invalid boolean value "maybe" for -break: must be one of quit'
    run_bounded 5 "$BIN/10-mini-project" -d 2
    assert_equal "${stderr_lines[0]}" 'flag provided but not defined: -d'
    run_bounded 5 "$BIN/10-mini-project" -n 5 stray
    assert_equal "${stderr_lines[0]}" 'unexpected argument: stray'
}

# tmux_start ARGS: types `make run/10-mini-project ARGS="..."` (GO=1 on the Go
# twin) in the checkout, in a detached tmux session of a private server, in a
# terminal wide enough that no line wraps. Ctrl+C there reaches the whole
# foreground process group, make and the program, as at a prompt. The shell
# around make keeps a handler for SIGINT (reset to the default in make, as
# exec does), so that it outlives make and shows make's exit status.
tmux_start() {
    command -v tmux >/dev/null 2>&1 || skip "no tmux: make deps installs it"
    [[ $BIN != */practice ]] || skip "make run runs main.c, not your practice.c"
    local go="" conf=$BATS_TEST_TMPDIR/tmux.conf
    [ "$IMPL" = go ] && go=" GO=1"
    printf 'set -g remain-on-exit on\nset -g history-limit 10000\n' >"$conf"
    env -u TMUX tmux -L "$sock" -f "$conf" new-session -d -s lesson -x 220 -y 50 \
        "trap true INT; cd '$TOP' && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS \
            make run/10-mini-project$go ARGS='$1'; echo \"[make exited with status \$?]\""
}

# tmux_screen: what the terminal shows, its whole history, wrapped lines
# joined, without the ^C that the terminal echoes.
tmux_screen() {
    env -u TMUX tmux -L "$sock" capture-pane -p -J -t lesson -S - | sed -e '/^$/d' -e 's/^^C//'
}

# tmux_wait PATTERN SECONDS: polls the screen until a line matches PATTERN;
# fails at once if make has exited without showing it.
tmux_wait() {
    local deadline=$((SECONDS + $2 * TIME_SCALE)) screen
    until screen=$(tmux_screen) && grep -Eq -- "$1" <<<"$screen"; do
        if [ $SECONDS -ge $deadline ] || grep -q '^\[make exited with status' <<<"$screen"; then
            echo "no line /$1/ on the screen:" >&2
            tmux_screen >&2
            return 1
        fi
        sleep 0.1
    done
}

@test "10-mini-project: make run in a terminal: Ctrl+C, the tasks in flight finish, nothing is lost" {
    tmux_start ""
    tmux_wait '^task [0-9]+ by worker [0-9]+: (ok|failed)$' 60
    env -u TMUX tmux -L "$sock" send-keys -t lesson C-c
    tmux_wait '^\[make exited with status [0-9]+\]$' 30
    tmux_screen | sed -e '/^Pane is dead/d' >"$out"
    # make got the SIGINT too (the terminal sends it to the whole foreground
    # process group): it waited for the program, which ended well, so make
    # has no error to report; then it ended itself by that SIGINT (130).
    assert_equal "$(tail -1 "$out")" "[make exited with status 130]"
    sed -i '$d' "$out"
    ! grep -q '^lost:\|^make: \*\*\*' "$out" || { cat "$out"; return 1; }
    grep -q '^ready: pid=[0-9]* (press Ctrl+C or send SIGTERM to stop)$' "$out"
    local at
    at=$(grep -n -m1 '^shutdown: interrupt signal received; dispatchers stop, workers finish what was dispatched$' "$out" |
        cut -d: -f1)
    [ -n "$at" ] || { echo "no shutdown line:"; cat "$out"; return 1; }
    tail -n +"$at" "$out" | grep -q '^task [0-9]* by worker' ||
        { echo "no task finished after the Ctrl+C:"; cat "$out"; return 1; }
    check_summary "$out" 3 7
}

@test "10-mini-project: make run in a terminal: a second Ctrl+C ends it at once, and make says Interrupt" {
    # One worker with 1s tasks: after the first Ctrl+C, at least 4s of
    # accepted work is left, time enough for the second.
    tmux_start "-w 1 --work 1s"
    tmux_wait '^task 1 by worker 1: ok$' 60
    env -u TMUX tmux -L "$sock" send-keys -t lesson C-c
    tmux_wait '^shutdown: interrupt signal received; ' 10
    env -u TMUX tmux -L "$sock" send-keys -t lesson C-c
    tmux_wait '^\[make exited with status [0-9]+\]$' 10
    tmux_screen >"$out"
    grep -q '^make: \*\*\* \[Makefile:[0-9]*: run/10-mini-project\] Interrupt$' "$out" ||
        { echo "no Interrupt line from make:"; cat "$out"; return 1; }
    grep -q '^\[make exited with status 130\]$' "$out" || { cat "$out"; return 1; }
    ! grep -q 'summary:' "$out" || { echo "the shutdown ran to its end:"; cat "$out"; return 1; }
}

# bats test_tags=stress
@test "10-mini-project: stress: SIGINT or SIGTERM at a random moment, 100 times, random shapes, always clean" {
    local i delay d w buf sig shape cause
    for ((i = 1; i <= 100; i++)); do
        d=$((RANDOM % 4 + 1))
        w=$((RANDOM % 8 + 1))
        buf=$((RANDOM % 3 == 0 ? 0 : RANDOM % 64))
        sig=$((RANDOM % 2 == 0 ? 2 : 15))
        delay=$((RANDOM % 201))
        shape="run $i: --dispatchers $d -w $w --buffer $buf --work 10ms, signal $sig after ${delay}ms"
        launch --dispatchers "$d" -w "$w" --buffer "$buf" --work 10ms
        sleep "$(printf '0.%03d' "$delay")"
        kill -"$sig" "$pid"
        wait_bounded "$pid" 10
        [ "$status" -eq 0 ] || { echo "$shape: status $status"; cat "$err"; return 1; }
        [ ! -s "$err" ] || { echo "$shape: stderr:"; cat "$err"; return 1; }
        check_summary "$out" "$w" 7 || { echo "$shape"; return 1; }
        cause=$([ "$sig" -eq 2 ] && echo interrupt || echo terminated)
        check_cause "$out" "$cause signal received" || { echo "$shape"; return 1; }
    done
}
