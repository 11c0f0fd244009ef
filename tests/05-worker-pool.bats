#!/usr/bin/env bats
# 05-worker-pool: every job is processed exactly once, the sum is right, and
# the pool never has more than W workers (+ the feeder) alive at once; with a
# timeout, processed plus cancelled is every job, and only a timeout cancels;
# one goroutine per job has as many goroutines as jobs at once. The same file
# runs on the C and on the Go twin, which counts its goroutines the same way.
load test_helper

# job_ids: the job id of every result line, sorted, with how often it appears.
job_ids() {
    sed -n 's/^job \([0-9][0-9]*\) -> .*/\1/p' <<<"$output" | sort -n | uniq -c
}

# every_job_once J: each of 1..J appears in exactly one result line.
every_job_once() {
    assert_equal "$(job_ids)" "$(seq 1 "$1" | awk '{ printf "%7d %d\n", 1, $1 }')"
}

# summary_field NAME: a number from the summary line.
summary_field() {
    grep '^summary: ' <<<"$output" | grep -o "$1=[0-9]*" | cut -d= -f2
}

# sum_of_squares J: 1^2 + ... + J^2, what the jobs add up to.
sum_of_squares() {
    echo $(($1 * ($1 + 1) * (2 * $1 + 1) / 6))
}

# in_section FIRST LAST CMD...: runs CMD with $output cut down to the lines
# from the one matching FIRST to the one matching LAST (sed addresses), and
# $lines with it: the two runs of --break, one at a time. The caller keeps
# the whole output in $lines_all.
in_section() {
    local output lines
    output=$(sed -n "/$1/,/$2/p" <<<"$lines_all")
    mapfile -t lines <<<"$output"
    shift 2
    "$@"
}

# bats test_tags=practice
@test "05-worker-pool: default: 20 jobs on 4 workers, each once, the right sum, 4 workers + the feeder" {
    run_bounded 10 "$BIN/05-worker-pool"
    assert_success
    assert_no_stderr
    every_job_once 20
    assert_equal "$(grep -c '^job ' <<<"$output")" 20
    assert_equal "${lines[-2]}" "timed out: false"
    # main starts the 4 workers and the feeder before any of them can return
    # (the workers wait for the feeder to close jobs): exactly 5, every run.
    assert_equal "${lines[-1]}" "summary: jobs=20 processed=20 cancelled=0 sum=2870 peak_goroutines=5"
}

@test "05-worker-pool: W = 1, 2, 8 and W > N: every job once, the right sum, never more than W workers" {
    for w in 1 2 8 40; do
        echo "workers: $w"
        run_bounded 20 "$BIN/05-worker-pool" -w "$w" -n 30
        assert_success
        assert_no_stderr
        every_job_once 30
        assert_equal "$(summary_field processed)" 30
        assert_equal "$(summary_field cancelled)" 0
        assert_equal "$(summary_field sum)" "$(sum_of_squares 30)"
        # The goroutines alive at once: at most W workers plus the feeder,
        # and all of them at the start, however many jobs there are.
        peak=$(summary_field peak_goroutines)
        [ "$((peak - 1))" -le "$w" ] || { echo "peak $peak with W = $w"; return 1; }
        assert_equal "$peak" $((w + 1))
        # Every result came from one of the pool's workers, 1..W.
        ids=$(sed -n 's/.*(worker \([0-9]*\))$/\1/p' <<<"$output" | sort -n | uniq)
        [ "$(head -n 1 <<<"$ids")" -ge 1 ]
        [ "$(tail -n 1 <<<"$ids")" -le "$w" ]
    done
}

@test "05-worker-pool: --ordered: results printed by job id" {
    run_bounded 20 "$BIN/05-worker-pool" --ordered -w 8 -n 50
    assert_success
    assert_no_stderr
    assert_equal "$(sed -n 's/^job \([0-9]*\) -> .*/\1/p' <<<"$output")" "$(seq 1 50)"
    assert_equal "$(summary_field sum)" "$(sum_of_squares 50)"
}

@test "05-worker-pool: --timeout: processed + cancelled = jobs, and the sum is that of the processed" {
    # 40 jobs of 20 ms on 2 workers need 400 ms: a 30 ms timeout cancels most.
    run_bounded 20 "$BIN/05-worker-pool" -w 2 -n 40 --work 20ms --timeout 30ms
    assert_success
    assert_no_stderr
    every_job_once 40
    processed=$(summary_field processed) cancelled=$(summary_field cancelled)
    assert_equal $((processed + cancelled)) 40
    [ "$cancelled" -gt 0 ]
    assert_equal "$(grep -c '^job [0-9]* -> cancelled' <<<"$output")" "$cancelled"
    want=$(sed -n 's/^job [0-9]* -> \([0-9][0-9]*\) .*/\1/p' <<<"$output" | awk '{ s += $1 } END { print s + 0 }')
    assert_equal "$(summary_field sum)" "$want"
    assert_line "timed out: true"
    assert_equal "$(summary_field peak_goroutines)" 3
}

@test "05-worker-pool: --timeout 1ns --work 1m: every job cancelled, none lost, no wait for the work" {
    # Closing done wakes every worker's select at once: nobody waits out the
    # minute of work, so the run ends well within its bound.
    run_bounded 10 "$BIN/05-worker-pool" --timeout 1ns --work 1m -n 12
    assert_success
    assert_no_stderr
    every_job_once 12
    assert_line "timed out: true"
    assert_line --partial "summary: jobs=12 processed=0 cancelled=12 sum=0 "
}

