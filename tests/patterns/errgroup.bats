#!/usr/bin/env bats
# patterns/errgroup: every fetch runs once; the first error is the one Wait
# returns, and it cancels the fetches still working, so none runs on after
# it; the limit bounds how many run at once; TryGo refuses past it. With
# --break=waitgroup, the error stops nobody: the wasted work is counted.
load ../test_helper

# The ids of the fetches that reported, sorted.
fetch_ids() {
    sed -n 's/^fetch \([0-9][0-9]*\): .*/\1/p' <<<"$output" | sort -n
}

# summary: done, failed, cancelled and the peak from the last run's summary
# line, into DONE FAILED CANCELLED PEAK; LIMIT is "limit N" or "no limit".
summary() {
    local line
    line=$(grep '^main: [0-9]* done, ' <<<"$output")
    [[ "$line" =~ ^main:\ ([0-9]+)\ done,\ ([0-9]+)\ failed,\ ([0-9]+)\ cancelled\;\ at\ most\ ([0-9]+)\ at\ once\ \((limit [0-9]+|no limit)\)$ ]] ||
        { echo "no summary line: $output" >&2; return 1; }
    DONE=${BASH_REMATCH[1]} FAILED=${BASH_REMATCH[2]} CANCELLED=${BASH_REMATCH[3]}
    PEAK=${BASH_REMATCH[4]} LIMIT=${BASH_REMATCH[5]}
}

# done_at_least MS: every fetch reported done took at least MS milliseconds
# (its work: a timer never fires early, so a slow machine only adds to it).
done_at_least() {
    local t ms
    while read -r t; do
        case $t in
        *ms) ms=${t%ms} ;;
        *s) ms=$(awk -v s="${t%s}" 'BEGIN { print s * 1000 }') ;;
        *) echo "cannot read the time '$t'" >&2; return 1 ;;
        esac
        awk -v ms="$ms" -v min="$1" 'BEGIN { exit !(ms >= min) }' ||
            { echo "a fetch was done in $t, less than its work of ${1}ms" >&2; return 1; }
    done < <(sed -n 's/^fetch [0-9]*: done in \(.*\)$/\1/p' <<<"$output")
}

# ran_on: how many fetches the last run says ran on after the first error.
ran_on() {
    sed -n 's/^main: after the first error, \([0-9]*\) fetches ran on to the end: .* of work wasted$/\1/p' <<<"$output"
}

# bats test_tags=practice
@test "patterns/errgroup: default: fetch 4 fails, the group cancels the rest, Wait returns its error, at most 3 at once" {
    run_bounded 20 "$BIN/patterns/errgroup"
    assert_success
    assert_no_stderr
    assert_equal "$(fetch_ids)" "$(seq 1 10)"
    assert_line --regexp '^fetch 4: failed after [0-9.]+m?s: 503 Service Unavailable$'
    assert_line "main: the first error: fetch 4: 503 Service Unavailable"
    summary
    assert_equal "$FAILED" 1
    assert_equal "$((DONE + FAILED + CANCELLED))" 10
    done_at_least 200
    # Fetches 7 to 10 find the context cancelled when their turn comes, at least.
    [ "$CANCELLED" -ge 4 ]
    [ "$PEAK" -ge 1 ] && [ "$PEAK" -le 3 ]
    assert_equal "$LIMIT" "limit 3"
    # Every cancelled fetch says so, with the context's error.
    assert_equal "$(grep -c '^fetch [0-9]*: cancelled after .*: context canceled$' <<<"$output")" "$CANCELLED"
    assert_line "main: after the first error, 0 fetches ran on to the end: 0s of work wasted"
    assert_line "main: TryGo 10 times with a limit of 3: 3 started, 7 refused"
    assert_equal "${lines[-1]}" "main: goroutines left: 1 (main)"
}

@test "patterns/errgroup: --fail 0: every fetch done, Wait returns no error" {
    run_bounded 20 "$BIN/patterns/errgroup" --fail 0
    assert_success
    assert_no_stderr
    assert_equal "$(fetch_ids)" "$(seq 1 10)"
    assert_equal "$(grep -c '^fetch [0-9]*: done in ' <<<"$output")" 10
    done_at_least 200
    assert_line "main: no error"
    assert_line "main: 10 done, 0 failed, 0 cancelled; at most 3 at once (limit 3)"
    assert_line "main: after the first error, 0 fetches ran on to the end: 0s of work wasted"
    assert_equal "${lines[-1]}" "main: goroutines left: 1 (main)"
}

