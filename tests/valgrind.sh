#!/usr/bin/env bash
# Runs each test program of common/ under valgrind: any error, or any block
# definitely lost, fails. TEST_QUICK=1 makes the stress cases smaller, since
# valgrind runs one thread at a time.
set -u
status=0
for prog in "$@"; do
    echo "valgrind: $(basename "$prog")"
    if ! TEST_QUICK=1 timeout -k 5 600 valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite "$prog" >/dev/null; then
        echo "valgrind: $(basename "$prog") FAILED" >&2
        status=1
    fi
done
exit $status
