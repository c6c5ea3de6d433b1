/* read.c - the read API (see read.h).
 *
 * Each filter combination is one SQL text built from fixed fragments with
 * placeholders (no request data ever enters the text), prepared once per
 * worker connection in a dynamic slot of the analyst dbconn and reused.
 * The lists (events, errors, a session's timeline) are described by one
 * table each (columns, filters with their fragments and bound values, index
 * choice), and one builder turns a table and the given filters into the
 * statement.
 * Filters become index ranges: session_id -> ix_events_session_time,
 * category[/name] + time -> ix_events_category_time / ix_events_type_time,
 * time alone -> the primary key (occurred_at, id). events holds a
 * category's and a type's id only (migration 013): their names come from
 * event_categories and event_types by join, and a filter on them is a
 * condition on the joined row's name, which the unique name keys make a
 * constant before events is read, so the range is on the id. The cursor
 * is the last row's (time, id), so the next page starts right after it
 * whatever was inserted meanwhile.
 *
 * A page (at most 1001 rows) is fetched whole by the client library, then
 * written row by row through request_stream_*; limit + 1 rows are read to
 * know whether a next page exists. Once the 200 has gone out a failing
 * fetch can only cut the body short (logged).
 *
 * What a request asks for is parsed and checked by read_params.c first:
 * no text that is not valid UTF-8 ever reaches SQL.
 *
 * An application-scoped read key adds one more filter to every list, the
 * key's application id as a bound parameter (never text): on events it
 * becomes ix_events_application_time when nothing narrower is asked, on
 * errors it intersects with `app` (app=OTHER: no rows, not a refusal, so
 * the answer tells nothing about other applications), and a timeline is
 * numbered among that application's events only.
 */
#include "autoconfig.h"

#include "fcgi/read.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/read_params.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/strparse.h"

#define READ_MAX_COLS  14
#define READ_MAX_BINDS 12

/* Dynamic statement slots of the analyst dbconn, from each list's first:
 * one per filter combination (a bit per filter: 7 for events, 6 for
 * errors, 2 and 3 for the two timelines). */
enum { SLOT_EVENTS = 0, SLOT_ERRORS = 128, SLOT_TIMELINE = 192, SLOT_TIMELINE_OWN = 200 };

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

/* What a result column becomes in a row's JSON object. */
enum read_col_kind {
    RC_ID,      /* "key": integer; the cursor's id */
    RC_TEXT,    /* "key": string or null */
    RC_JSON,    /* "key": a JSON value MariaDB serialized, written as is */
    RC_BOOL,    /* "key": true when the column is 1 */
    RC_TIME_US, /* not shown: the cursor's time (µs) */
    RC_SEQ,     /* "key" when not NULL: a timeline's number, then the cursor's id */
};

struct read_col {
    const char *key;
    enum read_col_kind kind;
};

/* Turns the fetched row into a JSON object, column c as cols[c] says, and
 * sets the row's cursor position. Returns NULL when out of memory; the
 * caller owns the object. */
static struct json_object *read_row_json(struct read_row *row, MYSQL_STMT *stmt,
                                         const struct read_col *cols, int64_t *time_us,
                                         unsigned long long *id)
{
    struct json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    for (int c = 0; c < row->ncols; c++) {
        const char *v = read_col(row, stmt, c);
        uint64_t u = 0;
        int64_t t = 0;
        struct json_object *j = NULL;
        switch (cols[c].kind) {
        case RC_ID:
        case RC_SEQ:
            if (v == NULL && cols[c].kind == RC_SEQ)
                continue;
            if (v != NULL && strparse_uint64(v, UINT64_MAX, &u))
                *id = u; /* a timeline's seq comes after the id and wins */
            j = json_object_new_int64((int64_t)u);
            break;
        case RC_TEXT:
            j = v != NULL ? json_object_new_string(v) : NULL;
            break;
        case RC_JSON:
            /* not parsed and printed again: its text is the serializer's */
            j = v != NULL ? json_object_new_object() : NULL;
            if (j != NULL)
                json_object_set_serializer(j, json_object_userdata_to_json_string, (void *)v, NULL);
            break;
        case RC_BOOL:
            j = json_object_new_boolean(v != NULL && strcmp(v, "1") == 0);
            break;
        case RC_TIME_US:
            if (v != NULL && strparse_int64(v, INT64_MIN, INT64_MAX, &t))
                *time_us = t;
            continue;
        }
        json_object_object_add(o, cols[c].key, j);
    }
    return o;
}

