/* request.h - one FastCGI request: its parameters, its body, its answer.
 *
 * A request is owned by the worker thread that accepted it. Strings from
 * FCGX_GetParam die at the next accept, so nothing here outlives the
 * request. Every answer goes out through this module: request_reply* for
 * a whole document, request_stream_begin + request_stream_write for one
 * written piece by piece. The first call writes the status line and
 * headers; a second one is a programming error and is logged, never sent,
 * because a status that went out cannot be changed.
 */
#ifndef EYE_FCGI_REQUEST_H
#define EYE_FCGI_REQUEST_H

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct request {
    FCGX_Request *fcgx;
    const char *method;
    char path[1024];     /* REQUEST_URI without the query string, not decoded */
    const char *query;   /* the query string as the client sent it, "" when absent */
    int64_t received_us; /* when the request was accepted, µs since the epoch (UTC) */
    char *body;          /* the worker's body buffer; valid after request_read_body */
    size_t body_len;
    char headers[512]; /* header lines every answer carries (request_add_header) */
    size_t headers_len;
    int status;     /* the status that went out (0: none yet), for the metrics */
    bool answered;  /* the status line went out */
    bool streaming; /* ... through request_stream_begin: the body may follow */
};

/* Outcome of reading a body, mapped to HTTP by the caller. */
enum request_body_status {
    REQUEST_BODY_OK,
    REQUEST_BODY_NO_LENGTH,  /* 411: no CONTENT_LENGTH */
    REQUEST_BODY_BAD_LENGTH, /* 400: CONTENT_LENGTH not a number */
    REQUEST_BODY_TOO_LARGE,  /* 413: above the limit, nothing read */
    REQUEST_BODY_SHORT,      /* 400: the client sent less than announced */
};

/* Fills r from the accepted fcgx request. Returns false when the request
 * URI is too long (the caller answers 414). */
bool request_init(struct request *r, FCGX_Request *fcgx);

/* Returns an id of the client's address (REMOTE_ADDR) for rate limits: the
 * IPv4 address, or the /64 prefix of an IPv6 one (a host usually has a
 * whole /64); 0 when the server passed no address it could parse. */
uint64_t request_client_id(const struct request *r);

/* Returns the value of a CGI parameter (e.g. "HTTP_AUTHORIZATION") or NULL.
 * The string lives until the request is finished. */
const char *request_param(const struct request *r, const char *name);

/* Reads the body into buf (capacity cap bytes, cap is also the limit): the
 * length is checked before anything is read. On success r->body/body_len
 * point at the data. */
enum request_body_status request_read_body(struct request *r, char *buf, size_t cap);

/* Adds header line (one "Name: value\r\n") to whatever answer r gets,
 * e.g. the CORS headers decided before the handler runs. Returns false
 * (logged, nothing added) when it does not fit. */
bool request_add_header(struct request *r, const char *line);

/* Sends status, the extra header lines (each ending in "\r\n", may be NULL)
 * and a JSON body. Does not take ownership of body. */
void request_reply_json(struct request *r, int status, const char *extra_headers,
                        struct json_object *body);

/* Sends {"error": {"code": code, "pointer": pointer, "message": message}}.
 * pointer is always a string in the answer: NULL sends "" (no single value
 * is to blame). */
void request_reply_error(struct request *r, int status, const char *extra_headers, const char *code,
                         const char *pointer, const char *message);

/* Sends 503 with Retry-After: retry_after seconds and the error body: the
 * answer whenever the database cannot serve the request now. */
void request_reply_unavailable(struct request *r, int64_t retry_after, const char *code,
                               const char *message);

/* Starts an answer whose body is written piece by piece (no
 * Content-Length): sends the status line, Content-Type and the extra header
 * lines (each ending in "\r\n", may be NULL). Returns false, sending
 * nothing, when the request was already answered or the headers do not
 * fit (logged). */
bool request_stream_begin(struct request *r, int status, const char *content_type,
                          const char *extra_headers);

/* Writes len bytes of the body begun by request_stream_begin. Without it
 * nothing is written (logged): the status line must come first. */
void request_stream_write(struct request *r, const char *buf, size_t len);

/* Decodes the %XX escapes of s in place (and '+' as a space when
 * plus_is_space, as in a query string). Returns false when an escape is
 * malformed ('%' not followed by two hex digits), decodes to NUL, or the
 * decoded text is not strict UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no truncated sequence); s then holds
 * partly decoded bytes and must not be used. */
bool request_url_decode(char *s, bool plus_is_space);

/* One name=value pair of a query string, decoded. */
struct request_query_item {
    char *name;         /* decoded; when !name_ok, raw_name */
    char *value;        /* decoded ("" without '='); not text when !value_ok */
    bool name_ok;       /* the name decoded to text (see request_url_decode) */
    bool value_ok;      /* the value did */
    char raw_name[256]; /* when !name_ok: the name as sent, each byte outside
                         * printable ASCII as %XX (valid UTF-8 to answer with),
                         * cut past 250 bytes */
};

/* Takes the next pair of the query string query off copy, a writable copy
 * of it (the same bytes), starting at *pos (0 for the first) and moving
 * *pos past it; empty pairs ("a=1&&b=2") are skipped. The texts of *item
 * point into copy (or into item) and live as long as they do. Returns false
 * at the end of the query. */
bool request_query_next(const char *query, char *copy, size_t *pos,
                        struct request_query_item *item);

/* Reason phrase for an HTTP status ("Accepted" for 202). */
const char *request_status_text(int status);

#endif
