/* wire.c - libeyeclient's encoding and decoding (see wire.h).
 *
 * Events are serialised by json-c once, at tracking, so a queued event is
 * one line of text and the sender only concatenates. NDJSON rather than a
 * JSON array: the server judges each line alone, so one malformed event
 * cannot make it refuse the whole batch. sent_at is spliced in before the
 * closing brace at each attempt, so the server measures clock skew from
 * the attempt that reached it.
 */
#include "autoconfig.h"

#include "client/wire.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "lib/uuid4.h"

/* 10000-01-01T00:00:00Z: timestamps stay four-digit years. */
#define EYEC_TIME_MAX_US INT64_C(253402300800000000)

bool eyec_buf_add(struct eyec_buf *b, const void *p, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return false;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        char *data = realloc(b->data, cap);
        if (data == NULL)
            return false;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

void eyec_buf_free(struct eyec_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void eyec_format_time(int64_t us, char out[28])
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    char text[64];
    gmtime_r(&s, &tm);
    /* Room for any struct tm; callers keep years below 10000 (27 bytes). */
    snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
    size_t n = strnlen(text, 27);
    memcpy(out, text, n);
    out[n] = '\0';
}

/* Parses text as exactly one JSON value (blanks around it allowed) with
 * UTF-8 checked. Returns the value (the caller owns it) or NULL. */
static struct json_object *eyec_parse_whole(const char *text)
{
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
    size_t len = strlen(text);
    struct json_object *v = json_tokener_parse_ex(tok, text, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(v);
        v = NULL;
    } else {
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
            if (strchr(" \t\r\n", text[i]) == NULL) {
                json_object_put(v);
                v = NULL;
                break;
            }
    }
    json_tokener_free(tok);
    return v;
}

/* Serialises obj into a new event with the given id. Takes nothing. */
static int eyec_event_from(struct json_object *obj, const char *id, struct eyec_event **out)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (text == NULL)
        return EYE_CLIENT_ENOMEM;
    struct eyec_event *e = malloc(sizeof(*e) + len + 1);
    if (e == NULL)
        return EYE_CLIENT_ENOMEM;
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "%s", id);
    memcpy(e->line, text, len + 1);
    e->len = len;
    *out = e;
    return EYE_CLIENT_OK;
}

/* Adds a string member; false when memory runs out. */
static bool eyec_add_string(struct json_object *obj, const char *key, const char *value)
{
    struct json_object *v = json_object_new_string(value);
    if (v == NULL || json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return false;
    }
    return true;
}

int eyec_event_new(const char *session_id, const char *category, const char *name,
                   const char *data_json, int64_t timestamp_us, struct eyec_event **out)
{
    struct json_object *obj = NULL, *data = NULL;
    int rc = EYE_CLIENT_EINVAL;
    if (session_id == NULL || category == NULL || name == NULL || *session_id == '\0' ||
        *category == '\0' || *name == '\0' ||
        (timestamp_us < 0 && timestamp_us != EYE_CLIENT_NOW) || timestamp_us >= EYEC_TIME_MAX_US)
        goto fail;
    if (timestamp_us == EYE_CLIENT_NOW) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        timestamp_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
    if (data_json == NULL) {
        data = json_object_new_object();
    } else {
        data = eyec_parse_whole(data_json);
        if (!json_object_is_type(data, json_type_object))
            goto fail;
    }
    rc = EYE_CLIENT_ENOMEM;
    obj = json_object_new_object();
    if (data == NULL || obj == NULL)
        goto fail;
    char id[EYE_CLIENT_ID_SIZE], when[28];
    uuid4_generate(id);
    eyec_format_time(timestamp_us, when);
    if (!eyec_add_string(obj, "event_id", id) || !eyec_add_string(obj, "session_id", session_id) ||
        !eyec_add_string(obj, "category", category) || !eyec_add_string(obj, "name", name) ||
        json_object_object_add(obj, "data", data) != 0)
        goto fail;
    data = NULL; /* obj owns it now */
    if (!eyec_add_string(obj, "timestamp", when))
        goto fail;
    rc = eyec_event_from(obj, id, out);
fail:
    json_object_put(data);
    json_object_put(obj);
    return rc;
}

int eyec_event_parse(const char *event_json, struct eyec_event **out)
{
    if (event_json == NULL)
        return EYE_CLIENT_EINVAL;
    struct json_object *obj = eyec_parse_whole(event_json);
    int rc = EYE_CLIENT_EINVAL;
    if (!json_object_is_type(obj, json_type_object))
        goto fail;
    json_object_object_del(obj, "sent_at");
    char id[EYE_CLIENT_ID_SIZE] = "";
    struct json_object *given = NULL;
    if (json_object_object_get_ex(obj, "event_id", &given)) {
        /* Kept as sent: the server judges it (event_id_invalid). */
        if (json_object_is_type(given, json_type_string))
            snprintf(id, sizeof(id), "%s", json_object_get_string(given));
    } else {
        uuid4_generate(id);
        if (!eyec_add_string(obj, "event_id", id)) {
            rc = EYE_CLIENT_ENOMEM;
            goto fail;
        }
    }
    rc = eyec_event_from(obj, id, out);
fail:
    json_object_put(obj);
    return rc;
}

