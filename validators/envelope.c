/* envelope.c - the envelope settings of a rule set (see envelope.h).
 *
 * The three string fields are compiled as string schemas, so the envelope
 * file speaks the rule language (minLength, pattern, format...) and events
 * are checked by the same walk as payloads. Rule files are checked against
 * the envelope at load time too: a rule whose category or name no event can
 * carry is an error, not a rule that silently never matches.
 */
#include "autoconfig.h"

#include "validators/envelope.h"

#include <string.h>

#include <json-c/json.h>

#include "validators/schema.h"
#include "validators/verdict.h"
#include "validators/yamltree.h"

/* The built-in envelope; rules/_envelope.yaml ships the same values. Each
 * section an envelope file gives replaces the built-in one whole. */
static const char env_default_text[] =
    "session_id: {minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$'}\n"
    "category: {minLength: 1, maxLength: 64, pattern: '^[!-~](?:[ -~]*[!-~])?$'}\n"
    "name: {minLength: 1, maxLength: 64, pattern: '^[!-~](?:[ -~]*[!-~])?$'}\n"
    "timestamp: {maxFutureSeconds: 300, maxAgeSeconds: 0}\n"
    "unknownEventType: reject\n";

static const char *const env_field_names[ENVELOPE_FIELD_COUNT] = {"session_id", "category", "name"};

/* Largest maxFutureSeconds / maxAgeSeconds: 200 years. */
#define ENV_MAX_SECONDS INT64_C(6311520000)

/* session_id, category and name are stored in VARCHAR(255) columns
 * (sessions.session_key, events.category, ...): a longer limit would let
 * an event pass its rules and then fail the queue INSERT. A section
 * without maxLength gets this one. */
#define ENV_COLUMN_CHARS 255

static bool env_seconds(struct rule_problems *problems, const char *file, const struct ynode *v,
                        const char *key, int64_t *us_out)
{
    if (v->kind != YNODE_SCALAR || v->stype != YSCALAR_INT || v->i < 0 || v->i > ENV_MAX_SECONDS)
        return ynode_problem(problems, file, v,
                             "'%s' expects a whole number of seconds from 0 to %lld", key,
                             (long long)ENV_MAX_SECONDS);
    *us_out = v->i * 1000000;
    return true;
}

bool envelope_apply(struct envelope *env, const struct ynode *root, const char *file,
                    struct rule_problems *problems)
{
    static const char *const keys[] = {"session_id", "category", "name", "timestamp",
                                       "unknownEventType"};
    static const char *const ts_keys[] = {"maxFutureSeconds", "maxAgeSeconds"};
    struct schema_loader ld = {file, problems};
    bool ok = true;

    if (root->kind != YNODE_MAPPING)
        return ynode_problem(problems, file, root, "the envelope file must be a mapping, not a %s",
                             ynode_type_name(root));
    for (size_t k = 0; k + 1 < root->count; k += 2) {
        const struct ynode *key = root->items[k], *v = root->items[k + 1];
        size_t f;
        for (f = 0; f < ENVELOPE_FIELD_COUNT; f++)
            if (strcmp(key->text, env_field_names[f]) == 0)
                break;
        if (f < ENVELOPE_FIELD_COUNT) {
            struct schema *s = schema_compile(v, &ld);
            if (s == NULL) {
                ok = false;
                continue;
            }
            if (!schema_force_string(s)) {
                schema_free(s);
                ok = ynode_problem(problems, file, v,
                                   "'%s' is always a string; 'type' may only "
                                   "say string",
                                   key->text);
                continue;
            }
            if (!schema_cap_max_length(s, ENV_COLUMN_CHARS)) {
                schema_free(s);
                ok = ynode_problem(problems, file, v,
                                   "'%s' allows at most maxLength %d: the columns that "
                                   "store it hold %d characters",
                                   key->text, ENV_COLUMN_CHARS, ENV_COLUMN_CHARS);
                continue;
            }
            schema_free(env->fields[f]);
            env->fields[f] = s;
        } else if (strcmp(key->text, "timestamp") == 0) {
            if (v->kind != YNODE_MAPPING) {
                ok = ynode_problem(problems, file, v, "'timestamp' expects a mapping, not a %s",
                                   ynode_type_name(v));
                continue;
            }
            for (size_t j = 0; j + 1 < v->count; j += 2) {
                const struct ynode *tk = v->items[j], *tv = v->items[j + 1];
                if (strcmp(tk->text, "maxFutureSeconds") == 0)
                    ok = env_seconds(problems, file, tv, tk->text, &env->future_us) && ok;
                else if (strcmp(tk->text, "maxAgeSeconds") == 0)
                    ok = env_seconds(problems, file, tv, tk->text, &env->max_age_us) && ok;
                else
                    ok = ynode_unknown_key(problems, file, tk, "'timestamp'", ts_keys, 2);
            }
        } else if (strcmp(key->text, "unknownEventType") == 0) {
            if (v->kind == YNODE_SCALAR && v->stype == YSCALAR_STRING &&
                strcmp(v->text, "reject") == 0)
                env->unknown = RULESET_UNKNOWN_REJECT;
            else if (v->kind == YNODE_SCALAR && v->stype == YSCALAR_STRING &&
                     strcmp(v->text, "accept") == 0)
                env->unknown = RULESET_UNKNOWN_ACCEPT;
            else
                ok =
                    ynode_problem(problems, file, v, "'unknownEventType' expects reject or accept");
        } else {
            ok = ynode_unknown_key(problems, file, key, "the envelope file", keys,
                                   sizeof(keys) / sizeof(keys[0]));
        }
    }
    return ok;
}

bool envelope_check_value(const struct envelope *env, enum envelope_field f, const struct ynode *v,
                          const char *file, struct rule_problems *problems)
{
    struct event_verdict verdict;
    struct vctx ctx;
    bool ok = true;
    struct json_object *str = json_object_new_string_len(v->text, (int)v->len);
    if (str == NULL)
        return ynode_problem(problems, file, v, "out of memory");
    vctx_begin(&ctx, &verdict, false);
    schema_validate(env->fields[f], str, &ctx);
    if (verdict.error_count > 0)
        ok = ynode_problem(problems, file, v, "%s '%s' can never pass the envelope limits: %s (%s)",
                           env_field_names[f], v->text, verdict.errors[0].message,
                           verdict.errors[0].code);
    else if (ctx.oom)
        ok = ynode_problem(problems, file, v, "out of memory");
    json_object_put(str);
    event_verdict_clear(&verdict);
    return ok;
}

bool envelope_load_defaults(struct envelope *env, struct rule_problems *problems)
{
    env->unknown = RULESET_UNKNOWN_REJECT;
    struct ynode *root =
        ytree_parse(env_default_text, sizeof(env_default_text) - 1, "<built-in>", problems);
    bool ok = root != NULL && envelope_apply(env, root, "<built-in>", problems);
    ytree_free(root);
    for (size_t f = 0; f < ENVELOPE_FIELD_COUNT; f++)
        if (env->fields[f] == NULL)
            ok = false; /* already reported */
    return ok;
}

void envelope_field_limits(const struct envelope *env, enum envelope_field f,
                           struct envelope_limits *out)
{
    schema_string_limits(env->fields[f], &out->min_length, &out->max_length, &out->pattern,
                         &out->format);
}

void envelope_clear(struct envelope *env)
{
    if (env == NULL)
        return;
    for (size_t f = 0; f < ENVELOPE_FIELD_COUNT; f++)
        schema_free(env->fields[f]);
    memset(env, 0, sizeof(*env));
}
