/* read_params.h - what a read API request asks for.
 *
 * The query string (and a timeline's path segment) of a read route, decoded
 * and checked into struct read_params: known parameters only, each once,
 * every text strict UTF-8 (request_url_decode), limits, cursors and time
 * bounds parsed. Whatever is wrong is answered here with 400 (or 414) and
 * the parameter's name as pointer, so nothing unchecked reaches SQL.
 */
#ifndef EYE_FCGI_READ_PARAMS_H
#define EYE_FCGI_READ_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcgi/request.h"
#include "validators/timestamp.h"

/* The read routes (router.c picks one, read.c answers it). */
enum read_route { READ_EVENTS, READ_TIMELINE, READ_ERRORS, READ_PROTOTYPE };

#define READ_MAX_LIMIT     1000
#define READ_DEFAULT_LIMIT 100
#define READ_QUERY_MAX     4096 /* longest query string (414 from there) */

/* A read request's filters and paging. Texts are NULL when not given and
 * point into the parse's buf (or into the struct itself). */
struct read_params {
    const char *session_id, *category, *name, *code, *app;
    const char *from, *to; /* bounds as DATETIME(6) literals, NULL when not given */
    char from_buf[TIMESTAMP_FORMAT_LEN + 1], to_buf[TIMESTAMP_FORMAT_LEN + 1];
    bool has_after;
    int64_t after_us;            /* cursor: time (µs) of the last row sent */
    unsigned long long after_id; /* cursor: id (or seq) of the last row sent */
    long long limit;
    bool ndjson;
    char session_buf[512]; /* a timeline's decoded session id */
};

/* Parses r's query string for route into p, and for READ_TIMELINE the
 * path segment session_raw (as sent, still %-encoded; NULL otherwise).
 * Returns true, or answers r (400 unknown_parameter / invalid_parameter
 * naming the parameter, 414 query_too_long) and returns false. buf (cap
 * bytes) holds the decoded texts and must outlive p. */
bool read_params_parse(struct request *r, enum read_route route, const char *session_raw, char *buf,
                       size_t cap, struct read_params *p);

/* Writes the cursor of a row at (time_us, id) into out: the opaque text
 * that `after` takes back (16 hex digits of the time, 16 of the id). */
void read_params_cursor(int64_t time_us, unsigned long long id, char out[33]);

#endif
