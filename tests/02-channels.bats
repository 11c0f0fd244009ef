#!/usr/bin/env bats
# 02-channels: the handoff waits for the receiver, a buffer holds cap values
# first in first out, ranging ends at close, and a send nobody receives (or a
# range over a channel never closed) is caught as a deadlock. Runs on the C
# (IMPL=c) and on its Go twin (IMPL=go).
load test_helper

# bats test_tags=practice
@test "02-channels: default: handoff, buffer, range and the closed receive" {
    run_bounded 10 "$BIN/02-channels"
    assert_success
    assert_no_stderr
    # The send cannot return before main received, after its 20 ms nap.
    [[ "${lines[0]}" =~ ^unbuffered:\ received\ 42\ after\ a\ 20\ ms\ nap\;\ the\ send\ returned\ at\ \+([0-9]+)\ ms$ ]]
    [ "${BASH_REMATCH[1]}" -ge 20 ]
    # One goroutine only: this part has a single possible output.
    assert_equal "$(sed -n 2,7p <<<"$output")" "buffered: sent 1 ahead, len=1 cap=3
buffered: sent 2 ahead, len=2 cap=3
buffered: sent 3 ahead, len=3 cap=3
buffered: received 1, len=2
buffered: received 2, len=1
buffered: received 3, len=0"
    # One sender: its values arrive in the order sent.
    assert_equal "$(sed -n 's/^range: \([0-9]*\)$/\1/p' <<<"$output")" "$(seq 1 5)"
    assert_equal "${lines[-1]}" "range: done, sum=15; one more receive gives v=0 ok=false"
    assert_equal "${#lines[@]}" 13
}

@test "02-channels: -n 300 --capacity 50: every value in order, the right sum, len up to cap" {
    run_bounded 20 "$BIN/02-channels" -n 300 --capacity 50
    assert_success
    assert_no_stderr
    assert_equal "$(sed -n 's/^range: \([0-9]*\)$/\1/p' <<<"$output")" "$(seq 1 300)"
    assert_equal "${lines[-1]}" "range: done, sum=45150; one more receive gives v=0 ok=false"
    assert_line "buffered: sent 50 ahead, len=50 cap=50"
    assert_equal "$(grep -c '^buffered: sent' <<<"$output")" 50
    assert_equal "$(grep -c '^buffered: received' <<<"$output")" 50
    assert_line "buffered: received 50, len=0"
}

@test "02-channels: Go's flag syntax: -n=2, --n 2 and -capacity=1 are accepted" {
    run_bounded 10 "$BIN/02-channels" -n=2 -capacity=1
    assert_success
    assert_line "buffered: sent 1 ahead, len=1 cap=1"
    assert_equal "${lines[-1]}" "range: done, sum=3; one more receive gives v=0 ok=false"
    run_bounded 10 "$BIN/02-channels" --n 2 --break=false
    assert_success
    assert_equal "${lines[-1]}" "range: done, sum=3; one more receive gives v=0 ok=false"
}

@test "02-channels: --break=send: a send with no receiver is reported as a deadlock" {
    run_bounded 10 "$BIN/02-channels" --break=send
    deadlock_reported
    assert_equal "$output" "break: sending on an unbuffered channel that nobody receives from"
}

@test "02-channels: --break alone means --break=send" {
    run_bounded 10 "$BIN/02-channels" --break
    deadlock_reported
    assert_equal "$output" "break: sending on an unbuffered channel that nobody receives from"
}

@test "02-channels: --break=noclose: the range gets every value, then never ends: deadlock" {
    run_bounded 10 "$BIN/02-channels" --break=noclose -n 4
    deadlock_reported
    assert_equal "${lines[0]}" "break: ranging over a channel whose sender never closes it"
    assert_equal "$(sed -n 's/^range: \([0-9]*\)$/\1/p' <<<"$output")" "$(seq 1 4)"
    refute_line --partial "range: done"
}

@test "02-channels: bad flags and values: exit 2, nothing on stdout, the error and the usage on stderr" {
    assert_bad_flags 02-channels "-n 0" "-n 1001" "-n ten" "--capacity 0" "--capacity 101" \
        "--capacity 3.5" "--capacity" "-c 3" "--break=later" "--break=" "--unknown" "-q" "one more"
}

@test "02-channels: -h and --help: the usage on stderr, exit 0" {
    assert_help 02-channels
    [[ "$stderr" == *"-capacity int"* && "$stderr" == *"(default 3)"* ]]
}
