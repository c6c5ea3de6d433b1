/* body.c - the request body decoder (see body.h).
 *
 * json-c parses; a scan of the raw text then checks what json-c lets
 * through (it accepts NaN and Infinity, raw control characters, overlong
 * and out-of-range UTF-8, lone surrogate escapes, and keeps the last of
 * duplicate member names silently). The scan follows the JSON structure
 * with a stack of frames so that an offence is reported with the pointer
 * of the value it is in.
 */
#include "autoconfig.h"

#include "validators/body.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "lib/utf8.h"

struct body_frame {
    bool array;
    bool want_key;       /* object: the next string is a member name */
    size_t index;        /* array: index of the current element */
    const char *key;     /* object: raw text of the current member name */
    size_t key_len;
    size_t names_from;   /* object: its first entry in body_scan.names */
};

/* A member name's raw text, for finding which one is repeated. */
struct body_name {
    const char *text;
    size_t len;
};

struct body_decoder {
    struct body_limits lim;
    struct json_tokener *tok;
    char *inflate_buf;         /* max_decompressed_bytes, allocated on first gzip body */
    struct body_frame *frames; /* max_depth + 1 */
};

/* What the scan found: the member count, the top-level array's element
 * texts, and the first offence (code NULL when none). */
struct body_scan {
    size_t members;
    const char **raw;
    size_t *raw_len;
    size_t raw_max, raw_n;
    const char *code;
    size_t depth; /* frames in the offence's path */
    bool in_key;  /* the offence is in a member name: point at its object */
    char message[160];
    /* Set only on the second pass over a text whose member count says a
     * name is repeated: the names of the open objects (owned, freed by
     * body_parse_scan); names_oom when they did not fit in memory. */
    bool find_duplicate, names_oom;
    struct body_name *names;
    size_t names_n, names_cap;
};

