/* read.c - the read API (see read.h).
 *
 * Each filter combination is one SQL text built from fixed fragments with
 * placeholders (no request data ever enters the text), prepared once per
 * worker connection in a dynamic slot of the analyst dbconn and reused.
 * Filters become index ranges: session_id -> ix_events_session_time,
 * category[/name] + time -> ix_events_category_time / ix_events_type_time,
 * time alone -> ix_events_time. The cursor is the last row's (time, id),
 * so the next page starts right after it whatever was inserted meanwhile.
 *
 * A page (at most 1001 rows) is fetched whole by the client library, then
 * written row by row through request_stream_*; limit + 1 rows are read to know whether a next page
 * exists. Once the 200 has gone out a failing fetch can only cut the body
 * short (logged).
 */
#include "autoconfig.h"

#include "fcgi/read.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "validators/timestamp.h"

#define READ_MAX_LIMIT     1000
#define READ_DEFAULT_LIMIT 100
#define READ_QUERY_MAX     4096
#define READ_MAX_COLS      14

/* Dynamic statement slots of the analyst dbconn. */
enum { SLOT_EVENTS = 0, SLOT_TIMELINE = 64, SLOT_ERRORS = 66 };

/* Filter bits, in the order their fragments appear in the SQL. */
enum { F_SESSION = 1, F_CATEGORY = 2, F_NAME = 4, F_FROM = 8, F_TO = 16, F_AFTER = 32 };
enum { FE_CODE = 1, FE_APP = 2, FE_FROM = 4, FE_TO = 8, FE_AFTER = 16 };

struct read_params {
    const char *session_id, *category, *name, *code, *app;
    char from[TIMESTAMP_FORMAT_LEN + 1], to[TIMESTAMP_FORMAT_LEN + 1];
    bool has_from, has_to, has_after;
    int64_t after_us;            /* cursor: time (µs) of the last row sent */
    unsigned long long after_id; /* cursor: id (or seq) of the last row sent */
    long long limit;
    bool ndjson;
};

bool read_url_decode(char *s, bool plus_is_space)
{
    char *out = s;
    for (const char *in = s; *in; in++) {
        if (*in == '%') {
            if (!isxdigit((unsigned char)in[1]) || !isxdigit((unsigned char)in[2]))
                return false;
            char hex[3] = {in[1], in[2], 0};
            char c = (char)strtol(hex, NULL, 16);
            if (c == '\0')
                return false;
            *out++ = c;
            in += 2;
        } else {
            *out++ = plus_is_space && *in == '+' ? ' ' : *in;
        }
    }
    *out = '\0';
    return true;
}

static void read_param_error(struct request *r, const char *code, const char *param,
                             const char *message)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: %s", param, message);
    request_reply_error(r, 400, NULL, code, param, msg);
}

/* Cursor text: 16 hex digits of the time, 16 of the id. */
static void read_cursor(int64_t time_us, unsigned long long id, char out[33])
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

/* Parses the query string for route into p; answers 400 and returns false
 * on an unknown, repeated or malformed parameter. buf holds the decoded
 * values and must outlive p. */
