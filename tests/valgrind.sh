#!/usr/bin/env bash
# Runs each test program of common/ under valgrind: any error, or any block
# definitely lost, fails. TEST_QUICK=1 makes the stress cases smaller, since
# valgrind runs one thread at a time, and TEST_VALGRIND=1 drops the bounds on
# resident memory (valgrind's own).
#
# --fair-sched=yes: valgrind runs one thread at a time under a lock of its own,
# and by default a thread that gives it back (at a system call) may take it
# again at once, which no kernel scheduler does. A goroutine then never gets a
# lock another thread releases and retakes in a loop (the timer thread firing a
# 1 ns ticker starved the receiver of its channel: the case hung for 300 s).
# Round-robin hand-over is what the kernel gives a woken thread.
set -u
status=0
for prog in "$@"; do
    echo "valgrind: $(basename "$prog")"
    if ! TEST_QUICK=1 TEST_VALGRIND=1 timeout -k 5 600 valgrind -q --fair-sched=yes \
        --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite "$prog" >/dev/null; then
        echo "valgrind: $(basename "$prog") FAILED" >&2
        status=1
    fi
done
exit $status
