/* schema.h - compiled payload schemas and the validation walk (internal).
 *
 * schema_compile (schema_compile.c) turns the YAML of a rule's `data` (a
 * JSON Schema subset) into a tree of struct schema with every keyword
 * checked, regexes compiled and JIT-compiled, property names sorted.
 * schema_validate (schema_validate.c, the request path) walks a json-c
 * value along it, recording errors into an event_verdict through a vctx
 * (verdict.h) that tracks the JSON pointer of the current value without
 * allocating. The tree's layout is private to the two (schema_int.h).
 */
#ifndef EYE_VALIDATORS_SCHEMA_H
#define EYE_VALIDATORS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "validators/problems.h"
#include "validators/verdict.h"
#include "validators/yamltree.h"

/* Deepest nesting of schemas (properties/items/additionalProperties). */
#define SCHEMA_MAX_DEPTH 32

/* Type bits of `type`. */
enum {
    SCHEMA_T_NULL = 1u << 0,
    SCHEMA_T_BOOLEAN = 1u << 1,
    SCHEMA_T_INTEGER = 1u << 2,
    SCHEMA_T_NUMBER = 1u << 3,
    SCHEMA_T_STRING = 1u << 4,
    SCHEMA_T_ARRAY = 1u << 5,
    SCHEMA_T_OBJECT = 1u << 6,
};

struct schema;

/* Where a compile reports problems. */
struct schema_loader {
    const char *file;
    struct rule_problems *problems;
};

/* Compiles node as a schema. Returns a new schema (caller owns;
 * schema_free), or NULL after recording at least one problem; it keeps
 * going after a bad keyword so one pass reports them all. */
struct schema *schema_compile(const struct ynode *node, const struct schema_loader *ld);

/* Frees a schema tree. NULL-safe. */
void schema_free(struct schema *s);

/* Returns the type bits of a schema (0 = any type). */
unsigned schema_types(const struct schema *s);

/* Restricts s to strings if it names no type; returns false when it names
 * types other than string (the caller reports that). */
bool schema_force_string(struct schema *s);

/* Bounds s's maxLength by max characters: sets it when s has none, and
 * returns false (s unchanged) when s allows more. */
bool schema_cap_max_length(struct schema *s, int64_t max);

/* Writes s's string limits: -1 for an absent length bound, NULL for no
 * pattern or format; the strings are owned by s. */
void schema_string_limits(const struct schema *s, int64_t *min_length, int64_t *max_length,
                          const char **pattern, const char **format);

/* Validates value (NULL is JSON null) against s, recording errors in ctx.
 * Returns false when ctx says to stop, true otherwise (valid or not). */
bool schema_validate(const struct schema *s, struct json_object *value, struct vctx *ctx);

/* Returns the number of characters in s[0..len): exact for valid UTF-8;
 * for invalid input, every byte that cannot belong to the character before
 * it counts as one, so ceil(len / 4) <= result <= len always holds (the
 * validator relies on these bounds to skip counting). */
size_t schema_utf8_length(const char *s, size_t len);

/* Releases the calling thread's PCRE2 match data (see event_thread_cleanup). */
void schema_thread_cleanup(void);

#endif