static bool read_parse(struct request *r, enum read_route route, char *buf, size_t cap,
                       struct read_params *p)
{
    memset(p, 0, sizeof(*p));
    p->limit = READ_DEFAULT_LIMIT;
    const char *accept = request_param(r, "HTTP_ACCEPT");
    p->ndjson = accept != NULL && strstr(accept, "application/x-ndjson") != NULL;
    if (route == READ_PROTOTYPE)
        p->limit = READ_MAX_LIMIT;
    size_t qlen = strlen(r->query);
    if (qlen >= cap) {
        request_reply_error(r, 414, NULL, "query_too_long", NULL, "the query string is too long");
        return false;
    }
    memcpy(buf, r->query, qlen + 1);
    unsigned seen = 0;
    for (char *item = buf, *next; item != NULL && *item; item = next) {
        next = strchr(item, '&');
        if (next != NULL)
            *next++ = '\0';
        if (*item == '\0')
            continue;
        char *value = strchr(item, '=');
        if (value != NULL)
            *value++ = '\0';
        else
            value = item + strlen(item);
        if (!read_url_decode(item, true) || !read_url_decode(value, true)) {
            read_param_error(r, "invalid_parameter", item, "malformed %-escape");
            return false;
        }
        /* parameter name, and the routes it belongs to (a bit per route) */
        static const struct {
            const char *name;
            unsigned routes;
        } known[] = {
            {"session_id", 1u << READ_EVENTS},
            {"category", 1u << READ_EVENTS | 1u << READ_PROTOTYPE},
            {"name", 1u << READ_EVENTS},
            {"from", 1u << READ_EVENTS | 1u << READ_ERRORS},
            {"to", 1u << READ_EVENTS | 1u << READ_ERRORS},
            {"limit", 1u << READ_EVENTS | 1u << READ_ERRORS | 1u << READ_TIMELINE},
            {"after", 1u << READ_EVENTS | 1u << READ_ERRORS | 1u << READ_TIMELINE},
            {"code", 1u << READ_ERRORS},
            {"app", 1u << READ_ERRORS},
            {"session", 1u << READ_PROTOTYPE},
            {"date-from", 1u << READ_PROTOTYPE},
            {"date-to", 1u << READ_PROTOTYPE},
        };
        int k = -1;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(item, known[i].name) == 0 && (known[i].routes & (1u << route)))
                k = (int)i;
        if (k < 0) {
            read_param_error(r, "unknown_parameter", item, "not a parameter of this resource");
            return false;
        }
        if (seen & (1u << k)) {
            read_param_error(r, "invalid_parameter", item, "given twice");
            return false;
        }
        seen |= 1u << k;
        const char *n = known[k].name;
        if (strcmp(n, "session_id") == 0 || strcmp(n, "session") == 0) {
            p->session_id = value;
        } else if (strcmp(n, "category") == 0) {
            p->category = value;
        } else if (strcmp(n, "name") == 0) {
            p->name = value;
        } else if (strcmp(n, "code") == 0) {
            p->code = value;
        } else if (strcmp(n, "app") == 0) {
            p->app = value;
        } else if (strcmp(n, "limit") == 0) {
            int64_t v;
            if (!strparse_int64(value, 1, READ_MAX_LIMIT, &v)) {
                read_param_error(r, "invalid_parameter", item, "an integer from 1 to 1000");
                return false;
            }
            p->limit = v;
        } else if (strcmp(n, "after") == 0) {
            if (!read_parse_cursor(value, &p->after_us, &p->after_id)) {
                read_param_error(r, "invalid_parameter", item, "not a cursor from `next`");
                return false;
            }
            p->has_after = true;
        } else { /* from, to, date-from, date-to */
            int64_t us;
            char day[32];
            /* A bare date means its midnight, UTC (the prototype's filters). */
            if (strlen(value) == 10) {
                snprintf(day, sizeof(day), "%s 00:00:00", value);
                value = day;
            }
            if (!timestamp_parse(value, strlen(value), &us)) {
                read_param_error(r, "invalid_parameter", item,
                                 "a timestamp such as 2024-05-01T10:00:00Z or "
                                 "2024-05-01 10:00:00 (UTC)");
                return false;
            }
            bool is_from = strcmp(n, "from") == 0 || strcmp(n, "date-from") == 0;
            timestamp_format(us, is_from ? p->from : p->to);
            *(is_from ? &p->has_from : &p->has_to) = true;
        }
    }
    return true;
}

/* Appends a bound string parameter. */
static void read_bind_str(MYSQL_BIND *b, unsigned long *len, const char *s)
{
    *len = (unsigned long)strlen(s);
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = (void *)s;
    b->length = len;
}

static void read_bind_ll(MYSQL_BIND *b, long long *v)
{
    b->buffer_type = MYSQL_TYPE_LONGLONG;
    b->buffer = v;
}

/* One result row as text: every column fetched as a string. */
struct read_row {
    int ncols;
    MYSQL_BIND bind[READ_MAX_COLS];
    unsigned long len[READ_MAX_COLS];
    my_bool null[READ_MAX_COLS];
    char small[READ_MAX_COLS][512];
    char *big[READ_MAX_COLS]; /* grown when a value is longer than small */
};

