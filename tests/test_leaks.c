/* test_leaks.c: the leak check (go_leaks and GOLEAK=1, common/go.h), in the
 * spirit of goleak's own tests: nothing reported when every goroutine has
 * returned, even a moment late; each one still alive named with the function
 * it started in. */
#include "common/chan.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "testlib.h"

static void return_at_once(void *arg) {
    (void)arg;
}

static void sleep_a_while(void *arg) {
    (void)arg;
    time_sleep(100 * MILLISECOND);
}

static void recv_forever(void *arg) {
    chan_recv(arg, NULL);
}

static void none_when_every_goroutine_returned(void) {
    waitgroup wg = WAITGROUP_INIT;
    for (int i = 0; i < 50; i++)
        wg_go(&wg, return_at_once, NULL);
    wg_wait(&wg); /* done, but their threads may not have returned yet */
    EXPECT_EQ(0, go_leaks(TEST_SECONDS(5)));
}

static void waits_for_goroutines_that_are_about_to_return(void) {
    instant start = time_now(); /* before they start: each returns 100 ms after it */
    for (int i = 0; i < 5; i++)
        go(sleep_a_while, NULL);
    EXPECT_EQ(0, go_leaks(TEST_SECONDS(5)));
    EXPECT(time_since(start) >= 100 * MILLISECOND); /* it waited for them */
}

/* Run by name: prints what go_leaks found, then exits 0 if it found exactly
 * the blocked goroutine, and none once it is released. */
static void names_a_goroutine_blocked_forever(void) {
    chan *c = chan_make(0, 0);
    go(recv_forever, c);
    go(return_at_once, NULL);
    EXPECT_EQ(1, go_leaks(50 * MILLISECOND));
    chan_close(c); /* now it returns */
    EXPECT_EQ(0, go_leaks(TEST_SECONDS(5)));
    chan_free(c);
    exit(atomic_load(&test_failures_) ? 1 : 0);
}

/* Run by name with GOLEAK=1: main returns with a goroutine still blocked. */
static void exit_with_a_leak(void) {
    chan *c = chan_make(0, 0);
    go(recv_forever, c);
    exit(0);
}

/* Run by name with GOLEAK=1: main returns after its goroutines did. */
static void exit_without_a_leak(void) {
    waitgroup wg = WAITGROUP_INIT;
    for (int i = 0; i < 10; i++)
        wg_go(&wg, sleep_a_while, NULL);
    wg_wait(&wg);
    exit(0);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(none_when_every_goroutine_returned),
        TEST(waits_for_goroutines_that_are_about_to_return),
        TEST_EXIT(names_a_goroutine_blocked_forever),
        TEST_EXIT(exit_with_a_leak),
        TEST_EXIT(exit_without_a_leak),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
