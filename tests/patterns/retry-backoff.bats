#!/usr/bin/env bats
# patterns/retry-backoff: every job ends exactly one way (done, dead-lettered
# or cancelled), the way its seed says, and a job delivered twice is done
# once; the histogram and the summary add up; the deadline cuts retries
# short; nothing is left running. The breaks: retries without backoff come
# back far faster than with it, and without the idempotency key a job
# delivered twice ends twice.
load ../test_helper

# next_random: splitmix64, as main.c's next_random, on $state; the draw in
# $r. Bash's arithmetic is 64-bit and wraps: the shifts are masked to be
# unsigned, and umod M sets $u to the unsigned r % M.
next_random() {
    local z
    state=$((state + 0x9e3779b97f4a7c15))
    z=$(((state ^ ((state >> 30) & 0x3ffffffff)) * 0xbf58476d1ce4e5b9))
    z=$(((z ^ ((z >> 27) & 0x1fffffffff)) * 0x94d049bb133111eb))
    r=$((z ^ ((z >> 31) & 0x1ffffffff)))
}
umod() {
    u=$(((2 * (((r >> 1) & 0x7fffffffffffffff) % $1) + (r & 1)) % $1))
}

# fates SEED N ATTEMPTS: how each job must end when no deadline cuts it
# short, one "job ID: OUTCOME at attempt K" line each, sorted; drawn as
# main.c's draw_job draws them: half succeed at once, 1 to 4 failures first,
# always refused, or hangs. TWICE=1: the ids delivered twice instead.
fates() {
    local state=$1 n=$2 attempts=$3 r u i kind failures
    for ((i = 1; i <= n; i++)); do
        next_random
        umod 100
        kind=$u
        next_random # the job's jitter state
        next_random
        umod 5
        if [ "${TWICE:-}" = 1 ]; then
            [ "$u" -eq 0 ] && echo "$i"
            continue
        fi
        failures=$((kind < 50 ? 0 : kind < 70 ? 1 : kind < 80 ? 2 : kind < 85 ? 3 : kind < 88 ? 4 : 99))
        if [ "$kind" -ge 95 ]; then
            echo "job $i: cancelled at attempt 1"
        elif [ "$failures" -lt "$attempts" ]; then
            echo "job $i: done at attempt $((failures + 1))"
        else
            echo "job $i: dead-lettered at attempt $attempts"
        fi
    done | sort ${TWICE:+-n}
}

# endings: the lines of jobs that ended, without their error, sorted.
endings() {
    sed -En 's/^(job [0-9]+: (done|dead-lettered|cancelled) at attempt [0-9]+).*/\1/p' <<<"$output" | sort
}

# ended_ids: the id of each job that ended, one per ending, sorted.
ended_ids() {
    sed -En 's/^job ([0-9]+): (done|dead-lettered|cancelled) at attempt .*/\1/p' <<<"$output" | sort -n
}

