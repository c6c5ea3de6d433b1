/* ratelimit.h - token buckets: how fast one client may go.
 *
 * Two tables, one per use:
 *   RATELIMIT_BROWSER_KEY   requests of one browser key (a public key anyone
 *                           can copy out of a page), by key id;
 *   RATELIMIT_AUTH_FAILURE  failed authentications of one client address
 *                           (request_client_id): past its allowance the
 *                           address gets no key lookup (router.c), so that
 *                           guessing keys, or a well-formed unknown key
 *                           that costs a database query, is bounded.
 * Each bucket holds `burst` tokens and gains `per_second` a second. The
 * buckets are the process's own (lighttpd's max-procs processes each keep
 * theirs), held in a fixed table per use indexed by the id under one mutex:
 * a collision of two ids shares a bucket, which errs on the strict side for
 * both.
 */
#ifndef EYE_FCGI_RATELIMIT_H
#define EYE_FCGI_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

enum ratelimit_table { RATELIMIT_BROWSER_KEY, RATELIMIT_AUTH_FAILURE, RATELIMIT_TABLES };

/* Takes one token of id's bucket at now_us. Returns true when there was
 * one; otherwise false and *retry_after_s is the whole number of seconds
 * (at least 1) until there is. per_second 0 never limits. */
bool ratelimit_take(enum ratelimit_table table, uint64_t id, int64_t now_us, int64_t per_second,
                    int64_t burst, int64_t *retry_after_s);

/* Like ratelimit_take, but takes nothing: whether id has a token now. */
bool ratelimit_check(enum ratelimit_table table, uint64_t id, int64_t now_us, int64_t per_second,
                     int64_t burst, int64_t *retry_after_s);

#endif