static void body_fail(struct body_error *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void body_fail(struct body_error *e, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    e->status = status;
    e->code = code;
    e->pointer[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

struct body_decoder *body_decoder_new(const struct body_limits *limits)
{
    struct body_decoder *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->lim = *limits;
    d->tok = json_tokener_new_ex(limits->max_depth);
    d->frames = calloc((size_t)limits->max_depth + 1, sizeof(*d->frames));
    if (d->tok == NULL || d->frames == NULL) {
        body_decoder_free(d);
        return NULL;
    }
    json_tokener_set_flags(d->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    return d;
}

void body_decoder_free(struct body_decoder *d)
{
    if (d == NULL)
        return;
    if (d->tok != NULL)
        json_tokener_free(d->tok);
    free(d->inflate_buf);
    free(d->frames);
    free(d);
}

bool body_media(const char *content_type, const char *content_encoding, enum body_format *format,
                bool *gzip, struct body_error *err)
{
    char media[64];
    size_t n = 0;
    const char *ct = content_type != NULL ? content_type : "";
    while (*ct == ' ')
        ct++;
    for (; *ct && *ct != ';' && *ct != ' ' && n + 1 < sizeof(media); ct++)
        media[n++] = (char)tolower((unsigned char)*ct);
    media[n] = '\0';
    bool ndjson =
        strcmp(media, "application/x-ndjson") == 0 || strcmp(media, "application/jsonl") == 0;
    if (!ndjson && *media != '\0' && strcmp(media, "application/json") != 0) {
        /* Echoed only when it is printable ASCII: the answer is UTF-8. */
        bool printable = true;
        for (const char *c = media; *c != '\0'; c++)
            printable = printable && *c > ' ' && *c < 0x7f;
        body_fail(err, 415, "unsupported_media_type",
                  "Content-Type %s is not accepted; send application/json or "
                  "application/x-ndjson",
                  printable ? media : "(not ASCII)");
        return false;
    }
    /* JSON is UTF-8 (RFC 8259): a body that says it is in another charset
     * is not decoded from it, it is refused. Other parameters are ignored. */
    for (const char *p = strchr(ct, ';'); p != NULL; p = strchr(p + 1, ';')) {
        const char *v = p + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncasecmp(v, "charset=", 8) != 0)
            continue;
        v += 8;
        size_t vlen = strcspn(v, "; \t");
        bool quoted = vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"';
        if (quoted)
            v++, vlen -= 2;
        if (!((vlen == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
              (vlen == 4 && strncasecmp(v, "utf8", 4) == 0))) {
            body_fail(err, 415, "unsupported_media_type",
                      "the body is JSON in UTF-8; charset %.*s is not accepted",
                      (int)(vlen > 32 ? 32 : vlen), v);
            if (!utf8_valid(err->message, strlen(err->message), NULL))
                snprintf(err->message, sizeof(err->message),
                         "the body is JSON in UTF-8; no other charset is accepted");
            return false;
        }
    }
    *format = ndjson ? BODY_NDJSON : BODY_JSON;
    *gzip = false;
    const char *enc = content_encoding;
    if (enc != NULL && *enc != '\0') {
        if (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0) {
            *gzip = true;
        } else if (strcasecmp(enc, "identity") != 0) {
            body_fail(err, 415, "unsupported_encoding",
                      "Content-Encoding %.64s is not accepted; send gzip or identity", enc);
            return false;
        }
    }
    return true;
}

/* Inflates a gzip body into the decoder's buffer; *out and *out_len then point
 * there. */
static bool body_gunzip(struct body_decoder *d, const char *data, size_t len, const char **out,
                        size_t *out_len, struct body_error *err)
{
    size_t cap = d->lim.max_decompressed_bytes;
    if (d->inflate_buf == NULL) {
        d->inflate_buf = malloc(cap ? cap : 1);
        if (d->inflate_buf == NULL) {
            body_fail(err, 503, "out_of_memory", "cannot decompress now");
            return false;
        }
    }
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        body_fail(err, 503, "out_of_memory", "cannot decompress now");
        return false;
    }
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)d->inflate_buf;
    zs.avail_out = (uInt)cap;
    /* A gzip file may hold several members (RFC 1952): inflate them all. */
    int rc;
    for (;;) {
        rc = inflate(&zs, Z_FINISH);
        if (rc != Z_STREAM_END || zs.avail_in == 0)
            break;
        if (inflateReset(&zs) != Z_OK)
            break;
    }
    bool ok = false;
    if (rc == Z_STREAM_END && zs.avail_in == 0) {
        ok = true;
        *out = d->inflate_buf;
        *out_len = cap - zs.avail_out;
    } else if (zs.avail_out == 0 && rc != Z_STREAM_END) {
        body_fail(err, 413, "decompressed_too_large",
                  "the body decompresses to more than %zu bytes", cap);
    } else {
        body_fail(err, 400, "invalid_gzip", "the body is not a complete gzip stream%s%.100s",
                  zs.msg ? ": " : "", zs.msg ? zs.msg : "");
    }
    inflateEnd(&zs);
    return ok;
}

static int body_hex4(const char *s, size_t avail)
{
    if (avail < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)s[i], h;
        if (c >= '0' && c <= '9')
            h = c - '0';
        else if (c >= 'a' && c <= 'f')
            h = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            h = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Checks the string whose text starts after the quote at s[*i]; leaves *i
 * on the closing quote. Returns false with the offence in sc. */
static bool body_scan_string(const char *s, size_t len, size_t *i, struct body_scan *sc)
{
    for (size_t k = *i + 1; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == '"') {
            *i = k;
            return true;
        }
        if (c < 0x20) {
            sc->code = "invalid_json";
            snprintf(sc->message, sizeof(sc->message),
                     "a control character (U+%04X) in a string must be escaped (byte %zu)", c,
                     k);
            return false;
        }
        if (c >= 0x80) {
            size_t n = utf8_seq((const unsigned char *)s + k, len - k);
            if (n == 0) {
                sc->code = "invalid_utf8";
                snprintf(sc->message, sizeof(sc->message), "invalid UTF-8 at byte %zu", k);
                return false;
            }
            k += n - 1;
            continue;
        }
        if (c != '\\')
            continue;
        if (k + 1 >= len || strchr("\"\\/bfnrtu", s[k + 1]) == NULL || s[k + 1] == '\0' ||
            (s[k + 1] == 'u' && body_hex4(s + k + 2, len - k - 2) < 0)) {
            sc->code = "invalid_json";
            snprintf(sc->message, sizeof(sc->message), "an invalid escape at byte %zu", k);
            return false;
        }
        if (s[k + 1] == 'u') {
            int cp = body_hex4(s + k + 2, len - k - 2);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int lo = k + 7 < len && s[k + 6] == '\\' && s[k + 7] == 'u'
                             ? body_hex4(s + k + 8, len - k - 8)
                             : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    goto lone;
                k += 11;
                continue;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                goto lone;
            k += 5;
            continue;
        }
        k++; /* a one-character escape */
        continue;
    lone:
        sc->code = "invalid_utf8";
        snprintf(sc->message, sizeof(sc->message),
                 "the escape at byte %zu is a lone surrogate, not a character", k);
        return false;
    }
    *i = len;
    return true;
}

/* Checks the number that starts at s[*i] against JSON's grammar, which
 * json-c is laxer about (it takes "1."): -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?. Leaves *i on its last byte. */
static bool body_scan_number(const char *s, size_t len, size_t *i, struct body_scan *sc)
{
    size_t k = *i, digits;
    if (s[k] == '-')
        k++;
    digits = 0;
    while (k < len && isdigit((unsigned char)s[k]))
        k++, digits++;
    bool ok = digits > 0 && !(digits > 1 && s[k - digits] == '0');
    if (ok && k < len && s[k] == '.') {
        k++;
        for (digits = 0; k < len && isdigit((unsigned char)s[k]); k++)
            digits++;
        ok = digits > 0;
    }
    if (ok && k < len && (s[k] == 'e' || s[k] == 'E')) {
        k++;
        if (k < len && (s[k] == '+' || s[k] == '-'))
            k++;
        for (digits = 0; k < len && isdigit((unsigned char)s[k]); k++)
            digits++;
        ok = digits > 0;
    }
    if (!ok) {
        sc->code = "invalid_json";
        snprintf(sc->message, sizeof(sc->message), "a malformed number at byte %zu", *i);
        return false;
    }
    *i = k - 1;
    return true;
}

static int body_name_cmp(const void *a, const void *b)
{
    const struct body_name *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->text, y->text, n);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Second pass only: remembers the name just read in the innermost object. */
static void body_scan_name(struct body_scan *sc, const char *text, size_t len)
{
    if (sc->names_oom)
        return;
    if (sc->names_n == sc->names_cap) {
        size_t cap = sc->names_cap ? sc->names_cap * 2 : 64;
        struct body_name *n = realloc(sc->names, cap * sizeof(*n));
        if (n == NULL) {
            sc->names_oom = true;
            return;
        }
        sc->names = n;
        sc->names_cap = cap;
    }
    sc->names[sc->names_n++] = (struct body_name){text, len};
}

/* Second pass only: at the end of the object in frame top, finds a name it
 * has twice (sorting its names: n log n however many), makes it the frame's
 * current name and returns false; then forgets the object's names. Names
 * spelled differently (an escape for a letter) are not found: the error
 * then points at the whole text. */
static bool body_scan_close_object(struct body_scan *sc, struct body_frame *top)
{
    struct body_name *first = sc->names + top->names_from;
    size_t n = sc->names_n - top->names_from;
    if (!sc->names_oom && n > 1) {
        qsort(first, n, sizeof(*first), body_name_cmp);
        for (size_t k = 1; k < n; k++) {
            if (body_name_cmp(&first[k - 1], &first[k]) == 0) {
                top->key = first[k].text;
                top->key_len = first[k].len;
                sc->code = "duplicate_key";
                snprintf(sc->message, sizeof(sc->message),
                         "an object has the same member name twice");
                return false;
            }
        }
    }
    sc->names_n = top->names_from;
    return true;
}

/* Records s[from, to), trimmed, as the next top-level array element's
 * text (an empty one is the end of "[]"). */
static void body_scan_element(struct body_scan *sc, const char *s, size_t from, size_t to)
{
    while (from < to && isspace((unsigned char)s[from]))
        from++;
    while (to > from && isspace((unsigned char)s[to - 1]))
        to--;
    if (sc->raw == NULL || sc->raw_n >= sc->raw_max || to == from)
        return;
    sc->raw[sc->raw_n] = s + from;
    sc->raw_len[sc->raw_n++] = to - from;
}

/* Walks JSON text json-c parsed. Counts ':' outside strings (one per
 * member: comparing with the members json-c kept is how a duplicate is
 * noticed), stores the text of the top-level array's first raw_max
 * elements (trimmed: a rejected event is stored as sent, not as json-c
 * would print it), and stops at the first offence json-c let through.
 * frames has room for max_frames. */
static bool body_scan_text(const char *s, size_t len, struct body_frame *frames, size_t max_frames,
                           struct body_scan *sc)
{
    size_t depth = 0, start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        struct body_frame *top = depth > 0 ? &frames[depth - 1] : NULL;
        if (c == '"') {
            size_t from = i;
            bool key = top != NULL && !top->array && top->want_key;
            if (!body_scan_string(s, len, &i, sc)) {
                sc->depth = depth;
                sc->in_key = key;
                return false;
            }
            if (key) {
                top->key = s + from + 1;
                top->key_len = i - from - 1;
                top->want_key = false;
                if (sc->find_duplicate)
                    body_scan_name(sc, top->key, top->key_len);
            }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if (!body_scan_number(s, len, &i, sc)) {
                sc->depth = depth;
                sc->in_key = false;
                return false;
            }
        } else if (c == ':') {
            sc->members++;
        } else if (c == '[' || c == '{') {
            if (depth == max_frames) { /* json-c refuses deeper; never here */
                sc->code = "nesting_too_deep";
                snprintf(sc->message, sizeof(sc->message), "JSON nested too deep");
                sc->depth = depth;
                return false;
            }
            frames[depth++] = (struct body_frame){
                .array = c == '[', .want_key = c == '{', .names_from = sc->names_n};
            if (depth == 1)
                start = i + 1;
        } else if (c == ',') {
            if (top != NULL && top->array)
                top->index++;
            else if (top != NULL)
                top->want_key = true;
            if (depth == 1 && frames[0].array) {
                body_scan_element(sc, s, start, i);
                start = i + 1;
            }
        } else if (c == ']' || c == '}') {
            if (depth == 1 && frames[0].array)
                body_scan_element(sc, s, start, i);
            if (sc->find_duplicate && top != NULL && !top->array &&
                !body_scan_close_object(sc, top)) {
                sc->depth = depth;
                sc->in_key = false;
                return false;
            }
            if (depth > 0)
                depth--;
        } else if (c == '\'') {
            /* json-c takes 'single-quoted' strings even in strict mode */
            sc->code = "invalid_json";
            snprintf(sc->message, sizeof(sc->message),
                     "strings are in double quotes in JSON (byte %zu)", i);
            sc->depth = depth;
            sc->in_key = top != NULL && !top->array && top->want_key;
            return false;
        } else if (c == 'N' || c == 'I') {
            /* JSON's literals are lower case and its numbers have no
             * letters but e: these start NaN or [-]Infinity. */
            sc->code = "invalid_json";
            snprintf(sc->message, sizeof(sc->message),
                     "NaN and Infinity are not JSON numbers (byte %zu)", i);
            sc->depth = depth;
            sc->in_key = false;
            return false;
        }
    }
    return true;
}

/* Appends piece (n bytes, whole characters) to the pointer p (used bytes
 * *used). Returns false, adding nothing, when it would pass
 * BODY_POINTER_MAX: the pointer is then cut there. */
static bool body_pointer_add(char *p, size_t *used, const char *piece, size_t n)
{
    if (*used + n > BODY_POINTER_MAX)
        return false;
    memcpy(p + *used, piece, n);
    *used += n;
    p[*used] = '\0';
    return true;
}

/* Appends the member name whose raw (escaped) text is key, one character
 * at a time, escaped per RFC 6901. Returns false when the pointer is full. */
static bool body_pointer_key(char *p, size_t *used, const char *key, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char buf[4];
        size_t blen = 1;
        buf[0] = key[i];
        if (key[i] == '\\' && i + 1 < n) {
            char e = key[++i];
            if (e == 'u') {
                int cp = body_hex4(key + i + 1, n - i - 1);
                unsigned long code = cp < 0 ? 0xFFFD : (unsigned long)cp;
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n) {
                    int lo = body_hex4(key + i + 3, n - i - 3);
                    code = 0x10000 + (((unsigned long)cp - 0xD800) << 10) +
                           ((unsigned long)lo - 0xDC00);
                    i += 6;
                }
                blen = utf8_encode(code, buf);
            } else {
                buf[0] = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r'
                         : e == 't' ? '\t' : e;
            }
        } else if ((unsigned char)key[i] >= 0x80) {
            size_t len = utf8_seq((const unsigned char *)key + i, n - i);
            blen = len ? len : 1; /* a bad byte: the pointer is dropped later */
            memcpy(buf, key + i, blen);
            i += blen - 1;
        }
        bool special = blen == 1 && (buf[0] == '~' || buf[0] == '/');
        if (!body_pointer_add(p, used, special ? (buf[0] == '~' ? "~0" : "~1") : buf,
                              special ? 2 : blen))
            return false;
    }
    return true;
}

