/* event.c - check one event: envelope members, timestamps, then payload.
 *
 * This is the request path: no I/O, no allocation unless an error is
 * recorded, and string members are borrowed from the json-c value. Every
 * envelope member is examined even after the first error (in first-error
 * mode nothing more is recorded), so the verdict carries session_id,
 * category and name whenever they are valid; the caller files rejected
 * events under them.
 */
#include "autoconfig.h"

#include "validators/event.h"

#include <string.h>

#include "validators/format.h"
#include "validators/schema.h"
#include "validators/timestamp.h"

/* The event's members, found in one pass over the object (no hash lookups). */
enum ev_member {
    EV_SESSION_ID,
    EV_CATEGORY,
    EV_NAME,
    EV_DATA,
    EV_TIMESTAMP,
    EV_EVENT_ID,
    EV_SENT_AT,
    EV_MEMBER_COUNT,
};

static const char *const ev_member_names[EV_MEMBER_COUNT] = {
    "session_id", "category", "name", "data", "timestamp", "event_id", "sent_at"};

struct ev_members {
    bool present[EV_MEMBER_COUNT];
    struct json_object *value[EV_MEMBER_COUNT]; /* NULL is JSON null */
};

/* Returns the member index of key, or -1 for a member events do not have. */
static int ev_member_index(const char *key)
{
    int i;
    switch (key[0]) {
    case 's':
        i = key[1] == 'e' && key[2] == 's' ? EV_SESSION_ID : EV_SENT_AT;
        break;
    case 'c':
        i = EV_CATEGORY;
        break;
    case 'n':
        i = EV_NAME;
        break;
    case 'd':
        i = EV_DATA;
        break;
    case 't':
        i = EV_TIMESTAMP;
        break;
    case 'e':
        i = EV_EVENT_ID;
        break;
    default:
        return -1;
    }
    return strcmp(key, ev_member_names[i]) == 0 ? i : -1;
}

/* The JSON type of v in the words rules use for types. */
static const char *ev_json_type(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "boolean";
    case json_type_int:
        return "integer";
    case json_type_double:
        return "number";
    case json_type_string:
        return "string";
    case json_type_array:
        return "array";
    case json_type_object:
        return "object";
    }
    return "unknown";
}

/* Fetches a required member; records missing_field when absent. */
static bool ev_get(const struct ev_members *m, enum ev_member i, struct json_object **out,
                   struct vctx *ctx)
{
    if (m->present[i]) {
        *out = m->value[i];
        return true;
    }
    vctx_push_key(ctx, ev_member_names[i], SIZE_MAX);
    vctx_error(ctx, EVENT_ERR_MISSING_FIELD, "required member is missing");
    vctx_pop(ctx);
    return false;
}

/* Checks a string member against its envelope limits; returns the borrowed
 * string (and its length in *len) when present and valid, else NULL. */
static const char *ev_envelope_string(const struct ruleset *rs, enum envelope_field f,
                                      const struct ev_members *m, enum ev_member i, size_t *len,
                                      struct vctx *ctx)
{
    struct json_object *v;
    if (!ev_get(m, i, &v, ctx))
        return NULL;
    size_t before = ctx->failures;
    vctx_push_key(ctx, ev_member_names[i], SIZE_MAX);
    if (json_object_get_type(v) == json_type_string) {
        *len = (size_t)json_object_get_string_len(v);
        if (memchr(json_object_get_string(v), '\0', *len) != NULL)
            vctx_error(ctx, EVENT_ERR_PATTERN_MISMATCH, "contains a NUL character");
    }
    if (ctx->failures == before)
        schema_validate(ruleset_envelope_schema(rs, f), v, ctx);
    vctx_pop(ctx);
    return ctx->failures == before ? json_object_get_string(v) : NULL;
}

/* Parses a timestamp member; returns true and *us when valid. */
static bool ev_timestamp(struct json_object *v, const char *key, struct vctx *ctx, int64_t *us)
{
    bool ok = false;
    vctx_push_key(ctx, key, SIZE_MAX);
    if (json_object_get_type(v) != json_type_string)
        vctx_error(ctx, EVENT_ERR_WRONG_TYPE, "expected string, got %s", ev_json_type(v));
    else if (!timestamp_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v), us))
        vctx_error(ctx, EVENT_ERR_TIMESTAMP_INVALID,
                   "is not 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC) or an RFC 3339 date-time "
                   "between 1970 and 9999");
    else
        ok = true;
    vctx_pop(ctx);
    return ok;
}

