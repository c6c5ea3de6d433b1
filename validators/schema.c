/* schema.c - compile a rule's payload schema and validate values with it.
 *
 * Compilation is strict on purpose: a misspelled keyword, a value of the
 * wrong type, a regex that does not compile, or a keyword that can never
 * apply (maxLength under `type: integer`) is a load error with the
 * position of the offending YAML node, because a silently ignored keyword
 * is a check that silently does not happen.
 *
 * Patterns follow JSON Schema (ECMA-262) habits: unanchored search, and `$`
 * matches only at the very end of the string (PCRE2_DOLLAR_ENDONLY), so
 * "abc\n" does not pass '^[a-z]+$'. PCRE2 runs in UTF mode and tolerates
 * invalid UTF-8 subjects (PCRE2_MATCH_INVALID_UTF).
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "validators/format.h"

/* A validation path holds the envelope member, one step per nested schema,
 * and a few to spare: pointers of errors are never cut short. */
_Static_assert(VCTX_MAX_PATH >= SCHEMA_MAX_DEPTH + 4, "vctx path shorter than the deepest schema");

/* PCRE2's JIT reads ahead of the subject in aligned blocks (safe, inside the
 * allocation) and valgrind's memcheck reports that as use of uninitialised
 * memory. Under valgrind, patterns are therefore not JIT-compiled: the
 * interpreter gives the same results, and valgrind runs stay meaningful. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SCH_UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef SCH_UNDER_VALGRIND
#define SCH_UNDER_VALGRIND() 0
#endif

/* A scalar of enum/const. */
struct svalue {
    enum yscalar_type type;
    bool b;
    int64_t i;
    double d;
    char *s;
    size_t len;
};

/* A numeric bound; text is the bound as written, for messages. */
struct sbound {
    bool set;
    bool is_int;
    int64_t i;
    double d;
    char text[32];
};

struct sprop {
    char *name;
    struct schema *schema;
};

enum saddl { ADDL_FORBID, ADDL_ALLOW, ADDL_SCHEMA };

struct schema {
    unsigned types;
    struct svalue *enum_vals;
    size_t n_enum;
    bool has_const;
    struct svalue const_val;
    int64_t min_len, max_len;
    char *pattern;
    pcre2_code *re;
    bool jit; /* re is JIT-compiled: match with pcre2_jit_match directly */
    enum format_kind format;
    struct sbound minimum, maximum, xminimum, xmaximum;
    struct schema *items;
    int64_t min_items, max_items;
    struct sprop *props;
    size_t n_props;
    char **required;
    size_t n_required;
    enum saddl addl;
    struct schema *addl_schema;
    int64_t min_props, max_props;
};

/* ---------------------------------------------------------------------
 * Type names.
 * ------------------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned bit;
} sch_type_names[] = {
    {"null", SCHEMA_T_NULL},     {"boolean", SCHEMA_T_BOOLEAN}, {"integer", SCHEMA_T_INTEGER},
    {"number", SCHEMA_T_NUMBER}, {"string", SCHEMA_T_STRING},   {"array", SCHEMA_T_ARRAY},
    {"object", SCHEMA_T_OBJECT},
};
#define SCH_NTYPES (sizeof(sch_type_names) / sizeof(sch_type_names[0]))

static const char *sch_type_name(unsigned bit)
{
    for (size_t i = 0; i < SCH_NTYPES; i++)
        if (sch_type_names[i].bit == bit)
            return sch_type_names[i].name;
    return "?";
}

/* Writes "string or null" style text for a type set into buf. */
static void sch_types_text(unsigned types, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < SCH_NTYPES; i++) {
        if (!(types & sch_type_names[i].bit))
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used > 0 ? " or " : "",
                         sch_type_names[i].name);
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
}

/* ---------------------------------------------------------------------
 * Freeing and accessors.
 * ------------------------------------------------------------------- */

static void sch_svalue_free(struct svalue *v)
{
    free(v->s);
    v->s = NULL;
}

void schema_free(struct schema *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_enum; i++)
        sch_svalue_free(&s->enum_vals[i]);
    free(s->enum_vals);
    sch_svalue_free(&s->const_val);
    free(s->pattern);
    pcre2_code_free(s->re);
    schema_free(s->items);
    for (size_t i = 0; i < s->n_props; i++) {
        free(s->props[i].name);
        schema_free(s->props[i].schema);
    }
    free(s->props);
    for (size_t i = 0; i < s->n_required; i++)
        free(s->required[i]);
    free(s->required);
    schema_free(s->addl_schema);
    free(s);
}

unsigned schema_types(const struct schema *s)
{
    return s->types;
}