@test "patterns/errgroup: --limit 4 --work 1s: the peak is the limit, exactly" {
    # Eight fetches of a second each, four at a time: the first four start
    # together and hold their slots for a second, however loaded the machine.
    run_bounded 30 "$BIN/patterns/errgroup" -n 8 --limit 4 --work 1s --fail 0
    assert_success
    summary
    assert_equal "$PEAK" 4
    assert_equal "$DONE" 8
    assert_line "main: TryGo 8 times with a limit of 4: 4 started, 4 refused"
}

@test "patterns/errgroup: --fail 1: the first fetch fails at once, every other one is cancelled" {
    run_bounded 20 "$BIN/patterns/errgroup" --fail 1
    assert_success
    assert_no_stderr
    assert_equal "$(fetch_ids)" "$(seq 1 10)"
    assert_line "main: the first error: fetch 1: 503 Service Unavailable"
    summary
    assert_equal "$DONE $FAILED $CANCELLED $LIMIT" "0 1 9 limit 3"
    # How many had started when fetch 1 failed, a tenth of --work after its
    # start, depends on the machine (a TSan run on a loaded one had 2): the
    # limit bounds it, nothing more.
    (( PEAK >= 1 && PEAK <= 3 )) || { echo "peak $PEAK" >&2; return 1; }
    assert_line "main: after the first error, 0 fetches ran on to the end: 0s of work wasted"
}

@test "patterns/errgroup: --limit 1: one at a time, and TryGo starts only one" {
    run_bounded 20 "$BIN/patterns/errgroup" --limit 1 -n 5 --fail 3 --work 50ms
    assert_success
    summary
    assert_equal "$PEAK" 1
    # One at a time: 1 and 2 finish before 3 starts, and 4 and 5 start after it failed.
    assert_line "main: 2 done, 1 failed, 2 cancelled; at most 1 at once (limit 1)"
    assert_line "main: TryGo 5 times with a limit of 1: 1 started, 4 refused"
}

# bats test_tags=practice
@test "patterns/errgroup: --break=waitgroup: the error stops nobody, the others work on to the end, and it is counted" {
    run_bounded 20 "$BIN/patterns/errgroup" --break=waitgroup
    assert_success
    assert_no_stderr
    assert_equal "$(fetch_ids)" "$(seq 1 10)"
    assert_line "main: the first error: fetch 4: 503 Service Unavailable"
    summary
    assert_equal "$FAILED" 1
    assert_equal "$CANCELLED" 0 # nothing to cancel them
    assert_equal "$DONE" 9
    done_at_least 200 # each of them did all its work
    assert_equal "$LIMIT" "no limit"
    # Fetch 4 fails after 20 ms, while the others are still due: they run on.
    [ "$(ran_on)" -ge 1 ]
    refute_line --regexp '^main: after the first error, .*: 0s of work wasted$'
    refute_line --partial "TryGo"
    assert_equal "${lines[-1]}" "main: goroutines left: 1 (main)"
}

@test "patterns/errgroup: --break alone means --break=waitgroup" {
    # Fetch 2 fails after 100 ms; the four others, due at 1 s, all run on.
    run_bounded 20 "$BIN/patterns/errgroup" --break -n 5 --fail 2 --work 1s
    assert_success
    assert_line --regexp '^main: 4 done, 1 failed, 0 cancelled; at most [0-9]+ at once \(no limit\)$'
    done_at_least 1000
    assert_equal "$(ran_on)" 4
}

@test "patterns/errgroup: the race detector finds nothing, in the group or in --break" {
    run_bounded 30 "$TSAN_BIN/patterns/errgroup"
    assert_success
    assert_no_stderr
    assert_equal "$(fetch_ids)" "$(seq 1 10)"
    run_bounded 30 "$TSAN_BIN/patterns/errgroup" --break
    assert_success
    assert_no_stderr
}

@test "patterns/errgroup: bad flags and values: exit 2, nothing on stdout, the error and the usage on stderr" {
    assert_bad_flags patterns/errgroup "-n 0" "-n 101" "-n abc" "--limit 0" "--limit 101" "--fail -1" \
        "--fail 11" "-n 3" "--work soon" "--break=oops" "--bogus" "-x"
}

@test "patterns/errgroup: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/errgroup
}
