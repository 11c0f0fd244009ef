/* breaker.h: a circuit breaker, as sony/gobreaker's CircuitBreaker.
 *
 *     cb := gobreaker.NewCircuitBreaker(st)  ->  breaker cb;  breaker_init(&cb, st);
 *     _, err := cb.Execute(req)              ->  err = breaker_execute(&cb, fn, arg);
 *     cb.State()                             ->  breaker_current_state(&cb)
 *     cb.Counts()                            ->  breaker_current_counts(&cb)
 *     (the two halves of Execute)            ->  breaker_before(), breaker_after()
 *
 * The three states:
 * - closed: every request goes through, and the breaker counts how they end;
 *   after trip_after consecutive failures it opens.
 * - open: every request fails at once with err_open_state, for timeout; the
 *   first request after that finds the breaker half-open.
 * - half-open: max_requests requests go through, the others fail at once with
 *   err_too_many_requests; max_requests consecutive successes close the
 *   breaker, a single failure opens it again.
 * Every change of state starts a new generation and clears the counts, and a
 * request counts only in the generation it started in: a slow request that
 * was let through while closed and ends after the breaker opened is not
 * counted again. With an interval, a closed breaker also clears its counts
 * each interval.
 *
 * Like gobreaker, the breaker sets no timer: it reads its clock when a
 * request starts and when it ends, so the move from open to half-open
 * happens at the first request after the timeout, and is reported at that
 * instant. The clock is a setting: now(clock), time_now when NULL; main.c
 * runs on the real clock, tests/test_breaker.c on a fake one.
 *
 * Contract: many goroutines may use one breaker at once; its mutex is never
 * held while a request runs. on_state_change(arg, from, to, at) is called in
 * the order of the changes, with the mutex held: it must not call the
 * breaker. Errors are strings compared by pointer. The functions are static
 * inline: each program that includes this header gets its own copy.
 * Ownership: a breaker lives where its caller puts it; breaker_destroy after
 * the last request.
 */
#ifndef PATTERNS_CIRCUIT_BREAKER_BREAKER_H
#define PATTERNS_CIRCUIT_BREAKER_BREAKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/timer.h"

/* gobreaker's order: StateClosed, StateHalfOpen, StateOpen. */
typedef enum breaker_state { STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN } breaker_state;
static const char *const state_name[] = {"closed", "half-open", "open"};

static const char err_open_state[] = "circuit breaker is open";
static const char err_too_many_requests[] = "too many requests";

/* What the breaker knows of the requests of its current generation. */
typedef struct breaker_counts {
    uint32_t requests; /* let through */
    uint32_t total_successes, total_failures;
    uint32_t consecutive_successes, consecutive_failures;
} breaker_counts;

typedef struct breaker_settings {
    uint32_t max_requests;       /* half-open: let through, and the successes that close; 0: 1 */
    duration interval;           /* closed: the counts are cleared this often; 0: never */
    duration timeout;            /* open: for how long; 0: 60 s */
    uint32_t trip_after;         /* closed: the consecutive failures that open it; 0: 6 */
    instant (*now)(void *clock); /* the clock; NULL: time_now */
    void *clock;
    void (*on_state_change)(void *arg, breaker_state from, breaker_state to, instant at);
    void *arg;
} breaker_settings;

typedef struct breaker {
    pthread_mutex_t mu;
    breaker_settings s;  /* set by breaker_init, then only read */
    breaker_state state; /* guarded by mu, as is everything below */
    uint64_t generation; /* changes with the state, and at each interval */
    breaker_counts counts;
    bool expires;   /* open: always; closed: with an interval; half-open: never */
    instant expiry; /* when the state (or the closed interval) ends */
} breaker;

static inline instant breaker_now_(breaker *cb) {
    return cb->s.now ? cb->s.now(cb->s.clock) : time_now();
}

/* A new generation: the counts cleared, and the expiry of the state. */
static inline void breaker_new_generation_(breaker *cb, instant now) {
    cb->generation++;
    cb->counts = (breaker_counts){0};
    cb->expires = cb->state == STATE_OPEN || (cb->state == STATE_CLOSED && cb->s.interval > 0);
    cb->expiry = now + (cb->state == STATE_OPEN ? cb->s.timeout : cb->s.interval);
}