bool schema_force_string(struct schema *s)
{
    if (s->types == 0)
        s->types = SCHEMA_T_STRING;
    return s->types == SCHEMA_T_STRING;
}

void schema_string_limits(const struct schema *s, int64_t *min_length, int64_t *max_length,
                          const char **pattern, const char **format)
{
    *min_length = s->min_len;
    *max_length = s->max_len;
    *pattern = s->pattern;
    *format = s->format != FORMAT_NONE ? format_name(s->format) : NULL;
}

/* ---------------------------------------------------------------------
 * Compilation.
 * ------------------------------------------------------------------- */

static struct schema *sch_compile(const struct ynode *n, const struct schema_loader *ld, int depth);

static bool sch_problem(const struct schema_loader *ld, const struct ynode *at, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* Records a problem at node `at`; always returns false (for `return`). */
static bool sch_problem(const struct schema_loader *ld, const struct ynode *at, const char *fmt,
                        ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rule_problems_add(ld->problems, ld->file, at->line, at->column, "%s", msg);
    return false;
}

static bool sch_is_string(const struct ynode *v)
{
    return v->kind == YNODE_SCALAR && v->stype == YSCALAR_STRING;
}

/* A string without NUL bytes (a member name, a pattern). */
static bool sch_get_text(const struct ynode *v, const char *kw, const struct schema_loader *ld)
{
    if (!sch_is_string(v))
        return sch_problem(ld, v, "'%s' expects a string, not a %s", kw, ynode_type_name(v));
    if (memchr(v->text, '\0', v->len) != NULL)
        return sch_problem(ld, v, "'%s' must not contain a NUL character", kw);
    return true;
}

static bool sch_get_count(const struct ynode *v, const char *kw, const struct schema_loader *ld,
                          int64_t *out)
{
    if (v->kind != YNODE_SCALAR || v->stype != YSCALAR_INT || v->i < 0)
        return sch_problem(ld, v, "'%s' expects a non-negative integer, not %s%s", kw,
                           v->kind == YNODE_SCALAR && v->stype == YSCALAR_INT ? "a negative "
                                                                              : "a ",
                           ynode_type_name(v));
    *out = v->i;
    return true;
}

static bool sch_get_bound(const struct ynode *v, const char *kw, const struct schema_loader *ld,
                          struct sbound *out)
{
    if (v->kind != YNODE_SCALAR || (v->stype != YSCALAR_INT && v->stype != YSCALAR_FLOAT))
        return sch_problem(ld, v, "'%s' expects a number, not a %s", kw, ynode_type_name(v));
    out->set = true;
    out->is_int = v->stype == YSCALAR_INT;
    out->i = v->i;
    out->d = v->d;
    snprintf(out->text, sizeof(out->text), "%s", v->text);
    return true;
}

static bool sch_get_svalue(const struct ynode *v, const char *kw, const struct schema_loader *ld,
                           struct svalue *out)
{
    if (v->kind != YNODE_SCALAR)
        return sch_problem(ld, v, "'%s' values must be scalars, not a %s", kw, ynode_type_name(v));
    if (v->stype == YSCALAR_NONFINITE)
        return sch_problem(ld, v, "'%s' values must be finite numbers", kw);
    out->type = v->stype;
    out->b = v->b;
    out->i = v->i;
    out->d = v->d;
    if (v->stype == YSCALAR_STRING) {
        out->s = malloc(v->len + 1);
        if (out->s == NULL)
            return sch_problem(ld, v, "out of memory");
        memcpy(out->s, v->text, v->len + 1);
        out->len = v->len;
    }
    return true;
}

typedef bool (*sch_kw_fn)(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                          int depth);

static bool kw_type(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                    int depth)
{
    size_t n = v->kind == YNODE_SEQUENCE ? v->count : 1;
    if (v->kind == YNODE_SEQUENCE && n == 0)
        return sch_problem(ld, v, "'type' needs at least one type");
    for (size_t k = 0; k < n; k++) {
        const struct ynode *t = v->kind == YNODE_SEQUENCE ? v->items[k] : v;
        unsigned bit = 0;
        if (!sch_is_string(t))
            return sch_problem(ld, t, "'type' expects a type name or a list of them, not a %s",
                               ynode_type_name(t));
        for (size_t i = 0; i < SCH_NTYPES; i++)
            if (strcmp(t->text, sch_type_names[i].name) == 0)
                bit = sch_type_names[i].bit;
        if (bit == 0)
            return sch_problem(ld, t,
                               "unknown type '%s' (object, array, string, integer, number, "
                               "boolean, null)",
                               t->text);
        if (s->types & bit)
            return sch_problem(ld, t, "type '%s' is listed twice", t->text);
        s->types |= bit;
    }
    return true;
}

static bool kw_required(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                        int depth)
{
    if (v->kind != YNODE_SEQUENCE)
        return sch_problem(ld, v, "'required' expects a list of member names, not a %s",
                           ynode_type_name(v));
    if (v->count == 0)
        return true;
    s->required = calloc(v->count, sizeof(*s->required));
    if (s->required == NULL)
        return sch_problem(ld, v, "out of memory");
    for (size_t k = 0; k < v->count; k++) {
        const struct ynode *r = v->items[k];
        if (!sch_get_text(r, "required", ld))
            return false;
        for (size_t j = 0; j < s->n_required; j++)
            if (strcmp(s->required[j], r->text) == 0)
                return sch_problem(ld, r, "'%s' is listed twice in 'required'", r->text);
        s->required[s->n_required] = strdup(r->text);
        if (s->required[s->n_required] == NULL)
            return sch_problem(ld, r, "out of memory");
        s->n_required++;
    }
    return true;
}

static int sch_prop_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sprop *)a)->name, ((const struct sprop *)b)->name);
}

