/* panic.c: panic, fatal error and the allocator that dies instead of
 * returning NULL.
 *
 * Invariants: none of its own; it holds no state. Its functions may be called
 * from any thread, with any lock of common/ held: they take no lock (stderr's
 * own aside), which is why a fatal error may come from deep inside the
 * scheduler.
 *
 * Locking order: none.
 */
#include "common/internal/panic.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

_Noreturn void go_panic(const char *msg) {
    fprintf(stderr, "panic: %s\n", msg);
    abort();
}

_Noreturn void go_fatal(const char *msg) {
    /* What the program printed so far stays before the report, as in Go. */
    fflush(stdout);
    fprintf(stderr, "fatal error: %s\n", msg);
    _exit(2);
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p)
        go_fatal("out of memory");
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        go_fatal("out of memory");
    return p;
}
