/* ingest.h - the write path: POST /v1/events (and the prototype's
 * POST /api/events/).
 *
 * Reads and decodes the body (JSON object or array, or NDJSON; optionally
 * gzip), validates each event against the live rules, queues every event
 * (valid or not, flagged with its first error) in one committed bulk insert,
 * then answers: 202 when at least one event was accepted, 422 when none,
 * 4xx for a body that is not a batch of events at all (recorded too), 503
 * when the database cannot take the write. See README "Ingest API".
 */
#ifndef EYE_FCGI_INGEST_H
#define EYE_FCGI_INGEST_H

#include "fcgi/auth.h"
#include "fcgi/request.h"
#include "fcgi/worker.h"

/* Handles one authenticated write request and answers it. */
void ingest_handle(struct worker *w, struct request *r, const struct auth_identity *who);

#endif
