/* plan.h - how one batch is sent: which part of it goes next, and what
 * each answer does to the parts (internal to libeyeclient).
 *
 * A batch starts as one part, all of its events. An answer settles the
 * part (accepted, or refused), or asks for it again (a retry), or splits
 * it into its two halves: at once on a 413 (too large for the server), and
 * after server_error_attempts server errors (EYEC_SERVER_ERROR, a 500),
 * because one event the server cannot take fails every request it is in.
 * A part of one event that gets that many server errors is given up on:
 * the caller rejects it (code "server_error"), and the rest of the batch
 * goes on. So one such event in a batch of n costs at most
 * K * (L + 1) failed requests and L requests of good halves, where
 * K = server_error_attempts and L = ceil(log2 n) levels of splitting
 * (31 requests for n = 100, K = 3), instead of a loop that never ends.
 *
 * Order: the parts still to send are kept first-on-top, and a part is
 * settled before the next is sent, so events are settled, and stored, in
 * the batch's order; a split sends no event twice that an answer had
 * settled. Events of a failed request are sent again with the same
 * event_id, which the server stores once (at-least-once delivery).
 *
 * Pure: no I/O, no clock, no allocation. The caller sends, waits and
 * counts; unit tests drive it with a simulated server.
 */
#ifndef EYE_CLIENT_PLAN_H
#define EYE_CLIENT_PLAN_H

#include <stddef.h>

#include "client/retry.h"

/* Deep enough for any batch size: a split replaces a part by its two
 * halves, so the stack holds one pending half per level of splitting
 * (at most one per bit of size_t) plus the part being sent. */
#define EYEC_PLAN_DEPTH (sizeof(size_t) * 8 + 2)

/* Events first .. first + count - 1 of the batch, sent as one request. */
struct eyec_part {
    size_t first;
    size_t count;
    unsigned retries;       /* answers that asked for this part again (the backoff's attempt) */
    unsigned server_errors; /* how many of those were server errors */
};

struct eyec_plan {
    unsigned server_error_attempts; /* K above; 0: a server error is retried as "not now" */
    size_t depth;                   /* parts[depth - 1] is sent next */
    struct eyec_part parts[EYEC_PLAN_DEPTH];
};

/* What the caller does after an answer to the part it sent. */
enum eyec_step {
    EYEC_STEP_ANSWERED,   /* settled by a 2xx/422: read the answer's per-event verdicts */
    EYEC_STEP_REJECTED,   /* the request was refused: reject every event of the part */
    EYEC_STEP_GAVE_UP,    /* a lone event failed server_error_attempts times: reject it as
                             "server_error" */
    EYEC_STEP_SPLIT,      /* 413: the part is now its two halves; send the first at once */
    EYEC_STEP_SPLIT_WAIT, /* repeated server errors: the part is now its two halves; wait the
                             backoff of *backoff_attempt, then send the first */
    EYEC_STEP_RETRY,      /* wait the backoff of *backoff_attempt, then send the part again */
};

/* Starts the plan of a batch of n events (n >= 1) as one part. */
void eyec_plan_init(struct eyec_plan *p, size_t n, unsigned server_error_attempts);

/* The part to send now, or NULL when every event is settled. The pointer
 * lives until the next eyec_plan_answer: copy the part before answering. */
const struct eyec_part *eyec_plan_next(const struct eyec_plan *p);

/* Events not settled yet (the caller drops them at its deadline). */
size_t eyec_plan_pending(const struct eyec_plan *p);

/* Gives up on every part left; eyec_plan_next then returns NULL. */
void eyec_plan_abandon(struct eyec_plan *p);

/* Applies the verdict (eyec_classify) of the answer to the part
 * eyec_plan_next returned, and says what to do. *backoff_attempt is set for
 * EYEC_STEP_RETRY and EYEC_STEP_SPLIT_WAIT (the eyec_backoff_ms attempt),
 * else left alone. The part is gone from the plan after ANSWERED, REJECTED,
 * GAVE_UP, and replaced by its halves after SPLIT and SPLIT_WAIT. Must not
 * be called when eyec_plan_next returns NULL. */
enum eyec_step eyec_plan_answer(struct eyec_plan *p, enum eyec_verdict v,
                                unsigned *backoff_attempt);

#endif
