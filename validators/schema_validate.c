/* schema_validate.c - validate a JSON value along a compiled schema.
 *
 * Validation is on the request path: it allocates nothing unless it records
 * an error. Regexes are matched with one PCRE2 match-data block per thread
 * (a pthread key with a destructor), so a compiled schema is shared
 * read-only by every worker thread.
 */
#include "autoconfig.h"

#include "validators/schema.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "validators/schema_int.h"

/* A validation path holds the envelope member, one step per nested schema,
 * and a few to spare: pointers of errors are never cut short. */
_Static_assert(VCTX_MAX_PATH >= SCHEMA_MAX_DEPTH + 4, "vctx path shorter than the deepest schema");

/* ---------------------------------------------------------------------
 * Regex matching with per-thread match data.
 * ------------------------------------------------------------------- */

static pthread_once_t sch_once = PTHREAD_ONCE_INIT;
static pthread_key_t sch_md_key;
static bool sch_md_key_ok;
static pcre2_match_context *sch_mctx;

static void sch_md_free(void *md)
{
    pcre2_match_data_free(md);
}

static void sch_once_init(void)
{
    sch_md_key_ok = pthread_key_create(&sch_md_key, sch_md_free) == 0;
    /* Bound backtracking so a pathological rule pattern cannot stall a
     * worker; a pattern that hits the limit reports a mismatch. */
    sch_mctx = pcre2_match_context_create(NULL);
    if (sch_mctx != NULL) {
        pcre2_set_match_limit(sch_mctx, 1000000);
        pcre2_set_depth_limit(sch_mctx, 10000);
    }
}

void schema_thread_cleanup(void)
{
    pthread_once(&sch_once, sch_once_init);
    if (!sch_md_key_ok)
        return;
    pcre2_match_data *md = pthread_getspecific(sch_md_key);
    if (md != NULL) {
        pcre2_match_data_free(md);
        pthread_setspecific(sch_md_key, NULL);
    }
}

/* Returns 1 on a match, 0 on none, -1 when matching could not complete. */
static int sch_match(const pcre2_code *re, bool jit, const char *s, size_t len)
{
    pcre2_match_data *md = NULL;
    bool owned = false;
    pthread_once(&sch_once, sch_once_init);
    if (sch_md_key_ok)
        md = pthread_getspecific(sch_md_key);
    if (md == NULL) {
        md = pcre2_match_data_create(1, NULL);
        if (md == NULL)
            return -1;
        if (!sch_md_key_ok || pthread_setspecific(sch_md_key, md) != 0)
            owned = true;
    }
    /* pcre2_jit_match skips pcre2_match's option checks; same result. */
    int rc = jit ? pcre2_jit_match(re, (PCRE2_SPTR)s, len, 0, 0, md, sch_mctx)
                 : pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, sch_mctx);
    if (owned)
        pcre2_match_data_free(md);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * Validation.
 * ------------------------------------------------------------------- */

size_t schema_utf8_length(const char *s, size_t len)
{
    size_t n = 0;
    unsigned allowed = 0; /* continuation bytes the last lead byte announced */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80) {
            n++;
            allowed = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        } else if (allowed > 0) {
            allowed--;
        } else {
            n++; /* a stray continuation byte counts as one character */
        }
    }
    return n;
}

/* The type bit of a JSON value; *integral is set for doubles that are whole
 * numbers within 2^53 (JSON Schema counts 1.0 as an integer). */
static unsigned sch_kind(struct json_object *v, bool *integral)
{
    *integral = false;
    switch (json_object_get_type(v)) {
    case json_type_null:
        return SCHEMA_T_NULL;
    case json_type_boolean:
        return SCHEMA_T_BOOLEAN;
    case json_type_int:
        return SCHEMA_T_INTEGER;
    case json_type_double: {
        double d = json_object_get_double(v);
        *integral = d == floor(d) && fabs(d) <= 9007199254740992.0;
        return SCHEMA_T_NUMBER;
    }
    case json_type_string:
        return SCHEMA_T_STRING;
    case json_type_array:
        return SCHEMA_T_ARRAY;
    case json_type_object:
        return SCHEMA_T_OBJECT;
    }
    return SCHEMA_T_NULL;
}

static bool sch_type_ok(unsigned types, unsigned kind, bool integral)
{
    if (types == 0 || (types & kind))
        return true;
    if (kind == SCHEMA_T_INTEGER && (types & SCHEMA_T_NUMBER))
        return true;
    return kind == SCHEMA_T_NUMBER && integral && (types & SCHEMA_T_INTEGER);
}