static void read_row_init(struct read_row *row, int ncols)
{
    memset(row, 0, sizeof(*row));
    row->ncols = ncols;
    for (int c = 0; c < ncols; c++) {
        row->bind[c].buffer_type = MYSQL_TYPE_STRING;
        row->bind[c].buffer = row->small[c];
        row->bind[c].buffer_length = sizeof(row->small[c]) - 1;
        row->bind[c].length = &row->len[c];
        row->bind[c].is_null = &row->null[c];
    }
}

static void read_row_free(struct read_row *row)
{
    for (int c = 0; c < row->ncols; c++)
        free(row->big[c]);
}

/* Returns column c of the fetched row as a NUL-terminated string (NULL for
 * SQL NULL), fetching the rest of a long value. */
static const char *read_col(struct read_row *row, MYSQL_STMT *stmt, int c)
{
    if (row->null[c])
        return NULL;
    if (row->len[c] < sizeof(row->small[c])) {
        row->small[c][row->len[c]] = '\0';
        return row->small[c];
    }
    char *grown = realloc(row->big[c], row->len[c] + 1);
    if (grown == NULL)
        return NULL;
    row->big[c] = grown;
    MYSQL_BIND b = {0};
    b.buffer_type = MYSQL_TYPE_STRING;
    b.buffer = grown;
    b.buffer_length = row->len[c] + 1;
    if (mysql_stmt_fetch_column(stmt, &b, (unsigned int)c, 0) != 0)
        return NULL;
    grown[row->len[c]] = '\0';
    return grown;
}

static void read_add_str(struct json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v != NULL ? json_object_new_string(v) : NULL);
}

/* A JSON value already serialized by MariaDB (the data column): written as
 * is, not parsed and printed again. */
static struct json_object *read_raw_json(const char *text)
{
    struct json_object *o = json_object_new_object();
    if (o != NULL)
        json_object_set_serializer(o, json_object_userdata_to_json_string, (void *)text, NULL);
    return o;
}

/* Executes stmt with params and streams its rows. Each row's columns are
 * turned into a JSON object by to_json; key_of gives the row's cursor. */
typedef struct json_object *(*read_row_fn)(struct read_row *row, MYSQL_STMT *stmt, int64_t *time_us,
                                           unsigned long long *id);