/* Writes the pointer of the scan's offence into err->pointer. */
static void body_scan_pointer(const struct body_frame *frames, const struct body_scan *sc,
                              struct body_error *err)
{
    size_t used = 0;
    err->pointer[0] = '\0';
    for (size_t f = 0; f < sc->depth; f++) {
        const struct body_frame *fr = &frames[f];
        bool last = f + 1 == sc->depth;
        if (last && sc->in_key)
            break; /* the name itself is at fault: point at its object */
        if (fr->array) {
            char num[24];
            int n = snprintf(num, sizeof(num), "/%zu", fr->index);
            if (!body_pointer_add(err->pointer, &used, num, (size_t)n))
                break;
        } else if (fr->key != NULL) {
            if (!body_pointer_add(err->pointer, &used, "/", 1) ||
                !body_pointer_key(err->pointer, &used, fr->key, fr->key_len))
                break;
        }
    }
    /* Names on the path were checked before the offence was reached; a
     * text json-c refused may still hold one that was not. */
    if (!utf8_valid(err->pointer, used, NULL))
        err->pointer[0] = '\0';
}

static size_t body_count_members(struct json_object *v)
{
    size_t count = 0;
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, key, child)
        {
            (void)key;
            count += 1 + body_count_members(child);
        }
    } else if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            count += body_count_members(json_object_array_get_idx(v, i));
    }
    return count;
}