# check_summary N: each job of 1..N ended exactly once; the histogram and the
# summary lines agree with the job lines (one awk over the output: what it
# counts from the job lines, then the lines the program printed).
check_summary() {
    local n=$1 wrong
    assert_equal "$(ended_ids)" "$(seq 1 "$n")"
    wrong=$(awk -v n="$n" '
        /^job [0-9]+: (done|dead-lettered|cancelled) at attempt / {
            outcome[$3]++; attempts[$6 + 0]++; total++ }
        hist && $1 ~ /^[0-9]+$/ { if ($2 != attempts[$1] + 0) print "histogram " $1 ": " $2 ", lines " attempts[$1] + 0
            sum += $2 }
        /^attempts  jobs$/ { hist = 1 }
        /^ended: / { hist = 0
            want = sprintf("ended: %d done + %d dead-lettered + %d cancelled = %d, for %d jobs;",
                outcome["done"], outcome["dead-lettered"], outcome["cancelled"], total, n)
            if (index($0, want) != 1) print "summary: " $0 ", lines: " want }
        END { if (sum != n) print "histogram sums to " sum ", not " n }' <<<"$output")
    [ -z "$wrong" ] || { echo "$wrong"; return 1; }
    assert_line "jobs that ended more than once: 0, never: 0"
}

# rate: the attempts per second of the last run's retries.
rate() {
    sed -n 's/^retries: .* \([0-9][0-9]*\) attempts per second$/\1/p' <<<"$output"
}

# bats test_tags=practice
@test "patterns/retry-backoff: default: each job ends once, as its seed says; duplicates skipped; retries wait" {
    run_bounded 30 "$BIN/patterns/retry-backoff"
    assert_success
    assert_no_stderr
    assert_line "30 jobs (7 delivered twice), 4 workers, 5 attempts, backoff 10ms..1s with full jitter, deadline 500ms"
    check_summary 30
    assert_equal "$(endings)" "$(fates 1 30 5)"
    # The second delivery of each job delivered twice is skipped (whichever
    # of the two a worker took first does the work).
    assert_equal "$(sed -n 's/^job \([0-9]*\): skipped: delivered again, its key was taken$/\1/p' <<<"$output" | sort -n)" \
        "$(TWICE=1 fates 1 30 5)"
    assert_line "ended: 26 done + 2 dead-lettered + 2 cancelled = 30, for 30 jobs; 7 skipped"
    # The waits drawn for seed 1 come to about 0.36 s for 26 retries: fewer
    # than 100 a second, and a loaded machine only sleeps longer.
    [ "$(rate)" -lt 1000 ] || { echo "retries at $(rate) a second: no backoff?"; return 1; }
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/retry-backoff: other seeds, sizes, workers and attempts: each job ends once, as drawn" {
    # Waits of 1ms, 2ms, 4ms, 8ms at most: the deadline (500ms) only ends the
    # jobs that hang.
    for args in "-n 200 -w 8 --seed 7" "-n 50 -w 1 --attempts 2 --seed 3" "-n 100 -w 16 --attempts 1 --seed 11"; do
        # shellcheck disable=SC2086
        run_bounded 60 "$BIN/patterns/retry-backoff" $args --backoff 1ms
        assert_success
        assert_no_stderr
        read -r n seed attempts <<<"$(awk '{ for (i = 1; i < NF; i++) { if ($i == "-n") n = $(i + 1);
            if ($i == "--seed") s = $(i + 1); if ($i == "--attempts") a = $(i + 1) } }
            END { print n, s, (a ? a : 5) }' <<<"$args")"
        check_summary "$n"
        assert_equal "$(endings)" "$(fates "$seed" "$n" "$attempts")"
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/retry-backoff: --timeout 30ms: the deadline cancels jobs in the middle of their backoff" {
    run_bounded 30 "$BIN/patterns/retry-backoff" --timeout 30ms
    assert_success
    assert_no_stderr
    check_summary 30
    # Jobs 19 and 20 are always refused; the waits drawn for their first
    # three retries come to 33.5ms and 28.9ms, and job 20's fourth to 72.9ms:
    # the deadline comes before their fifth attempt, whatever the load.
    assert_line --regexp '^job 19: cancelled at attempt [1-4]: context deadline exceeded$'
    assert_line --regexp '^job 20: cancelled at attempt [1-4]: context deadline exceeded$'
    refute_line --regexp '^job [0-9]+: dead-lettered'
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/retry-backoff: --break=no-backoff: the same endings, retried far faster: a hot loop" {
    run_bounded 30 "$BIN/patterns/retry-backoff"
    assert_success
    with=$(rate)
    for mode in "--break" "--break=no-backoff"; do
        run_bounded 30 "$BIN/patterns/retry-backoff" "$mode"
        assert_success
        assert_no_stderr
        check_summary 30
        assert_equal "$(endings)" "$(fates 1 30 5)"
        without=$(rate)
        # Tens a second with backoff; millions without, on an idle machine.
        [ "$without" -gt $((with * 20)) ] ||
            { echo "without backoff $without a second, with $with: not far above"; return 1; }
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/retry-backoff: --break=no-key: each job delivered twice ends twice, and the summary says so" {
    run_bounded 30 "$BIN/patterns/retry-backoff" --break=no-key
    assert_success
    assert_no_stderr
    # Every id once, and the ids delivered twice once more.
    assert_equal "$(ended_ids)" "$( (seq 1 30; TWICE=1 fates 1 30 5) | sort -n)"
    refute_line --partial "skipped: delivered again"
    assert_line --regexp '^ended: [0-9]+ done \+ [0-9]+ dead-lettered \+ [0-9]+ cancelled = 37, for 30 jobs; 0 skipped$'
    assert_line "jobs that ended more than once: 7, never: 0"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/retry-backoff: the race detector finds nothing, with the key and without" {
    for args in "-n 40 --backoff 1ms" "-n 40 --break=no-backoff" "-n 40 --break=no-key --backoff 1ms"; do
        # shellcheck disable=SC2086
        run_bounded 60 "$TSAN_BIN/patterns/retry-backoff" $args
        assert_success
        assert_no_stderr
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/retry-backoff: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    for mode in "" "--break=no-key"; do
        # shellcheck disable=SC2086
        run_bounded 120 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
            "$BIN/patterns/retry-backoff" -n 12 --backoff 1ms --timeout 2s $mode
        assert_success
    done
}

@test "patterns/retry-backoff: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/retry-backoff "-n 0" "-n 10001" "-w 0" "-w 101" "--attempts 0" \
        "--attempts 21" "--backoff 0" "--backoff 2s" "--max-backoff 1ms" "--timeout 0" "--work x" \
        "--seed y" "--break=oops" "-x"
}

@test "patterns/retry-backoff: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/retry-backoff
}
