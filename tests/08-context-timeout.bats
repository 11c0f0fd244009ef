#!/usr/bin/env bats
# 08-context-timeout: deadlines cut off what listens and never fire early,
# cancelling flows down the tree only, a child's deadline is bounded by its
# parent's, values are found up the tree, and --break overruns the deadline.
# Runs on the C (IMPL=c) and on the Go twin (IMPL=go): the same lines.

load test_helper

# The lines that do not depend on timing at all.
check_tree_deadlines_values() {
    assert_line "tree: root -> a -> a1, root -> b; a goroutine watches each"
    assert_line "tree: cancel(a):    stopped: a (context canceled) a1 (context canceled); running: root b"
    assert_line "tree: cancel(root): stopped: root (context canceled) b (context canceled); running: none"
    assert_line "deadline: parent 100ms; child asking 1s gets the parent's deadline: yes; child asking 20ms keeps its own: yes"
    assert_line "deadline: the 1s child ends with its parent (not before its deadline: yes): context deadline exceeded"
    assert_line "values: from the bottom: request-id=req-42 user=gopher; unknown key: (nil)"
    assert_line "values: a child that sets request-id again sees req-42-retry, its parents still see req-42"
}

# bats test_tags=practice
@test "08-context-timeout: defaults: the slow operation is cut off, the fast one finishes" {
    run_bounded 10 "$BIN/08-context-timeout"
    assert_success
    assert_no_stderr
    # Cut off at the deadline: never before it (elapsed >= 50ms, "past" not "BEFORE").
    assert_line --index 0 --regexp '^timeout: slow operation \(200ms of work, 50ms timeout\): context deadline exceeded after ([5-9][0-9]|[0-9]{3,})ms, [0-9]+\.[0-9]ms past the deadline$'
    assert_line --index 1 --regexp '^timeout: fast operation \(10ms of work, 50ms timeout\): finished after [0-9]+ms$'
    check_tree_deadlines_values
    [ "${#lines[@]}" -eq 9 ]
    # A prompt operation returns soon after the deadline (far sooner than the
    # 150ms of --break; the margin is for a loaded machine).
    [[ ${lines[0]} =~ ,\ ([0-9]+)\.[0-9]ms\ past ]]
    [ "${BASH_REMATCH[1]}" -lt $((100 * TIME_SCALE)) ] || { echo "${lines[0]}"; return 1; }
}

@test "08-context-timeout: --break: the operation that ignores its context ends 150ms or more past the deadline" {
    # The broken operation sleeps its 200ms whatever the context says: it
    # ends at least 200ms - 50ms after the deadline, however fast the machine.
    local spelling
    for spelling in --break --break=sleep -break=true; do
        run_bounded 10 "$BIN/08-context-timeout" "$spelling"
        assert_success
        assert_no_stderr
        [[ ${lines[0]} =~ ^timeout:\ slow\ operation\ \(200ms\ of\ work,\ 50ms\ timeout\):\ finished\ after\ [0-9]+ms,\ ([0-9]+)\.[0-9]ms\ past\ the\ deadline$ ]] ||
            { echo "$spelling: line 0: ${lines[0]}"; return 1; }
        local broken_late=${BASH_REMATCH[1]}
        [ "$broken_late" -ge 150 ] || { echo "$spelling: only ${broken_late}ms past the deadline"; return 1; }
        check_tree_deadlines_values
    done
}

@test "08-context-timeout: --break=false is the default run" {
    run_bounded 10 "$BIN/08-context-timeout" --break=false
    assert_success
    assert_line --index 0 --regexp '^timeout: slow operation \(200ms of work, 50ms timeout\): context deadline exceeded after '
}

@test "08-context-timeout: a slow operation that finishes inside the timeout is not cancelled" {
    run_bounded 10 "$BIN/08-context-timeout" --timeout 500ms --work 5ms
    assert_success
    assert_no_stderr
    assert_line --index 0 --regexp '^timeout: slow operation \(5ms of work, 500ms timeout\): finished after [0-9]+ms$'
    assert_line --index 1 --regexp '^timeout: fast operation \(100ms of work, 500ms timeout\): finished after [0-9]+ms$'
    check_tree_deadlines_values
}

@test "08-context-timeout: a long operation under a short timeout is cut off (Go's flag syntax: -work, --timeout=)" {
    # The fast operation gets a fifth of the timeout: 200ms leaves it 160ms of
    # slack (10ms left it 8, and a loaded TSan run once took 11).
    run_bounded 10 "$BIN/08-context-timeout" --timeout=200ms -work 1s
    assert_success
    assert_no_stderr
    assert_line --index 0 --regexp '^timeout: slow operation \(1s of work, 200ms timeout\): context deadline exceeded after [0-9]+ms, [0-9.]+ms past the deadline$'
    assert_line --index 1 --regexp '^timeout: fast operation \(40ms of work, 200ms timeout\): finished after [0-9]+ms$'
    check_tree_deadlines_values
}

@test "08-context-timeout: -h and --help: Go's usage on stderr, exit 0" {
    assert_help 08-context-timeout
    run_bounded 5 "$BIN/08-context-timeout" -h
    assert_equal "$stderr" "Usage of $BIN/08-context-timeout:
  -break
    	the operation sleeps, deaf to its context
  -timeout duration
    	the deadline of each operation, 1us..10s (default 50ms)
  -work duration
    	the time the slow operation takes, 1us..10s (default 200ms)"
}

@test "08-context-timeout: bad flags and values: Go's error line, the usage, exit 2" {
    assert_bad_flags 08-context-timeout "--timeout" "--timeout 0" "--timeout -5ms" "--timeout soon" \
        "--work 11s" "--work 10" "--work 500ns" "-x" "--break=1" "--break=nowait" "now"
    local args want
    while IFS='|' read -r args want; do
        # shellcheck disable=SC2086
        run_bounded 5 "$BIN/08-context-timeout" $args
        assert_equal "${stderr_lines[0]}" "$want"
    done <<'EOF'
--timeout|flag needs an argument: -timeout
--timeout 0|invalid value "0s" for flag -timeout: must be 1us..10s
--timeout -5ms|invalid value "-5ms" for flag -timeout: must be 1us..10s
--work 11s|invalid value "11s" for flag -work: must be 1us..10s
--work 10|invalid value "10" for flag -work: parse error
-x|flag provided but not defined: -x
--break=1|invalid boolean value "1" for -break: must be one of sleep
now|unexpected argument: now
EOF
}
