/* yamltree.c - YAML text to an owned tree with positions (see yamltree.h).
 *
 * Built on libyaml's event parser rather than its document loader: the
 * loader resolves aliases into shared nodes (cycles included) and forgets
 * whether a scalar carried an explicit tag, both of which we must refuse.
 * The build is iterative (an explicit stack), so hostile nesting cannot
 * exhaust the C stack; YTREE_MAX_DEPTH bounds it.
 */
#include "autoconfig.h"

#include "validators/yamltree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/strparse.h"

void ytree_free(struct ynode *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->count; i++)
        ytree_free(node->items[i]);
    free(node->items);
    free(node->text);
    free(node);
}

const char *ynode_type_name(const struct ynode *node)
{
    if (node->kind == YNODE_SEQUENCE)
        return "sequence";
    if (node->kind == YNODE_MAPPING)
        return "mapping";
    switch (node->stype) {
    case YSCALAR_NULL:
        return "null";
    case YSCALAR_BOOL:
        return "boolean";
    case YSCALAR_INT:
        return "integer";
    case YSCALAR_FLOAT:
        return "number";
    case YSCALAR_NONFINITE:
        return "non-finite number";
    case YSCALAR_STRING:
        break;
    }
    return "string";
}

const struct ynode *ynode_map_get(const struct ynode *map, const char *key)
{
    if (map == NULL || map->kind != YNODE_MAPPING)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i + 1 < map->count; i += 2) {
        const struct ynode *k = map->items[i];
        if (k->len == klen && memcmp(k->text, key, klen) == 0)
            return map->items[i + 1];
    }
    return NULL;
}

static bool yt_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Matches [-+]?[0-9]+ exactly. */
static bool yt_looks_int(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i == len)
        return false;
    for (; i < len; i++)
        if (!yt_is_digit(s[i]))
            return false;
    return true;
}

/* Matches [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? exactly. */
static bool yt_looks_float(const char *s, size_t len)
{
    size_t i = 0, mant = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < len && yt_is_digit(s[i]))
        i++, mant++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && yt_is_digit(s[i]))
            i++, mant++;
    }
    if (mant == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        while (i < len && yt_is_digit(s[i]))
            i++, exp++;
        if (exp == 0)
            return false;
    }
    return i == len;
}

