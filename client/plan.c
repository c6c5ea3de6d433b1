/* plan.c - the parts of a batch still to send, and what an answer does to
 * them (see plan.h for the contract and the bounds).
 *
 * The parts are a stack whose top is the leftmost part not yet settled. A
 * split pops a part and pushes its second half, then its first, so the
 * stack always lists, from top to bottom, contiguous ranges in the batch's
 * order. The first half is the smaller one for an odd count, as the 413
 * split always did.
 */
#include "autoconfig.h"

#include "client/plan.h"

#include <limits.h>
#include <string.h>

void eyec_plan_init(struct eyec_plan *p, size_t n, unsigned server_error_attempts)
{
    memset(p, 0, sizeof(*p));
    p->server_error_attempts = server_error_attempts;
    if (n == 0)
        return;
    p->parts[0].count = n;
    p->depth = 1;
}

const struct eyec_part *eyec_plan_next(const struct eyec_plan *p)
{
    return p->depth > 0 ? &p->parts[p->depth - 1] : NULL;
}

size_t eyec_plan_pending(const struct eyec_plan *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->depth; i++)
        n += p->parts[i].count;
    return n;
}

void eyec_plan_abandon(struct eyec_plan *p)
{
    p->depth = 0;
}

/* Replaces the top part (count >= 2) by its two halves, fresh: a half has
 * not been answered yet, so its retries and server errors start at 0. The
 * stack has room: each split adds one part and halves the top one, so
 * the depth stays below the bits of size_t plus two. */
static void plan_split(struct eyec_plan *p)
{
    struct eyec_part whole = p->parts[p->depth - 1];
    size_t half = whole.count / 2;
    p->parts[p->depth - 1] =
        (struct eyec_part){.first = whole.first + half, .count = whole.count - half};
    p->parts[p->depth] = (struct eyec_part){.first = whole.first, .count = half};
    p->depth++;
}

/* The top part is sent again after the backoff of its retries so far. */
static enum eyec_step plan_retry(struct eyec_part *top, unsigned *backoff_attempt)
{
    *backoff_attempt = top->retries;
    if (top->retries < UINT_MAX)
        top->retries++;
    return EYEC_STEP_RETRY;
}

enum eyec_step eyec_plan_answer(struct eyec_plan *p, enum eyec_verdict v, unsigned *backoff_attempt)
{
    struct eyec_part *top = &p->parts[p->depth - 1];
    switch (v) {
    case EYEC_DONE:
        p->depth--;
        return EYEC_STEP_ANSWERED;
    case EYEC_SPLIT:
        if (top->count < 2)
            break; /* one event too large: a rejection (eyec_classify says so too) */
        plan_split(p);
        return EYEC_STEP_SPLIT;
    case EYEC_REJECT:
        break;
    case EYEC_SERVER_ERROR:
        /* server_error_attempts 0: the caller asked never to give up. */
        if (p->server_error_attempts == 0 || ++top->server_errors < p->server_error_attempts)
            return plan_retry(top, backoff_attempt);
        if (top->count == 1) {
            p->depth--;
            return EYEC_STEP_GAVE_UP;
        }
        *backoff_attempt = top->retries;
        plan_split(p);
        return EYEC_STEP_SPLIT_WAIT;
    case EYEC_RETRY:
        return plan_retry(top, backoff_attempt);
    }
    p->depth--;
    return EYEC_STEP_REJECTED;
}
