/* panic.c: panic, fatal error and the allocator that dies instead of
 * returning NULL.
 *
 * Invariants: ending is set once, by whoever claims the end of the process
 * first (a panic, a fatal error, or exit's atexit handler); it is never
 * cleared. Its functions may be called from any thread, with any lock of
 * common/ held: they take no lock (stderr's own aside), which is why a fatal
 * error may come from deep inside the scheduler.
 *
 * Locking order: none.
 */
#include "common/internal/panic.h"

#include <execinfo.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Thread_local long rt_goid;

static atomic_bool ending;

/* The first to end the process goes on; a second waits for it to finish. */
static void claim_the_end(void) {
    if (atomic_exchange(&ending, true))
        for (;;)
            pause();
}

/* exit() claims too: main returning while a goroutine panics must not end the
 * process with status 0 after the panic's message. 101: before go.c's
 * GOLEAK handler is registered, so that the leak check runs first. */
static void claim_at_exit(void) {
    claim_the_end();
}

__attribute__((constructor(101))) static void panic_init(void) {
    atexit(claim_at_exit);
}

_Noreturn void go_panic(const char *msg) {
    claim_the_end();
    fprintf(stderr, "panic: %s\n\n", msg);
    if (rt_goid > 0)
        fprintf(stderr, "goroutine %ld [running]:\n", rt_goid);
    else
        fprintf(stderr, "goroutine ? [running]:\n");
    void *frames[64];
    backtrace_symbols_fd(frames, backtrace(frames, 64), STDERR_FILENO);
    const char *traceback = getenv("GOTRACEBACK");
    if (traceback && strcmp(traceback, "crash") == 0)
        abort();
    _exit(2);
}

_Noreturn void go_fatal(const char *msg) {
    claim_the_end();
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
