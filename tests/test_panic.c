/* test_panic.c: how a panic ends the process (common/internal/panic.h): Go's
 * message, "goroutine N [running]:" and status 2, and a panic racing main's
 * return either wins or says nothing: never its message with status 0. */
#include "common/chan.h"
#include "common/go.h"
#include "testlib.h"

static atomic_bool about_to_panic;

static void send_on_closed(void *arg) {
    chan *c = arg;
    atomic_store(&about_to_panic, true);
    chan_send(c, NULL); /* closed: panics */
}

/* Run by name: a goroutine panics just as main returns. */
static void panic_while_main_returns(void) {
    chan *c = chan_make(1, 0);
    chan_close(c);
    go(send_on_closed, c);
    while (!atomic_load(&about_to_panic)) {
    }
    exit(0);
}

/* Run by name: a goroutine panics while main waits. */
static void panic_in_a_goroutine(void) {
    chan *c = chan_make(1, 0);
    chan_close(c);
    go(send_on_closed, c);
    for (;;)
        time_sleep(SECOND);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST_EXIT(panic_while_main_returns),
        TEST_EXIT(panic_in_a_goroutine),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