static inline void breaker_set_state_(breaker *cb, breaker_state to, instant now) {
    if (cb->state == to)
        return;
    breaker_state from = cb->state;
    cb->state = to;
    breaker_new_generation_(cb, now);
    if (cb->s.on_state_change)
        cb->s.on_state_change(cb->s.arg, from, to, now);
}

/* The state at now: an open breaker whose timeout has passed (strictly, as
 * Go's expiry.Before(now)) is half-open; a closed one past its interval
 * starts a new generation. */
static inline breaker_state breaker_state_at_(breaker *cb, instant now) {
    if (cb->state == STATE_CLOSED && cb->expires && cb->expiry < now)
        breaker_new_generation_(cb, now);
    else if (cb->state == STATE_OPEN && cb->expiry < now)
        breaker_set_state_(cb, STATE_HALF_OPEN, now);
    return cb->state;
}

static inline void breaker_init(breaker *cb, breaker_settings s) {
    if (s.max_requests == 0)
        s.max_requests = 1;
    if (s.timeout <= 0)
        s.timeout = 60 * SECOND;
    if (s.trip_after == 0)
        s.trip_after = 6; /* gobreaker's ReadyToTrip: more than 5 consecutive failures */
    if (s.interval < 0)
        s.interval = 0;
    pthread_mutex_init(&cb->mu, NULL);
    cb->s = s;
    cb->state = STATE_CLOSED;
    cb->generation = 0;
    breaker_new_generation_(cb, breaker_now_(cb));
}

static inline void breaker_destroy(breaker *cb) {
    pthread_mutex_destroy(&cb->mu);
}

/* A request asks to go through: NULL and its generation if it may, else
 * err_open_state or err_too_many_requests. */
static inline const char *breaker_before(breaker *cb, uint64_t *generation) {
    pthread_mutex_lock(&cb->mu);
    breaker_state state = breaker_state_at_(cb, breaker_now_(cb));
    *generation = cb->generation;
    const char *err = NULL;
    if (state == STATE_OPEN)
        err = err_open_state;
    else if (state == STATE_HALF_OPEN && cb->counts.requests >= cb->s.max_requests)
        err = err_too_many_requests;
    else
        cb->counts.requests++;
    pthread_mutex_unlock(&cb->mu);
    return err;
}

/* A request let through in generation has ended: counted only if the
 * breaker is still in that generation. */
static inline void breaker_after(breaker *cb, uint64_t generation, bool success) {
    pthread_mutex_lock(&cb->mu);
    instant now = breaker_now_(cb);
    breaker_state state = breaker_state_at_(cb, now);
    breaker_counts *c = &cb->counts;
    if (generation != cb->generation) {
        /* from an older generation: it does not count */
    } else if (success) {
        c->total_successes++, c->consecutive_successes++, c->consecutive_failures = 0;
        if (state == STATE_HALF_OPEN && c->consecutive_successes >= cb->s.max_requests)
            breaker_set_state_(cb, STATE_CLOSED, now);
    } else {
        c->total_failures++, c->consecutive_failures++, c->consecutive_successes = 0;
        if (state == STATE_HALF_OPEN ||
            (state == STATE_CLOSED && c->consecutive_failures >= cb->s.trip_after))
            breaker_set_state_(cb, STATE_OPEN, now);
    }
    pthread_mutex_unlock(&cb->mu);
}

/* Runs fn(arg) if the breaker lets it through, and counts how it ended
 * (NULL: a success). Returns fn's error, or the breaker's. */
static inline const char *breaker_execute(breaker *cb, const char *(*fn)(void *arg), void *arg) {
    uint64_t generation;
    const char *err = breaker_before(cb, &generation);
    if (err != NULL)
        return err;
    err = fn(arg);
    breaker_after(cb, generation, err == NULL);
    return err;
}

static inline breaker_state breaker_current_state(breaker *cb) {
    pthread_mutex_lock(&cb->mu);
    breaker_state state = breaker_state_at_(cb, breaker_now_(cb));
    pthread_mutex_unlock(&cb->mu);
    return state;
}

static inline breaker_counts breaker_current_counts(breaker *cb) {
    pthread_mutex_lock(&cb->mu);
    breaker_counts counts = cb->counts;
    pthread_mutex_unlock(&cb->mu);
    return counts;
}

#endif
