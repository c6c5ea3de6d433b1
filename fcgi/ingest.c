/* ingest.c - POST /v1/events: decode, validate, queue, answer (see ingest.h).
 *
 * Errors travel as values, not as early answers: decoding fills a
 * `struct ingest_fail` (HTTP status, stable code, message) and the handler
 * records it in the queue and answers once, at the end. Nothing is answered
 * 202 before the queue insert has committed.
 */
#include "autoconfig.h"

#include "fcgi/ingest.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "fcgi/queue_watch.h"
#include "fcgi/rules_live.h"
#include "lib/log.h"
#include "lib/uuid4.h"

/* Most payload copies one request may need (each made valid UTF-8); past
 * that, payloads are stored empty and marked truncated. */
#define INGEST_OWNED_MAX 64

/* A request-level failure: the body as a whole is not acceptable. */
struct ingest_fail {
    int status;
    const char *code;
    char message[256];
};

/* The parsed body: a list of events (borrowed from root, or one root per
 * NDJSON line), with per-line parse failures for NDJSON. */
struct ingest_body {
    struct json_object *root;    /* JSON body: the parsed value */
    struct json_object **events; /* n entries; NULL where a line did not parse */
    const char **raw;            /* NDJSON: each line's text (for error payloads) */
    size_t *raw_len;
    char (*line_error)[128]; /* NDJSON: why a line did not parse */
    const char **line_code;
    size_t n;
    bool ndjson;
    char *owned[INGEST_OWNED_MAX]; /* payload copies made storable (UTF-8) */
    size_t owned_count;
};

static void ingest_set_fail(struct ingest_fail *f, int status, const char *code, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));

static void ingest_set_fail(struct ingest_fail *f, int status, const char *code, const char *fmt,
                            ...)
{
    va_list ap;
    f->status = status;
    f->code = code;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
}

/* The media type of Content-Type, lower-cased, without parameters. */
static void ingest_media_type(const char *ct, char *out, size_t cap)
{
    size_t n = 0;
    if (ct != NULL) {
        while (*ct == ' ')
            ct++;
        for (; *ct && *ct != ';' && *ct != ' ' && n + 1 < cap; ct++)
            out[n++] = (char)tolower((unsigned char)*ct);
    }
    out[n] = '\0';
}

/* Inflates a gzip body into the worker's buffer. */
static bool ingest_gunzip(struct worker *w, struct request *r, struct ingest_fail *fail)
{
    size_t cap = (size_t)w->cfg->ingest.max_decompressed_bytes;
    if (w->inflate_buf == NULL) {
        w->inflate_buf = malloc(cap);
        if (w->inflate_buf == NULL) {
            ingest_set_fail(fail, 503, "out_of_memory", "cannot decompress now");
            return false;
        }
    }
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        ingest_set_fail(fail, 503, "out_of_memory", "cannot decompress now");
        return false;
    }
    zs.next_in = (Bytef *)r->body;
    zs.avail_in = (uInt)r->body_len;
    zs.next_out = (Bytef *)w->inflate_buf;
    zs.avail_out = (uInt)cap;
    /* A gzip file may hold several members (RFC 1952): inflate them all. */
    int rc;
    for (;;) {
        rc = inflate(&zs, Z_FINISH);
        if (rc != Z_STREAM_END || zs.avail_in == 0)
            break;
        if (inflateReset(&zs) != Z_OK)
            break;
    }
    size_t out_len = cap - zs.avail_out;
    bool ok = false;
    if (rc == Z_STREAM_END && zs.avail_in == 0) {
        ok = true;
    } else if (zs.avail_out == 0 && rc != Z_STREAM_END) {
        ingest_set_fail(fail, 413, "decompressed_too_large",
                        "the body decompresses to more than %lld bytes",
                        (long long)w->cfg->ingest.max_decompressed_bytes);
    } else {
        ingest_set_fail(fail, 400, "invalid_gzip", "the body is not a complete gzip stream%s%s",
                        zs.msg ? ": " : "", zs.msg ? zs.msg : "");
    }
    inflateEnd(&zs);
    if (ok) {
        r->body = w->inflate_buf;
        r->body_len = out_len;
    }
    return ok;
}

