#!/usr/bin/env bats
# 06-fan-in-out: whatever the interleaving, every job comes back exactly once,
# the per-worker counts add up, and --break deadlocks with Go's report.

load test_helper

# check_fan_in JOBS WORKERS: the last run's output holds each job 1..JOBS
# exactly once, per-worker counts that match the result lines and sum to
# JOBS, and the right sum of squares.
check_fan_in() {
    local jobs=$1 workers=$2
    assert_success
    assert_no_stderr
    assert_line --index 0 "fan-out: $jobs jobs to $workers workers; fan-in: merge($workers channels)"

    # One awk pass (spawning processes is slow on a loaded machine): each job
    # seen exactly once and squared right; one count line per worker, equal
    # to its result lines; the counts sum to JOBS.
    awk -v jobs="$jobs" -v workers="$workers" '
        /^worker [0-9]+: [0-9]+ squared is [0-9]+$/ {
            w = $2; sub(":", "", w); results[w]++; seen[$3]++
            if ($6 != $3 * $3) { print "wrong square: " $0; bad = 1 }
        }
        /^worker [0-9]+ handled [0-9]+ jobs$/ { count[$2] = $4; ncount++; sum += $4 }
        END {
            for (j = 1; j <= jobs; j++)
                if (seen[j] != 1) { print "job " j " seen " seen[j] + 0 " times"; bad = 1 }
            for (j in seen)
                if (j + 0 < 1 || j + 0 > jobs) { print "unexpected job " j; bad = 1 }
            if (ncount != workers) { print ncount " count lines, want " workers; bad = 1 }
            for (w = 0; w < workers; w++)
                if (count[w] != results[w] + 0) {
                    print "worker " w ": count " count[w] ", result lines " results[w] + 0; bad = 1
                }
            if (sum != jobs) { print "counts sum to " sum ", want " jobs; bad = 1 }
            exit bad
        }' <<<"$output" | head -20
    [ "${PIPESTATUS[0]}" -eq 0 ]

    local squares=$((jobs * (jobs + 1) * (2 * jobs + 1) / 6))
    assert_equal "${lines[-1]}" "total: $jobs results, sum of squares $squares"
}

@test "defaults: 20 jobs over 4 workers, each job back exactly once" {
    run_bounded 10 "$BIN/06-fan-in-out"
    check_fan_in 20 4
}

@test "one worker does every job" {
    run_bounded 10 "$BIN/06-fan-in-out" -w 1
    check_fan_in 20 1
    assert_line "worker 0 handled 20 jobs"
}

@test "many workers, many jobs, no work: the counts still add up" {
    run_bounded 20 "$BIN/06-fan-in-out" -w 64 -n 2000 --work 0
    check_fan_in 2000 64
}

@test "more workers than jobs: the jobs run side by side, idle workers report 0" {
    # 4 jobs of 500ms on 8 workers. Fanned out, they run at the same time and
    # the whole run takes about 500ms; jobs done one after another (a single
    # worker, or workers that wait for each other) take at least 2s, whatever
    # the machine, since each job sleeps its 500ms. check_fan_in also checks
    # that every worker, idle or not, prints its count.
    local t0 t1 ms
    t0=$(date +%s%N)
    run_bounded 10 "$BIN/06-fan-in-out" -w 8 -n 4 --work 500ms
    t1=$(date +%s%N)
    check_fan_in 4 8
    ms=$(((t1 - t0) / 1000000))
    echo "4 jobs of 500ms on 8 workers took ${ms}ms"
    [ "$ms" -lt 2000 ]
}

@test "no jobs: merge still closes, the range ends" {
    run_bounded 10 "$BIN/06-fan-in-out" -n 0 -w 3
    check_fan_in 0 3
}

@test "--break: merge never closes, and the runtime reports the deadlock" {
    run_bounded 10 "$BIN/06-fan-in-out" --break -n 12
    assert_failure 2
    assert_equal "$stderr" "fatal error: all goroutines are asleep - deadlock!"
    # Every result arrived: what is missing is only the close.
    [ "$(grep -cE '^worker [0-9]+: [0-9]+ squared' <<<"$output")" -eq 12 ]
    refute_line --partial "handled"
    refute_line --partial "total:"
}

@test "-h and --help: usage on stdout, exit 0" {
    assert_help 06-fan-in-out
}

@test "bad flags: a one-line usage error, exit 2" {
    local args
    for args in "-w 0" "-w 1001" "-w abc" "-w" "-n -1" "-n 5x" "--work soon" "--work -1ms" \
        "--nope" "extra" "--break=yes"; do
        # shellcheck disable=SC2086
        run_bounded 10 "$BIN/06-fan-in-out" $args
        [ "$status" -eq 2 ] || { echo "args '$args': status $status"; return 1; }
        [ -z "$output" ] || { echo "args '$args': stdout '$output'"; return 1; }
        [ "$(wc -l <<<"$stderr")" -eq 1 ] || { echo "args '$args': stderr '$stderr'"; return 1; }
        [[ $stderr == "06-fan-in-out: "*"usage: 06-fan-in-out "* ]] || {
            echo "args '$args': stderr '$stderr'"
            return 1
        }
    done
}
