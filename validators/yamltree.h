/* yamltree.h - a small owned tree of one YAML document, with positions.
 *
 * Internal to validators/. Rule files are parsed with libyaml's event API
 * into this tree so that every node keeps its 1-based line and column and
 * its quoting, and so that the features a rule file has no use for are
 * refused with a precise position instead of being half-supported:
 * aliases (which would allow cycles and exponential expansion), explicit
 * tags, more than one document, and nesting deeper than YTREE_MAX_DEPTH.
 *
 * Plain scalars are resolved with the YAML 1.2 core schema, reduced to
 * decimal numbers: null/Null/NULL/~/empty -> null, true/True/TRUE/false/
 * False/FALSE -> boolean, [-+]?[0-9]+ -> integer (int64), decimal floats with
 * an optional exponent -> float, .inf/.nan spellings -> non-finite (refused
 * wherever a value is used). Everything else, and every quoted scalar, is a
 * string: `"5"` and `'true'` stay strings.
 */
#ifndef EYE_VALIDATORS_YAMLTREE_H
#define EYE_VALIDATORS_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validators/problems.h"

/* Deepest nesting of sequences and mappings accepted in one file. */
#define YTREE_MAX_DEPTH 64

enum ynode_kind { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING };

enum yscalar_type {
    YSCALAR_STRING,
    YSCALAR_NULL,
    YSCALAR_BOOL,
    YSCALAR_INT,
    YSCALAR_FLOAT,
    YSCALAR_NONFINITE,
};

struct ynode {
    enum ynode_kind kind;
    int line;   /* 1-based */
    int column; /* 1-based, in characters */
    /* Scalars: the text (NUL-terminated, may hold NULs before len). */
    char *text;
    size_t len;
    bool quoted;
    enum yscalar_type stype;
    bool b;
    int64_t i;
    double d;
    /* Sequences: items[0..count). Mappings: items[2k] is a key (always a
     * scalar, keys unique), items[2k+1] its value; count is 2 * pairs. */
    struct ynode **items;
    size_t count;
};

/* Parses text[0..len) as one YAML document. Returns the root (caller owns,
 * free with ytree_free), or NULL after adding one problem for `file` to
 * problems (NULL problems: nothing is recorded). An empty document yields
 * a null scalar at 1:1. */
struct ynode *ytree_parse(const char *text, size_t len, const char *file,
                          struct rule_problems *problems);

/* Frees a tree from ytree_parse. NULL-safe. */
void ytree_free(struct ynode *node);

/* Returns a static word naming the node's kind or scalar type, for messages
 * ("mapping", "sequence", "string", "integer", ...). */
const char *ynode_type_name(const struct ynode *node);

/* Returns the candidate closest to word (case-insensitive equality or an
 * edit distance of at most 2), for "did you mean" hints, or NULL. */
const char *ynode_suggest(const char *word, const char *const *candidates, size_t count);

/* Returns the value of key in a mapping node, or NULL (also for non-maps). */
const struct ynode *ynode_map_get(const struct ynode *map, const char *key);

/* Records a problem of file at node at (at 1:1 when at is NULL), the message
 * cut to 1023 bytes. Always returns false, so that `return ynode_problem(...)`
 * reports and fails in one step. */
bool ynode_problem(struct rule_problems *problems, const char *file, const struct ynode *at,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records "unknown key 'K' in WHERE" at the mapping key node key, with a
 * "did you mean" hint when one of the n known keys is close. Always returns
 * false. */
bool ynode_unknown_key(struct rule_problems *problems, const char *file, const struct ynode *key,
                       const char *where, const char *const *known, size_t n);

#endif