/* Executes stmt with params and streams its rows, each turned into JSON
 * as cols says: in {"<list_key>": [...], "next": ...}, or a bare array when
 * list_key is NULL, or one object per line for NDJSON. */
static void read_stream(struct worker *w, struct request *r, MYSQL_STMT *stmt, MYSQL_BIND *params,
                        const struct read_col *cols, int ncols, const struct read_params *p,
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
        struct json_object *o = read_row_json(&row, stmt, cols, &t, &id);
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
        read_params_cursor(last_us, last_id, cursor);
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

/* The columns of the events and timeline queries, in their order. */
static const struct read_col read_event_cols[] = {
    {"id", RC_ID},
    {"event_id", RC_TEXT},
    {"session_id", RC_TEXT},
    {"application", RC_TEXT},
    {"category", RC_TEXT},
    {"name", RC_TEXT},
    {"data", RC_JSON},
    {"timestamp", RC_TEXT},
    {"received_at", RC_TEXT},
    {NULL, RC_TIME_US},
    {"seq", RC_SEQ},
};
#define READ_EVENT_NCOLS ((int)(sizeof(read_event_cols) / sizeof(read_event_cols[0])))

/* The columns of the errors query, in their order. */
static const struct read_col read_error_cols[] = {
    {"id", RC_ID},
    {"event_id", RC_TEXT},
    {"application", RC_TEXT},
    {"received_at", RC_TEXT},
    {"session_id", RC_TEXT},
    {"category", RC_TEXT},
    {"name", RC_TEXT},
    {"code", RC_TEXT},
    {"pointer", RC_TEXT},
    {"message", RC_TEXT},
    {"payload", RC_TEXT},
    {"payload_truncated", RC_BOOL},
    {NULL, RC_TIME_US},
};
#define READ_ERROR_NCOLS ((int)(sizeof(read_error_cols) / sizeof(read_error_cols[0])))

#define READ_TIME_FMT "'%Y-%m-%dT%H:%i:%s.%fZ'"
/* The dimension rows of an event: its category's and its type's name. */
#define READ_EVENT_TYPE_JOIN                                                                       \
    " JOIN event_categories c ON c.id = e.category_id JOIN event_types t ON t.id = e.type_id"
/* One session's events, numbered in order (the ? is its session_key). */
#define READ_TIMELINE_SQL                                                                          \
    "SELECT e.id, e.event_id, s.session_key, c.name AS category, t.name AS name, e.data, "         \
    "e.occurred_at, e.received_at, (SELECT a.name FROM applications a WHERE "                      \
    "a.id = e.application_id) AS application, ROW_NUMBER() OVER (ORDER BY e.occurred_at, e.id) "   \
    "AS seq FROM events e JOIN sessions s ON s.id = e.session_id" READ_EVENT_TYPE_JOIN             \
    " WHERE s.session_key = ?"
/* The same numbered among one application's events only (the second ? is
 * its id): an application-scoped key sees a shared session as if only its
 * application had fed it, so seq has no gaps where others' events are. */
#define READ_TIMELINE_OWN_SQL READ_TIMELINE_SQL " AND e.application_id = ?"
#define READ_US(col)          "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', " col ")"

/* What a filter binds. */
enum read_bind {
    RB_TEXT,   /* a text of struct read_params; NULL there: not given */
    RB_CURSOR, /* the cursor: its time twice, then its id */
    RB_SEQ,    /* the cursor's id alone (a timeline's seq) */
    RB_SCOPE,  /* the key's application id; given only for an application-scoped key */
};

/* A filter of a list: the SQL fragment it adds (with its placeholders)
 * and what it binds. */
struct read_filter {
    const char *sql;
    enum read_bind bind;
    size_t text; /* RB_TEXT: offsetof the const char * it binds */
};

/* A list resource: one statement per combination of its filters (a bit
 * each, in table order), prepared in dynamic slot `slot` + that mask. */
struct read_list {
    const char *name; /* of the statement, in logs */
    int slot;
    const char *select; /* columns and FROM, up to the index hint */
    const char *join;   /* after the index hint */
    const char *order;  /* ORDER BY ..., then the builder's LIMIT ? */
    /* The index named in FORCE INDEX: the first whose filters (a mask) are
     * all given; the last entry needs none (NULL there: no hint). It is the one that
     * gives the filter's order: at 10M events the optimizer otherwise
     * sometimes sorted a whole busy day (bench/queries). Naming PRIMARY
     * also keeps a time range from being read through another index. */
    struct {
        unsigned need;
        const char *index;
    } indexes[5];
    struct read_filter filters[8]; /* ended by sql == NULL */
    const struct read_col *cols;   /* what each result column becomes */
    int ncols;
    const char *unavailable; /* the 503's message */
};

#define READ_TEXT(member) RB_TEXT, offsetof(struct read_params, member)
#define B_(filter)        (1u << (filter))

/* The filters of each list, by position in its table; a list ordered by
 * time ends with its range and its cursor (READ_RANGE_FILTERS). */
enum { EF_SESSION, EF_CATEGORY, EF_NAME, EF_SCOPE, EF_FROM, EF_TO, EF_AFTER };
enum { XF_CODE, XF_APP, XF_SCOPE, XF_FROM, XF_TO, XF_AFTER };

/* A list ordered by its time column t, ties broken by its id column id:
 * the order, and its last three filters (from inclusive, to exclusive, and
 * the keyset cursor, which starts right after the last row sent). */
#define READ_ORDER(t, id) " ORDER BY " t ", " id
#define READ_RANGE_FILTERS(t, id)                                                                  \
    {" AND " t " >= ?", READ_TEXT(from)}, {" AND " t " < ?", READ_TEXT(to)},                       \
    {                                                                                              \
        " AND (" t " > ? OR (" t " = ? AND " id " > ?))", RB_CURSOR                                \
    }
enum { TF_SESSION, TF_AFTER };
enum { TOF_SESSION, TOF_SCOPE, TOF_AFTER };

/* The columns hold '%' (DATE_FORMAT): they are never a format string. The
 * application's name comes from a scalar subquery so that the listed table
 * alone drives the plan. A category filter names the joined category row
 * (c.name: one row by uq_event_categories_name, a constant of the plan),
 * so events is read as a range of (category_id, occurred_at); a name
 * filter names the type row of that category (t.category_id = c.id, then
 * by uq_event_types_name a constant too), a range of (type_id,
 * occurred_at). A category or type no event has ever had: no rows. */
static const struct read_list read_events_list = {
    .name = "read_events",
    .slot = SLOT_EVENTS,
    .select = "SELECT e.id, e.event_id, s.session_key, "
              "(SELECT a.name FROM applications a WHERE a.id = e.application_id), c.name, "
              "t.name, e.data, DATE_FORMAT(e.occurred_at, " READ_TIME_FMT
              "), DATE_FORMAT(e.received_at, " READ_TIME_FMT
              "), " READ_US("e.occurred_at") ", NULL FROM events e",
    .join = READ_EVENT_TYPE_JOIN " JOIN sessions s ON s.id = e.session_id",
    .order = READ_ORDER("e.occurred_at", "e.id"),
    .indexes = {{B_(EF_SESSION), "ix_events_session_time"},
                {B_(EF_CATEGORY) | B_(EF_NAME), "ix_events_type_time"},
                {B_(EF_CATEGORY), "ix_events_category_time"},
                {B_(EF_SCOPE), "ix_events_application_time"},
                {0, "PRIMARY"}},
    .filters = {[EF_SESSION] = {" AND e.session_id = (SELECT id FROM sessions WHERE "
                                "session_key = ?)",
                                READ_TEXT(session_id)},
                [EF_CATEGORY] = {" AND c.name = ?", READ_TEXT(category)},
                [EF_NAME] = {" AND t.category_id = c.id AND t.name = ?", READ_TEXT(name)},
                [EF_SCOPE] = {" AND e.application_id = ?", RB_SCOPE, 0},
                READ_RANGE_FILTERS("e.occurred_at", "e.id")},
    .cols = read_event_cols,
    .ncols = READ_EVENT_NCOLS,
    .unavailable = "the events cannot be read now",
};

static const struct read_list read_errors_list = {
    .name = "read_errors",
    .slot = SLOT_ERRORS,
    .select = "SELECT x.id, x.event_id, "
              "(SELECT a.name FROM applications a WHERE a.id = x.application_id), "
              "DATE_FORMAT(x.received_at, " READ_TIME_FMT "), x.session_key, x.category, x.name, "
              "x.code, x.pointer, x.message, x.payload, x.payload_truncated, " READ_US(
                  "x.received_at") " FROM event_errors x",
    .join = "",
    .order = READ_ORDER("x.received_at", "x.id"),
    .indexes = {{B_(XF_CODE), "ix_event_errors_code_time"},
                {B_(XF_APP), "ix_event_errors_application_time"},
                {B_(XF_SCOPE), "ix_event_errors_application_time"},
                {0, "ix_event_errors_received"}},
    .filters = {[XF_CODE] = {" AND x.code = ?", READ_TEXT(code)},
                [XF_APP] = {" AND x.application_id = (SELECT id FROM applications WHERE "
                            "name = ?)",
                            READ_TEXT(app)},
                /* with app=OTHER too, an application-scoped key's rows
                 * are the intersection: none */
                [XF_SCOPE] = {" AND x.application_id = ?", RB_SCOPE, 0},
                READ_RANGE_FILTERS("x.received_at", "x.id")},
    .cols = read_error_cols,
    .ncols = READ_ERROR_NCOLS,
    .unavailable = "the errors cannot be read now",
};

/* One session's events, numbered in order. The session is selected inside
 * the numbering (its filter binds the placeholder there, adding nothing to
 * the WHERE): MariaDB does not push a placeholder through the view's
 * PARTITION BY, and numbering every event took seconds at 10M events
 * (bench/queries). */
static const struct read_list read_timeline_list = {
    .name = "read_timeline",
    .slot = SLOT_TIMELINE,
    .select = "SELECT id, event_id, session_key, application, category, name, data, "
              "DATE_FORMAT(occurred_at, " READ_TIME_FMT "), DATE_FORMAT(received_at, " READ_TIME_FMT
              "), " READ_US("occurred_at") ", seq FROM (" READ_TIMELINE_SQL ") t",
    .join = "",
    .order = " ORDER BY seq",
    .indexes = {{0, NULL}},
    .filters = {[TF_SESSION] = {"", READ_TEXT(session_id)}, [TF_AFTER] = {" AND seq > ?", RB_SEQ}},
    .cols = read_event_cols,
    .ncols = READ_EVENT_NCOLS,
    .unavailable = "the timeline cannot be read now",
};

/* The timeline an application-scoped key reads: the same, numbered among
 * its application's events only (both filters bind placeholders inside the
 * numbering). */
static const struct read_list read_timeline_own_list = {
    .name = "read_timeline_own",
    .slot = SLOT_TIMELINE_OWN,
    .select = "SELECT id, event_id, session_key, application, category, name, data, "
              "DATE_FORMAT(occurred_at, " READ_TIME_FMT "), DATE_FORMAT(received_at, " READ_TIME_FMT
              "), " READ_US("occurred_at") ", seq FROM (" READ_TIMELINE_OWN_SQL ") t",
    .join = "",
    .order = " ORDER BY seq",
    .indexes = {{0, NULL}},
    .filters = {[TOF_SESSION] = {"", READ_TEXT(session_id)},
                [TOF_SCOPE] = {"", RB_SCOPE, 0},
                [TOF_AFTER] = {" AND seq > ?", RB_SEQ}},
    .cols = read_event_cols,
    .ncols = READ_EVENT_NCOLS,
    .unavailable = "the timeline cannot be read now",
};

/* True when filter f applies: given in p, or for RB_SCOPE, the key who is
 * application-scoped. */
static bool read_filter_given(const struct read_params *p, const struct auth_identity *who,
                              const struct read_filter *f)
{
    if (f->bind == RB_SCOPE)
        return who->app_only;
    if (f->bind != RB_TEXT)
        return p->has_after;
    return *(const char *const *)((const char *)p + f->text) != NULL;
}

/* Appends s to the SQL text sql (len bytes so far, capacity cap). Returns
 * false when it does not fit. */
static bool read_append(char *sql, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n >= cap)
        return false;
    memcpy(sql + *len, s, n + 1);
    *len += n;
    return true;
}

