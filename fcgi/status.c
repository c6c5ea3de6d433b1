/* status.c - the monitoring page and its data (see status.h).
 *
 * Every query is fixed text chosen from a table by the window (three
 * windows, three texts each), except the example message of a rejection
 * group, a prepared statement with the group's category, name and code as
 * parameters. Rows become JSON objects through one table of column names
 * and types, so adding a figure is adding a column.
 */
#include "autoconfig.h"

#include "fcgi/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/metrics_shm.h"
#include "fcgi/queue_watch.h"
#include "fcgi/rules_live.h"
#include "lib/log.h"
#include "lib/strparse.h"

struct status_asset {
    const char *path;
    const unsigned char *bytes;
    size_t len;
};
extern const struct status_asset status_assets[]; /* fcgi/status_assets.c */

/* The dynamic slot of the analyst dbconn for the example statement (the
 * read API uses the slots below 128 - 8). */
#define STATUS_SLOT_EXAMPLE (DBCONN_DYNAMIC - 1)

static const struct status_asset *status_find(const char *path)
{
    if (strcmp(path, "/status") == 0 || strcmp(path, "/status/") == 0)
        path = "/status/index.html";
    for (const struct status_asset *a = status_assets; a->path != NULL; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

bool status_is_asset(const char *path)
{
    return strcmp(path, "/status") == 0 || strncmp(path, "/status/", 8) == 0;
}

void status_asset(struct request *r)
{
    const struct status_asset *a = status_find(r->path);
    if (a == NULL) {
        request_reply_error(r, 404, NULL, "not_found", NULL, "no such resource");
        return;
    }
    size_t n = strlen(a->path);
    const char *type = n > 3 && strcmp(a->path + n - 3, ".js") == 0
                           ? "text/javascript; charset=utf-8"
                       : n > 4 && strcmp(a->path + n - 4, ".css") == 0 ? "text/css; charset=utf-8"
                                                                       : "text/html; charset=utf-8";
    /* The page talks only to this origin and runs only its own script. */
    static const char headers[] = "Content-Security-Policy: default-src 'self'; img-src 'self' "
                                  "data:; frame-ancestors 'none'\r\n"
                                  "X-Content-Type-Options: nosniff\r\n"
                                  "Referrer-Policy: no-referrer\r\n";
    if (request_stream_begin(r, 200, type, headers) && strcmp(r->method, "HEAD") != 0)
        request_stream_write(r, (const char *)a->bytes, a->len);
}

/* One window: its name, SQL interval, bucket format and size. */
struct status_window {
    const char *name, *interval, *bucket_fmt;
    int bucket_seconds;
};

static const struct status_window status_windows[] = {
    {"1h", "1 HOUR", "%Y-%m-%dT%H:%i:00Z", 60},
    {"24h", "24 HOUR", "%Y-%m-%dT%H:00:00Z", 3600},
    {"7d", "7 DAY", "%Y-%m-%dT%H:00:00Z", 3600},
};

enum col_type { COL_STR, COL_INT, COL_TIME };
struct col {
    const char *key;
    enum col_type type;
};

/* Runs sql (fixed text) and appends one object per row to arr, keyed by
 * cols. Returns false (logged) when the query fails. */
static bool status_rows(MYSQL *conn, const char *name, const char *sql, const struct col *cols,
                        size_t ncols, struct json_object *arr)
{
    if (mysql_query(conn, sql) != 0) {
        log_warn("status %s: %s", name, mysql_error(conn));
        return false;
    }
    MYSQL_RES *res = mysql_store_result(conn);
    if (res == NULL) {
        log_warn("status %s: %s", name, mysql_error(conn));
        return false;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        struct json_object *o = json_object_new_object();
        for (size_t c = 0; c < ncols; c++) {
            struct json_object *v = NULL;
            int64_t n;
            if (row[c] != NULL && cols[c].type == COL_INT)
                v = json_object_new_int64(strparse_int64(row[c], INT64_MIN, INT64_MAX, &n) ? n : 0);
            else if (row[c] != NULL)
                v = json_object_new_string(row[c]);
            json_object_object_add(o, cols[c].key, v);
        }
        json_object_array_add(arr, o);
    }
    mysql_free_result(res);
    return true;
}

/* Adds to each rejection group its most recent message and pointer. */
static void status_examples(struct worker *w, struct json_object *groups,
                            const struct status_window *win)
{
    char sql[512];
    /* The interval comes from the fixed window table: the text per window
     * never changes, so each window has its own slot. */
    snprintf(sql, sizeof(sql),
             "SELECT message, pointer FROM event_errors FORCE INDEX (ix_event_errors_type_time) "
             "WHERE category = ? AND name = ? AND received_at >= NOW(6) - INTERVAL %s "
             "AND code = ? ORDER BY received_at DESC LIMIT 1",
             win->interval);
    int slot = STATUS_SLOT_EXAMPLE - (int)(win - status_windows);
    size_t n = json_object_array_length(groups);
    for (size_t i = 0; i < n && i < 20; i++) {
        struct json_object *g = json_object_array_get_idx(groups, i), *v;
        const char *p[3] = {NULL, NULL, NULL};
        static const char *const keys[3] = {"category", "name", "code"};
        for (int k = 0; k < 3; k++)
            if (json_object_object_get_ex(g, keys[k], &v))
                p[k] = json_object_get_string(v);
        if (p[0] == NULL || p[1] == NULL || p[2] == NULL || *p[0] == '\0')
            continue; /* request-level errors have no type */
        MYSQL_STMT *st = dbconn_stmt_sql(&w->read_db, slot, "status_example", sql);
        if (st == NULL)
            return;
        MYSQL_BIND in[3], out[2];
        unsigned long inlen[3], outlen[2];
        char msg[1025], ptr[1025];
        my_bool isnull[2];
        memset(in, 0, sizeof(in));
        memset(out, 0, sizeof(out));
        for (int k = 0; k < 3; k++) {
            inlen[k] = (unsigned long)strlen(p[k]);
            in[k].buffer_type = MYSQL_TYPE_STRING;
            in[k].buffer = (void *)p[k];
            in[k].length = &inlen[k];
        }
        char *bufs[2] = {msg, ptr};
        for (int k = 0; k < 2; k++) {
            out[k].buffer_type = MYSQL_TYPE_STRING;
            out[k].buffer = bufs[k];
            out[k].buffer_length = 1025;
            out[k].length = &outlen[k];
            out[k].is_null = &isnull[k];
        }
        if (mysql_stmt_bind_param(st, in) != 0 || mysql_stmt_execute(st) != 0 ||
            mysql_stmt_bind_result(st, out) != 0 || mysql_stmt_store_result(st) != 0) {
            log_warn("status_example: %s", mysql_stmt_error(st));
            return;
        }
        if (mysql_stmt_fetch(st) == 0) {
            msg[outlen[0] < 1024 ? outlen[0] : 1024] = '\0';
            ptr[outlen[1] < 1024 ? outlen[1] : 1024] = '\0';
            json_object_object_add(g, "message", json_object_new_string(isnull[0] ? "" : msg));
            json_object_object_add(g, "pointer", json_object_new_string(isnull[1] ? "" : ptr));
        }
        mysql_stmt_free_result(st);
    }
}

static struct json_object *status_rules(void)
{
    const struct ruleset *rules = NULL;
    struct rules_ref *ref = rules_live_acquire(&rules);
    struct json_object *o = json_object_new_object();
    if (rules != NULL) {
        json_object_object_add(o, "version", json_object_new_string(ruleset_version(rules)));
        struct json_object *types = json_object_new_array();
        for (size_t i = 0; i < ruleset_count(rules); i++) {
            const struct rule *rule = ruleset_rule(rules, i);
            struct json_object *t = json_object_new_object();
            json_object_object_add(t, "category", json_object_new_string(rule_category(rule)));
            json_object_object_add(t, "name", json_object_new_string(rule_name(rule)));
            json_object_object_add(t, "file", json_object_new_string(rule_file(rule)));
            json_object_array_add(types, t);
        }
        json_object_object_add(o, "event_types", types);
    }
    rules_live_release(ref);
    struct metrics_shm *m = metrics_shm();
    if (m != NULL) {
        json_object_object_add(
            o, "loaded_at",
            json_object_new_double((double)atomic_load(&m->rules_last_reload_us) / 1e6));
        json_object_object_add(
            o, "failed_at",
            json_object_new_double((double)atomic_load(&m->rules_last_failed_reload_us) / 1e6));
    }
    return o;
}

void status_summary(struct worker *w, struct request *r)
{
    const struct status_window *win = &status_windows[0];
    if (strncmp(r->query, "window=", 7) == 0 || strstr(r->query, "&window=") != NULL) {
        const char *v = strstr(r->query, "window=") + 7;
        size_t len = strcspn(v, "&");
        win = NULL;
        for (size_t i = 0; i < sizeof(status_windows) / sizeof(status_windows[0]); i++)
            if (strlen(status_windows[i].name) == len &&
                strncmp(status_windows[i].name, v, len) == 0)
                win = &status_windows[i];
        if (win == NULL) {
            request_reply_error(r, 400, NULL, "invalid_parameter", "window",
                                "window: one of 1h, 24h, 7d");
            return;
        }
    }
    MYSQL *conn = dbconn_get(&w->read_db);
    if (conn == NULL) {
        request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, "database_unavailable",
                                  "the figures cannot be read now; retry later");
        return;
    }
    char sql[1024];
    struct json_object *body = json_object_new_object();
    struct json_object *series = json_object_new_array(), *groups = json_object_new_array();
    struct json_object *apps = json_object_new_array(), *spoolers = json_object_new_array();
    bool ok = true;

    static const struct col series_cols[] = {
        {"t", COL_STR}, {"accepted", COL_INT}, {"rejected", COL_INT}};
    snprintf(sql, sizeof(sql),
             "SELECT DATE_FORMAT(minute, '%s') AS t, SUM(IF(outcome = 'accepted', n, 0)), "
             "SUM(IF(outcome <> 'accepted', n, 0)) FROM event_counts_minute "
             "WHERE minute >= NOW() - INTERVAL %s GROUP BY t ORDER BY t",
             win->bucket_fmt, win->interval);
    ok = ok && status_rows(conn, "series", sql, series_cols, 3, series);

    static const struct col group_cols[] = {
        {"category", COL_STR}, {"name", COL_STR}, {"code", COL_STR}, {"n", COL_INT}};
    snprintf(
        sql, sizeof(sql),
        "SELECT category, name, outcome, SUM(n) AS total FROM event_counts_minute "
        "WHERE minute >= NOW() - INTERVAL %s AND outcome <> 'accepted' "
        "GROUP BY category, name, outcome ORDER BY total DESC, category, name, outcome LIMIT 50",
        win->interval);
    ok = ok && status_rows(conn, "rejections", sql, group_cols, 4, groups);

    static const struct col app_cols[] = {
        {"application", COL_STR}, {"accepted", COL_INT}, {"rejected", COL_INT}};
    snprintf(sql, sizeof(sql),
             "SELECT a.name, SUM(IF(c.outcome = 'accepted', c.n, 0)), "
             "SUM(IF(c.outcome <> 'accepted', c.n, 0)) AS rej "
             "FROM event_counts_minute c JOIN applications a ON a.id = c.application_id "
             "WHERE c.minute >= NOW() - INTERVAL %s GROUP BY a.id, a.name "
             "ORDER BY rej DESC, a.name LIMIT 20",
             win->interval);
    ok = ok && status_rows(conn, "applications", sql, app_cols, 3, apps);

    static const struct col spool_cols[] = {{"spooler", COL_STR},      {"last_batch_at", COL_STR},
                                            {"last_seen_at", COL_STR}, {"lag_seconds", COL_INT},
                                            {"batches", COL_INT},      {"rows", COL_INT}};
    ok = ok && status_rows(conn, "spoolers",
                           "SELECT spooler, DATE_FORMAT(last_batch_at, '%Y-%m-%dT%H:%i:%sZ'), "
                           "DATE_FORMAT(last_seen_at, '%Y-%m-%dT%H:%i:%sZ'), "
                           "TIMESTAMPDIFF(SECOND, last_seen_at, NOW(6)), batches, rows_moved "
                           "FROM spool_status WHERE spooler <> '_retired' "
                           "AND last_seen_at >= NOW(6) - INTERVAL 1 DAY ORDER BY spooler LIMIT 100",
                           spool_cols, 6, spoolers);
    if (ok)
        status_examples(w, groups, win);

    int64_t acc = 0, rej = 0;
    for (size_t i = 0; i < json_object_array_length(series); i++) {
        struct json_object *p = json_object_array_get_idx(series, i), *v;
        if (json_object_object_get_ex(p, "accepted", &v))
            acc += json_object_get_int64(v);
        if (json_object_object_get_ex(p, "rejected", &v))
            rej += json_object_get_int64(v);
    }
    json_object_object_add(body, "window", json_object_new_string(win->name));
    json_object_object_add(body, "bucket_seconds", json_object_new_int(win->bucket_seconds));
    struct json_object *totals = json_object_new_object();
    json_object_object_add(totals, "accepted", json_object_new_int64(acc));
    json_object_object_add(totals, "rejected", json_object_new_int64(rej));
    json_object_object_add(body, "totals", totals);
    json_object_object_add(body, "series", series);
    json_object_object_add(body, "rejections", groups);
    json_object_object_add(body, "applications", apps);
    json_object_object_add(body, "spoolers", spoolers);
    struct queue_status q;
    queue_watch_get(&q);
    if (q.known) {
        struct json_object *qo = json_object_new_object();
        json_object_object_add(qo, "depth", json_object_new_int64(q.depth));
        json_object_object_add(qo, "oldest_age_seconds",
                               json_object_new_double((double)q.oldest_age_us / 1e6));
        json_object_object_add(body, "queue", qo);
    }
    json_object_object_add(body, "rules", status_rules());
    if (ok) {
        request_reply_json(r, 200, NULL, body);
    } else {
        dbconn_failed(&w->read_db, mysql_errno(conn));
        request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, "database_unavailable",
                                  "the figures cannot be read now; retry later");
    }
    json_object_put(body);
}