/* Walks JSON text outside its strings. Returns the number of ':' (one per
 * object member: json-c keeps the last of duplicate keys silently, and
 * comparing this count with the members actually parsed is how a duplicate
 * is noticed). When raw is not NULL and the text is an array, also stores
 * the text of its first max elements, trimmed: a rejected event is stored
 * as it was sent, not as json-c would print it again (which clamps numbers
 * beyond 64 bits). The text must have parsed. */
static size_t ingest_scan(const char *s, size_t len, const char **raw, size_t *raw_len, size_t max)
{
    size_t members = 0, depth = 0, n = 0, start = 0;
    bool in_string = false, top_array = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == ':') {
            members++;
        } else if (c == '[' || c == '{') {
            if (++depth == 1) {
                start = i + 1;
                top_array = c == '[';
            }
        } else if ((c == ',' && depth == 1) || ((c == ']' || c == '}') && --depth == 0)) {
            if (raw == NULL || n >= max || !top_array)
                continue;
            size_t from = start, to = i;
            while (from < to && isspace((unsigned char)s[from]))
                from++;
            while (to > from && isspace((unsigned char)s[to - 1]))
                to--;
            raw[n] = s + from;
            raw_len[n++] = to - from;
            start = i + 1;
        }
    }
    return members;
}

static size_t ingest_count_members_tree(struct json_object *v)
{
    size_t count = 0;
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, key, child)
        {
            (void)key;
            count += 1 + ingest_count_members_tree(child);
        }
    } else if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            count += ingest_count_members_tree(json_object_array_get_idx(v, i));
    }
    return count;
}

/* Parses one JSON text completely (trailing blanks allowed). Returns true
 * with *out set (NULL for the JSON value null; the caller owns it), or false
 * with *code and message set. */
