#!/usr/bin/env bats
# 01-goroutines: every goroutine started runs once with its own id, and main
# waits for all of them; the two break modes fail the way the README says.
load test_helper

# The ids the goroutines reported, one per line, sorted.
reported_ids() {
    sed -n 's/^goroutine \([0-9][0-9]*\): done$/\1/p' <<<"$output" | sort -n
}

@test "default: five goroutines, each id exactly once, then main's closing line" {
    run_bounded 10 "$BIN/01-goroutines"
    assert_success
    assert_no_stderr
    assert_equal "$(reported_ids)" "$(seq 1 5)"
    assert_equal "${#lines[@]}" 6
    assert_equal "${lines[5]}" "main: all 5 goroutines done"
}

@test "-n 64 -d 0: 64 goroutines, ids 1..64 each exactly once" {
    run_bounded 20 "$BIN/01-goroutines" -n 64 -d 0
    assert_success
    assert_no_stderr
    assert_equal "$(reported_ids)" "$(seq 1 64)"
    assert_equal "${lines[-1]}" "main: all 64 goroutines done"
}

@test "without --break, ThreadSanitizer finds nothing" {
    run_bounded 20 "$TSAN_BIN/01-goroutines" -n 16
    assert_success
    assert_no_stderr
    assert_equal "$(reported_ids)" "$(seq 1 16)"
}

@test "--break=share: ThreadSanitizer reports the race on the shared loop variable" {
    run_bounded 20 "$TSAN_BIN/01-goroutines" --break=share
    assert_equal "$status" 66
    [[ "$stderr" == *"WARNING: ThreadSanitizer: data race"* ]]
    # The race is the lesson's own, not one inside common/.
    [[ "$stderr" == *"01-goroutines/main.c"* ]]
}

@test "--break alone means --break=share" {
    run_bounded 20 "$TSAN_BIN/01-goroutines" --break
    assert_equal "$status" 66
    [[ "$stderr" == *"WARNING: ThreadSanitizer: data race"* ]]
}

@test "--break=nowait: main returns before its goroutines finish, and says so" {
    # Each goroutine works 5 s; main returns at once, and the process with it.
    run_bounded 10 "$BIN/01-goroutines" --break=nowait -n 20 -d 5s
    assert_success
    assert_no_stderr
    line=$(grep '^main: returning without waiting: ' <<<"$output")
    [[ "$line" =~ ([0-9]+)\ of\ 20\ goroutines\ had\ finished$ ]]
    finished=${BASH_REMATCH[1]}
    [ "$finished" -lt 20 ]
    # Fewer than 20 "done" lines: the rest died with main.
    [ "$(reported_ids | wc -l)" -lt 20 ]
}

@test "bad flags and values: exit 2, nothing on stdout, one line on stderr" {
    assert_bad_flags 01-goroutines "-n 0" "-n 1001" "-n abc" "-n 5x" "-n" "-d soon" "-d -1ms" \
        "--break=oops" "--bogus" "-x" "extra"
    run_bounded 5 "$BIN/01-goroutines" -n ""
    assert_equal "$status" 2
    assert_equal "${#stderr_lines[@]}" 1
}

@test "-h and --help: usage on stdout, exit 0" {
    assert_help 01-goroutines
}
