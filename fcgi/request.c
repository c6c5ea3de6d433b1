/* request.c - reading FastCGI requests and writing answers (see request.h).
 *
 * Bodies are read only after CONTENT_LENGTH has been checked against the
 * limit, into a buffer the worker allocated once, so a request costs no
 * allocation for its body and an oversized one costs no reading at all.
 * Every status line and header block is written by request_put_head, the
 * one place that enforces "answered once". URL decoding and the splitting
 * of query strings live here too, for every handler that takes text from
 * the URL.
 */
#include "autoconfig.h"

#include "fcgi/request.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fcgi/metrics_shm.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/utf8.h"
#include "lib/strparse.h"

bool request_init(struct request *r, FCGX_Request *fcgx)
{
    memset(r, 0, sizeof(*r));
    r->fcgx = fcgx;
    r->received_us = clock_real_us();
    r->method = request_param(r, "REQUEST_METHOD");
    if (r->method == NULL)
        r->method = "";
    /* The query is taken from REQUEST_URI, the target as the client sent it
     * (lighttpd and Apache alike): lighttpd's URL normalisation rewrites a
     * malformed '%' in QUERY_STRING as "%25", so "?category=%zz" would pass
     * as the literal text "%zz" instead of being refused. */
    const char *uri = request_param(r, "REQUEST_URI");
    if (uri != NULL) {
        const char *q = strchr(uri, '?');
        r->query = q != NULL ? q + 1 : "";
    } else {
        r->query = request_param(r, "QUERY_STRING");
        if (r->query == NULL)
            r->query = "";
        uri = request_param(r, "SCRIPT_NAME");
        if (uri == NULL)
            uri = "/";
    }
    size_t len = strcspn(uri, "?");
    if (len >= sizeof(r->path))
        return false;
    memcpy(r->path, uri, len);
    r->path[len] = '\0';
    return true;
}

uint64_t request_client_id(const struct request *r)
{
    const char *addr = request_param(r, "REMOTE_ADDR");
    unsigned char bytes[16];
    if (addr == NULL)
        return 0;
    if (inet_pton(AF_INET, addr, bytes) == 1)
        return (uint64_t)1 << 32 | (uint64_t)bytes[0] << 24 | (uint64_t)bytes[1] << 16 |
               (uint64_t)bytes[2] << 8 | bytes[3];
    if (inet_pton(AF_INET6, addr, bytes) != 1)
        return 0;
    /* An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 client. */
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(bytes, mapped, sizeof(mapped)) == 0)
        return (uint64_t)1 << 32 | (uint64_t)bytes[12] << 24 | (uint64_t)bytes[13] << 16 |
               (uint64_t)bytes[14] << 8 | bytes[15];
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = id << 8 | bytes[i];
    return id | 1; /* never 0; IPv4 ids are 0x1xxxxxxxx, a reserved IPv6 prefix */
}

const char *request_param(const struct request *r, const char *name)
{
    return FCGX_GetParam(name, r->fcgx->envp);
}

enum request_body_status request_read_body(struct request *r, char *buf, size_t cap)
{
    const char *cl = request_param(r, "CONTENT_LENGTH");
    if (cl == NULL || *cl == '\0')
        return REQUEST_BODY_NO_LENGTH;
    uint64_t want;
    if (!strparse_uint64(cl, UINT64_MAX, &want))
        return REQUEST_BODY_BAD_LENGTH;
    if (want > cap)
        return REQUEST_BODY_TOO_LARGE;
    size_t got = 0;
    while (got < want) {
        int n = FCGX_GetStr(buf + got, (int)(want - got), r->fcgx->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != want)
        return REQUEST_BODY_SHORT;
    r->body = buf;
    r->body_len = got;
    return REQUEST_BODY_OK;
}

const char *request_status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

/* Writes the status line and the headers; content_length < 0 leaves
 * Content-Length out (a streamed body). Returns false, sending nothing, when
 * the request was answered already or the headers do not fit (logged). */
static bool request_put_head(struct request *r, int status, const char *content_type,
                             long long content_length, const char *extra_headers)
{
    if (r->answered) {
        log_error("%s %s: second answer (%d) suppressed; the status already went out", r->method,
                  r->path, status);
        return false;
    }
    char length[48] = "";
    if (content_length >= 0)
        snprintf(length, sizeof(length), "Content-Length: %lld\r\n", content_length);
    /* libfcgi's own printf knows few conversions (no %zu): format here. */
    char head[1536];
    int n = snprintf(head, sizeof(head),
                     "Status: %d %s\r\nContent-Type: %s\r\n%sCache-Control: no-store\r\n%s%s\r\n",
                     status, request_status_text(status), content_type, length, r->headers,
                     extra_headers != NULL ? extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof(head)) {
        log_error("%s %s: response headers too long", r->method, r->path);
        return false;
    }
    r->answered = true;
    r->status = status;
    FCGX_PutStr(head, n, r->fcgx->out);
    return true;
}

bool request_add_header(struct request *r, const char *line)
{
    size_t len = strlen(line);
    if (r->headers_len + len >= sizeof(r->headers)) {
        log_error("%s %s: header '%.40s' does not fit; left out", r->method, r->path, line);
        return false;
    }
    memcpy(r->headers + r->headers_len, line, len + 1);
    r->headers_len += len;
    return true;
}

void request_reply_json(struct request *r, int status, const char *extra_headers,
                        struct json_object *body)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (!request_put_head(r, status, "application/json", (long long)len + 1, extra_headers))
        return;
    FCGX_PutStr(text, (int)len, r->fcgx->out);
    FCGX_PutChar('\n', r->fcgx->out);
}

