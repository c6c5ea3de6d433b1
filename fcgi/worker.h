/* worker.h - what one eye.fcgi worker thread owns.
 *
 * Everything a request needs that can be allocated once is allocated here
 * at thread start, sized by the configured limits: the body buffer, the
 * JSON tokener, the queue rows, the verdicts. The request path then
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
#include "fcgi/queue.h"
#include "lib/config.h"
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
    struct json_tokener *tok;
    char *body_buf;    /* ingest.max_body_bytes */
    char *inflate_buf; /* ingest.max_decompressed_bytes, allocated on first gzip body */
    struct event_verdict *verdicts; /* ingest.max_events_per_request */
    char (*event_ids)[37];          /* ids assigned at ingest, per event */
    char (*messages)[160];          /* error messages made at ingest, per event */
};

/* Allocates what the worker owns. Returns false (logged) when out of
 * memory; worker_free then releases what was allocated. */
bool worker_init(struct worker *w, int index, const struct config *cfg, struct auth_cache *auth,
                 struct committer *committer);

/* Releases everything the worker owns (safe on a partly initialised one). */
void worker_free(struct worker *w);

#endif