static bool kw_properties(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                          int depth)
{
    bool ok = true;
    if (v->kind != YNODE_MAPPING)
        return sch_problem(ld, v,
                           "'properties' expects a mapping of member names to schemas, "
                           "not a %s",
                           ynode_type_name(v));
    if (v->count == 0)
        return true;
    s->props = calloc(v->count / 2, sizeof(*s->props));
    if (s->props == NULL)
        return sch_problem(ld, v, "out of memory");
    for (size_t k = 0; k + 1 < v->count; k += 2) {
        const struct ynode *key = v->items[k];
        if (memchr(key->text, '\0', key->len) != NULL) {
            ok = sch_problem(ld, key, "member names must not contain a NUL character");
            continue;
        }
        struct schema *sub = sch_compile(v->items[k + 1], ld, depth + 1);
        if (sub == NULL) {
            ok = false;
            continue;
        }
        char *name = strdup(key->text);
        if (name == NULL) {
            schema_free(sub);
            return sch_problem(ld, key, "out of memory");
        }
        s->props[s->n_props].name = name;
        s->props[s->n_props].schema = sub;
        s->n_props++;
    }
    qsort(s->props, s->n_props, sizeof(*s->props), sch_prop_cmp);
    return ok;
}

static bool kw_additional(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                          int depth)
{
    if (v->kind == YNODE_SCALAR && v->stype == YSCALAR_BOOL) {
        s->addl = v->b ? ADDL_ALLOW : ADDL_FORBID;
        return true;
    }
    if (v->kind != YNODE_MAPPING)
        return sch_problem(ld, v,
                           "'additionalProperties' expects false, true or a schema, "
                           "not a %s",
                           ynode_type_name(v));
    s->addl_schema = sch_compile(v, ld, depth + 1);
    if (s->addl_schema == NULL)
        return false;
    s->addl = ADDL_SCHEMA;
    return true;
}

static bool kw_enum(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                    int depth)
{
    if (v->kind != YNODE_SEQUENCE || v->count == 0)
        return sch_problem(ld, v, "'enum' expects a non-empty list of values");
    s->enum_vals = calloc(v->count, sizeof(*s->enum_vals));
    if (s->enum_vals == NULL)
        return sch_problem(ld, v, "out of memory");
    for (size_t k = 0; k < v->count; k++) {
        if (!sch_get_svalue(v->items[k], "enum", ld, &s->enum_vals[s->n_enum]))
            return false;
        s->n_enum++;
    }
    return true;
}

static bool kw_const(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                     int depth)
{
    if (!sch_get_svalue(v, "const", ld, &s->const_val))
        return false;
    s->has_const = true;
    return true;
}

static bool kw_min_length(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                          int depth)
{
    return sch_get_count(v, "minLength", ld, &s->min_len);
}

static bool kw_max_length(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                          int depth)
{
    return sch_get_count(v, "maxLength", ld, &s->max_len);
}

static bool kw_min_items(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                         int depth)
{
    return sch_get_count(v, "minItems", ld, &s->min_items);
}

static bool kw_max_items(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                         int depth)
{
    return sch_get_count(v, "maxItems", ld, &s->max_items);
}

static bool kw_min_props(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                         int depth)
{
    return sch_get_count(v, "minProperties", ld, &s->min_props);
}

static bool kw_max_props(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                         int depth)
{
    return sch_get_count(v, "maxProperties", ld, &s->max_props);
}