static void read_stream(struct worker *w, struct request *r, MYSQL_STMT *stmt, MYSQL_BIND *params,
                        int ncols, const struct read_params *p, read_row_fn to_json,
                        const char *list_key)
{
    struct read_row row;
    read_row_init(&row, ncols);
    /* The result (at most limit + 1 <= 1001 rows) is read whole by the
     * client library before the first byte goes out: a failure can then
     * still be answered with a proper status. The answer itself is written
     * row by row, never built as one document. */
    if (mysql_stmt_bind_param(stmt, params) != 0 || mysql_stmt_execute(stmt) != 0 ||
        mysql_stmt_bind_result(stmt, row.bind) != 0 || mysql_stmt_store_result(stmt) != 0) {
        unsigned int err = mysql_stmt_errno(stmt);
        log_error("read query: %s (error %u)", mysql_stmt_error(stmt), err);
        if (dbconn_failed(&w->read_db, err))
            request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, "database_unavailable",
                                      "the query could not be run");
        else
            request_reply_error(r, 500, NULL, "internal_error", NULL, "the query could not be run");
        read_row_free(&row);
        return;
    }
    if (!request_stream_begin(r, 200, p->ndjson ? "application/x-ndjson" : "application/json",
                              NULL)) {
        mysql_stmt_free_result(stmt);
        read_row_free(&row);
        return;
    }
    if (!p->ndjson && list_key != NULL) {
        char open[64];
        int on = snprintf(open, sizeof(open), "{\"%s\":[", list_key);
        request_stream_write(r, open, (size_t)on);
    } else if (!p->ndjson) {
        request_stream_write(r, "[", 1);
    }

    long long sent = 0;
    bool more = false;
    int64_t last_us = 0;
    unsigned long long last_id = 0;
    int rc;
    while ((rc = mysql_stmt_fetch(stmt)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        if (sent == p->limit) {
            more = true; /* the extra row: a next page exists */
            continue;
        }
        int64_t t = 0;
        unsigned long long id = 0;
        struct json_object *o = to_json(&row, stmt, &t, &id);
        if (o == NULL)
            continue;
        size_t n = 0;
        const char *text = json_object_to_json_string_length(
            o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        if (!p->ndjson && sent > 0)
            request_stream_write(r, ",", 1);
        request_stream_write(r, text, n);
        if (p->ndjson)
            request_stream_write(r, "\n", 1);
        json_object_put(o);
        sent++;
        last_us = t;
        last_id = id;
    }
    if (rc != MYSQL_NO_DATA) {
        log_error("read fetch: %s; the answer was cut short", mysql_stmt_error(stmt));
        dbconn_failed(&w->read_db, mysql_stmt_errno(stmt));
    }
    mysql_stmt_free_result(stmt);
    char cursor[33] = "";
    if (more)
        read_cursor(last_us, last_id, cursor);
    char tail[96];
    int tn = 0;
    if (p->ndjson) {
        if (more)
            tn = snprintf(tail, sizeof(tail), "{\"next\":\"%s\"}\n", cursor);
    } else if (list_key != NULL) {
        tn = more ? snprintf(tail, sizeof(tail), "],\"next\":\"%s\"}\n", cursor)
                  : snprintf(tail, sizeof(tail), "],\"next\":null}\n");
    } else {
        tn = snprintf(tail, sizeof(tail), "]\n");
    }
    if (tn > 0)
        request_stream_write(r, tail, (size_t)tn);
    read_row_free(&row);
}

/* Column order of the events and timeline queries. */
enum {
    EC_ID,
    EC_EVENT_ID,
    EC_SESSION,
    EC_APP,
    EC_CATEGORY,
    EC_NAME,
    EC_DATA,
    EC_TIME,
    EC_RECEIVED,
    EC_TIME_US,
    EC_SEQ,
    EC_NCOLS
};

static struct json_object *read_event_json(struct read_row *row, MYSQL_STMT *stmt, int64_t *time_us,
                                           unsigned long long *id, bool seq)
{
    struct json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    const char *sid = read_col(row, stmt, EC_ID);
    uint64_t v = 0;
    if (sid != NULL && strparse_uint64(sid, UINT64_MAX, &v))
        *id = v;
    int64_t t = 0;
    const char *tus = read_col(row, stmt, EC_TIME_US);
    if (tus != NULL && strparse_int64(tus, INT64_MIN, INT64_MAX, &t))
        *time_us = t;
    if (seq) {
        const char *s = read_col(row, stmt, EC_SEQ);
        uint64_t n = 0;
        if (s != NULL && strparse_uint64(s, UINT64_MAX, &n)) {
            json_object_object_add(o, "seq", json_object_new_int64((int64_t)n));
            *id = n; /* the timeline's cursor is its sequence number */
        }
    }
    json_object_object_add(o, "id", json_object_new_int64((int64_t)v));
    read_add_str(o, "event_id", read_col(row, stmt, EC_EVENT_ID));
    read_add_str(o, "session_id", read_col(row, stmt, EC_SESSION));
    read_add_str(o, "application", read_col(row, stmt, EC_APP));
    read_add_str(o, "category", read_col(row, stmt, EC_CATEGORY));
    read_add_str(o, "name", read_col(row, stmt, EC_NAME));
    const char *data = read_col(row, stmt, EC_DATA);
    json_object_object_add(o, "data", data != NULL ? read_raw_json(data) : NULL);
    read_add_str(o, "timestamp", read_col(row, stmt, EC_TIME));
    read_add_str(o, "received_at", read_col(row, stmt, EC_RECEIVED));
    return o;
}

static struct json_object *read_event_row(struct read_row *row, MYSQL_STMT *stmt, int64_t *time_us,
                                          unsigned long long *id)
{
    return read_event_json(row, stmt, time_us, id, false);
}

static struct json_object *read_timeline_row(struct read_row *row, MYSQL_STMT *stmt,
                                             int64_t *time_us, unsigned long long *id)
{
    return read_event_json(row, stmt, time_us, id, true);
}

#define READ_TIME_FMT "'%Y-%m-%dT%H:%i:%s.%fZ'"
/* One session's events, numbered in order (the ? is its session_key). */
#define READ_TIMELINE_SQL                                                                          \
    "SELECT e.id, e.event_id, s.session_key, e.category, e.name, e.data, e.occurred_at, "          \
    "e.received_at, (SELECT a.name FROM applications a WHERE a.id = e.application_id) "            \
    "AS application, ROW_NUMBER() OVER (ORDER BY e.occurred_at, e.id) AS seq "                     \
    "FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = ?"
#define READ_US(col) "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', " col ")"

/* list_key: the JSON member holding the rows ("events"), or NULL for a
 * bare array. */
static void read_events_as(struct worker *w, struct request *r, const struct read_params *p,
                           const char *list_key)
{
    unsigned mask = (p->session_id ? F_SESSION : 0) | (p->category ? F_CATEGORY : 0) |
                    (p->name ? F_NAME : 0) | (p->has_from ? F_FROM : 0) | (p->has_to ? F_TO : 0) |
                    (p->has_after ? F_AFTER : 0);
    char sql[2048];
    /* The columns hold '%' (DATE_FORMAT): they go in as an argument. The
     * application's name comes from a scalar subquery so that events alone
     * drives the plan, and the index that gives the filter's order is named:
     * at 10M events the optimizer otherwise sometimes sorted a whole busy
     * day (bench/queries). */
    static const char columns[] =
        "SELECT e.id, e.event_id, s.session_key, "
        "(SELECT a.name FROM applications a WHERE a.id = e.application_id), e.category, e.name, "
        "e.data, DATE_FORMAT(e.occurred_at, " READ_TIME_FMT
        "), DATE_FORMAT(e.received_at, " READ_TIME_FMT
        "), " READ_US("e.occurred_at") ", NULL FROM events e";
    const char *index = mask & F_SESSION                         ? "ix_events_session_time"
                        : (mask & F_CATEGORY) && (mask & F_NAME) ? "ix_events_type_time"
                        : mask & F_CATEGORY                      ? "ix_events_category_time"
                                                                 : "ix_events_time";
    snprintf(sql, sizeof(sql),
             "%s FORCE INDEX (%s) JOIN sessions s ON s.id = e.session_id "
             "WHERE TRUE%s%s%s%s%s%s ORDER BY e.occurred_at, e.id LIMIT ?",
             columns, index,
             mask & F_SESSION ? " AND e.session_id = (SELECT id FROM sessions WHERE "
                                "session_key = ?)"
                              : "",
             mask & F_CATEGORY ? " AND e.category = ?" : "", mask & F_NAME ? " AND e.name = ?" : "",
             mask & F_FROM ? " AND e.occurred_at >= ?" : "",
             mask & F_TO ? " AND e.occurred_at < ?" : "",
             mask & F_AFTER ? " AND (e.occurred_at > ? OR (e.occurred_at = ? AND e.id > ?))" : "");
    MYSQL_STMT *stmt = dbconn_stmt_sql(&w->read_db, SLOT_EVENTS + (int)mask, "read_events", sql);
    if (stmt == NULL) {
        request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, "database_unavailable",
                                  "the events cannot be read now");
        return;
    }
    MYSQL_BIND in[10] = {{0}};
    unsigned long lens[10];
    int n = 0;
    char after_time[TIMESTAMP_FORMAT_LEN + 1];
    long long after_id = (long long)p->after_id, limit = p->limit + 1;
    if (mask & F_SESSION)
        read_bind_str(&in[n], &lens[n], p->session_id), n++;
    if (mask & F_CATEGORY)
        read_bind_str(&in[n], &lens[n], p->category), n++;
    if (mask & F_NAME)
        read_bind_str(&in[n], &lens[n], p->name), n++;
    if (mask & F_FROM)
        read_bind_str(&in[n], &lens[n], p->from), n++;
    if (mask & F_TO)
        read_bind_str(&in[n], &lens[n], p->to), n++;
    if (mask & F_AFTER) {
        timestamp_format(p->after_us, after_time);
        read_bind_str(&in[n], &lens[n], after_time), n++;
        read_bind_str(&in[n], &lens[n], after_time), n++;
        read_bind_ll(&in[n], &after_id), n++;
    }
    read_bind_ll(&in[n], &limit);
    read_stream(w, r, stmt, in, EC_NCOLS, p, read_event_row, p->ndjson ? NULL : list_key);
}

