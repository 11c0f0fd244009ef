#!/usr/bin/env bash
# Practice files, made from a lesson's main.c and never kept as a second copy.
#
# In main.c, the lines that carry the lesson sit between two markers:
#     /* practice: start the workers: one go(worker, ...) per worker */
#     ...the reference lines...
#     /* end practice */
#
#   practice.sh make MAIN.C            main.c with each region replaced by
#                                      "/* TODO: HINT */" (on stdout)
#   practice.sh fill PRACTICE.C MAIN.C the practice file with each TODO put
#                                      back from main.c's regions, in order
#   practice.sh count MAIN.C           how many regions main.c marks
set -euo pipefail

begin='^[[:space:]]*/\* practice: (.*) \*/$'
end='^[[:space:]]*/\* end practice \*/$'

case "${1:-}" in
make)
    awk -v begin="$begin" -v end="$end" '
        $0 ~ begin {
            if (inside) { print FILENAME ":" NR ": practice region inside another" > "/dev/stderr"; exit 1 }
            inside = 1
            line = $0
            sub(/\/\* practice: /, "/* TODO: ", line)
            print line
            next
        }
        $0 ~ end {
            if (!inside) { print FILENAME ":" NR ": end practice without a start" > "/dev/stderr"; exit 1 }
            inside = 0
            next
        }
        !inside { print }
        END { if (inside) { print FILENAME ": practice region never ends" > "/dev/stderr"; exit 1 } }
    ' "$2"
    ;;
fill)
    # Each TODO line of the practice file becomes main.c's region again,
    # markers included: filled, the file is main.c byte for byte.
    awk -v begin="$begin" -v end="$end" '
        FNR == NR {
            if ($0 ~ begin) { n++; inside = 1 }
            if (inside) region[n] = region[n] $0 "\n"
            if ($0 ~ end) inside = 0
            next
        }
        /^[[:space:]]*\/\* TODO: .* \*\/$/ { k++; printf "%s", region[k]; next }
        { print }
        END { if (k != n) { print "practice file has " k " TODOs, main.c " n " regions" > "/dev/stderr"; exit 1 } }
    ' "$3" "$2"
    ;;
count)
    grep -Ec "$begin" "$2" || [ $? -eq 1 ]
    ;;
*)
    echo "usage: practice.sh make MAIN.C | fill PRACTICE.C MAIN.C | count MAIN.C" >&2
    exit 2
    ;;
esac
