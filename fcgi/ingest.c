/* ingest.c - POST /v1/events: read, decode, validate, queue, answer (see
 * ingest.h).
 *
 * The body decoder (validators/body.c) turns the bytes into events, the
 * validator judges each, and queue/row.c decides what each becomes in
 * event_queue. Errors travel as values, not as early answers: a request
 * that fails as a whole is recorded in the queue too, and the handler
 * answers once, at the end. Nothing is answered 202 before the queue
 * insert has committed.
 */
#include "autoconfig.h"

#include "fcgi/ingest.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/browser.h"
#include "fcgi/context.h"
#include "fcgi/metrics.h"
#include "fcgi/queue_watch.h"
#include "fcgi/rules_live.h"
#include "lib/log.h"

static void ingest_fail(struct body_error *e, int status, const char *code, const char *message)
{
    e->status = status;
    e->code = code;
    e->pointer[0] = '\0';
    snprintf(e->message, sizeof(e->message), "%s", message);
}

/* Reads the body and decodes it into b. */
static bool ingest_read(struct worker *w, struct request *r, const struct auth_identity *who,
                        struct body *b, struct body_error *err)
{
    enum body_format format;
    bool gzip;
    if (!body_media(browser_content_type(who, request_param(r, "CONTENT_TYPE")),
                    request_param(r, "HTTP_CONTENT_ENCODING"), &format, &gzip, err))
        return false;
    const struct config *cfg = w->cfg;
    size_t cap = browser_body_cap(cfg, who);
    switch (request_read_body(r, w->body_buf, cap)) {
    case REQUEST_BODY_OK:
        break;
    case REQUEST_BODY_NO_LENGTH:
        ingest_fail(err, 411, "length_required", "send Content-Length with the body");
        return false;
    case REQUEST_BODY_BAD_LENGTH:
        ingest_fail(err, 400, "bad_content_length", "Content-Length is not a number");
        return false;
    case REQUEST_BODY_TOO_LARGE:
        ingest_fail(err, 413, "body_too_large", "");
        snprintf(err->message, sizeof(err->message), "the body is larger than %llu bytes",
                 (unsigned long long)cap);
        return false;
    case REQUEST_BODY_SHORT:
        ingest_fail(err, 400, "incomplete_body", "the body is shorter than its Content-Length");
        return false;
    }
    if (!body_decode(w->decoder, r->body, r->body_len, format, gzip, b, err))
        return false;
    size_t max_events = browser_max_events(cfg, who);
    if (b->n > max_events) {
        ingest_fail(err, 413, "too_many_events", "");
        snprintf(err->message, sizeof(err->message),
                 "the request has %llu events; this key may send %llu at most",
                 (unsigned long long)b->n, (unsigned long long)max_events);
        return false;
    }
    return true;
}

/* Adds the queue row recording a request-level failure. */
static void ingest_queue_request_error(struct worker *w, struct request *r, struct body *b,
                                       unsigned int app_id, const char *version,
                                       const struct request_context *ctx,
                                       const struct body_error *err)
{
    struct queue_row row = {
        .application_id = app_id,
        .received_us = r->received_us,
        .rules_version = version,
        .user_agent = ctx->user_agent,
        .client_ip = ctx->client_ip,
        .code = err->code,
        .pointer = err->pointer,
        .message = err->message,
    };
    const char *payload = NULL;
    size_t len = 0;
    bool truncated = false;
    const char *text = b->text != NULL ? b->text : r->body;
    size_t text_len = b->text != NULL ? b->text_len : r->body_len;
    if (text != NULL)
        payload = body_payload(b, text, text_len, (size_t)w->cfg->ingest.max_error_payload_bytes,
                               &len, &truncated);
    queue_row_add(w->batch, &row, w->cfg, payload, len, truncated);
}

/* Judges event i, adds its queue row and its part of the answer. Returns
 * true when the event was accepted. */
