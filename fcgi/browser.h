/* browser.h - requests from web pages: browser keys, origins and CORS.
 *
 * A browser key is a write key that may sit in public HTML. What makes
 * that safe is decided here, before the write path runs:
 *  - it is accepted only with an Origin header naming one of the origins
 *    it is bound to (403 origin_not_allowed otherwise, nothing stored);
 *  - write and read keys are refused from any Origin (a page), unless
 *    browser.allow_server_keys is on;
 *  - a key may come in the query string (?key=, for navigator.sendBeacon,
 *    which cannot set headers) only when it is a browser key: any other key
 *    there is 400 key_in_url, because URLs end up in logs;
 *  - a browser key gets smaller limits (browser.max_body_bytes,
 *    browser.max_events_per_request), may send text/plain (read as JSON,
 *    what a CORS-simple request can carry), and is rate limited
 *    (ratelimit.h: 429 with Retry-After).
 * Answers to allowed origins carry Access-Control-Allow-Origin with that
 * origin (never "*"); every answer to a request with an Origin carries
 * Vary: Origin. OPTIONS /v1/events answers preflights.
 */
#ifndef EYE_FCGI_BROWSER_H
#define EYE_FCGI_BROWSER_H

#include <stdbool.h>
#include <stddef.h>

#include "fcgi/auth.h"
#include "fcgi/request.h"
#include "fcgi/worker.h"

/* Finds and checks the request's key: the Authorization header, or else a
 * key= parameter of the query string. *in_url is true when the query string
 * has a key= parameter at all (beside the header, too). Same results as
 * auth_check; without may_lookup only cached keys are answered (a key that
 * would need a lookup is AUTH_THROTTLED). */
enum auth_result browser_authenticate(struct worker *w, struct request *r,
                                      struct auth_identity *who, bool *in_url, bool may_lookup);

/* True when a key of scope `have` may be used where `need` is required (a
 * browser key writes). */
bool browser_scope_allows(enum auth_scope have, enum auth_scope need);

/* The checks above for an authenticated key, before its handler runs.
 * Returns true, having added the CORS headers the answer must carry to r,
 * or answers the refusal and returns false. */
bool browser_admit(struct worker *w, struct request *r, const struct auth_identity *who,
                   bool in_url);

/* Answers OPTIONS /v1/events: a CORS preflight (204 with the Access-Control
 * headers for an allowed origin, 403 origin_not_allowed otherwise), or,
 * without an Origin, 204 with Allow. An origin is allowed when the key in
 * the query string (if any) is bound to it, or else when any active
 * browser key is. */
void browser_preflight(struct worker *w, struct request *r);

/* The body limit that applies to who's requests. */
size_t browser_body_cap(const struct config *cfg, const struct auth_identity *who);

/* The Content-Type to decode who's body as: text/plain (any parameters)
 * is JSON for a browser key; anything else is content_type itself. */
const char *browser_content_type(const struct auth_identity *who, const char *content_type);

/* The most events one of who's requests may carry. */
size_t browser_max_events(const struct config *cfg, const struct auth_identity *who);

#endif
