/* stream.c: or_done (stream.h).
 *
 * One goroutine over a struct stage that it owns: references to its channels
 * and a buffer for one element. Nothing is shared but channels, so there is
 * no lock here; every wait is a select that includes done, which is what
 * lets the stage stop wherever it is.
 */
#include "common/stream.h"

#include <stdbool.h>
#include <stdlib.h>

#include "common/go.h"
#include "common/select.h"

struct stage {
    chan *done, *in, *out; /* a reference to each */
    void *elem;            /* one element of in */
};

static struct stage *stage_new(chan *done, chan *in, size_t elem_size) {
    struct stage *s = malloc(sizeof *s);
    void *elem = malloc(elem_size ? elem_size : 1);
    if (!s || !elem)
        abort();
    *s = (struct stage){.done = chan_ref(done), .in = chan_ref(in), .elem = elem};
    return s;
}

/* Closes the output and lets go of everything. */
static void stage_end(struct stage *s) {
    chan_close(s->out);
    chan_free(s->done), chan_free(s->in), chan_free(s->out);
    free(s->elem);
    free(s);
}

/* Receives from in into elem unless done is closed first: false when the
 * stream has ended, either way. */
static bool recv_or_done(chan *done, chan *in, void *elem) {
    select_case cases[2] = {select_recv(done, NULL), select_recv(in, elem)};
    return chan_select(cases, 2) == 1 && cases[1].ok;
}

/* Sends elem on out unless done is closed first: false if it was. */
static bool send_or_done(chan *done, chan *out, const void *elem) {
    select_case cases[2] = {select_send(out, elem), select_recv(done, NULL)};
    return chan_select(cases, 2) == 0;
}

static void or_done_main(void *arg) {
    struct stage *s = arg;
    while (recv_or_done(s->done, s->in, s->elem) && send_or_done(s->done, s->out, s->elem)) {
    }
    stage_end(s);
}

chan *or_done(chan *done, chan *in, size_t elem_size) {
    struct stage *s = stage_new(done, in, elem_size);
    s->out = chan_make(elem_size, 0);
    chan *out = chan_ref(s->out);
    go(or_done_main, s);
    return out;
}