/* The prototype answered a bare JSON array of events (no cursor): the same
 * query as /v1/events with the prototype's parameter names, at most
 * READ_MAX_LIMIT events. */
static void read_prototype(struct worker *w, struct request *r, const struct read_params *p)
{
    struct read_params q = *p;
    q.ndjson = false;
    read_events_as(w, r, &q, NULL);
}

static void read_timeline(struct worker *w, struct request *r, const struct read_params *p,
                          const char *session_id)
{
    /* The session is selected inside the numbering: MariaDB does not push
     * a placeholder through the view's PARTITION BY, and numbering every
     * event took seconds at 10M events (bench/queries). */
    bool after = p->has_after;
    const char *sql =
        after
            ? "SELECT id, event_id, session_key, application, category, name, data, "
              "DATE_FORMAT(occurred_at, " READ_TIME_FMT "), DATE_FORMAT(received_at, " READ_TIME_FMT
              "), " READ_US("occurred_at") ", seq FROM (" READ_TIMELINE_SQL
                                           ") t WHERE seq > ? ORDER BY seq LIMIT ?"
            : "SELECT id, event_id, session_key, application, category, name, data, "
              "DATE_FORMAT(occurred_at, " READ_TIME_FMT "), DATE_FORMAT(received_at, " READ_TIME_FMT
              "), " READ_US("occurred_at") ", seq FROM (" READ_TIMELINE_SQL
                                           ") t ORDER BY seq LIMIT ?";
    MYSQL_STMT *stmt =
        dbconn_stmt_sql(&w->read_db, SLOT_TIMELINE + (after ? 1 : 0), "read_timeline", sql);
    if (stmt == NULL) {
        request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, "database_unavailable",
                                  "the timeline cannot be read now");
        return;
    }
    MYSQL_BIND in[3] = {{0}};
    unsigned long len;
    long long seq = (long long)p->after_id, limit = p->limit + 1;
    int n = 0;
    read_bind_str(&in[n++], &len, session_id);
    if (after)
        read_bind_ll(&in[n++], &seq);
    read_bind_ll(&in[n], &limit);
    read_stream(w, r, stmt, in, EC_NCOLS, p, read_timeline_row, p->ndjson ? NULL : "events");
}

