#!/usr/bin/env bats
# 06-fan-in-out: whatever the interleaving, every job comes back exactly once,
# each worker's results come back in the order it took its jobs, the
# per-worker counts add up, and --break deadlocks with Go's report. Runs on
# the C (IMPL=c) and on the Go twin (IMPL=go).

load test_helper

# check_fan_in JOBS WORKERS: the last run's output holds each job 1..JOBS
# exactly once, each worker's jobs in increasing order, per-worker counts that
# match the result lines and sum to JOBS, and the right sum of squares.
check_fan_in() {
    local jobs=$1 workers=$2
    assert_success
    assert_no_stderr
    assert_line --index 0 "fan-out: $jobs jobs to $workers workers; fan-in: merge($workers channels)"

    # One awk pass (spawning processes is slow on a loaded machine): each job
    # seen exactly once and squared right; a worker's jobs in increasing order
    # (it takes them one after another from one FIFO channel, and its own
    # output channel and forwarder keep that order); one count line per
    # worker, equal to its result lines; the counts sum to JOBS.
    awk -v jobs="$jobs" -v workers="$workers" '
        /^worker [0-9]+: [0-9]+ squared is [0-9]+$/ {
            w = $2; sub(":", "", w); results[w]++; seen[$3]++
            if ($6 != $3 * $3) { print "wrong square: " $0; bad = 1 }
            if ($3 + 0 <= last[w] + 0) { print "worker " w ": job " $3 " after job " last[w]; bad = 1 }
            last[w] = $3
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

# bats test_tags=practice
@test "06-fan-in-out: defaults: 20 jobs over 4 workers, each job back exactly once" {
    run_bounded 10 "$BIN/06-fan-in-out"
    check_fan_in 20 4
}

@test "06-fan-in-out: one worker does every job, in order" {
    run_bounded 10 "$BIN/06-fan-in-out" -w 1
    check_fan_in 20 1
    assert_line "worker 0 handled 20 jobs"
}

@test "06-fan-in-out: many workers, many jobs, no work: the counts still add up" {
    run_bounded 20 "$BIN/06-fan-in-out" -w 64 -n 2000 --work 0
    check_fan_in 2000 64
}

@test "06-fan-in-out: more workers than jobs: the jobs run side by side, idle workers report 0" {
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

@test "06-fan-in-out: no jobs: merge still closes, the range ends" {
    run_bounded 10 "$BIN/06-fan-in-out" -n 0 -w 3
    check_fan_in 0 3
}

@test "06-fan-in-out: Go's flag syntax: --n=5, -w=2, -work 1ms, --break=false" {
    run_bounded 10 "$BIN/06-fan-in-out" --n=5 -w=2 -work 1ms --break=false
    check_fan_in 5 2
}

@test "06-fan-in-out: --break: merge never closes, and the runtime reports the deadlock" {
    run_bounded 10 "$BIN/06-fan-in-out" --break -n 12
    deadlock_reported
    # Every result arrived: what is missing is only the close.
    [ "$(grep -cE '^worker [0-9]+: [0-9]+ squared' <<<"$output")" -eq 12 ]
    refute_line --partial "handled"
    refute_line --partial "total:"
}

@test "06-fan-in-out: --break breaks whatever the other flags, even with no jobs" {
    # The close is missing whatever the count of jobs and workers: the range
    # never ends, and with nothing else alive the runtime says so. A hang
    # instead of the report would end in timeout's 124, and fail.
    local args
    for args in "--break=noclose" "--break -n 0" "--break -n 0 -w 1" "--break -w 1 --work 0" \
        "--break -w 64 -n 2000 --work 0" "--break -w 8 -n 3"; do
        # shellcheck disable=SC2086 # split on purpose
        run_bounded 10 "$BIN/06-fan-in-out" $args
        deadlock_reported || { echo "args '$args'"; return 1; }
        refute_line --partial "total:"
    done
}

@test "06-fan-in-out: the C reports the deadlock in Go's one line and nothing else" {
    c_only "Go's runtime follows its report with every goroutine's stack"
    run_bounded 10 "$BIN/06-fan-in-out" --break -n 3
    assert_equal "$stderr" "fatal error: all goroutines are asleep - deadlock!"
}

@test "06-fan-in-out: -h and --help: Go's usage on stderr, exit 0" {
    assert_help 06-fan-in-out
    run_bounded 5 "$BIN/06-fan-in-out" -h
    for flag in -break "-n int" "-w int" "-work duration"; do
        assert_equal "$(grep -c -- "^  $flag\$" <<<"$stderr")" 1
    done
}

@test "06-fan-in-out: bad flags and values: Go's error line and the usage, exit 2" {
    assert_bad_flags 06-fan-in-out "-w 0" "-w 1001" "-w abc" "-w" "-n -1" "-n 5x" "-n 100001" \
        "--work soon" "--work" "--nope" "extra" "--break=yes" "-break=1ms"
    run_bounded 5 "$BIN/06-fan-in-out" -w 0
    assert_equal "${stderr_lines[0]}" 'invalid value "0" for flag -w: must be 1..1000'
    run_bounded 5 "$BIN/06-fan-in-out" --break=yes
    assert_equal "${stderr_lines[0]}" 'invalid boolean value "yes" for -break: must be one of noclose'
}
