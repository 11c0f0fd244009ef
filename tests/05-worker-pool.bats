#!/usr/bin/env bats
# 05-worker-pool: every job is processed exactly once, the sum is right, and
# the pool never has more than W workers (+ the feeder) alive at once; with a
# timeout, processed plus cancelled is every job; one goroutine per job has
# as many goroutines as jobs at once.
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

@test "default: 20 jobs on 4 workers, each once, the right sum, 4 workers + the feeder" {
    run_bounded 10 "$BIN/05-worker-pool"
    assert_success
    assert_no_stderr
    every_job_once 20
    assert_line "ctx.Err(): <nil>"
    # main starts the 4 workers and the feeder before any of them can return
    # (the workers wait for the feeder to close jobs): exactly 5, every run.
    assert_equal "${lines[-1]}" "summary: jobs=20 processed=20 cancelled=0 sum=2870 peak_goroutines=5"
    assert_equal "$(grep -c '^job ' <<<"$output")" 20
}

@test "W = 1, 2, 8 and W > J: every job once, the right sum, never more than W workers" {
    for w in 1 2 8 40; do
        echo "workers: $w"
        run_bounded 20 "$BIN/05-worker-pool" -w "$w" -j 30
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

@test "--ordered: results printed by job id" {
    run_bounded 20 "$BIN/05-worker-pool" --ordered -w 8 -j 50
    assert_success
    assert_no_stderr
    assert_equal "$(sed -n 's/^job \([0-9]*\) -> .*/\1/p' <<<"$output")" "$(seq 1 50)"
    assert_equal "$(summary_field sum)" "$(sum_of_squares 50)"
}

@test "--timeout: processed + cancelled = jobs, and the sum is that of the processed" {
    # 40 jobs of 10 ms on 2 workers need 200 ms: a 30 ms deadline cancels most.
    run_bounded 20 "$BIN/05-worker-pool" -w 2 -j 40 --cost 10ms --timeout 30ms
    assert_success
    assert_no_stderr
    every_job_once 40
    processed=$(summary_field processed) cancelled=$(summary_field cancelled)
    assert_equal $((processed + cancelled)) 40
    [ "$cancelled" -gt 0 ]
    assert_equal "$(grep -c '^job [0-9]* -> cancelled' <<<"$output")" "$cancelled"
    want=$(sed -n 's/^job [0-9]* -> \([0-9][0-9]*\) .*/\1/p' <<<"$output" | awk '{ s += $1 } END { print s + 0 }')
    assert_equal "$(summary_field sum)" "$want"
    assert_line "ctx.Err(): context deadline exceeded"
}

@test "--timeout 0: every job cancelled, none lost" {
    run_bounded 10 "$BIN/05-worker-pool" --timeout 0 --cost 1s -j 12
    assert_success
    every_job_once 12
    assert_line --partial "summary: jobs=12 processed=0 cancelled=12 sum=0 "
}

# check_break W J: the last run was --break -w W -j J: the pool's run, then
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
    assert_equal "${lines[-1]}" "break: most goroutines at once (main aside): $((w + 1)) with the pool ($w workers + the feeder), $j with one goroutine per job"
}

@test "--break=unbounded: one goroutine per job, as many at once as jobs, beside the pool's W + 1" {
    run_bounded 30 "$BIN/05-worker-pool" --break=unbounded -w 2 -j 30
    check_break 2 30
}

@test "--break with 300 jobs and no work: still 300 at once, the pool still 4 + 1" {
    run_bounded 30 "$BIN/05-worker-pool" --break -w 4 -j 300 --cost 0
    check_break 4 300
}

@test "--break --timeout 0: every job cancelled in both runs, none lost" {
    run_bounded 20 "$BIN/05-worker-pool" --break --timeout 0 --cost 1s -w 3 -j 12
    assert_success
    assert_no_stderr
    local lines_all=$output
    in_section "^pool of " "^summary: " every_job_once 12
    in_section "^one goroutine per job:$" "^summary: " every_job_once 12
    assert_equal "$(grep -c '^summary: jobs=12 processed=0 cancelled=12 sum=0 ' <<<"$output")" 2
    assert_equal "${lines[-1]}" "break: most goroutines at once (main aside): 4 with the pool (3 workers + the feeder), 12 with one goroutine per job"
}

@test "bad flags and values: exit 2, nothing on stdout, one line on stderr" {
    assert_bad_flags 05-worker-pool "-w 0" "-w 1001" "-w x" "-j 0" "-j 10001" \
        "-j 99999999999999999999" "-j" "--cost 1" "--cost -5ms" "--timeout" "--timeout soon" \
        "--break=bounded" "--orderd" "-v" "jobs"
}

@test "-h and --help: usage on stdout, exit 0" {
    assert_help 05-worker-pool
}