/* Parses and scans one JSON text; when raw is not NULL also collects the
 * top-level array's element texts (at most raw_max). */
static bool body_parse_scan(struct body_decoder *d, const char *text, size_t len,
                            struct json_object **out, const char **raw, size_t *raw_len,
                            size_t raw_max, struct body_error *err)
{
    *out = NULL;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        body_fail(err, 400, "invalid_json",
                  "the text starts with a byte order mark, which JSON text does not have");
        return false;
    }
    struct json_tokener *tok = d->tok;
    json_tokener_reset(tok);
    struct json_object *v = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    /* A number or literal at the very end of the input is complete only
     * once the tokener sees what follows it: give it a blank. */
    if (v == NULL && jerr == json_tokener_continue && end == len) {
        v = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    struct body_scan sc = {.raw = raw, .raw_len = raw_len, .raw_max = raw_max};
    size_t frames = (size_t)d->lim.max_depth + 1;
    if (jerr != json_tokener_success) {
        json_object_put(v);
        if (jerr == json_tokener_error_depth) {
            body_fail(err, 400, "nesting_too_deep", "JSON nested deeper than %d levels",
                      d->lim.max_depth);
        } else if (jerr == json_tokener_error_parse_utf8_string) {
            body_fail(err, 400, "invalid_utf8", "invalid UTF-8 near byte %zu", end);
            /* The text up to json-c's stop parsed: the scan finds the value. */
            if (!body_scan_text(text, len, d->frames, frames, &sc) &&
                strcmp(sc.code, "invalid_utf8") == 0)
                body_scan_pointer(d->frames, &sc, err);
        } else if (jerr == json_tokener_continue) {
            body_fail(err, 400, "invalid_json", "the JSON text ends early (after %zu bytes)", len);
        } else {
            body_fail(err, 400, "invalid_json", "%s near byte %zu", json_tokener_error_desc(jerr),
                      end);
        }
        return false;
    }
    for (size_t i = end; i < len; i++) {
        if (!isspace((unsigned char)text[i])) {
            json_object_put(v);
            body_fail(err, 400, "invalid_json", "unexpected data after the JSON value at byte %zu",
                      i);
            return false;
        }
    }
    if (memchr(text, '\0', len) != NULL) {
        json_object_put(v);
        body_fail(err, 400, "invalid_json", "the body contains a NUL byte");
        return false;
    }
    if (!body_scan_text(text, len, d->frames, frames, &sc)) {
        json_object_put(v);
        body_fail(err, 400, sc.code, "%s", sc.message);
        body_scan_pointer(d->frames, &sc, err);
        return false;
    }
    if (sc.members != body_count_members(v)) {
        json_object_put(v);
        body_fail(err, 400, "duplicate_key", "an object has the same member name twice");
        /* Which name: a second pass that keeps the names of open objects. */
        struct body_scan again = {.find_duplicate = true};
        if (!body_scan_text(text, len, d->frames, frames, &again) &&
            strcmp(again.code, "duplicate_key") == 0)
            body_scan_pointer(d->frames, &again, err);
        free(again.names);
        return false;
    }
    *out = v;
    return true;
}

