/* schema_compile.c - compile a rule's payload schema (see schema.h).
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
 */
#include "autoconfig.h"

#include "validators/schema.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validators/schema_int.h"

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

struct sch_keyword;

/* Reads keyword kw's value v into s; nested schemas compile at depth + 1.
 * Returns false after recording a problem. The generic setters (counts and
 * numeric bounds) write the field at kw->offset; the others know theirs. */
typedef bool (*sch_set_fn)(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                           const struct schema_loader *ld, int depth);

struct sch_keyword {
    const char *name;
    sch_set_fn set;
    size_t offset;    /* of the field a generic setter writes; 0 for the others */
    unsigned applies; /* the types it applies to; 0: any */
};

/* The field of s that keyword kw's generic setter writes, as a type *. */
#define SCH_FIELD(s, kw, type) ((type *)(void *)((char *)(s) + (kw)->offset))

/* A non-negative integer (int64_t field; -1 until set: no bound). */
static bool sch_set_count(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                          const struct schema_loader *ld, int depth)
{
    if (v->kind != YNODE_SCALAR || v->stype != YSCALAR_INT || v->i < 0)
        return sch_problem(ld, v, "'%s' expects a non-negative integer, not %s%s", kw->name,
                           v->kind == YNODE_SCALAR && v->stype == YSCALAR_INT ? "a negative "
                                                                              : "a ",
                           ynode_type_name(v));
    *SCH_FIELD(s, kw, int64_t) = v->i;
    return true;
}

/* A number, integer or not (struct sbound field). */
static bool sch_set_bound(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                          const struct schema_loader *ld, int depth)
{
    struct sbound *out = SCH_FIELD(s, kw, struct sbound);
    if (v->kind != YNODE_SCALAR || (v->stype != YSCALAR_INT && v->stype != YSCALAR_FLOAT))
        return sch_problem(ld, v, "'%s' expects a number, not a %s", kw->name, ynode_type_name(v));
    out->set = true;
    out->is_int = v->stype == YSCALAR_INT;
    out->i = v->i;
    out->d = v->d;
    snprintf(out->text, sizeof(out->text), "%s", v->text);
    return true;
}

static bool kw_type(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                    const struct schema_loader *ld, int depth)
{
    size_t n = v->kind == YNODE_SEQUENCE ? v->count : 1;
    if (v->kind == YNODE_SEQUENCE && n == 0)
        return sch_problem(ld, v, "'type' needs at least one type");
    for (size_t k = 0; k < n; k++) {
        const struct ynode *t = v->kind == YNODE_SEQUENCE ? v->items[k] : v;
        if (!sch_is_string(t))
            return sch_problem(ld, t, "'type' expects a type name or a list of them, not a %s",
                               ynode_type_name(t));
        unsigned bit = schema_type_bit(t->text);
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

static bool kw_required(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                        const struct schema_loader *ld, int depth)
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

static bool kw_properties(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                          const struct schema_loader *ld, int depth)
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
    qsort(s->props, s->n_props, sizeof(*s->props), schema_prop_cmp);
    return ok;
}

static bool kw_additional(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                          const struct schema_loader *ld, int depth)
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

static bool kw_enum(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                    const struct schema_loader *ld, int depth)
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

static bool kw_const(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                     const struct schema_loader *ld, int depth)
{
    if (!sch_get_svalue(v, "const", ld, &s->const_val))
        return false;
    s->has_const = true;
    return true;
}

static bool kw_pattern(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                       const struct schema_loader *ld, int depth)
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

static bool kw_format(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                      const struct schema_loader *ld, int depth)
{
    if (!sch_get_text(v, "format", ld))
        return false;
    s->format = format_from_name(v->text);
    if (s->format == FORMAT_NONE)
        return sch_problem(ld, v, "unknown format '%s' (date-time, uri, hostname, email, uuid)",
                           v->text);
    return true;
}

static bool kw_items(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                     const struct schema_loader *ld, int depth)
{
    if (v->kind == YNODE_SEQUENCE)
        return sch_problem(ld, v,
                           "'items' takes one schema; the list (tuple) form is not "
                           "supported");
    s->items = sch_compile(v, ld, depth + 1);
    return s->items != NULL;
}

static bool kw_description(struct schema *s, const struct sch_keyword *kw, const struct ynode *v,
                           const struct schema_loader *ld, int depth)
{
    if (!sch_is_string(v))
        return sch_problem(ld, v, "'description' expects a string, not a %s", ynode_type_name(v));
    return true;
}

/* The keyword table, in the manner of lib/config.c's: name, setter, the
 * field a generic setter writes, and the types the keyword applies to (0:
 * any). A keyword whose types the schema's `type` excludes is an error. */
#define SOFF(field) offsetof(struct schema, field)
#define NUMERIC     (SCHEMA_T_INTEGER | SCHEMA_T_NUMBER)
static const struct sch_keyword sch_keywords[] = {
    {"type", kw_type, 0, 0},
    {"description", kw_description, 0, 0},
    {"enum", kw_enum, 0, 0},
    {"const", kw_const, 0, 0},
    {"required", kw_required, 0, SCHEMA_T_OBJECT},
    {"properties", kw_properties, 0, SCHEMA_T_OBJECT},
    {"additionalProperties", kw_additional, 0, SCHEMA_T_OBJECT},
    {"minProperties", sch_set_count, SOFF(min_props), SCHEMA_T_OBJECT},
    {"maxProperties", sch_set_count, SOFF(max_props), SCHEMA_T_OBJECT},
    {"minLength", sch_set_count, SOFF(min_len), SCHEMA_T_STRING},
    {"maxLength", sch_set_count, SOFF(max_len), SCHEMA_T_STRING},
    {"pattern", kw_pattern, 0, SCHEMA_T_STRING},
    {"format", kw_format, 0, SCHEMA_T_STRING},
    {"minimum", sch_set_bound, SOFF(minimum), NUMERIC},
    {"maximum", sch_set_bound, SOFF(maximum), NUMERIC},
    {"exclusiveMinimum", sch_set_bound, SOFF(xminimum), NUMERIC},
    {"exclusiveMaximum", sch_set_bound, SOFF(xmaximum), NUMERIC},
    {"items", kw_items, 0, SCHEMA_T_ARRAY},
    {"minItems", sch_set_count, SOFF(min_items), SCHEMA_T_ARRAY},
    {"maxItems", sch_set_count, SOFF(max_items), SCHEMA_T_ARRAY},
};
#undef SOFF
#undef NUMERIC
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
                                 key->text, schema_type_name(applies & ~SCHEMA_T_INTEGER));
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
                bsearch(&key, s->props, s->n_props, sizeof(*s->props), schema_prop_cmp) == NULL)
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
    for (size_t i = 0; i < SCH_NKEYWORDS; i++)
        if (sch_keywords[i].set == sch_set_count)
            *SCH_FIELD(s, &sch_keywords[i], int64_t) = -1; /* no bound */
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
        if (!sch_keywords[i].set(s, &sch_keywords[i], n->items[k + 1], ld, depth))
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