/* Answers a GET on list q filtered by p, and by who's application when who
 * is application-scoped: the statement of the given filters, their values
 * bound, the rows streamed. list_key: the JSON member holding the rows, or
 * NULL for a bare array. */
static void read_list(struct worker *w, struct request *r, const struct read_params *p,
                      const struct auth_identity *who, const struct read_list *q,
                      const char *list_key)
{
    unsigned mask = 0;
    for (int i = 0; q->filters[i].sql != NULL; i++)
        if (read_filter_given(p, who, &q->filters[i]))
            mask |= 1u << i;
    int ix = 0;
    while ((q->indexes[ix].need & mask) != q->indexes[ix].need)
        ix++;
    const char *index = q->indexes[ix].index;

    char sql[2048];
    size_t len = 0;
    bool fits = read_append(sql, sizeof(sql), &len, q->select) &&
                (index == NULL || (read_append(sql, sizeof(sql), &len, " FORCE INDEX (") &&
                                   read_append(sql, sizeof(sql), &len, index) &&
                                   read_append(sql, sizeof(sql), &len, ")"))) &&
                read_append(sql, sizeof(sql), &len, q->join) &&
                read_append(sql, sizeof(sql), &len, " WHERE TRUE");
    for (int i = 0; fits && q->filters[i].sql != NULL; i++)
        if (mask & (1u << i))
            fits = read_append(sql, sizeof(sql), &len, q->filters[i].sql);
    fits = fits && read_append(sql, sizeof(sql), &len, q->order) &&
           read_append(sql, sizeof(sql), &len, " LIMIT ?");
    if (!fits) { /* the fragments are fixed: a programming error */
        log_error("%s: statement text too long", q->name);
        request_reply_error(r, 500, NULL, "internal_error", NULL, "the query could not be built");
        return;
    }
    MYSQL_STMT *stmt = dbconn_stmt_sql(&w->read_db, q->slot + (int)mask, q->name, sql);
    if (stmt == NULL) {
        request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, "database_unavailable",
                                  q->unavailable);
        return;
    }

    MYSQL_BIND in[READ_MAX_BINDS] = {{0}};
    unsigned long lens[READ_MAX_BINDS];
    int n = 0;
    char after_time[TIMESTAMP_FORMAT_LEN + 1];
    long long after_id = (long long)p->after_id, limit = p->limit + 1;
    long long scope_app = who->application_id;
    for (int i = 0; q->filters[i].sql != NULL; i++) {
        if (!(mask & (1u << i)))
            continue;
        const struct read_filter *f = &q->filters[i];
        if (f->bind == RB_CURSOR) {
            timestamp_format(p->after_us, after_time);
            read_bind_str(&in[n], &lens[n], after_time), n++;
            read_bind_str(&in[n], &lens[n], after_time), n++;
        }
        if (f->bind == RB_TEXT)
            read_bind_str(&in[n], &lens[n], *(const char *const *)((const char *)p + f->text)), n++;
        else if (f->bind == RB_SCOPE)
            read_bind_ll(&in[n], &scope_app), n++;
        else
            read_bind_ll(&in[n], &after_id), n++;
    }
    read_bind_ll(&in[n], &limit);
    read_stream(w, r, stmt, in, q->cols, q->ncols, p, list_key);
}

void read_handle(struct worker *w, struct request *r, const struct auth_identity *who,
                 enum read_route route, const char *session_raw)
{
    char buf[READ_QUERY_MAX];
    struct read_params p;
    if (!read_params_parse(r, route, session_raw, buf, sizeof(buf), &p))
        return;
    switch (route) {
    case READ_EVENTS:
        read_list(w, r, &p, who, &read_events_list, "events");
        break;
    case READ_PROTOTYPE:
        /* The prototype answered a bare JSON array of events (no cursor):
         * the same query as /v1/events, at most READ_MAX_LIMIT events. */
        read_list(w, r, &p, who, &read_events_list, NULL);
        break;
    case READ_TIMELINE:
        read_list(w, r, &p, who, who->app_only ? &read_timeline_own_list : &read_timeline_list,
                  "events");
        break;
    case READ_ERRORS:
        read_list(w, r, &p, who, &read_errors_list, "errors");
        break;
    }
}