static void ev_check_window(const struct ruleset *rs, const struct event_check_opts *opts,
                            int64_t ts, struct vctx *ctx)
{
    int64_t future = ruleset_future_tolerance_us(rs);
    int64_t max_age = ruleset_max_age_us(rs);
    vctx_push_key(ctx, "timestamp", 9);
    /* ts, now and the limits are all far below 2^62: no overflow. */
    if (ts > opts->now_us + future)
        vctx_error(ctx, EVENT_ERR_TIMESTAMP_IN_FUTURE,
                   "is %lld s ahead of the server clock (tolerance %lld s)",
                   (long long)((ts - opts->now_us) / 1000000), (long long)(future / 1000000));
    else if (max_age > 0 && ts < opts->now_us - max_age)
        vctx_error(ctx, EVENT_ERR_TIMESTAMP_TOO_OLD, "is %lld s old (maximum age %lld s)",
                   (long long)((opts->now_us - ts) / 1000000), (long long)(max_age / 1000000));
    vctx_pop(ctx);
}

int event_check(const struct ruleset *rs, struct json_object *event,
                const struct event_check_opts *opts, struct event_verdict *out)
{
    struct vctx ctx;
    struct ev_members m;
    struct json_object *v = NULL;
    size_t category_len = 0, name_len = 0, unused_len;

    vctx_begin(&ctx, out, opts->all_errors);

    if (json_object_get_type(event) != json_type_object) {
        vctx_error(&ctx, EVENT_ERR_WRONG_TYPE, "an event must be a JSON object, got %s",
                   ev_json_type(event));
        goto done;
    }

    struct json_object_iterator it = json_object_iter_begin(event);
    struct json_object_iterator end = json_object_iter_end(event);
    memset(&m, 0, sizeof(m));
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        int i = ev_member_index(key);
        if (i >= 0) {
            m.present[i] = true;
            m.value[i] = json_object_iter_peek_value(&it);
            continue;
        }
        vctx_push_key(&ctx, key, SIZE_MAX);
        vctx_error(&ctx, EVENT_ERR_UNEXPECTED_FIELD, "is not an event member");
        vctx_pop(&ctx);
    }

    out->session_id =
        ev_envelope_string(rs, ENVELOPE_SESSION_ID, &m, EV_SESSION_ID, &unused_len, &ctx);
    out->category = ev_envelope_string(rs, ENVELOPE_CATEGORY, &m, EV_CATEGORY, &category_len, &ctx);
    out->name = ev_envelope_string(rs, ENVELOPE_NAME, &m, EV_NAME, &name_len, &ctx);

    if (m.present[EV_EVENT_ID]) {
        v = m.value[EV_EVENT_ID];
        vctx_push_key(&ctx, "event_id", 8);
        if (json_object_get_type(v) != json_type_string)
            vctx_error(&ctx, EVENT_ERR_WRONG_TYPE, "expected string, got %s", ev_json_type(v));
        else if (!format_uuid(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                              out->event_id))
            vctx_error(&ctx, EVENT_ERR_EVENT_ID_INVALID,
                       "is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
        vctx_pop(&ctx);
    }

    if (ev_get(&m, EV_TIMESTAMP, &v, &ctx) &&
        ev_timestamp(v, "timestamp", &ctx, &out->timestamp_us)) {
        out->has_timestamp = true;
        ev_check_window(rs, opts, out->timestamp_us, &ctx);
    }
    if (m.present[EV_SENT_AT])
        out->has_sent_at = ev_timestamp(m.value[EV_SENT_AT], "sent_at", &ctx, &out->sent_at_us);

    if (ev_get(&m, EV_DATA, &v, &ctx)) {
        if (json_object_get_type(v) == json_type_object) {
            out->data = v;
        } else {
            vctx_push_key(&ctx, "data", 4);
            vctx_error(&ctx, EVENT_ERR_WRONG_TYPE, "expected object, got %s", ev_json_type(v));
            vctx_pop(&ctx);
        }
    }

    if (out->category == NULL || out->name == NULL)
        goto done;
    out->rule = ruleset_lookup(rs, out->category, category_len, out->name, name_len);
    if (out->rule == NULL) {
        if (ruleset_unknown_policy(rs) == RULESET_UNKNOWN_REJECT) {
            vctx_push_key(&ctx, "name", 4);
            vctx_error(&ctx, EVENT_ERR_UNKNOWN_EVENT_TYPE,
                       "no rule for category '%s' and name '%s'", out->category, out->name);
            vctx_pop(&ctx);
        }
        goto done;
    }
    if (out->data != NULL && !ctx.stop) {
        vctx_push_key(&ctx, "data", 4);
        schema_validate(rule_data_schema(out->rule), out->data, &ctx);
        vctx_pop(&ctx);
    }

done:
    if (ctx.oom)
        return -1;
    return out->ok ? 0 : 1;
}

void event_thread_cleanup(void)
{
    schema_thread_cleanup();
}
