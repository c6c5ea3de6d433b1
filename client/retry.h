/* retry.h - when to send a batch again (internal to libeyeclient).
 *
 * Pure functions, no I/O and no clock of their own: the caller passes the
 * time and the random number, so unit tests can pin both.
 */
#ifndef EYE_CLIENT_RETRY_H
#define EYE_CLIENT_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The longest Retry-After honoured (one hour): a larger value is taken as
 * this, so a bogus header cannot park the sender for days. */
#define EYEC_RETRY_AFTER_MAX_MS INT64_C(3600000)

/* What to do with a batch after an answer. */
enum eyec_verdict {
    EYEC_DONE,         /* answered: 2xx, or 422 (every event rejected, each in the body) */
    EYEC_RETRY,        /* "not now": no answer (status 0), 503, 502, 504, any 5xx with
                          Retry-After, 408 or 429: send the same batch again, for as
                          long as it takes */
    EYEC_SERVER_ERROR, /* any other 5xx (500 internal_error): the server failed
                          on this batch; maybe on one event of it (see plan.h) */
    EYEC_SPLIT,        /* 413 on a batch of more than one event: send each half */
    EYEC_REJECT,       /* any other status: the server refuses the batch; never retried */
};

/* Classifies an HTTP status (0 when no answer came) for a batch of `events`
 * events; retry_after tells whether the answer carried a readable
 * Retry-After. */
enum eyec_verdict eyec_classify(long status, size_t events, bool retry_after);

/* Backoff before retry number `attempt` (0 for the first retry), in ms:
 * "equal jitter" - with hi = min(max_ms, base_ms * 2^attempt), a value in
 * [hi / 2, hi] chosen by `random` (uniform over its 64 bits). Never
 * overflows, whatever attempt is. */
int64_t eyec_backoff_ms(unsigned attempt, unsigned base_ms, unsigned max_ms, uint64_t random);

/* Parses a Retry-After value: delta-seconds ("120") or an HTTP-date ("Wed,
 * 21 Oct 2015 07:28:00 GMT", and the obsolete RFC 850 and asctime forms),
 * relative to `now`. Surrounding blanks are allowed. Returns true with
 * *delay_ms set (0 for a date in the past, at most EYEC_RETRY_AFTER_MAX_MS),
 * or false, *delay_ms untouched, when the value is neither. */
bool eyec_retry_after_ms(const char *value, time_t now, int64_t *delay_ms);

/* The wait before the next attempt: the backoff, or the server's
 * Retry-After when it asks for longer (retry_after_ms < 0: none given). */
int64_t eyec_retry_delay_ms(int64_t backoff_ms, int64_t retry_after_ms);

#endif
