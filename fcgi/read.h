/* read.h - the read API: events, session timelines and errors over HTTP.
 *
 *   GET /v1/events?session_id=&category=&name=&from=&to=&limit=&after=
 *   GET /v1/sessions/{session_id}/events?limit=&after=
 *   GET /v1/errors?code=&app=&from=&to=&limit=&after=
 *   GET /api/events/?session=&category=&date-from=&date-to=   (the prototype's)
 *
 * Read-scope keys only: an all-data key sees every application, an
 * application-scoped one (api_keys.app_only) its own application's rows.
 * Results are ordered (occurrence time then id; a
 * timeline by its sequence number; errors by receive time then id) and paged
 * by an opaque keyset cursor (`after`, returned as `next`), never OFFSET.
 * Rows are written to the client one by one, never built as one document:
 * JSON by default, NDJSON with Accept: application/x-ndjson. `from` is
 * inclusive and `to` exclusive; the prototype's date-from and date-to are
 * both inclusive, as its Django __range was. See README "The read API".
 */
#ifndef EYE_FCGI_READ_H
#define EYE_FCGI_READ_H

#include "fcgi/auth.h"
#include "fcgi/read_params.h"
#include "fcgi/request.h"
#include "fcgi/worker.h"

/* Answers a GET on route authorized for the read key who (always, once);
 * session_raw is the {session_id} path segment of READ_TIMELINE as sent,
 * still %-encoded (NULL otherwise). A parameter or segment that does not
 * decode to UTF-8 text is a 400 invalid_parameter naming it. An
 * application-scoped key (who->app_only) sees only who->application_id's
 * events, errors and timelines, whatever it asks for. */
void read_handle(struct worker *w, struct request *r, const struct auth_identity *who,
                 enum read_route route, const char *session_raw);

#endif