void eyec_event_free(struct eyec_event *e)
{
    free(e);
}

size_t eyec_event_wire_bytes(const struct eyec_event *e)
{
    return e->len + EYEC_SENT_AT_BYTES + 1;
}

size_t eyec_batch_count(const struct eyec_event *head, size_t max_events, size_t max_bytes)
{
    size_t n = 0, bytes = 0;
    for (const struct eyec_event *e = head; e != NULL && n < max_events; e = e->next) {
        size_t b = eyec_event_wire_bytes(e);
        if (n > 0 && bytes + b > max_bytes)
            break;
        bytes += b;
        n++;
    }
    return n;
}

bool eyec_body_build(struct eyec_event *const *ev, size_t n, int64_t sent_at_us,
                     struct eyec_buf *out)
{
    char when[28], member[EYEC_SENT_AT_BYTES + 3];
    eyec_format_time(sent_at_us, when);
    int m = snprintf(member, sizeof(member), ",\"sent_at\":\"%s\"}\n", when);
    out->len = 0;
    for (size_t i = 0; i < n; i++) {
        /* The line ends with the object's '}': sent_at goes before it. */
        if (!eyec_buf_add(out, ev[i]->line, ev[i]->len - 1) ||
            !eyec_buf_add(out, member, (size_t)m))
            return false;
    }
    return true;
}

bool eyec_gzip(const char *in, size_t len, struct eyec_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    out->len = 0;
    /* windowBits 16 + 15: a gzip wrapper (RFC 1952), as Content-Encoding
     * gzip means; eye.fcgi inflates with the same. */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    bool ok = false;
    size_t bound = deflateBound(&zs, (uLong)len);
    if (bound > out->max)
        bound = out->max;
    if (out->cap < bound) {
        char *data = realloc(out->data, bound);
        if (data == NULL)
            goto done;
        out->data = data;
        out->cap = bound;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out->data;
    zs.avail_out = (uInt)bound;
    if (deflate(&zs, Z_FINISH) == Z_STREAM_END) {
        out->len = bound - zs.avail_out;
        ok = true;
    }
done:
    deflateEnd(&zs);
    return ok;
}

/* The string member key of obj, or "" when absent or not a string. */
static const char *eyec_member(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

/* Parses an answer body (which need not end in NUL) as JSON; NULL when it
 * is not JSON. The caller owns the result. */
static struct json_object *eyec_parse_answer(const char *body, size_t len)
{
    if (body == NULL || len == 0)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return NULL;
    struct json_object *v = json_tokener_parse_ex(tok, body, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(v);
        v = NULL;
    }
    json_tokener_free(tok);
    return v;
}

size_t eyec_response_rejections(const char *body, size_t len, size_t n, eyec_rejection_fn fn,
                                void *arg)
{
    struct json_object *root = eyec_parse_answer(body, len), *errors = NULL;
    bool *seen = NULL;
    size_t reported = 0;
    if (!json_object_object_get_ex(root, "errors", &errors) ||
        !json_object_is_type(errors, json_type_array) || n == 0)
        goto done;
    seen = calloc(n, sizeof(*seen));
    if (seen == NULL)
        goto done;
    size_t count = json_object_array_length(errors);
    for (size_t i = 0; i < count; i++) {
        struct json_object *e = json_object_array_get_idx(errors, i), *index = NULL;
        if (!json_object_object_get_ex(e, "index", &index) ||
            !json_object_is_type(index, json_type_int))
            continue;
        int64_t k = json_object_get_int64(index);
        if (k < 0 || (uint64_t)k >= n || seen[k])
            continue;
        seen[k] = true;
        reported++;
        fn((size_t)k, eyec_member(e, "code"), eyec_member(e, "pointer"), eyec_member(e, "message"),
           arg);
    }
done:
    free(seen);
    json_object_put(root);
    return reported;
}

bool eyec_response_error(const char *body, size_t len, char *code, size_t code_cap, char *pointer,
                         size_t pointer_cap, char *message, size_t message_cap)
{
    struct json_object *root = eyec_parse_answer(body, len), *err = NULL;
    bool ok = json_object_object_get_ex(root, "error", &err) &&
              json_object_is_type(err, json_type_object);
    snprintf(code, code_cap, "%s", ok ? eyec_member(err, "code") : "");
    snprintf(pointer, pointer_cap, "%s", ok ? eyec_member(err, "pointer") : "");
    snprintf(message, message_cap, "%s", ok ? eyec_member(err, "message") : "");
    json_object_put(root);
    return ok && *code != '\0';
}