static bool ingest_parse(struct worker *w, const char *text, size_t len, struct json_object **out,
                         const char **code, char *message, size_t cap)
{
    json_tokener_reset(w->tok);
    struct json_object *v = json_tokener_parse_ex(w->tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(w->tok);
    size_t end = json_tokener_get_parse_end(w->tok);
    /* A number or literal at the very end of the input is complete only
     * once the tokener sees what follows it: give it a blank. */
    if (v == NULL && jerr == json_tokener_continue && end == len) {
        v = json_tokener_parse_ex(w->tok, " ", 1);
        jerr = json_tokener_get_error(w->tok);
        end = len;
    }
    *out = NULL;
    if (jerr != json_tokener_success) {
        json_object_put(v);
        if (jerr == json_tokener_error_depth) {
            *code = "nesting_too_deep";
            snprintf(message, cap, "JSON nested deeper than %lld levels",
                     (long long)w->cfg->ingest.max_depth);
        } else if (jerr == json_tokener_error_parse_utf8_string) {
            *code = "invalid_utf8";
            snprintf(message, cap, "invalid UTF-8 near byte %zu", end);
        } else if (jerr == json_tokener_continue) {
            *code = "invalid_json";
            snprintf(message, cap, "the JSON text ends early (after %zu bytes)", len);
        } else {
            *code = "invalid_json";
            snprintf(message, cap, "%s near byte %zu", json_tokener_error_desc(jerr), end);
        }
        return false;
    }
    for (size_t i = end; i < len; i++) {
        if (!isspace((unsigned char)text[i])) {
            json_object_put(v);
            *code = "invalid_json";
            snprintf(message, cap, "unexpected data after the JSON value at byte %zu", i);
            return false;
        }
    }
    if (memchr(text, '\0', len) != NULL) {
        json_object_put(v);
        *code = "invalid_json";
        snprintf(message, cap, "the body contains a NUL byte");
        return false;
    }
    if (ingest_scan(text, len, NULL, NULL, 0) != ingest_count_members_tree(v)) {
        json_object_put(v);
        *code = "duplicate_key";
        snprintf(message, cap, "an object has the same member name twice");
        return false;
    }
    *out = v;
    return true;
}

static void ingest_body_free(struct ingest_body *b)
{
    if (b->ndjson) {
        for (size_t i = 0; i < b->n; i++)
            json_object_put(b->events[i]);
    } else {
        json_object_put(b->root);
    }
    free(b->events);
    free(b->raw);
    free(b->raw_len);
    free(b->line_error);
    free(b->line_code);
    for (size_t i = 0; i < b->owned_count; i++)
        free(b->owned[i]);
    memset(b, 0, sizeof(*b));
}

static bool ingest_body_alloc(struct ingest_body *b, size_t n, bool lines)
{
    b->events = calloc(n ? n : 1, sizeof(*b->events));
    if (lines) {
        b->raw = calloc(n ? n : 1, sizeof(*b->raw));
        b->raw_len = calloc(n ? n : 1, sizeof(*b->raw_len));
        b->line_error = calloc(n ? n : 1, sizeof(*b->line_error));
        b->line_code = calloc(n ? n : 1, sizeof(*b->line_code));
        return b->events && b->raw && b->raw_len && b->line_error && b->line_code;
    }
    return b->events != NULL;
}

/* Splits an NDJSON body into lines and parses each; a line that does not
 * parse becomes that event's error, not the request's. */
static bool ingest_decode_ndjson(struct worker *w, struct request *r, struct ingest_body *b,
                                 struct ingest_fail *fail)
{
    size_t max = (size_t)w->cfg->ingest.max_events_per_request;
    size_t lines = 0;
    const char *p = r->body, *end = r->body + r->body_len;
    /* First pass: count non-blank lines, to size and to refuse early. */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        for (const char *c = p; c < stop; c++)
            if (!isspace((unsigned char)*c)) {
                lines++;
                break;
            }
        p = nl ? nl + 1 : end;
    }
    if (lines == 0) {
        ingest_set_fail(fail, 400, "empty_batch", "the body holds no event");
        return false;
    }
    if (lines > max) {
        ingest_set_fail(fail, 413, "too_many_events", "%zu events in one request; at most %zu",
                        lines, max);
        return false;
    }
    b->ndjson = true;
    if (!ingest_body_alloc(b, lines, true)) {
        ingest_set_fail(fail, 503, "out_of_memory", "cannot take the request now");
        return false;
    }
    p = r->body;
    while (p < end && b->n < lines) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        const char *c = p;
        while (c < stop && isspace((unsigned char)*c))
            c++;
        if (c < stop) {
            size_t i = b->n++;
            b->raw[i] = p;
            b->raw_len[i] = (size_t)(stop - p);
            if (ingest_parse(w, p, (size_t)(stop - p), &b->events[i], &b->line_code[i],
                             b->line_error[i], sizeof(b->line_error[i])))
                b->line_code[i] = NULL; /* parsed (maybe to null): the validator judges it */
        }
        p = nl ? nl + 1 : end;
    }
    return true;
}

static bool ingest_decode_json(struct worker *w, struct request *r, struct ingest_body *b,
                               struct ingest_fail *fail)
{
    const char *code = NULL;
    char message[128];
    if (!ingest_parse(w, r->body, r->body_len, &b->root, &code, message, sizeof(message))) {
        ingest_set_fail(fail, 400, code, "%s", message);
        return false;
    }
    if (json_object_is_type(b->root, json_type_object)) {
        if (!ingest_body_alloc(b, 1, true))
            goto oom;
        b->events[0] = b->root;
        b->raw[0] = r->body;
        b->raw_len[0] = r->body_len;
        b->n = 1;
        return true;
    }
    if (!json_object_is_type(b->root, json_type_array)) {
        ingest_set_fail(fail, 400, "not_an_event",
                        "the body must be an event object or an array of events");
        return false;
    }
    size_t n = json_object_array_length(b->root);
    if (n == 0) {
        ingest_set_fail(fail, 400, "empty_batch", "the array holds no event");
        return false;
    }
    if (n > (size_t)w->cfg->ingest.max_events_per_request) {
        ingest_set_fail(fail, 413, "too_many_events", "%zu events in one request; at most %lld", n,
                        (long long)w->cfg->ingest.max_events_per_request);
        return false;
    }
    if (!ingest_body_alloc(b, n, true))
        goto oom;
    for (size_t i = 0; i < n; i++)
        b->events[i] = json_object_array_get_idx(b->root, i);
    b->n = n;
    ingest_scan(r->body, r->body_len, b->raw, b->raw_len, n);
    return true;

oom:
    ingest_set_fail(fail, 503, "out_of_memory", "cannot take the request now");
    return false;
}

