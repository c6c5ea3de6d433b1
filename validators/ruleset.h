/* ruleset.h - a compiled, immutable set of event rules and envelope limits.
 *
 * A rules folder holds one YAML file per event type (category + name) and
 * optionally `_envelope.yaml`, the envelope defaults. ruleset_load_dir reads
 * and compiles all of them; a set is either complete or not built at all,
 * and every problem found on the way is reported as file:line:column.
 *
 * Folder conventions:
 *   - files ending in `.yaml` or `.yml` are loaded, in byte order of name;
 *   - names starting with `.` are ignored (editor and VCS droppings), as
 *     are other file types and subfolders;
 *   - `_envelope.yaml` is the envelope defaults file (see rules/_envelope.yaml);
 *     any other name starting with `_` is an error (the prefix is reserved).
 *
 * Thread safety: a loaded set is never modified; any number of threads may
 * look up rules and validate events against one set concurrently. Loading
 * touches only the new set, so a new set can be built while the old one
 * serves requests and swapped in whole afterwards.
 *
 * Version: 16 lowercase hex digits, the first 8 bytes of SHA-256 over, for
 * every loaded file in load order, its name (without the folder), a NUL,
 * its length in decimal, a NUL, and its bytes. Identical folders have equal
 * versions; any change to a loaded file, a rename, an added or removed file
 * changes it.
 */
#ifndef EYE_VALIDATORS_RULESET_H
#define EYE_VALIDATORS_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validators/envelope.h"
#include "validators/problems.h"

/* Name of the envelope defaults file inside a rules folder. */
#define RULESET_ENVELOPE_FILE "_envelope.yaml"
/* Largest rule file accepted, in bytes. */
#define RULESET_MAX_FILE_SIZE (1024 * 1024)
/* Most files in one folder. */
#define RULESET_MAX_FILES 10000

/* One in-memory file for ruleset_load_texts. */
struct rule_text {
    const char *name; /* file name as shown in problems and hashed */
    const char *text; /* contents, need not be NUL-terminated */
    size_t len;
};

struct ruleset;
struct rule;

/* Loads every rule file of dir (see the folder conventions above). Returns
 * a new set (caller owns; ruleset_free), or NULL when anything is wrong,
 * with every problem found appended to problems (may be NULL). Problem file
 * names are "dir/name". Reads files only: no other side effect. */
struct ruleset *ruleset_load_dir(const char *dir, struct rule_problems *problems);

/* Same as ruleset_load_dir over in-memory files; names follow the folder
 * conventions (a `_envelope.yaml` entry is the envelope file; names not
 * ending in .yaml/.yml are loaded anyway). Files are sorted by name here, the
 * array is not modified and nothing is kept pointing into it. */
struct ruleset *ruleset_load_texts(const struct rule_text *files, size_t count,
                                   struct rule_problems *problems);

/* Frees a set. NULL-safe. No reader may still be using it. */
void ruleset_free(struct ruleset *rs);

/* Returns the set's version: 16 lowercase hex digits, NUL-terminated, owned
 * by the set. */
const char *ruleset_version(const struct ruleset *rs);

/* Returns the number of event rules (the envelope file not counted). */
size_t ruleset_count(const struct ruleset *rs);

/* Returns rule i (0 <= i < count) in order of category, then name; NULL when
 * out of range. */
const struct rule *ruleset_rule(const struct ruleset *rs, size_t i);

/* Looks up a rule by category and name (byte strings of the given lengths)
 * in O(1). Returns a rule owned by the set, or NULL. */
const struct rule *ruleset_lookup(const struct ruleset *rs, const char *category,
                                  size_t category_len, const char *name, size_t name_len);

/* Accessors of a rule; every string is owned by the set. description may be
 * NULL; file is the name the rule was loaded from. */
const char *rule_category(const struct rule *r);
const char *rule_name(const struct rule *r);
const char *rule_description(const struct rule *r);
const char *rule_file(const struct rule *r);

/* Fills *out with the limits of one envelope field. */
void ruleset_envelope_limits(const struct ruleset *rs, enum envelope_field field,
                             struct envelope_limits *out);

/* Returns how far in the future a timestamp may lie, in microseconds. */
int64_t ruleset_future_tolerance_us(const struct ruleset *rs);

/* Returns the maximum age of a timestamp in microseconds; 0 means off. */
int64_t ruleset_max_age_us(const struct ruleset *rs);

/* Returns the policy for events with no rule. */
enum ruleset_unknown_policy ruleset_unknown_policy(const struct ruleset *rs);

/* Internal to validators/: the compiled schemas of a rule's data and of an
 * envelope field, owned by the set. */
struct schema;
const struct schema *rule_data_schema(const struct rule *r);
const struct schema *ruleset_envelope_schema(const struct ruleset *rs, enum envelope_field f);

#endif