bool request_stream_begin(struct request *r, int status, const char *content_type,
                          const char *extra_headers)
{
    if (!request_put_head(r, status, content_type, -1, extra_headers))
        return false;
    r->streaming = true;
    return true;
}

void request_stream_write(struct request *r, const char *buf, size_t len)
{
    if (!r->streaming) {
        log_error("%s %s: body written without request_stream_begin; dropped", r->method, r->path);
        return;
    }
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        if (FCGX_PutStr(buf, n, r->fcgx->out) != n)
            return; /* the client went away: nothing more can reach it */
        buf += n;
        len -= (size_t)n;
    }
}

void request_reply_error(struct request *r, int status, const char *extra_headers, const char *code,
                         const char *pointer, const char *message)
{
    struct json_object *err = json_object_new_object();
    struct json_object *body = json_object_new_object();
    if (err == NULL || body == NULL) {
        json_object_put(err);
        json_object_put(body);
        /* No memory for JSON: still answer, with a fixed text. */
        if (!r->answered) {
            r->answered = true;
            r->status = status;
            FCGX_FPrintF(r->fcgx->out, "Status: %d %s\r\nContent-Type: text/plain\r\n\r\n%s\n",
                         status, request_status_text(status), code);
        }
        return;
    }
    json_object_object_add(err, "code", json_object_new_string(code));
    json_object_object_add(err, "pointer", json_object_new_string(pointer != NULL ? pointer : ""));
    json_object_object_add(err, "message", json_object_new_string(message));
    json_object_object_add(body, "error", err);
    request_reply_json(r, status, extra_headers, body);
    json_object_put(body);
}

void request_reply_unavailable(struct request *r, int64_t retry_after, const char *code,
                               const char *message)
{
    char headers[64];
    snprintf(headers, sizeof(headers), "Retry-After: %lld\r\n", (long long)retry_after);
    metrics_count_unavailable(code);
    request_reply_error(r, 503, headers, code, NULL, message);
}

/* Value of the hex digit c, or -1. */
static int request_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool request_url_decode(char *s, bool plus_is_space)
{
    char *out = s;
    for (const char *in = s; *in != '\0'; in++) {
        if (*in == '%') {
            /* in[2] is read only when in[1] is a digit, so never past the NUL */
            int hi = request_hex(in[1]);
            int lo = hi < 0 ? -1 : request_hex(in[2]);
            if (lo < 0 || (hi == 0 && lo == 0))
                return false;
            *out++ = (char)(hi << 4 | lo);
            in += 2;
        } else {
            *out++ = plus_is_space && *in == '+' ? ' ' : *in;
        }
    }
    *out = '\0';
    return utf8_valid(s, (size_t)(out - s), NULL);
}

bool request_query_next(const char *query, char *copy, size_t *pos, struct request_query_item *item)
{
    for (;;) {
        char *pair = copy + *pos;
        if (*pair == '\0')
            return false;
        size_t len = strcspn(pair, "&");
        *pos += len + (pair[len] == '&');
        pair[len] = '\0';
        if (len == 0)
            continue;
        /* the same offset in query is the pair as sent */
        const char *raw = query + (pair - copy);
        char *value = strchr(pair, '=');
        if (value != NULL)
            *value++ = '\0';
        else
            value = pair + len;
        item->name = pair;
        item->value = value;
        item->name_ok = request_url_decode(pair, true);
        item->value_ok = request_url_decode(value, true);
        if (!item->name_ok) {
            size_t n = 0, raw_len = strcspn(raw, "=&");
            for (size_t i = 0; i < raw_len && n + 4 <= sizeof(item->raw_name); i++) {
                unsigned char c = (unsigned char)raw[i];
                if (c > 0x20 && c < 0x7F)
                    item->raw_name[n++] = (char)c;
                else
                    n += (size_t)snprintf(item->raw_name + n, sizeof(item->raw_name) - n, "%%%02X",
                                          c);
            }
            item->raw_name[n] = '\0';
            item->name = item->raw_name;
        }
        return true;
    }
}