/* Reads, decompresses and parses the body. */
static bool ingest_decode(struct worker *w, struct request *r, struct ingest_body *b,
                          struct ingest_fail *fail)
{
    char media[64];
    ingest_media_type(request_param(r, "CONTENT_TYPE"), media, sizeof(media));
    bool ndjson =
        strcmp(media, "application/x-ndjson") == 0 || strcmp(media, "application/jsonl") == 0;
    if (!ndjson && *media != '\0' && strcmp(media, "application/json") != 0) {
        ingest_set_fail(fail, 415, "unsupported_media_type",
                        "Content-Type %s is not accepted; send application/json or "
                        "application/x-ndjson",
                        media);
        return false;
    }
    const char *enc = request_param(r, "HTTP_CONTENT_ENCODING");
    bool gzip = false;
    if (enc != NULL && *enc != '\0') {
        if (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0) {
            gzip = true;
        } else if (strcasecmp(enc, "identity") != 0) {
            ingest_set_fail(fail, 415, "unsupported_encoding",
                            "Content-Encoding %s is not accepted; send gzip or identity", enc);
            return false;
        }
    }

    switch (request_read_body(r, w->body_buf, (size_t)w->cfg->ingest.max_body_bytes)) {
    case REQUEST_BODY_OK:
        break;
    case REQUEST_BODY_NO_LENGTH:
        ingest_set_fail(fail, 411, "length_required", "send Content-Length with the body");
        return false;
    case REQUEST_BODY_BAD_LENGTH:
        ingest_set_fail(fail, 400, "bad_content_length", "Content-Length is not a number");
        return false;
    case REQUEST_BODY_TOO_LARGE:
        ingest_set_fail(fail, 413, "body_too_large", "the body is larger than %lld bytes",
                        (long long)w->cfg->ingest.max_body_bytes);
        return false;
    case REQUEST_BODY_SHORT:
        ingest_set_fail(fail, 400, "incomplete_body",
                        "the body is shorter than its Content-Length");
        return false;
    }
    if (gzip && !ingest_gunzip(w, r, fail))
        return false;
    return ndjson ? ingest_decode_ndjson(w, r, b, fail) : ingest_decode_json(w, r, b, fail);
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0
 * when the bytes there are not one (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t ingest_utf8_seq(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (len == 0 || len > n || s[0] > 0xF4)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return len;
}

/* Makes what was received storable as a payload: valid UTF-8 (each bad
 * byte becomes U+FFFD) of at most cap bytes, never cutting a character.
 * Returns the text to store, either s itself or a copy owned by b (freed
 * with it); *truncated tells whether anything was cut. */
static const char *ingest_payload(struct ingest_body *b, const char *s, size_t len, size_t cap,
                                  size_t *out_len, bool *truncated)
{
    size_t i = 0;
    bool bad = false;
    while (i < len) {
        size_t n = ingest_utf8_seq((const unsigned char *)s + i, len - i);
        if (n == 0) {
            bad = true;
            break;
        }
        if (i + n > cap)
            break;
        i += n;
    }
    if (!bad) { /* valid: store it as it is, cut at a character's edge */
        *out_len = i;
        *truncated = i < len;
        return s;
    }
    char *copy = b->owned_count < INGEST_OWNED_MAX ? malloc(cap) : NULL;
    if (copy == NULL) {
        *out_len = 0;
        *truncated = true;
        return "";
    }
    b->owned[b->owned_count++] = copy;
    size_t o = 0;
    i = 0;
    while (i < len) {
        size_t n = ingest_utf8_seq((const unsigned char *)s + i, len - i);
        const char *piece = n ? s + i : "\xEF\xBF\xBD";
        size_t plen = n ? n : 3;
        if (o + plen > cap)
            break;
        memcpy(copy + o, piece, plen);
        o += plen;
        i += n ? n : 1;
    }
    *out_len = o;
    *truncated = i < len;
    return copy;
}

/* Adds the queue row recording a request-level failure. */
static void ingest_queue_request_error(struct worker *w, struct request *r, struct ingest_body *b,
                                       unsigned int app_id, const char *version,
                                       const struct ingest_fail *fail)
{
    int row = queue_batch_add(w->batch);
    if (row < 0)
        return;
    size_t cap = (size_t)w->cfg->ingest.max_error_payload_bytes;
    queue_set_int(w->batch, row, QC_APPLICATION_ID, app_id);
    queue_set_time(w->batch, row, QC_RECEIVED_AT, r->received_us);
    queue_set_str(w->batch, row, QC_RULES_VERSION, version, strlen(version));
    queue_set_str(w->batch, row, QC_ERROR_CODE, fail->code, strlen(fail->code));
    queue_set_str(w->batch, row, QC_ERROR_POINTER, "", 0);
    queue_set_str(w->batch, row, QC_ERROR_MESSAGE, fail->message, strlen(fail->message));
    if (r->body != NULL) {
        size_t len;
        bool truncated;
        const char *payload = ingest_payload(b, r->body, r->body_len, cap, &len, &truncated);
        queue_set_str(w->batch, row, QC_PAYLOAD, payload, len);
        queue_set_int(w->batch, row, QC_PAYLOAD_TRUNCATED, truncated);
    }
}

/* Fills the queue row of event i and its part of the answer. Returns true
 * when the event was accepted. */
static bool ingest_event(struct worker *w, struct request *r, const struct ruleset *rules,
                         struct ingest_body *b, size_t i, unsigned int app_id,
                         struct json_object *errors)
{
    const struct config *cfg = w->cfg;
    struct event_verdict *v = &w->verdicts[i];
    const char *version = ruleset_version(rules);
    const char *code = NULL, *pointer = "", *message = NULL;
    /* Kept in the worker: the queue row points at it until the insert. */
    char *own_message = w->messages[i];
    memset(v, 0, sizeof(*v));

    struct json_object *event = b->events[i];
    if (b->ndjson && b->line_code[i] != NULL) { /* an NDJSON line that did not parse */
        code = b->line_code[i];
        message = b->line_error[i];
    } else {
        struct event_check_opts opts = {.now_us = r->received_us, .all_errors = false};
        if (event_check(rules, event, &opts, v) != 0) {
            if (v->error_count > 0) {
                code = v->errors[0].code;
                pointer = v->errors[0].pointer;
                message = v->errors[0].message;
            } else {
                code = "internal_error";
                message = "out of memory while validating";
            }
        }
    }

    const char *data = NULL;
    size_t data_len = 0;
    if (code == NULL && v->data != NULL) {
        data = json_object_to_json_string_length(
            v->data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &data_len);
        if (data_len > (size_t)cfg->ingest.max_event_bytes) {
            code = "event_too_large";
            pointer = "/data";
            snprintf(own_message, sizeof(w->messages[i]), "data is %zu bytes; at most %lld",
                     data_len, (long long)cfg->ingest.max_event_bytes);
            message = own_message;
        }
    }

    /* Every event gets an id: the client's, or one assigned now. */
    const char *event_id = v->event_id;
    if (*event_id == '\0') {
        uuid4_generate(w->event_ids[i]);
        event_id = w->event_ids[i];
    }

    int row = queue_batch_add(w->batch);
    struct queue_batch *q = w->batch;
    queue_set_int(q, row, QC_APPLICATION_ID, app_id);
    queue_set_time(q, row, QC_RECEIVED_AT, r->received_us);
    queue_set_str(q, row, QC_RULES_VERSION, version, strlen(version));
    if (*event_id != '\0')
        queue_set_str(q, row, QC_EVENT_ID, event_id, strlen(event_id));
    if (v->session_id != NULL)
        queue_set_str(q, row, QC_SESSION_KEY, v->session_id, strlen(v->session_id));
    if (v->category != NULL)
        queue_set_str(q, row, QC_CATEGORY, v->category, strlen(v->category));
    if (v->name != NULL)
        queue_set_str(q, row, QC_NAME, v->name, strlen(v->name));
    if (v->has_timestamp) {
        int64_t occurred = v->timestamp_us;
        queue_set_time(q, row, QC_CLIENT_TIMESTAMP, v->timestamp_us);
        if (v->has_sent_at) {
            int64_t skew = r->received_us - v->sent_at_us;
            queue_set_time(q, row, QC_SENT_AT, v->sent_at_us);
            queue_set_int(q, row, QC_CLOCK_SKEW_US, skew);
            if (cfg->ingest.correct_clock_skew) {
                occurred += skew;
                queue_set_int(q, row, QC_SKEW_CORRECTED, 1);
            }
        }
        queue_set_time(q, row, QC_OCCURRED_AT, occurred);
    }

    if (code == NULL) {
        queue_set_str(q, row, QC_DATA, data, data_len);
        return true;
    }

    /* Rejected: keep what was received (bounded) for monitoring and replay. */
    const char *payload;
    size_t payload_len;
    if (b->raw[i] != NULL) { /* the event's text as received */
        payload = b->raw[i];
        payload_len = b->raw_len[i];
    } else { /* not found in the text (cannot happen for parsed JSON) */
        payload = json_object_to_json_string_length(
            event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &payload_len);
    }
    size_t stored_len;
    bool truncated;
    const char *stored =
        ingest_payload(b, payload, payload_len, (size_t)cfg->ingest.max_error_payload_bytes,
                       &stored_len, &truncated);
    queue_set_str(q, row, QC_ERROR_CODE, code, strlen(code));
    queue_set_str(q, row, QC_ERROR_POINTER, pointer, strlen(pointer));
    queue_set_str(q, row, QC_ERROR_MESSAGE, message, strlen(message));
    queue_set_str(q, row, QC_PAYLOAD, stored, stored_len);
    queue_set_int(q, row, QC_PAYLOAD_TRUNCATED, truncated);

    struct json_object *e = json_object_new_object();
    if (e != NULL) {
        json_object_object_add(e, "index", json_object_new_int64((int64_t)i));
        json_object_object_add(e, "event_id", *event_id ? json_object_new_string(event_id) : NULL);
        json_object_object_add(e, "code", json_object_new_string(code));
        json_object_object_add(e, "pointer", json_object_new_string(pointer));
        json_object_object_add(e, "message", json_object_new_string(message));
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
    return queue_batch_insert(w->batch, &w->db);
}

static void ingest_reply_unavailable(struct worker *w, struct request *r, const char *code,
                                     const char *message)
{
    request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, code, message);
}

void ingest_handle(struct worker *w, struct request *r, const struct auth_identity *who)
{
    struct ingest_body body = {0};
    struct ingest_fail fail = {0};
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

    if (!ingest_decode(w, r, &body, &fail)) {
        if (fail.status == 503) {
            ingest_reply_unavailable(w, r, fail.code, fail.message);
            goto done;
        }
        /* Recorded for monitoring (best effort: the answer is the 4xx
         * either way, and a malformed body is not data to retry). */
        ingest_queue_request_error(w, r, &body, who->application_id, ruleset_version(rules), &fail);
        if (ingest_store(w) != QUEUE_OK)
            log_warn("application %u: %s not recorded (database unavailable)", who->application_id,
                     fail.code);
        request_reply_error(r, fail.status, NULL, fail.code, "", fail.message);
        goto done;
    }

    errors = json_object_new_array();
    answer = json_object_new_object();
    if (errors == NULL || answer == NULL) {
        ingest_reply_unavailable(w, r, "out_of_memory", "cannot take the request now");
        goto done;
    }
    for (size_t i = 0; i < body.n; i++, judged++)
        if (ingest_event(w, r, rules, &body, i, who->application_id, errors))
            accepted++;

    switch (ingest_store(w)) {
    case QUEUE_OK:
        break;
    case QUEUE_UNAVAILABLE:
        ingest_reply_unavailable(w, r, "database_unavailable",
                                 "the events could not be stored now; retry later");
        goto done;
    case QUEUE_FAILED:
        request_reply_error(r, 500, NULL, "internal_error", NULL, "the events could not be stored");
        goto done;
    }
    json_object_object_add(answer, "accepted", json_object_new_int64((int64_t)accepted));
    json_object_object_add(answer, "rejected", json_object_new_int64((int64_t)(body.n - accepted)));
    json_object_object_add(answer, "errors", json_object_get(errors));
    request_reply_json(r, accepted > 0 ? 202 : 422, NULL, answer);

done:
    for (size_t i = 0; i < judged; i++)
        event_verdict_clear(&w->verdicts[i]);
    json_object_put(errors);
    json_object_put(answer);
    ingest_body_free(&body);
    rules_live_release(ref);
}
