/* read_params.c - a read request's query string into struct read_params
 * (see read_params.h).
 *
 * One table names every parameter, the routes it belongs to and what it
 * sets; one loop walks the query through request_query_next, which decodes
 * each name and value. The order of refusals: a name that does not decode,
 * then an unknown one, then one given twice, then a value that does not
 * decode, then a value that does not parse.
 */
#include "autoconfig.h"

#include "fcgi/read_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strparse.h"

#define READ_BAD_TEXT "a malformed %-escape, or not UTF-8 once decoded"

/* Answers 400 code naming param. The message repeats the name, cut at a
 * character boundary when long, so that it stays valid UTF-8. */
static void read_param_error(struct request *r, const char *code, const char *param,
                             const char *message)
{
    size_t len = strlen(param), n = len;
    if (n > 64) {
        n = 64;
        while (n > 0 && ((unsigned char)param[n] & 0xC0) == 0x80)
            n--;
    }
    char msg[256];
    snprintf(msg, sizeof(msg), "%.*s%s: %s", (int)n, param, n < len ? "..." : "", message);
    request_reply_error(r, 400, NULL, code, param, msg);
}

void read_params_cursor(int64_t time_us, unsigned long long id, char out[33])
{
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)time_us, id);
}

static bool read_parse_cursor(const char *s, int64_t *time_us, unsigned long long *id)
{
    if (strlen(s) != 32 || strspn(s, "0123456789abcdef") != 32)
        return false;
    char a[17], b[17];
    memcpy(a, s, 16);
    memcpy(b, s + 16, 16);
    a[16] = b[16] = '\0';
    *time_us = (int64_t)strtoull(a, NULL, 16); /* all-hex checked above */
    *id = strtoull(b, NULL, 16);
    return true;
}

/* What a query parameter sets in struct read_params. */
enum read_kind {
    RK_TEXT,         /* a filter value, at offset text */
    RK_LIMIT,        /* 1 to READ_MAX_LIMIT */
    RK_AFTER,        /* a cursor from `next` */
    RK_FROM,         /* lower bound, inclusive */
    RK_TO,           /* upper bound, exclusive (the /v1 routes) */
    RK_TO_INCLUSIVE, /* upper bound, inclusive (the prototype's date-to) */
};

#define R_(route) (1u << (route))
/* The parameters, and the routes they belong to (a bit per route). */
static const struct read_known {
    const char *name;
    unsigned routes;
    enum read_kind kind;
    size_t text; /* RK_TEXT: offsetof the const char * it sets */
} read_known[] = {
    {"session_id", R_(READ_EVENTS), RK_TEXT, offsetof(struct read_params, session_id)},
    {"category", R_(READ_EVENTS) | R_(READ_PROTOTYPE), RK_TEXT,
     offsetof(struct read_params, category)},
    {"name", R_(READ_EVENTS), RK_TEXT, offsetof(struct read_params, name)},
    {"from", R_(READ_EVENTS) | R_(READ_ERRORS), RK_FROM, 0},
    {"to", R_(READ_EVENTS) | R_(READ_ERRORS), RK_TO, 0},
    {"limit", R_(READ_EVENTS) | R_(READ_ERRORS) | R_(READ_TIMELINE), RK_LIMIT, 0},
    {"after", R_(READ_EVENTS) | R_(READ_ERRORS) | R_(READ_TIMELINE), RK_AFTER, 0},
    {"code", R_(READ_ERRORS), RK_TEXT, offsetof(struct read_params, code)},
    {"app", R_(READ_ERRORS), RK_TEXT, offsetof(struct read_params, app)},
    {"session", R_(READ_PROTOTYPE), RK_TEXT, offsetof(struct read_params, session_id)},
    {"date-from", R_(READ_PROTOTYPE), RK_FROM, 0},
    {"date-to", R_(READ_PROTOTYPE), RK_TO_INCLUSIVE, 0},
};
#define READ_NKNOWN (sizeof(read_known) / sizeof(read_known[0]))

/* Sets what the decoded value of parameter k means in p; answers 400 and
 * returns false when it is not a valid value. */