static bool yt_is_one_of(const char *s, const char *const *words)
{
    for (; *words != NULL; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

/* Resolves a plain scalar's type (YAML 1.2 core schema, decimal only). */
static void yt_resolve(struct ynode *n)
{
    static const char *const nulls[] = {"null", "Null", "NULL", "~", "", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const nonfinite[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                            "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                                            ".NaN",  ".NAN",  NULL};
    n->stype = YSCALAR_STRING;
    if (n->quoted || memchr(n->text, '\0', n->len) != NULL)
        return;
    if (yt_is_one_of(n->text, nulls)) {
        n->stype = YSCALAR_NULL;
    } else if (yt_is_one_of(n->text, trues)) {
        n->stype = YSCALAR_BOOL;
        n->b = true;
    } else if (yt_is_one_of(n->text, falses)) {
        n->stype = YSCALAR_BOOL;
        n->b = false;
    } else if (yt_is_one_of(n->text, nonfinite)) {
        n->stype = YSCALAR_NONFINITE;
    } else if (yt_looks_int(n->text, n->len) &&
               strparse_int64(n->text[0] == '+' ? n->text + 1 : n->text, INT64_MIN, INT64_MAX,
                              &n->i)) {
        n->stype = YSCALAR_INT;
        n->d = (double)n->i;
    } else if (yt_looks_float(n->text, n->len)) {
        /* Integers too large for int64 land here too, as floats. */
        n->stype = strparse_double(n->text, &n->d) ? YSCALAR_FLOAT : YSCALAR_NONFINITE;
    }
}

static struct ynode *yt_node_new(enum ynode_kind kind, const yaml_mark_t *mark)
{
    struct ynode *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->kind = kind;
    n->line = (int)mark->line + 1;
    n->column = (int)mark->column + 1;
    return n;
}

/* Appends child to parent's items; for a mapping key, refuses non-scalar
 * and duplicate keys. Returns false with a problem recorded. */
static bool yt_attach(struct ynode *parent, struct ynode *child, const char *file,
                      struct rule_problems *problems)
{
    if (parent->kind == YNODE_MAPPING && parent->count % 2 == 0) {
        if (child->kind != YNODE_SCALAR) {
            rule_problems_add(problems, file, child->line, child->column,
                              "mapping keys must be plain strings, not a %s",
                              ynode_type_name(child));
            return false;
        }
        for (size_t i = 0; i < parent->count; i += 2) {
            const struct ynode *k = parent->items[i];
            if (k->len == child->len && memcmp(k->text, child->text, k->len) == 0) {
                rule_problems_add(problems, file, child->line, child->column,
                                  "duplicate key '%s' (first at line %d)", child->text, k->line);
                return false;
            }
        }
    }
    if (parent->count == SIZE_MAX / sizeof(*parent->items))
        goto oom;
    struct ynode **items = realloc(parent->items, (parent->count + 1) * sizeof(*items));
    if (items == NULL)
        goto oom;
    parent->items = items;
    parent->items[parent->count++] = child;
    return true;
oom:
    rule_problems_add(problems, file, child->line, child->column, "out of memory");
    return false;
}

/* Line and column (1-based, in characters) of byte offset in text; libyaml
 * reports encoding errors by offset only. */
static void yt_offset_position(const char *text, size_t len, size_t offset, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *column = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*column)++;
        }
    }
}

struct ynode *ytree_parse(const char *text, size_t len, const char *file,
                          struct rule_problems *problems)
{
    yaml_parser_t parser;
    yaml_event_t event;
    struct ynode *stack[YTREE_MAX_DEPTH];
    size_t depth = 0;
    struct ynode *root = NULL;
    struct ynode *node = NULL; /* owned until attached */
    int documents = 0;
    bool have_event = false;
    bool done = false;

    if (!yaml_parser_initialize(&parser)) {
        rule_problems_add(problems, file, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) {
            const char *ctx = parser.context != NULL ? parser.context : "";
            int line = (int)parser.problem_mark.line + 1;
            int column = (int)parser.problem_mark.column + 1;
            if (parser.error == YAML_READER_ERROR)
                yt_offset_position(text, len, parser.problem_offset, &line, &column);
            rule_problems_add(problems, file, line, column, "YAML syntax error: %s%s%s",
                              parser.problem != NULL ? parser.problem : "unknown problem",
                              *ctx != '\0' ? " " : "", ctx);
            goto fail;
        }
        have_event = true;
        const yaml_mark_t *mark = &event.start_mark;
        const yaml_char_t *tag = NULL;

        switch (event.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                rule_problems_add(problems, file, (int)mark->line + 1, (int)mark->column + 1,
                                  "only one YAML document per file is allowed");
                goto fail;
            }
            break;
        case YAML_ALIAS_EVENT:
            rule_problems_add(problems, file, (int)mark->line + 1, (int)mark->column + 1,
                              "YAML aliases are not supported");
            goto fail;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (event.type == YAML_SCALAR_EVENT)
                tag = event.data.scalar.tag;
            else if (event.type == YAML_SEQUENCE_START_EVENT)
                tag = event.data.sequence_start.tag;
            else
                tag = event.data.mapping_start.tag;
            if (tag != NULL) {
                rule_problems_add(problems, file, (int)mark->line + 1, (int)mark->column + 1,
                                  "YAML tags are not supported (%s)", (const char *)tag);
                goto fail;
            }
            node = yt_node_new(event.type == YAML_SCALAR_EVENT           ? YNODE_SCALAR
                               : event.type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQUENCE
                                                                         : YNODE_MAPPING,
                               mark);
            if (node == NULL) {
                rule_problems_add(problems, file, 0, 0, "out of memory");
                goto fail;
            }
            if (event.type == YAML_SCALAR_EVENT) {
                node->len = event.data.scalar.length;
                node->text = malloc(node->len + 1);
                if (node->text == NULL) {
                    rule_problems_add(problems, file, 0, 0, "out of memory");
                    goto fail;
                }
                memcpy(node->text, event.data.scalar.value, node->len);
                node->text[node->len] = '\0';
                node->quoted = event.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
                yt_resolve(node);
            }
            if (depth == 0) {
                root = node;
            } else if (!yt_attach(stack[depth - 1], node, file, problems)) {
                goto fail;
            }
            if (node->kind != YNODE_SCALAR) {
                if (depth == YTREE_MAX_DEPTH) {
                    rule_problems_add(problems, file, node->line, node->column,
                                      "nesting deeper than %d levels", YTREE_MAX_DEPTH);
                    node = NULL; /* attached above */
                    goto fail;
                }
                stack[depth++] = node;
            }
            node = NULL;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0)
                depth--;
            break;
        default:
            break;
        }
        yaml_event_delete(&event);
        have_event = false;
    }
    yaml_parser_delete(&parser);

    if (root == NULL) {
        /* An empty stream: report it as a null document. */
        yaml_mark_t start = {0, 0, 0};
        root = yt_node_new(YNODE_SCALAR, &start);
        if (root == NULL || (root->text = calloc(1, 1)) == NULL) {
            ytree_free(root);
            rule_problems_add(problems, file, 0, 0, "out of memory");
            return NULL;
        }
        root->stype = YSCALAR_NULL;
    }
    return root;

fail:
    if (have_event)
        yaml_event_delete(&event);
    yaml_parser_delete(&parser);
    if (node != root)
        ytree_free(node);
    ytree_free(root);
    return NULL;
}

/* Edit distance of a and b (both at most 31 bytes). */
static size_t yt_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t prev[32], cur[32];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            char ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z')
                ca = (char)(ca - 'A' + 'a');
            if (cb >= 'A' && cb <= 'Z')
                cb = (char)(cb - 'A' + 'a');
            size_t best = prev[j - 1] + (ca != cb);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
    }
    return prev[lb];
}

const char *ynode_suggest(const char *word, const char *const *candidates, size_t count)
{
    size_t lw = strlen(word);
    const char *best = NULL;
    size_t best_d = 3;
    if (lw > 31)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        size_t lc = strlen(candidates[i]);
        if (lc > 31)
            continue;
        size_t d = yt_distance(word, lw, candidates[i], lc);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}

bool ynode_problem(struct rule_problems *problems, const char *file, const struct ynode *at,
                   const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rule_problems_add(problems, file, at != NULL ? at->line : 1, at != NULL ? at->column : 1, "%s",
                      msg);
    return false;
}

bool ynode_unknown_key(struct rule_problems *problems, const char *file, const struct ynode *key,
                       const char *where, const char *const *known, size_t n)
{
    const char *hint = ynode_suggest(key->text, known, n);
    if (hint != NULL)
        return ynode_problem(problems, file, key, "unknown key '%s' in %s (did you mean '%s'?)",
                             key->text, where, hint);
    return ynode_problem(problems, file, key, "unknown key '%s' in %s", key->text, where);
}
