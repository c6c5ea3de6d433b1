/* browser_limit.h - the per-key request rate limit of browser keys.
 *
 * A browser key is public: anyone can copy it out of a page. Each key gets
 * a token bucket (browser.rate_limit_burst tokens, refilled at
 * browser.rate_limit_per_second) in each eye.fcgi process; a request
 * without a token is answered 429 with Retry-After. The buckets are the
 * process's own (lighttpd's max-procs processes each keep theirs), held in
 * a fixed table indexed by key id under one mutex: a collision of two keys
 * shares a bucket, which errs on the strict side for both.
 */
#ifndef EYE_FCGI_BROWSER_LIMIT_H
#define EYE_FCGI_BROWSER_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* Takes one token of key_id's bucket at now_us. Returns true when there
 * was one; otherwise false and *retry_after_s is the whole number of
 * seconds (at least 1) until there is. per_second 0 never limits. */
bool browser_limit_take(unsigned int key_id, int64_t now_us, int64_t per_second, int64_t burst,
                        int64_t *retry_after_s);

#endif
