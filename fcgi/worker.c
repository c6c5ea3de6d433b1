/* worker.c - allocation of a worker thread's long-lived buffers. */
#include "autoconfig.h"

#include "fcgi/worker.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

bool worker_init(struct worker *w, int index, const struct config *cfg, struct auth_cache *auth,
                 struct committer *committer)
{
    memset(w, 0, sizeof(*w));
    w->index = index;
    w->cfg = cfg;
    w->auth = auth;
    w->committer = committer;
    dbconn_init(&w->db, cfg, &cfg->accounts.ingest, false);
    dbconn_init(&w->read_db, cfg, &cfg->accounts.analyst, true);
    size_t max_events = (size_t)cfg->ingest.max_events_per_request;
    /* One row more than events: a request-level error is one row. */
    w->batch = queue_batch_new(max_events + 1);
    struct body_limits limits = {
        .max_decompressed_bytes = (size_t)cfg->ingest.max_decompressed_bytes,
        .max_events = max_events,
        .max_depth = (int)cfg->ingest.max_depth,
    };
    w->decoder = body_decoder_new(&limits);
    w->body_buf = malloc((size_t)cfg->ingest.max_body_bytes);
    w->verdicts = calloc(max_events, sizeof(*w->verdicts));
    w->rows = calloc(max_events, sizeof(*w->rows));
    if (w->batch == NULL || w->decoder == NULL || w->body_buf == NULL || w->verdicts == NULL ||
        w->rows == NULL) {
        log_error("worker %d: out of memory at start", index);
        return false;
    }
    if (FCGX_InitRequest(&w->fcgx, 0, 0) != 0) {
        log_error("worker %d: FCGX_InitRequest failed", index);
        return false;
    }
    return true;
}

void worker_free(struct worker *w)
{
    dbconn_reset(&w->db);
    dbconn_reset(&w->read_db);
    queue_batch_free(w->batch);
    body_decoder_free(w->decoder);
    free(w->body_buf);
    free(w->verdicts);
    free(w->rows);
    memset(w, 0, sizeof(*w));
}