enum {
    XC_ID,
    XC_EVENT_ID,
    XC_APP,
    XC_RECEIVED,
    XC_SESSION,
    XC_CATEGORY,
    XC_NAME,
    XC_CODE,
    XC_POINTER,
    XC_MESSAGE,
    XC_PAYLOAD,
    XC_TRUNCATED,
    XC_TIME_US,
    XC_NCOLS
};

static struct json_object *read_error_row(struct read_row *row, MYSQL_STMT *stmt, int64_t *time_us,
                                          unsigned long long *id)
{
    struct json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    uint64_t v = 0;
    int64_t t = 0;
    const char *s = read_col(row, stmt, XC_ID);
    if (s != NULL && strparse_uint64(s, UINT64_MAX, &v))
        *id = v;
    s = read_col(row, stmt, XC_TIME_US);
    if (s != NULL && strparse_int64(s, INT64_MIN, INT64_MAX, &t))
        *time_us = t;
    json_object_object_add(o, "id", json_object_new_int64((int64_t)v));
    read_add_str(o, "event_id", read_col(row, stmt, XC_EVENT_ID));
    read_add_str(o, "application", read_col(row, stmt, XC_APP));
    read_add_str(o, "received_at", read_col(row, stmt, XC_RECEIVED));
    read_add_str(o, "session_id", read_col(row, stmt, XC_SESSION));
    read_add_str(o, "category", read_col(row, stmt, XC_CATEGORY));
    read_add_str(o, "name", read_col(row, stmt, XC_NAME));
    read_add_str(o, "code", read_col(row, stmt, XC_CODE));
    read_add_str(o, "pointer", read_col(row, stmt, XC_POINTER));
    read_add_str(o, "message", read_col(row, stmt, XC_MESSAGE));
    read_add_str(o, "payload", read_col(row, stmt, XC_PAYLOAD));
    const char *tr = read_col(row, stmt, XC_TRUNCATED);
    json_object_object_add(o, "payload_truncated",
                           json_object_new_boolean(tr != NULL && strcmp(tr, "1") == 0));
    return o;
}

