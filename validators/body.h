/* body.h - the request body decoder: bytes as received to a list of events.
 *
 * What eye.fcgi does with a POST body before any rule sees it, free of
 * FastCGI and of the worker, so unit tests, the fuzzers and eye-admin's
 * replay run exactly the code the server runs:
 *
 *   media type    application/json (or none), application/x-ndjson,
 *                 application/jsonl; Content-Encoding gzip (several members
 *                 allowed, RFC 1952), x-gzip or identity
 *   JSON          one event object, or a non-empty array of them
 *   NDJSON        one event per non-blank line; a line that does not parse
 *                 is that event's error, not the request's
 *   strictness    RFC 8259 grammar (no NaN/Infinity, no raw control
 *                 characters in strings), strict UTF-8 (RFC 3629) in every
 *                 string and member name, no lone surrogate escapes, no
 *                 duplicate member names, nesting at most max_depth, no NUL
 *                 byte in the text
 *
 * Errors are values: a struct body_error with the HTTP status, a stable
 * code, the RFC 6901 pointer of the offending value ("" when the body as a
 * whole is at fault) and a message. Codes: unsupported_media_type,
 * unsupported_encoding (415); invalid_gzip, invalid_json, invalid_utf8,
 * duplicate_key, nesting_too_deep, not_an_event, empty_batch (400);
 * decompressed_too_large, too_many_events (413); out_of_memory (503).
 *
 * Ownership: a body_decoder owns its tokener and its inflate buffer and is
 * used by one thread at a time. A decoded struct body owns the parsed JSON
 * and its per-line errors; its raw texts point into the decoded bytes (the
 * caller's buffer, or the decoder's inflate buffer), so they live until the
 * next body_decode on the same decoder.
 */
#ifndef EYE_VALIDATORS_BODY_H
#define EYE_VALIDATORS_BODY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest pointer an error keeps, in bytes (event_errors.pointer holds
 * 1024 characters); longer ones are cut at a character boundary. */
#define BODY_POINTER_MAX 1024

/* Most payload copies one body may own (made valid UTF-8 for storage). */
#define BODY_OWNED_MAX 64

struct body_limits {
    size_t max_decompressed_bytes;
    size_t max_events;
    int max_depth;
};

enum body_format { BODY_JSON, BODY_NDJSON };

struct body_error {
    int status;       /* HTTP status of a request-level error */
    const char *code; /* stable code (static) */
    char pointer[BODY_POINTER_MAX + 1];
    char message[256];
};

/* A decoded body. Zero-initialise before the first body_decode. */
struct body {
    const char *text;                   /* the decoded bytes (after gunzip) */
    size_t text_len;
    size_t n;
    bool ndjson;
    struct json_object *root;           /* JSON: the parsed value, owning the events */
    struct json_object **events;        /* n; NDJSON: owned, NULL where a line failed */
    const char **raw;                   /* n: each event's text as received (trimmed) */
    size_t *raw_len;
    struct body_error **line_error;     /* NDJSON: NULL where the line parsed */
    char *owned[BODY_OWNED_MAX];        /* payload copies made by body_payload */
    size_t owned_count;
};

struct body_decoder;

/* Creates a decoder with these limits. Returns NULL when out of memory. */
struct body_decoder *body_decoder_new(const struct body_limits *limits);

/* Frees a decoder (NULL-safe). */
void body_decoder_free(struct body_decoder *d);

/* Reads Content-Type and Content-Encoding (either may be NULL). Returns
 * false with *err set (415) when one is not accepted. */
bool body_media(const char *content_type, const char *content_encoding, enum body_format *format,
                bool *gzip, struct body_error *err);

/* Decodes len bytes of data (gunzipped first when gzip) into *out, which
 * must be empty (zeroed or body_clear'ed). Returns false with *err set
 * when the body as a whole is refused; *out then holds nothing to free
 * but is safe to body_clear. */
bool body_decode(struct body_decoder *d, const char *data, size_t len, enum body_format format,
                 bool gzip, struct body *out, struct body_error *err);

/* Parses one complete JSON text as strictly as body_decode does. Returns
 * true with *out set (NULL for the JSON value null; the caller owns it),
 * or false with *err set (status 400). */
bool body_parse(struct body_decoder *d, const char *text, size_t len, struct json_object **out,
                struct body_error *err);

/* Makes text received storable as a payload: valid UTF-8 (each bad byte
 * becomes U+FFFD) of at most cap bytes, never cutting a character. Returns
 * s itself or a copy owned by b; *truncated tells whether anything was
 * cut. */
const char *body_payload(struct body *b, const char *s, size_t len, size_t cap, size_t *out_len,
                         bool *truncated);

/* Frees what b owns and empties it. */
void body_clear(struct body *b);

#endif