static bool kw_pattern(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                       int depth)
{
    int errcode = 0;
    PCRE2_SIZE erroffset = 0;
    if (!sch_get_text(v, "pattern", ld))
        return false;
    s->re = pcre2_compile((PCRE2_SPTR)v->text, v->len,
                          PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY, &errcode,
                          &erroffset, NULL);
    if (s->re == NULL) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", errcode);
        /* The column is exact when the pattern sits on one line. */
        int column = v->column + (v->quoted ? 1 : 0) + (int)(erroffset < 4096 ? erroffset : 0);
        rule_problems_add(ld->problems, ld->file, v->line, column,
                          "bad pattern: %s (at offset %zu)", (const char *)msg, (size_t)erroffset);
        return false;
    }
    /* JIT is an optimisation: without it (no JIT support) matching still works. */
    s->jit = !SCH_UNDER_VALGRIND() && pcre2_jit_compile(s->re, PCRE2_JIT_COMPLETE) == 0;
    s->pattern = strdup(v->text);
    if (s->pattern == NULL)
        return sch_problem(ld, v, "out of memory");
    return true;
}

static bool kw_format(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                      int depth)
{
    if (!sch_get_text(v, "format", ld))
        return false;
    s->format = format_from_name(v->text);
    if (s->format == FORMAT_NONE)
        return sch_problem(ld, v, "unknown format '%s' (date-time, uri, hostname, email, uuid)",
                           v->text);
    return true;
}

static bool kw_minimum(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                       int depth)
{
    return sch_get_bound(v, "minimum", ld, &s->minimum);
}

static bool kw_maximum(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                       int depth)
{
    return sch_get_bound(v, "maximum", ld, &s->maximum);
}

static bool kw_xminimum(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                        int depth)
{
    return sch_get_bound(v, "exclusiveMinimum", ld, &s->xminimum);
}

static bool kw_xmaximum(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                        int depth)
{
    return sch_get_bound(v, "exclusiveMaximum", ld, &s->xmaximum);
}

static bool kw_items(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                     int depth)
{
    if (v->kind == YNODE_SEQUENCE)
        return sch_problem(ld, v,
                           "'items' takes one schema; the list (tuple) form is not "
                           "supported");
    s->items = sch_compile(v, ld, depth + 1);
    return s->items != NULL;
}

static bool kw_description(struct schema *s, const struct ynode *v, const struct schema_loader *ld,
                           int depth)
{
    if (!sch_is_string(v))
        return sch_problem(ld, v, "'description' expects a string, not a %s", ynode_type_name(v));
    return true;
}

/* The keyword table: name, handler, and the types the keyword applies to
 * (0: any). A keyword whose types the schema's `type` excludes is an error. */
static const struct {
    const char *name;
    sch_kw_fn fn;
    unsigned applies;
} sch_keywords[] = {
    {"type", kw_type, 0},
    {"description", kw_description, 0},
    {"enum", kw_enum, 0},
    {"const", kw_const, 0},
    {"required", kw_required, SCHEMA_T_OBJECT},
    {"properties", kw_properties, SCHEMA_T_OBJECT},
    {"additionalProperties", kw_additional, SCHEMA_T_OBJECT},
    {"minProperties", kw_min_props, SCHEMA_T_OBJECT},
    {"maxProperties", kw_max_props, SCHEMA_T_OBJECT},
    {"minLength", kw_min_length, SCHEMA_T_STRING},
    {"maxLength", kw_max_length, SCHEMA_T_STRING},
    {"pattern", kw_pattern, SCHEMA_T_STRING},
    {"format", kw_format, SCHEMA_T_STRING},
    {"minimum", kw_minimum, SCHEMA_T_INTEGER | SCHEMA_T_NUMBER},
    {"maximum", kw_maximum, SCHEMA_T_INTEGER | SCHEMA_T_NUMBER},
    {"exclusiveMinimum", kw_xminimum, SCHEMA_T_INTEGER | SCHEMA_T_NUMBER},
    {"exclusiveMaximum", kw_xmaximum, SCHEMA_T_INTEGER | SCHEMA_T_NUMBER},
    {"items", kw_items, SCHEMA_T_ARRAY},
    {"minItems", kw_min_items, SCHEMA_T_ARRAY},
    {"maxItems", kw_max_items, SCHEMA_T_ARRAY},
};
#define SCH_NKEYWORDS (sizeof(sch_keywords) / sizeof(sch_keywords[0]))