static bool read_set(struct request *r, const struct read_known *k, const char *value,
                     struct read_params *p)
{
    switch (k->kind) {
    case RK_TEXT:
        *(const char **)((char *)p + k->text) = value;
        return true;
    case RK_LIMIT: {
        int64_t v;
        if (!strparse_int64(value, 1, READ_MAX_LIMIT, &v)) {
            read_param_error(r, "invalid_parameter", k->name, "an integer from 1 to 1000");
            return false;
        }
        p->limit = v;
        return true;
    }
    case RK_AFTER:
        if (!read_parse_cursor(value, &p->after_us, &p->after_id)) {
            read_param_error(r, "invalid_parameter", k->name, "not a cursor from `next`");
            return false;
        }
        p->has_after = true;
        return true;
    case RK_FROM:
    case RK_TO:
    case RK_TO_INCLUSIVE:
        break;
    }
    int64_t us;
    char day[32];
    /* A bare date means its midnight, UTC (the prototype's filters). */
    if (strlen(value) == 10) {
        snprintf(day, sizeof(day), "%s 00:00:00", value);
        value = day;
    }
    if (!timestamp_parse(value, strlen(value), &us)) {
        read_param_error(r, "invalid_parameter", k->name,
                         "a timestamp such as 2024-05-01T10:00:00Z or "
                         "2024-05-01 10:00:00 (UTC)");
        return false;
    }
    if (k->kind == RK_FROM) {
        timestamp_format(us, p->from_buf);
        p->from = p->from_buf;
    } else {
        /* The prototype's range was inclusive (Django's __range: BETWEEN).
         * Times are whole microseconds, so "<= t" is "< t + 1 µs", and
         * both routes share one statement per filter combination. */
        timestamp_format(k->kind == RK_TO_INCLUSIVE ? us + 1 : us, p->to_buf);
        p->to = p->to_buf;
    }
    return true;
}

bool read_params_parse(struct request *r, enum read_route route, const char *session_raw, char *buf,
                       size_t cap, struct read_params *p)
{
    memset(p, 0, sizeof(*p));
    if (route == READ_TIMELINE) {
        /* the path's segment: '+' is a plus there, not a space */
        int n = snprintf(p->session_buf, sizeof(p->session_buf), "%s", session_raw);
        if (n < 0 || (size_t)n >= sizeof(p->session_buf) ||
            !request_url_decode(p->session_buf, false)) {
            read_param_error(r, "invalid_parameter", "session_id", READ_BAD_TEXT);
            return false;
        }
        p->session_id = p->session_buf;
    }
    p->limit = route == READ_PROTOTYPE ? READ_MAX_LIMIT : READ_DEFAULT_LIMIT;
    /* The prototype answered a bare JSON array, never NDJSON. */
    const char *accept = request_param(r, "HTTP_ACCEPT");
    p->ndjson =
        route != READ_PROTOTYPE && accept != NULL && strstr(accept, "application/x-ndjson") != NULL;
    size_t qlen = strlen(r->query);
    if (qlen >= cap) {
        request_reply_error(r, 414, NULL, "query_too_long", NULL, "the query string is too long");
        return false;
    }
    memcpy(buf, r->query, qlen + 1);
    unsigned seen = 0;
    size_t pos = 0;
    struct request_query_item it;
    while (request_query_next(r->query, buf, &pos, &it)) {
        if (!it.name_ok) {
            read_param_error(r, "invalid_parameter", it.name, READ_BAD_TEXT);
            return false;
        }
        size_t k = 0;
        while (k < READ_NKNOWN &&
               (strcmp(it.name, read_known[k].name) != 0 || !(read_known[k].routes & R_(route))))
            k++;
        if (k == READ_NKNOWN) {
            read_param_error(r, "unknown_parameter", it.name, "not a parameter of this resource");
            return false;
        }
        if (seen & (1u << k)) {
            read_param_error(r, "invalid_parameter", it.name, "given twice");
            return false;
        }
        seen |= 1u << k;
        if (!it.value_ok) {
            read_param_error(r, "invalid_parameter", it.name, READ_BAD_TEXT);
            return false;
        }
        if (!read_set(r, &read_known[k], it.value, p))
            return false;
    }
    return true;
}
