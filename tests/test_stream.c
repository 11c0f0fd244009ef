/* test_stream.c: or_done (common/stream.h): every value once and in order,
 * and the stage gone as soon as done is closed, wherever it was waiting. */
#include "common/chan.h"
#include "common/go.h"
#include "common/stream.h"
#include "testlib.h"

/* A closed channel holding 1..n. */
static chan *numbers(int n) {
    chan *c = chan_make(sizeof(int), (size_t)n);
    for (int v = 1; v <= n; v++)
        chan_send(c, &v);
    chan_close(c);
    return c;
}

/* Reads c to its end: every value must be the next of 1, 2, 3, ...; returns
 * how many there were. */
static int read_in_order(chan *c) {
    int v, n = 0;
    while (chan_recv(c, &v)) {
        EXPECT_EQ(n + 1, v);
        n++;
    }
    return n;
}

static void stages_are_gone(int before) {
    WAIT_FOR(go_num_goroutines() == before, 5);
}

static void or_done_forwards_every_value_in_order_then_closes(void) {
    int before = go_num_goroutines();
    chan *in = numbers(1000), *done = chan_make(0, 0);
    chan *out = or_done(done, in, sizeof(int));
    EXPECT_EQ(1000, read_in_order(out));
    chan_free(out), chan_free(in), chan_free(done);
    stages_are_gone(before);
}

static void or_done_with_a_nil_done_forwards_to_the_end(void) {
    int before = go_num_goroutines();
    chan *in = numbers(100);
    chan *out = or_done(NULL, in, sizeof(int));
    chan_free(in); /* the stage holds its own reference */
    EXPECT_EQ(100, read_in_order(out));
    chan_free(out);
    stages_are_gone(before);
}

static void or_done_returns_on_done_while_blocked_sending(void) {
    int before = go_num_goroutines();
    chan *in = numbers(1000), *done = chan_make(0, 0);
    chan *out = or_done(done, in, sizeof(int));
    int v;
    for (int i = 1; i <= 3; i++) {
        EXPECT(chan_recv(out, &v));
        EXPECT_EQ(i, v);
    }
    chan_close(done); /* the stage holds value 4, or is about to */
    stages_are_gone(before);
    EXPECT(!chan_recv(out, &v)); /* closed, and nothing more came */
    chan_free(out), chan_free(in), chan_free(done);
}

static void or_done_returns_on_done_while_blocked_receiving(void) {
    int before = go_num_goroutines();
    chan *in = chan_make(sizeof(int), 0), *done = chan_make(0, 0);
    chan *out = or_done(done, in, sizeof(int));
    chan_close(done);
    int v;
    EXPECT(!chan_recv(out, &v));
    stages_are_gone(before);
    chan_free(out), chan_free(in), chan_free(done);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(or_done_forwards_every_value_in_order_then_closes),
        TEST(or_done_with_a_nil_done_forwards_to_the_end),
        TEST(or_done_returns_on_done_while_blocked_sending),
        TEST(or_done_returns_on_done_while_blocked_receiving),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
