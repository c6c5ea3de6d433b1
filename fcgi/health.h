/* health.h - GET /v1/health: can this process serve, and how is the queue.
 *
 * Answers 200 with the database state, the live rule-set version and the
 * queue's depth and age as the queue watcher last read them; 503 when the
 * database cannot be reached. No key is needed: load balancers ask it.
 */
#ifndef EYE_FCGI_HEALTH_H
#define EYE_FCGI_HEALTH_H

#include "fcgi/request.h"
#include "fcgi/worker.h"

/* Answers r (always, once). Pings the database on the worker's ingest
 * connection, replacing a connection that died while idle once. */
void health_handle(struct worker *w, struct request *r);

#endif