static bool sch_svalue_equal(const struct svalue *sv, struct json_object *v)
{
    enum json_type t = json_object_get_type(v);
    switch (sv->type) {
    case YSCALAR_NULL:
        return t == json_type_null;
    case YSCALAR_BOOL:
        return t == json_type_boolean && (json_object_get_boolean(v) != 0) == sv->b;
    case YSCALAR_INT:
        if (t == json_type_int)
            return json_object_get_int64(v) == sv->i;
        return t == json_type_double && json_object_get_double(v) == (double)sv->i;
    case YSCALAR_FLOAT:
        if (t == json_type_int)
            return (double)json_object_get_int64(v) == sv->d;
        return t == json_type_double && json_object_get_double(v) == sv->d;
    case YSCALAR_STRING:
        return t == json_type_string && (size_t)json_object_get_string_len(v) == sv->len &&
               memcmp(json_object_get_string(v), sv->s, sv->len) == 0;
    case YSCALAR_NONFINITE:
        break;
    }
    return false;
}

/* Compares a JSON number with a bound: <0, 0, >0. */
static int sch_cmp_bound(bool is_int, int64_t i, double d, const struct sbound *b)
{
    if (is_int && b->is_int)
        return i < b->i ? -1 : i > b->i;
    double x = is_int ? (double)i : d;
    return x < b->d ? -1 : x > b->d;
}

static bool sch_validate_string(const struct schema *s, struct json_object *v, struct vctx *ctx)
{
    const char *str = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    /* A string of len bytes has between ceil(len / 4) and len characters:
     * count them only when the byte length alone cannot decide. */
    if ((s->max_len >= 0 && len > (uint64_t)s->max_len) ||
        (s->min_len >= 0 && len / 4 < (uint64_t)s->min_len)) {
        size_t n = schema_utf8_length(str, len);
        if (s->min_len >= 0 && n < (uint64_t)s->min_len &&
            !vctx_error(ctx, EVENT_ERR_TOO_SHORT, "length %zu is below minLength %lld", n,
                        (long long)s->min_len))
            return false;
        if (s->max_len >= 0 && n > (uint64_t)s->max_len &&
            !vctx_error(ctx, EVENT_ERR_TOO_LONG, "length %zu exceeds maxLength %lld", n,
                        (long long)s->max_len))
            return false;
    }
    if (s->re != NULL) {
        int rc = sch_match(s->re, s->jit, str, len);
        if (rc == 0 && !vctx_error(ctx, EVENT_ERR_PATTERN_MISMATCH,
                                   "does not match the pattern '%.100s'", s->pattern))
            return false;
        if (rc < 0 && !vctx_error(ctx, EVENT_ERR_PATTERN_MISMATCH,
                                  "could not be matched against the pattern '%.100s'", s->pattern))
            return false;
    }
    if (s->format != FORMAT_NONE && !format_check(s->format, str, len) &&
        !vctx_error(ctx, EVENT_ERR_FORMAT_INVALID, "is not a valid %s", format_name(s->format)))
        return false;
    return true;
}

static bool sch_validate_number(const struct schema *s, struct json_object *v, struct vctx *ctx)
{
    bool is_int = json_object_get_type(v) == json_type_int;
    int64_t i = is_int ? json_object_get_int64(v) : 0;
    double d = is_int ? 0.0 : json_object_get_double(v);
    if (s->minimum.set && sch_cmp_bound(is_int, i, d, &s->minimum) < 0 &&
        !vctx_error(ctx, EVENT_ERR_OUT_OF_RANGE, "is below the minimum %s", s->minimum.text))
        return false;
    if (s->maximum.set && sch_cmp_bound(is_int, i, d, &s->maximum) > 0 &&
        !vctx_error(ctx, EVENT_ERR_OUT_OF_RANGE, "is above the maximum %s", s->maximum.text))
        return false;
    if (s->xminimum.set && sch_cmp_bound(is_int, i, d, &s->xminimum) <= 0 &&
        !vctx_error(ctx, EVENT_ERR_OUT_OF_RANGE, "must be greater than %s", s->xminimum.text))
        return false;
    if (s->xmaximum.set && sch_cmp_bound(is_int, i, d, &s->xmaximum) >= 0 &&
        !vctx_error(ctx, EVENT_ERR_OUT_OF_RANGE, "must be less than %s", s->xmaximum.text))
        return false;
    return true;
}

