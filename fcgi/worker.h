/* worker.h - what one eye.fcgi worker thread owns.
 *
 * Everything a request needs that can be allocated once is allocated here
 * at thread start, sized by the configured limits: the body buffer, the
 * body decoder, the queue rows, the verdicts. The request path then
 * allocates only what json-c builds for the parsed body.
 */
#ifndef EYE_FCGI_WORKER_H
#define EYE_FCGI_WORKER_H

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stddef.h>

#include "fcgi/auth.h"
#include "fcgi/commit.h"
#include "fcgi/dbconn.h"
#include "lib/config.h"
#include "queue/batch.h"
#include "queue/row.h"
#include "validators/body.h"
#include "validators/event.h"

struct worker {
    int index;
    const struct config *cfg;
    struct auth_cache *auth;     /* shared by all workers */
    struct committer *committer; /* shared; NULL: commit on db */
    FCGX_Request fcgx;
    struct dbconn db;      /* ingest account: keys (and the queue without group commit) */
    struct dbconn read_db; /* analyst account: the read API, opened on first use */
    struct queue_batch *batch;
    struct body_decoder *decoder;   /* ingest's limits */
    char *body_buf;                 /* ingest.max_body_bytes */
    struct event_verdict *verdicts; /* ingest.max_events_per_request */
    struct queue_row *rows;         /* one per event: the batch borrows from them */
};

/* Allocates what the worker owns. Returns false (logged) when out of
 * memory; worker_free then releases what was allocated. */
bool worker_init(struct worker *w, int index, const struct config *cfg, struct auth_cache *auth,
                 struct committer *committer);

/* Releases everything the worker owns (safe on a partly initialised one). */
void worker_free(struct worker *w);

#endif