static bool sch_unknown_keyword(const struct ynode *key, const struct schema_loader *ld)
{
    const char *names[SCH_NKEYWORDS];
    for (size_t i = 0; i < SCH_NKEYWORDS; i++)
        names[i] = sch_keywords[i].name;
    const char *hint = ynode_suggest(key->text, names, SCH_NKEYWORDS);
    if (hint != NULL)
        return sch_problem(ld, key, "unknown keyword '%s' (did you mean '%s'?)", key->text, hint);
    return sch_problem(ld, key, "unknown keyword '%s'", key->text);
}

/* Cross-keyword checks once every keyword is read. */
static bool sch_check_consistency(const struct schema *s, const struct ynode *n,
                                  const struct schema_loader *ld)
{
    bool ok = true;
    for (size_t k = 0; k + 1 < n->count; k += 2) {
        const struct ynode *key = n->items[k];
        for (size_t i = 0; i < SCH_NKEYWORDS; i++) {
            unsigned applies = sch_keywords[i].applies;
            if (strcmp(key->text, sch_keywords[i].name) != 0 || applies == 0 || s->types == 0)
                continue;
            if (!(s->types & applies))
                ok = sch_problem(ld, key, "'%s' applies to %s values, which 'type' excludes",
                                 key->text, sch_type_name(applies & ~SCHEMA_T_INTEGER));
        }
    }
    if (s->min_len >= 0 && s->max_len >= 0 && s->min_len > s->max_len)
        ok = sch_problem(ld, n, "minLength %lld is greater than maxLength %lld",
                         (long long)s->min_len, (long long)s->max_len);
    if (s->min_items >= 0 && s->max_items >= 0 && s->min_items > s->max_items)
        ok = sch_problem(ld, n, "minItems %lld is greater than maxItems %lld",
                         (long long)s->min_items, (long long)s->max_items);
    if (s->min_props >= 0 && s->max_props >= 0 && s->min_props > s->max_props)
        ok = sch_problem(ld, n, "minProperties %lld is greater than maxProperties %lld",
                         (long long)s->min_props, (long long)s->max_props);
    if (s->minimum.set && s->maximum.set && s->minimum.d > s->maximum.d)
        ok = sch_problem(ld, n, "minimum %s is greater than maximum %s", s->minimum.text,
                         s->maximum.text);
    if (s->addl == ADDL_FORBID) {
        for (size_t i = 0; i < s->n_required; i++) {
            struct sprop key = {s->required[i], NULL};
            if (s->n_props == 0 ||
                bsearch(&key, s->props, s->n_props, sizeof(*s->props), sch_prop_cmp) == NULL)
                ok = sch_problem(ld, n,
                                 "required member '%s' is not in 'properties' and "
                                 "additionalProperties is false, so no value can pass",
                                 s->required[i]);
        }
    }
    return ok;
}

static struct schema *sch_compile(const struct ynode *n, const struct schema_loader *ld, int depth)
{
    bool ok = true;
    if (depth > SCHEMA_MAX_DEPTH) {
        sch_problem(ld, n, "schemas nested deeper than %d levels", SCHEMA_MAX_DEPTH);
        return NULL;
    }
    if (n->kind != YNODE_MAPPING) {
        sch_problem(ld, n, "a schema must be a mapping of keywords, not a %s", ynode_type_name(n));
        return NULL;
    }
    struct schema *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        sch_problem(ld, n, "out of memory");
        return NULL;
    }
    s->min_len = s->max_len = -1;
    s->min_items = s->max_items = -1;
    s->min_props = s->max_props = -1;
    s->addl = ADDL_FORBID;

    for (size_t k = 0; k + 1 < n->count; k += 2) {
        const struct ynode *key = n->items[k];
        size_t i;
        for (i = 0; i < SCH_NKEYWORDS; i++)
            if (strcmp(key->text, sch_keywords[i].name) == 0)
                break;
        if (i == SCH_NKEYWORDS || memchr(key->text, '\0', key->len) != NULL) {
            ok = sch_unknown_keyword(key, ld);
            continue;
        }
        if (!sch_keywords[i].fn(s, n->items[k + 1], ld, depth))
            ok = false;
    }
    if (ok)
        ok = sch_check_consistency(s, n, ld);
    if (!ok) {
        schema_free(s);
        return NULL;
    }
    return s;
}

struct schema *schema_compile(const struct ynode *node, const struct schema_loader *ld)
{
    return sch_compile(node, ld, 0);
}

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
            prop = bsearch(&probe, s->props, s->n_props, sizeof(*s->props), sch_prop_cmp);
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
        sch_types_text(s->types, expected, sizeof(expected));
        return vctx_error(ctx, EVENT_ERR_WRONG_TYPE, "expected %s, got %s", expected,
                          sch_type_name(kind));
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
