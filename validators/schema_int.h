/* schema_int.h - the layout of a compiled schema (internal to the schema
 * module: schema.c, schema_compile.c, schema_validate.c).
 *
 * The compiler fills a struct schema, the validator only reads it, and
 * schema.c frees it; nobody else sees the fields. A length or count bound
 * of -1 means "no bound". This header needs nothing of schema.h (type bits
 * are plain unsigned here), so the three files include both and the module
 * graph stays one-way.
 */
#ifndef EYE_VALIDATORS_SCHEMA_INT_H
#define EYE_VALIDATORS_SCHEMA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "validators/format.h"
#include "validators/yamltree.h"

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

/* Returns the bit of a type name ("string" -> SCHEMA_T_STRING), 0 when the
 * name is not a type. */
unsigned schema_type_bit(const char *name);

/* Returns the static name of one type bit, "?" for anything else. */
const char *schema_type_name(unsigned bit);

/* Writes "string or null" style text for a type set into buf (cut to size). */
void schema_types_text(unsigned types, char *buf, size_t size);

/* Orders struct sprop by name (qsort and bsearch of schema.props). */
int schema_prop_cmp(const void *a, const void *b);

#endif
