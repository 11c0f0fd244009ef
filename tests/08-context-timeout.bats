#!/usr/bin/env bats
# 08-context-timeout: deadlines cut off what listens and never fire early,
# cancelling flows down the tree only, a child's deadline is bounded by its
# parent's, values are found up the tree, and --break overruns the deadline.

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

@test "defaults: the slow operation is cut off, the fast one finishes" {
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

@test "--break: the operation that ignores its context ends 150ms or more past the deadline" {
    # The broken operation sleeps its 200ms whatever the context says: it
    # ends at least 200ms - 50ms after the deadline, however fast the machine.
    run_bounded 10 "$BIN/08-context-timeout" --break
    assert_success
    assert_no_stderr
    [[ ${lines[0]} =~ ^timeout:\ slow\ operation\ \(200ms\ of\ work,\ 50ms\ timeout\):\ finished\ after\ [0-9]+ms,\ ([0-9]+)\.[0-9]ms\ past\ the\ deadline$ ]] ||
        { echo "line 0: ${lines[0]}"; return 1; }
    local broken_late=${BASH_REMATCH[1]}
    [ "$broken_late" -ge 150 ] || { echo "only ${broken_late}ms past the deadline"; return 1; }
    check_tree_deadlines_values
}

@test "a slow operation that finishes inside the timeout is not cancelled" {
    run_bounded 10 "$BIN/08-context-timeout" --timeout 500ms --work 5ms
    assert_success
    assert_no_stderr
    assert_line --index 0 --regexp '^timeout: slow operation \(5ms of work, 500ms timeout\): finished after [0-9]+ms$'
    assert_line --index 1 --regexp '^timeout: fast operation \(100ms of work, 500ms timeout\): finished after [0-9]+ms$'
    check_tree_deadlines_values
}

@test "a long operation under a short timeout is cut off" {
    run_bounded 10 "$BIN/08-context-timeout" --timeout 10ms --work 1s
    assert_success
    assert_no_stderr
    assert_line --index 0 --regexp '^timeout: slow operation \(1000ms of work, 10ms timeout\): context deadline exceeded after [0-9]+ms, [0-9.]+ms past the deadline$'
    check_tree_deadlines_values
}

@test "-h and --help: usage on stdout, exit 0" {
    assert_help 08-context-timeout
}

@test "bad flags: a one-line usage error, exit 2" {
    local args
    for args in "--timeout" "--timeout 0" "--timeout -5ms" "--timeout soon" "--work 11s" \
        "--work 10" "-x" "--break=1" "now"; do
        # shellcheck disable=SC2086
        run_bounded 10 "$BIN/08-context-timeout" $args
        [ "$status" -eq 2 ] && [ -z "$output" ] && [ "$(wc -l <<<"$stderr")" -eq 1 ] &&
            [[ $stderr == "08-context-timeout: "*"usage: 08-context-timeout "* ]] ||
            { echo "args '$args': status $status, stdout '$output', stderr '$stderr'"; return 1; }
    done
}
