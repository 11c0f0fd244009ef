#!/usr/bin/env bats
# 01-goroutines: every goroutine started runs once with its own id, and main
# waits for all of them; the two break modes fail the way the README says.
load test_helper

# The ids the goroutines reported, one per line, sorted.
reported_ids() {
    sed -n 's/^goroutine \([0-9][0-9]*\): done$/\1/p' <<<"$output" | sort -n
}

# bats test_tags=practice
@test "01-goroutines: default: five goroutines, each id exactly once, then main's closing line" {
    run_bounded 10 "$BIN/01-goroutines"
    assert_success
    assert_no_stderr
    assert_equal "$(reported_ids)" "$(seq 1 5)"
    assert_equal "${#lines[@]}" 6
    assert_equal "${lines[5]}" "main: all 5 goroutines done"
}

@test "01-goroutines: -n 64 --work 0: 64 goroutines, ids 1..64 each exactly once" {
    run_bounded 20 "$BIN/01-goroutines" -n 64 --work 0
    assert_success
    assert_no_stderr
    assert_equal "$(reported_ids)" "$(seq 1 64)"
    assert_equal "${lines[-1]}" "main: all 64 goroutines done"
}

@test "01-goroutines: without --break, the race detector finds nothing" {
    run_bounded 20 "$TSAN_BIN/01-goroutines" -n 16
    assert_success
    assert_no_stderr
    assert_equal "$(reported_ids)" "$(seq 1 16)"
}

@test "01-goroutines: --break=share: the race detector reports the race on the shared loop variable" {
    run_bounded 20 "$TSAN_BIN/01-goroutines" --break=share
    race_detected
    # The race is the lesson's own, not one inside common/ or Go's runtime.
    [[ "$stderr" == *"01-goroutines/main.c"* || "$stderr" == *"01-goroutines/main.go"* ]]
}

@test "01-goroutines: --break alone means --break=share" {
    run_bounded 20 "$TSAN_BIN/01-goroutines" --break
    race_detected
}

@test "01-goroutines: --break=nowait: main returns before its goroutines finish, and says so" {
    # Each goroutine works 5 s; main returns at once, and the process with it.
    run_bounded 10 "$BIN/01-goroutines" --break=nowait -n 20 --work 5s
    assert_success
    assert_no_stderr
    line=$(grep '^main: returning without waiting: ' <<<"$output")
    [[ "$line" =~ ([0-9]+)\ of\ 20\ goroutines\ had\ finished$ ]]
    finished=${BASH_REMATCH[1]}
    [ "$finished" -lt 20 ]
    # Fewer than 20 "done" lines: the rest died with main.
    [ "$(reported_ids | wc -l)" -lt 20 ]
}

@test "01-goroutines: --break=nowait: however main's return meets the goroutines' printing, no line twice" {
    # With no work, goroutines print while main returns: the lines that make it
    # out are whole, and no id is printed twice (exit() flushing a buffer that
    # a goroutine is still writing would print its line again).
    local i runs=$BATS_TEST_TMPDIR/runs
    for i in $(seq 1 100); do
        run_bounded 10 "$BIN/01-goroutines" --break=nowait -n 50 --work 0
        assert_success
        printf 'run %d\n%s\n' "$i" "$output" >>"$runs"
    done
    # One awk over the 100 outputs (a pipeline per run costs more than the run).
    run awk '
        /^run [0-9]+$/ { run = $2; delete seen; next }
        /^goroutine [0-9]+: done$/ {
            id = $2; sub(/:$/, "", id)
            if (seen[id]++) print "run " run " printed goroutine " id " twice"
            next
        }
        /^main: returning without waiting: / { next }
        { print "run " run " printed a broken line: " $0 }
    ' "$runs"
    assert_output ""
}

@test "01-goroutines: bad flags and values: exit 2, nothing on stdout, the error and the usage on stderr" {
    assert_bad_flags 01-goroutines "-n 0" "-n 1001" "-n abc" "-n 5x" "-n" "--work soon" \
        "--break=oops" "--bogus" "-x"
}

@test "01-goroutines: -h and --help: the usage on stderr, exit 0" {
    assert_help 01-goroutines
}