static bool ingest_event(struct worker *w, struct request *r, const struct ruleset *rules,
                         struct body *b, size_t i, unsigned int app_id,
                         const struct request_context *ctx, struct json_object *errors)
{
    const struct config *cfg = w->cfg;
    struct event_verdict *v = &w->verdicts[i];
    struct queue_row *row = &w->rows[i]; /* the batch borrows its id and message */
    memset(v, 0, sizeof(*v));
    memset(row, 0, sizeof(*row));
    row->application_id = app_id;
    row->received_us = r->received_us;
    row->rules_version = ruleset_version(rules);
    row->user_agent = ctx->user_agent;
    row->client_ip = ctx->client_ip;

    const struct body_error *line = b->ndjson ? b->line_error[i] : NULL;
    if (line != NULL) { /* an NDJSON line that did not parse */
        row->code = line->code;
        row->pointer = line->pointer;
        row->message = line->message;
    } else {
        struct event_check_opts opts = {.now_us = r->received_us, .all_errors = false};
        event_check(rules, b->events[i], &opts, v);
        row->verdict = v;
    }
    if (queue_row_judge(row, cfg))
        return queue_row_add(w->batch, row, cfg, NULL, 0, false);

    /* Rejected: keep what was received (bounded) for monitoring and replay. */
    const char *payload = b->raw[i];
    size_t payload_len = b->raw_len[i];
    if (payload == NULL) /* not found in the text (cannot happen for parsed JSON) */
        payload = json_object_to_json_string_length(
            b->events[i], JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &payload_len);
    size_t stored_len = 0;
    bool truncated = true;
    const char *stored = payload == NULL ? NULL
                                         : body_payload(b, payload, payload_len,
                                                        (size_t)cfg->ingest.max_error_payload_bytes,
                                                        &stored_len, &truncated);
    queue_row_add(w->batch, row, cfg, stored, stored_len, truncated);

    struct json_object *e = json_object_new_object();
    if (e != NULL) {
        json_object_object_add(e, "index", json_object_new_int64((int64_t)i));
        json_object_object_add(e, "event_id", json_object_new_string(row->event_id));
        json_object_object_add(e, "code", json_object_new_string(row->code));
        json_object_object_add(e, "pointer", json_object_new_string(row->pointer));
        json_object_object_add(e, "message", json_object_new_string(row->message));
        json_object_array_add(errors, e);
    }
    return false;
}

/* Inserts and commits the request's rows: in the process's next group
 * commit, or alone on the worker's connection when group commit is off. */
static enum queue_result ingest_store(struct worker *w)
{
    if (w->committer != NULL)
        return committer_submit(w->committer, w->batch);
    return commit_alone(w->batch, &w->db);
}

static void ingest_reply_unavailable(struct worker *w, struct request *r, const char *code,
                                     const char *message)
{
    request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, code, message);
}

void ingest_handle(struct worker *w, struct request *r, const struct auth_identity *who)
{
    struct body body = {0};
    struct body_error fail = {0};
    struct request_context ctx; /* the queue rows borrow its strings */
    context_of(r, &ctx);
    struct json_object *errors = NULL, *answer = NULL;
    size_t accepted = 0, judged = 0;
    const struct ruleset *rules = NULL;
    struct rules_ref *ref = rules_live_acquire(&rules);

    queue_batch_reset(w->batch);
    if (rules == NULL) {
        ingest_reply_unavailable(w, r, "rules_unavailable", "no rule set is loaded");
        goto done;
    }

    /* Back-pressure: while the spool is behind (or down), refuse new work
     * rather than fill the disk; the client retries after Retry-After. */
    if (queue_watch_over_limit(w->cfg)) {
        ingest_reply_unavailable(w, r, "queue_full",
                                 "the queue is above its high-water mark; retry later");
        goto done;
    }

    if (!ingest_read(w, r, who, &body, &fail)) {
        if (fail.status == 503) {
            ingest_reply_unavailable(w, r, fail.code, fail.message);
            goto done;
        }
        /* Recorded for monitoring (best effort: the answer is the 4xx
         * either way, and a malformed body is not data to retry). */
        ingest_queue_request_error(w, r, &body, who->application_id, ruleset_version(rules), &ctx,
                                   &fail);
        if (ingest_store(w) != QUEUE_OK)
            log_warn("application %u: %s not recorded (database unavailable)", who->application_id,
                     fail.code);
        request_reply_error(r, fail.status, NULL, fail.code, fail.pointer, fail.message);
        goto done;
    }

    errors = json_object_new_array();
    answer = json_object_new_object();
    if (errors == NULL || answer == NULL) {
        ingest_reply_unavailable(w, r, "out_of_memory", "cannot take the request now");
        goto done;
    }
    for (size_t i = 0; i < body.n; i++, judged++)
        if (ingest_event(w, r, rules, &body, i, who->application_id, &ctx, errors))
            accepted++;

    switch (ingest_store(w)) {
    case QUEUE_OK:
        break;
    case QUEUE_UNAVAILABLE:
        ingest_reply_unavailable(w, r, "database_unavailable",
                                 "the events could not be stored now; retry later");
        goto done;
    case QUEUE_FAILED:
        request_reply_error(r, 500, NULL, "internal_error", "", "the events could not be stored");
        goto done;
    }
    metrics_count_events(rules, body.events, w->rows, body.n, who->application_id);
    json_object_object_add(answer, "accepted", json_object_new_int64((int64_t)accepted));
    json_object_object_add(answer, "rejected", json_object_new_int64((int64_t)(body.n - accepted)));
    json_object_object_add(answer, "errors", json_object_get(errors));
    request_reply_json(r, accepted > 0 ? 202 : 422, NULL, answer);

done:
    for (size_t i = 0; i < judged; i++)
        event_verdict_clear(&w->verdicts[i]);
    json_object_put(errors);
    json_object_put(answer);
    body_clear(&body);
    rules_live_release(ref);
}
