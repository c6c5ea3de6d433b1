/* schema.c - what compiling and validating share: freeing, accessors,
 * type names.
 *
 * A compiled schema is built by schema_compile.c and read by
 * schema_validate.c (the request path); its layout is in schema_int.h.
 */
#include "autoconfig.h"

#include "validators/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validators/schema_int.h"

static const struct {
    const char *name;
    unsigned bit;
} sch_type_names[] = {
    {"null", SCHEMA_T_NULL},     {"boolean", SCHEMA_T_BOOLEAN}, {"integer", SCHEMA_T_INTEGER},
    {"number", SCHEMA_T_NUMBER}, {"string", SCHEMA_T_STRING},   {"array", SCHEMA_T_ARRAY},
    {"object", SCHEMA_T_OBJECT},
};
#define SCH_NTYPES (sizeof(sch_type_names) / sizeof(sch_type_names[0]))

unsigned schema_type_bit(const char *name)
{
    for (size_t i = 0; i < SCH_NTYPES; i++)
        if (strcmp(name, sch_type_names[i].name) == 0)
            return sch_type_names[i].bit;
    return 0;
}

const char *schema_type_name(unsigned bit)
{
    for (size_t i = 0; i < SCH_NTYPES; i++)
        if (sch_type_names[i].bit == bit)
            return sch_type_names[i].name;
    return "?";
}

void schema_types_text(unsigned types, char *buf, size_t size)
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

bool schema_cap_max_length(struct schema *s, int64_t max)
{
    if (s->max_len > max)
        return false;
    if (s->max_len < 0)
        s->max_len = max;
    return true;
}

void schema_string_limits(const struct schema *s, int64_t *min_length, int64_t *max_length,
                          const char **pattern, const char **format)
{
    *min_length = s->min_len;
    *max_length = s->max_len;
    *pattern = s->pattern;
    *format = s->format != FORMAT_NONE ? format_name(s->format) : NULL;
}

int schema_prop_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sprop *)a)->name, ((const struct sprop *)b)->name);
}