static bool sch_validate_array(const struct schema *s, struct json_object *v, struct vctx *ctx)
{
    size_t n = json_object_array_length(v);
    if (s->min_items >= 0 && n < (uint64_t)s->min_items &&
        !vctx_error(ctx, EVENT_ERR_TOO_FEW_ITEMS, "has %zu items, fewer than minItems %lld", n,
                    (long long)s->min_items))
        return false;
    if (s->max_items >= 0 && n > (uint64_t)s->max_items &&
        !vctx_error(ctx, EVENT_ERR_TOO_MANY_ITEMS, "has %zu items, more than maxItems %lld", n,
                    (long long)s->max_items))
        return false;
    if (s->items != NULL) {
        for (size_t k = 0; k < n; k++) {
            vctx_push_index(ctx, k);
            bool go_on = schema_validate(s->items, json_object_array_get_idx(v, k), ctx);
            vctx_pop(ctx);
            if (!go_on)
                return false;
        }
    }
    return true;
}

static bool sch_validate_object(const struct schema *s, struct json_object *v, struct vctx *ctx)
{
    size_t n = (size_t)json_object_object_length(v);
    if (s->min_props >= 0 && n < (uint64_t)s->min_props &&
        !vctx_error(ctx, EVENT_ERR_TOO_FEW_PROPERTIES,
                    "has %zu members, fewer than minProperties %lld", n, (long long)s->min_props))
        return false;
    if (s->max_props >= 0 && n > (uint64_t)s->max_props &&
        !vctx_error(ctx, EVENT_ERR_TOO_MANY_PROPERTIES,
                    "has %zu members, more than maxProperties %lld", n, (long long)s->max_props))
        return false;
    for (size_t k = 0; k < s->n_required; k++) {
        if (json_object_object_get_ex(v, s->required[k], NULL))
            continue;
        vctx_push_key(ctx, s->required[k], SIZE_MAX);
        bool go_on = vctx_error(ctx, EVENT_ERR_MISSING_FIELD, "required member is missing");
        vctx_pop(ctx);
        if (!go_on)
            return false;
    }
    struct json_object_iterator it = json_object_iter_begin(v);
    struct json_object_iterator end = json_object_iter_end(v);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        struct json_object *val = json_object_iter_peek_value(&it);
        const struct sprop *prop = NULL;
        if (s->n_props > 0) {
            struct sprop probe = {(char *)key, NULL};
            prop = bsearch(&probe, s->props, s->n_props, sizeof(*s->props), schema_prop_cmp);
        }
        bool go_on = true;
        vctx_push_key(ctx, key, SIZE_MAX);
        if (prop != NULL)
            go_on = schema_validate(prop->schema, val, ctx);
        else if (s->addl == ADDL_SCHEMA)
            go_on = schema_validate(s->addl_schema, val, ctx);
        else if (s->addl == ADDL_FORBID)
            go_on = vctx_error(ctx, EVENT_ERR_UNEXPECTED_FIELD,
                               "member is not allowed here (additionalProperties is false)");
        vctx_pop(ctx);
        if (!go_on)
            return false;
    }
    return true;
}

bool schema_validate(const struct schema *s, struct json_object *value, struct vctx *ctx)
{
    bool integral;
    unsigned kind = sch_kind(value, &integral);
    if (!sch_type_ok(s->types, kind, integral)) {
        char expected[128];
        schema_types_text(s->types, expected, sizeof(expected));
        return vctx_error(ctx, EVENT_ERR_WRONG_TYPE, "expected %s, got %s", expected,
                          schema_type_name(kind));
    }
    if (s->has_const && !sch_svalue_equal(&s->const_val, value) &&
        !vctx_error(ctx, EVENT_ERR_NOT_CONST, "differs from the required constant"))
        return false;
    if (s->n_enum > 0) {
        bool found = false;
        for (size_t k = 0; k < s->n_enum && !found; k++)
            found = sch_svalue_equal(&s->enum_vals[k], value);
        if (!found && !vctx_error(ctx, EVENT_ERR_NOT_IN_ENUM,
                                  "is not one of the %zu allowed values", s->n_enum))
            return false;
    }
    switch (kind) {
    case SCHEMA_T_STRING:
        return sch_validate_string(s, value, ctx);
    case SCHEMA_T_INTEGER:
    case SCHEMA_T_NUMBER:
        return sch_validate_number(s, value, ctx);
    case SCHEMA_T_ARRAY:
        return sch_validate_array(s, value, ctx);
    case SCHEMA_T_OBJECT:
        return sch_validate_object(s, value, ctx);
    default:
        return true;
    }
}
