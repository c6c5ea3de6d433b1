/* verdict.c - build a verdict: the JSON pointer path and error recording.
 *
 * Both the envelope check and the schema walk report through vctx_error,
 * so every error of every kind is recorded the same way: bounded by
 * EVENT_MAX_ERRORS, stopped after the first in first-error mode, and
 * allocated only when it is recorded (the pointer is built from the path
 * then, never while walking).
 */
#include "autoconfig.h"

#include "validators/verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void event_verdict_clear(struct event_verdict *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->error_count; i++) {
        free(v->errors[i].pointer);
        free(v->errors[i].message);
    }
    free(v->errors);
    memset(v, 0, sizeof(*v));
}

void vctx_begin(struct vctx *ctx, struct event_verdict *verdict, bool all_errors)
{
    memset(verdict, 0, sizeof(*verdict));
    verdict->ok = true;
    /* The path is left as it is: only the first depth segments are read. */
    ctx->verdict = verdict;
    ctx->all_errors = all_errors;
    ctx->stop = false;
    ctx->oom = false;
    ctx->failures = 0;
    ctx->depth = 0;
}

void vctx_push_key(struct vctx *ctx, const char *key, size_t key_len)
{
    if (ctx->depth < sizeof(ctx->path) / sizeof(ctx->path[0])) {
        ctx->path[ctx->depth].key = key;
        ctx->path[ctx->depth].key_len = key_len;
    }
    ctx->depth++;
}

void vctx_push_index(struct vctx *ctx, size_t index)
{
    if (ctx->depth < sizeof(ctx->path) / sizeof(ctx->path[0])) {
        ctx->path[ctx->depth].key = NULL;
        ctx->path[ctx->depth].index = index;
    }
    ctx->depth++;
}

void vctx_pop(struct vctx *ctx)
{
    if (ctx->depth > 0)
        ctx->depth--;
}

/* Builds the RFC 6901 pointer of the current path; caller frees. */
static char *vctx_pointer(const struct vctx *ctx)
{
    size_t depth = ctx->depth;
    size_t len = 0;
    char digits[24];
    if (depth > sizeof(ctx->path) / sizeof(ctx->path[0]))
        depth = sizeof(ctx->path) / sizeof(ctx->path[0]);
    for (size_t i = 0; i < depth; i++) {
        const struct vseg *seg = &ctx->path[i];
        len++;
        if (seg->key == NULL) {
            len += (size_t)snprintf(digits, sizeof(digits), "%zu", seg->index);
            continue;
        }
        size_t klen = seg->key_len != SIZE_MAX ? seg->key_len : strlen(seg->key);
        for (size_t j = 0; j < klen; j++)
            len += (seg->key[j] == '~' || seg->key[j] == '/') ? 2 : 1;
    }
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    size_t pos = 0;
    for (size_t i = 0; i < depth; i++) {
        const struct vseg *seg = &ctx->path[i];
        out[pos++] = '/';
        if (seg->key == NULL) {
            int n = snprintf(digits, sizeof(digits), "%zu", seg->index);
            memcpy(out + pos, digits, (size_t)n);
            pos += (size_t)n;
            continue;
        }
        size_t klen = seg->key_len != SIZE_MAX ? seg->key_len : strlen(seg->key);
        for (size_t j = 0; j < klen; j++) {
            char c = seg->key[j];
            if (c == '~' || c == '/') {
                out[pos++] = '~';
                out[pos++] = c == '~' ? '0' : '1';
            } else {
                out[pos++] = c;
            }
        }
    }
    out[pos] = '\0';
    return out;
}

bool vctx_error(struct vctx *ctx, const char *code, const char *fmt, ...)
{
    struct event_verdict *v = ctx->verdict;
    char msg[256];
    char *pointer = NULL, *message = NULL;
    va_list ap;

    ctx->failures++;
    v->ok = false;
    if (ctx->stop)
        return false;
    if (v->error_count >= EVENT_MAX_ERRORS) {
        v->truncated = true;
        ctx->stop = true;
        return false;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pointer = vctx_pointer(ctx);
    message = strdup(msg);
    struct event_error *errors = NULL;
    if (pointer == NULL || message == NULL)
        goto fail;
    errors = realloc(v->errors, (v->error_count + 1) * sizeof(*errors));
    if (errors == NULL)
        goto fail;
    v->errors = errors;
    v->errors[v->error_count].code = code;
    v->errors[v->error_count].pointer = pointer;
    v->errors[v->error_count].message = message;
    v->error_count++;
    if (!ctx->all_errors)
        ctx->stop = true;
    return !ctx->stop;

fail:
    free(pointer);
    free(message);
    ctx->oom = true;
    ctx->stop = true;
    return false;
}