bool body_parse(struct body_decoder *d, const char *text, size_t len, struct json_object **out,
                struct body_error *err)
{
    return body_parse_scan(d, text, len, out, NULL, NULL, 0, err);
}

static bool body_alloc(struct body *b, size_t n, bool lines)
{
    size_t k = n ? n : 1;
    b->events = calloc(k, sizeof(*b->events));
    b->raw = calloc(k, sizeof(*b->raw));
    b->raw_len = calloc(k, sizeof(*b->raw_len));
    if (lines)
        b->line_error = calloc(k, sizeof(*b->line_error));
    return b->events && b->raw && b->raw_len && (!lines || b->line_error);
}

static bool body_is_blank(const char *p, const char *stop)
{
    for (; p < stop; p++)
        if (!isspace((unsigned char)*p))
            return false;
    return true;
}

/* Splits an NDJSON body into lines and parses each; a line that does not
 * parse becomes that event's error, not the request's. */
static bool body_decode_ndjson(struct body_decoder *d, const char *data, size_t len,
                               struct body *b, struct body_error *err)
{
    size_t lines = 0;
    const char *p = data, *end = data + len;
    /* First pass: count non-blank lines, to size and to refuse early. */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        lines += !body_is_blank(p, stop);
        p = nl ? nl + 1 : end;
    }
    if (lines == 0) {
        body_fail(err, 400, "empty_batch", "the body holds no event");
        return false;
    }
    if (lines > d->lim.max_events) {
        body_fail(err, 413, "too_many_events", "%zu events in one request; at most %zu", lines,
                  d->lim.max_events);
        return false;
    }
    b->ndjson = true;
    if (!body_alloc(b, lines, true)) {
        body_fail(err, 503, "out_of_memory", "cannot take the request now");
        return false;
    }
    struct body_error line_err;
    for (p = data; p < end && b->n < lines;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if (!body_is_blank(p, stop)) {
            size_t i = b->n++;
            b->raw[i] = p;
            b->raw_len[i] = (size_t)(stop - p);
            if (!body_parse(d, p, (size_t)(stop - p), &b->events[i], &line_err)) {
                b->line_error[i] = malloc(sizeof(line_err));
                if (b->line_error[i] == NULL) {
                    body_fail(err, 503, "out_of_memory", "cannot take the request now");
                    return false;
                }
                *b->line_error[i] = line_err;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return true;
}

static bool body_decode_json(struct body_decoder *d, const char *data, size_t len, struct body *b,
                             struct body_error *err)
{
    /* Element texts are collected while scanning, before the count is
     * known: room for one more than the limit tells "too many". */
    size_t max = d->lim.max_events;
    if (!body_alloc(b, max + 1, false)) {
        body_fail(err, 503, "out_of_memory", "cannot take the request now");
        return false;
    }
    if (!body_parse_scan(d, data, len, &b->root, b->raw, b->raw_len, max + 1, err))
        return false;
    if (json_object_is_type(b->root, json_type_object)) {
        b->events[0] = b->root;
        b->raw[0] = data;
        b->raw_len[0] = len;
        b->n = 1;
        return true;
    }
    if (!json_object_is_type(b->root, json_type_array)) {
        body_fail(err, 400, "not_an_event",
                  "the body must be an event object or an array of events");
        return false;
    }
    size_t n = json_object_array_length(b->root);
    if (n == 0) {
        body_fail(err, 400, "empty_batch", "the array holds no event");
        return false;
    }
    if (n > max) {
        body_fail(err, 413, "too_many_events", "%zu events in one request; at most %zu", n, max);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        b->events[i] = json_object_array_get_idx(b->root, i);
    b->n = n;
    return true;
}

bool body_decode(struct body_decoder *d, const char *data, size_t len, enum body_format format,
                 bool gzip, struct body *out, struct body_error *err)
{
    out->text = data;
    out->text_len = len;
    if (gzip && !body_gunzip(d, data, len, &data, &len, err))
        return false;
    out->text = data;
    out->text_len = len;
    return format == BODY_NDJSON ? body_decode_ndjson(d, data, len, out, err)
                                 : body_decode_json(d, data, len, out, err);
}

const char *body_payload(struct body *b, const char *s, size_t len, size_t cap, size_t *out_len,
                         bool *truncated)
{
    size_t bad;
    if (utf8_valid(s, len, &bad) || bad >= cap) {
        /* valid as far as it is kept: store it as it is, cut at a
         * character's edge */
        size_t keep = utf8_cut(s, len, cap);
        *out_len = keep;
        *truncated = keep < len;
        return s;
    }
    char *copy = b->owned_count < BODY_OWNED_MAX ? malloc(cap ? cap : 1) : NULL;
    if (copy == NULL) {
        *out_len = 0;
        *truncated = true;
        return "";
    }
    b->owned[b->owned_count++] = copy;
    size_t o = 0, i = 0;
    while (i < len) {
        size_t n = utf8_seq((const unsigned char *)s + i, len - i);
        const char *piece = n ? s + i : "\xEF\xBF\xBD";
        size_t plen = n ? n : 3;
        if (o + plen > cap)
            break;
        memcpy(copy + o, piece, plen);
        o += plen;
        i += n ? n : 1;
    }
    *out_len = o;
    *truncated = i < len;
    return copy;
}

void body_clear(struct body *b)
{
    if (b->ndjson) {
        for (size_t i = 0; i < b->n; i++)
            json_object_put(b->events[i]);
    } else {
        json_object_put(b->root);
    }
    if (b->line_error != NULL)
        for (size_t i = 0; i < b->n; i++)
            free(b->line_error[i]);
    free(b->events);
    free(b->raw);
    free(b->raw_len);
    free(b->line_error);
    for (size_t i = 0; i < b->owned_count; i++)
        free(b->owned[i]);
    memset(b, 0, sizeof(*b));
}
