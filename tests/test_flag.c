/* test_flag: a program with one flag of every kind, which prints what it
 * parsed. tests/common-flag.bats runs it on good and bad command lines and
 * compares it, line for line and exit status, with tests/flag_go/main.go: the
 * same flags in Go's own flag package. */
#include <stdio.h>

#include "common/flag.h"

int main(int argc, char **argv) {
    int n, w;
    bool ordered, v;
    duration work, timeout;
    const char *name, *brk;
    flag_int(&n, "n", 20, "jobs to run");
    flag_int_range(&w, "w", 4, 1, 1000, "workers in the pool");
    flag_bool(&ordered, "ordered", false, "print the results by job id");
    flag_bool(&v, "v", false, "verbose");
    flag_duration(&work, "work", MILLISECOND, "the time a task takes");
    flag_duration(&timeout, "timeout", 0, "give up after `limit` (0: never)");
    flag_string(&name, "name", "pool", "a name\nover two lines");
    flag_mode(&brk, "break", "share|nowait", "show the classic mistake: share or nowait");
    flag_parse(argc, argv);
    char a[DURATION_STRING_SIZE], b[DURATION_STRING_SIZE];
    printf("n=%d w=%d ordered=%d v=%d work=%s timeout=%s name=%s break=%s\n", n, w, ordered, v,
           duration_string(work, a), duration_string(timeout, b), name, brk ? brk : "off");
    for (int i = 0; i < flag_nargs(); i++)
        printf("arg %s\n", flag_args()[i]);
    return 0;
}