@test "05-worker-pool: a timeout that never fires: nothing cancelled, and no wait for the timer" {
    run_bounded 10 "$BIN/05-worker-pool" --timeout 1m -n 20
    assert_success
    assert_no_stderr
    every_job_once 20
    assert_equal "${lines[-2]}" "timed out: false"
    assert_equal "${lines[-1]}" "summary: jobs=20 processed=20 cancelled=0 sum=2870 peak_goroutines=5"
}

# check_break W J: the last run was --break -w W -n J: the pool's run, then
# the unbounded one, each with every job once and the right sum; the pool
# peaked at W workers + the feeder, the unbounded run at J goroutines.
check_break() {
    local w=$1 j=$2 lines_all=$output
    assert_success
    assert_no_stderr
    assert_equal "${lines[0]}" "pool of $w workers:"
    in_section "^pool of " "^summary: " every_job_once "$j"
    in_section "^pool of " "^summary: " assert_line "summary: jobs=$j processed=$j cancelled=0 sum=$(sum_of_squares "$j") peak_goroutines=$((w + 1))"
    in_section "^one goroutine per job:$" "^summary: " every_job_once "$j"
    # main receives no result before it has started every goroutine, and
    # each one waits to hand its result over: all J are alive at once.
    in_section "^one goroutine per job:$" "^summary: " assert_line "summary: jobs=$j processed=$j cancelled=0 sum=$(sum_of_squares "$j") peak_goroutines=$j"
    assert_equal "$(grep -c '^timed out: false$' <<<"$output")" 2
    assert_equal "${lines[-1]}" "break: most goroutines at once (main aside): $((w + 1)) with the pool ($w workers + the feeder), $j with one goroutine per job"
}

@test "05-worker-pool: --break=unbounded: one goroutine per job, as many at once as jobs, beside the pool's W + 1" {
    run_bounded 30 "$BIN/05-worker-pool" --break=unbounded -w 2 -n 30
    check_break 2 30
}

@test "05-worker-pool: --break with 300 jobs and no work: still 300 at once, the pool still 4 + 1" {
    run_bounded 30 "$BIN/05-worker-pool" --break -w 4 -n 300 --work 0
    check_break 4 300
}

@test "05-worker-pool: --break --timeout 1ns: every job cancelled in both runs, none lost" {
    run_bounded 20 "$BIN/05-worker-pool" --break --timeout 1ns --work 1m -w 3 -n 12
    assert_success
    assert_no_stderr
    local lines_all=$output
    in_section "^pool of " "^summary: " every_job_once 12
    in_section "^one goroutine per job:$" "^summary: " every_job_once 12
    assert_equal "$(grep -c '^summary: jobs=12 processed=0 cancelled=12 sum=0 ' <<<"$output")" 2
    assert_equal "$(grep -c '^timed out: true$' <<<"$output")" 2
    assert_equal "${lines[-1]}" "break: most goroutines at once (main aside): 4 with the pool (3 workers + the feeder), 12 with one goroutine per job"
}

@test "05-worker-pool: the race detector finds nothing, with a timeout and --break" {
    # The counters, the done channel's close and the results: a race anywhere
    # in them would be reported (ThreadSanitizer in C, go build -race in Go).
    run_bounded 30 "$TSAN_BIN/05-worker-pool" --break -w 3 -n 40 --work 2ms --timeout 20ms
    assert_success
    assert_no_stderr
    assert_equal "$(grep -c '^summary: jobs=40 ' <<<"$output")" 2
}

@test "05-worker-pool: bad flags and values: exit 2, nothing on stdout, the error and the usage on stderr" {
    assert_bad_flags 05-worker-pool "-w 0" "-w 1001" "-w x" "-n 0" "-n 10001" \
        "-n 99999999999999999999" "-n" "--work 1" "--work -5ms" "--timeout" "--timeout soon" \
        "--timeout -1s" "--break=bounded" "--orderd" "-v" "-j 20" "--cost 1ms" "jobs"
}

@test "05-worker-pool: a value out of range is named as Go's flag package names it" {
    run_bounded 5 "$BIN/05-worker-pool" -w 1001
    assert_equal "$status" 2
    assert_equal "${stderr_lines[0]}" 'invalid value "1001" for flag -w: must be 1..1000'
    run_bounded 5 "$BIN/05-worker-pool" --work -5ms
    assert_equal "$status" 2
    assert_equal "${stderr_lines[0]}" 'invalid value "-5ms" for flag -work: must not be negative'
}

@test "05-worker-pool: -h and --help: the usage on stderr, exit 0, the same in C and Go" {
    assert_help 05-worker-pool
    assert_equal "$(tail -n +2 <<<"$stderr")" "$(printf '%s\n' \
        "  -break" $'    \trun the pool, then one goroutine per job, and compare: unbounded' \
        "  -n int" $'    \tjobs to run, 1..10000 (default 20)' \
        "  -ordered" $'    \tprint the results by job id' \
        "  -timeout duration" $'    \tcancel the jobs not done by then (0: never)' \
        "  -w int" $'    \tworkers in the pool, 1..1000 (default 4)' \
        "  -work duration" $'    \tthe time a job takes (default 1ms)')"
}