static void read_errors(struct worker *w, struct request *r, const struct read_params *p)
{
    unsigned mask = (p->code ? FE_CODE : 0) | (p->app ? FE_APP : 0) | (p->has_from ? FE_FROM : 0) |
                    (p->has_to ? FE_TO : 0) | (p->has_after ? FE_AFTER : 0);
    char sql[2048];
    /* As for events: event_errors drives the plan through the index that
     * matches the filter and gives the order. */
    static const char columns[] =
        "SELECT x.id, x.event_id, "
        "(SELECT a.name FROM applications a WHERE a.id = x.application_id), "
        "DATE_FORMAT(x.received_at, " READ_TIME_FMT "), x.session_key, x.category, x.name, "
        "x.code, x.pointer, x.message, x.payload, x.payload_truncated, " READ_US(
            "x.received_at") " FROM event_errors x";
    const char *index = mask & FE_CODE  ? "ix_event_errors_code_time"
                        : mask & FE_APP ? "ix_event_errors_application_time"
                                        : "ix_event_errors_received";
    snprintf(sql, sizeof(sql),
             "%s FORCE INDEX (%s) WHERE TRUE%s%s%s%s%s ORDER BY x.received_at, x.id LIMIT ?",
             columns, index, mask & FE_CODE ? " AND x.code = ?" : "",
             mask & FE_APP ? " AND x.application_id = (SELECT id FROM applications WHERE "
                             "name = ?)"
                           : "",
             mask & FE_FROM ? " AND x.received_at >= ?" : "",
             mask & FE_TO ? " AND x.received_at < ?" : "",
             mask & FE_AFTER ? " AND (x.received_at > ? OR (x.received_at = ? AND x.id > ?))" : "");
    MYSQL_STMT *stmt = dbconn_stmt_sql(&w->read_db, SLOT_ERRORS + (int)mask, "read_errors", sql);
    if (stmt == NULL) {
        request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, "database_unavailable",
                                  "the errors cannot be read now");
        return;
    }
    MYSQL_BIND in[8] = {{0}};
    unsigned long lens[8];
    int n = 0;
    char after_time[TIMESTAMP_FORMAT_LEN + 1];
    long long after_id = (long long)p->after_id, limit = p->limit + 1;
    if (mask & FE_CODE)
        read_bind_str(&in[n], &lens[n], p->code), n++;
    if (mask & FE_APP)
        read_bind_str(&in[n], &lens[n], p->app), n++;
    if (mask & FE_FROM)
        read_bind_str(&in[n], &lens[n], p->from), n++;
    if (mask & FE_TO)
        read_bind_str(&in[n], &lens[n], p->to), n++;
    if (mask & FE_AFTER) {
        timestamp_format(p->after_us, after_time);
        read_bind_str(&in[n], &lens[n], after_time), n++;
        read_bind_str(&in[n], &lens[n], after_time), n++;
        read_bind_ll(&in[n], &after_id), n++;
    }
    read_bind_ll(&in[n], &limit);
    read_stream(w, r, stmt, in, XC_NCOLS, p, read_error_row, p->ndjson ? NULL : "errors");
}

void read_handle(struct worker *w, struct request *r, enum read_route route, const char *session_id)
{
    char buf[READ_QUERY_MAX];
    struct read_params p;
    if (!read_parse(r, route, buf, sizeof(buf), &p))
        return;
    switch (route) {
    case READ_EVENTS:
        read_events_as(w, r, &p, "events");
        break;
    case READ_PROTOTYPE:
        read_prototype(w, r, &p);
        break;
    case READ_TIMELINE:
        read_timeline(w, r, &p, session_id);
        break;
    case READ_ERRORS:
        read_errors(w, r, &p);
        break;
    }
}
