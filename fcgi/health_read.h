/* health_read.h - the read side in /v1/health: which servers this process
 * uses, and how far behind the writer the read API's server is.
 *
 * Adds to the health body:
 *   "writer_endpoint": "host:port"   the process's current writer
 *   "read_database": {"state": "up" | "down", "endpoint": "host:port",
 *                     "lag_seconds": 0.0, "heartbeat_age_seconds": 0.4,
 *                     "writer": "host:port"}
 * lag_seconds is the writer's heartbeat minus the reader's (0 when the
 * reader has the writer's latest beat; null when the writer cannot be
 * asked); heartbeat_age_seconds is how old the reader's beat is by the
 * reader's clock (up to the spool's 1 s beat interval when caught up; it
 * grows when no spooler runs); writer is the node the beat came from.
 * Both are null before migration 010 or before a spooler ran.
 */
#ifndef EYE_FCGI_HEALTH_READ_H
#define EYE_FCGI_HEALTH_READ_H

#include <json-c/json.h>

#include "fcgi/worker.h"

/* Adds the members above to body (a JSON object, not taken over). Uses the
 * worker's analyst connection and, for the writer's beat, its ingest
 * connection; a lost connection is reset (the next use reconnects). */
void health_read_add(struct worker *w, struct json_object *body);

#endif
