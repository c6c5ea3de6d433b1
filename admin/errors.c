/* errors.c - `eye-admin errors list|replay`: recorded rejections.
 *
 * replay re-validates stored errors against the rules now in the rules
 * folder and re-queues those that pass, each in its own transaction with the
 * mark that it was replayed, so fixing a rule recovers the data and running
 * replay twice changes nothing. A replayed event keeps its event_id: the
 * spool would store it once even if it were queued twice. Payloads that
 * were cut at ingest (payload_truncated) cannot be replayed and are left.
 * A payload is parsed by the body decoder and its row decided by
 * queue/row.c, exactly as at ingest: an event ingest would refuse (its
 * data above ingest.max_event_bytes) stays refused.
 */
#include "autoconfig.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "queue/batch.h"
#include "queue/row.h"
#include "validators/body.h"
#include "validators/event.h"
#include "validators/ruleset.h"
#include "validators/timestamp.h"

#define ERRORS_COL_MAX 1024
#define ERRORS_PAGE    500

static void errors_usage(FILE *out)
{
    fprintf(out,
            "usage: eye-admin errors list [--code CODE] [--app NAME] [--since TIME] [--limit N]\n"
            "       eye-admin errors replay [--code CODE] [--since TIME] [--dry-run]\n\n"
            "list    recorded errors, newest first (default limit 50).\n"
            "replay  re-validates errors not yet replayed against the current rules\n"
            "        (rules.dir) and queues the ones that now pass; idempotent.\n"
            "TIME is a timestamp as events carry them (\"2024-05-01 10:00:00\", RFC 3339).\n");
}

struct errors_opts {
    const char *code, *app;
    char since[32]; /* DATETIME text, UTC */
    long long limit;
    bool dry_run;
};

static bool errors_parse(int argc, char **argv, struct errors_opts *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->since, sizeof(o->since), "1970-01-01 00:00:00");
    o->limit = 50;
    for (int i = 2; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--code") == 0 && next) {
            o->code = argv[++i];
        } else if (strcmp(argv[i], "--app") == 0 && next) {
            o->app = argv[++i];
        } else if (strcmp(argv[i], "--since") == 0 && next) {
            int64_t us;
            if (!timestamp_parse(next, strlen(next), &us)) {
                fprintf(stderr, "eye-admin errors: --since %s is not a timestamp\n", next);
                return false;
            }
            char text[TIMESTAMP_FORMAT_LEN + 1];
            timestamp_format(us, text);
            snprintf(o->since, sizeof(o->since), "%s", text);
            i++;
        } else if (strcmp(argv[i], "--limit") == 0 && next) {
            int64_t n;
            if (!strparse_int64(argv[++i], 1, 1000000, &n))
                return false;
            o->limit = n;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            o->dry_run = true;
        } else {
            return false;
        }
    }
    return true;
}

/* Binds a string parameter, SQL NULL when s is NULL. */
static void bind_str(MYSQL_BIND *b, const char *s, unsigned long *len, my_bool *is_null)
{
    *len = s ? (unsigned long)strlen(s) : 0;
    *is_null = s == NULL;
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = (void *)s;
    b->length = len;
    b->is_null = is_null;
}

static int errors_list(const struct config *cfg, const struct errors_opts *o)
{
    int rc = ADMIN_FAIL;
    MYSQL *conn = db_connect(cfg, &cfg->accounts.admin);
    MYSQL_STMT *stmt = NULL;
    if (conn == NULL)
        return ADMIN_FAIL;
    stmt = db_prepare(conn, "list_errors",
                      "SELECT e.id, DATE_FORMAT(e.received_at, '%Y-%m-%d %H:%i:%s'), a.name, "
                      "e.code, e.pointer, COALESCE(e.category, '-'), COALESCE(e.name, '-'), "
                      "IF(e.replayed_at IS NULL, '-', 'replayed'), e.message "
                      "FROM event_errors e JOIN applications a ON a.id = e.application_id "
                      "WHERE (? IS NULL OR e.code = ?) AND (? IS NULL OR a.name = ?) "
                      "AND e.received_at >= ? ORDER BY e.id DESC LIMIT ?");
    if (stmt == NULL)
        goto done;
    MYSQL_BIND in[6] = {{0}};
    unsigned long lens[5];
    my_bool nulls[5];
    bind_str(&in[0], o->code, &lens[0], &nulls[0]);
    bind_str(&in[1], o->code, &lens[1], &nulls[1]);
    bind_str(&in[2], o->app, &lens[2], &nulls[2]);
    bind_str(&in[3], o->app, &lens[3], &nulls[3]);
    bind_str(&in[4], o->since, &lens[4], &nulls[4]);
    long long limit = o->limit;
    in[5].buffer_type = MYSQL_TYPE_LONGLONG;
    in[5].buffer = &limit;

    enum { NCOLS = 9 };
    char cols[NCOLS][ERRORS_COL_MAX];
    unsigned long col_len[NCOLS];
    my_bool col_null[NCOLS];
    MYSQL_BIND out[NCOLS] = {{0}};
    for (int c = 0; c < NCOLS; c++) {
        out[c].buffer_type = MYSQL_TYPE_STRING;
        out[c].buffer = cols[c];
        out[c].buffer_length = ERRORS_COL_MAX;
        out[c].length = &col_len[c];
        out[c].is_null = &col_null[c];
    }
    if (mysql_stmt_bind_param(stmt, in) != 0 || mysql_stmt_execute(stmt) != 0 ||
        mysql_stmt_bind_result(stmt, out) != 0 || mysql_stmt_store_result(stmt) != 0) {
        log_error("list_errors: %s", mysql_stmt_error(stmt));
        goto done;
    }
    printf("ID\tRECEIVED\tAPPLICATION\tCODE\tPOINTER\tCATEGORY\tNAME\tREPLAYED\tMESSAGE\n");
    int r;
    while ((r = mysql_stmt_fetch(stmt)) == 0 || r == MYSQL_DATA_TRUNCATED) {
        for (int c = 0; c < NCOLS; c++) {
            size_t n = col_len[c] < ERRORS_COL_MAX ? col_len[c] : ERRORS_COL_MAX - 1;
            cols[c][n] = '\0';
            printf("%s%s", c ? "\t" : "", col_null[c] ? "-" : cols[c]);
        }
        printf("\n");
    }
    rc = r == MYSQL_NO_DATA ? ADMIN_OK : ADMIN_FAIL;

done:
    if (stmt != NULL)
        mysql_stmt_close(stmt);
    mysql_close(conn);
    return rc;
}

/* One stored error, as read for replay. */
struct replay_row {
    unsigned long long id;
    unsigned int application_id;
    char event_id[40];
    char received_at[32];
    char *payload; /* grows to the payload's length */
    unsigned long payload_len, event_id_len, received_len;
    my_bool event_id_null;
    /* the request context it was received with, carried to its new row */
    char user_agent[4 * 255 + 1], client_ip[40];
    unsigned long user_agent_len, client_ip_len;
    my_bool user_agent_null, client_ip_null;
};

/* Queues one revalidated event (its row decided by queue/row.c, as at
 * ingest) and marks its error replayed, atomically. Returns 1 when queued,
 * 0 when someone else replayed it first, -1 on error. */
static int replay_queue(MYSQL *conn, MYSQL_STMT *ins, MYSQL_STMT *mark, struct queue_batch *batch,
                        const struct replay_row *row, const struct queue_row *qrow,
                        const struct config *cfg)
{
    /* By the whole primary key (id, received_at): one partition. */
    MYSQL_BIND key[2] = {{0}};
    unsigned long long error_id = row->id;
    unsigned long received_len = (unsigned long)strlen(row->received_at);
    key[0].buffer_type = MYSQL_TYPE_LONGLONG;
    key[0].buffer = &error_id;
    key[0].is_unsigned = 1;
    key[1].buffer_type = MYSQL_TYPE_STRING;
    key[1].buffer = (void *)row->received_at;
    key[1].buffer_length = received_len;
    key[1].length = &received_len;
    if (mysql_stmt_bind_param(mark, key) != 0 || mysql_stmt_execute(mark) != 0) {
        log_error("mark_replayed %llu: %s", row->id, mysql_stmt_error(mark));
        goto fail;
    }
    if (mysql_stmt_affected_rows(mark) != 1) {
        mysql_rollback(conn);
        return 0;
    }
    queue_batch_reset(batch);
    if (!queue_row_add(batch, qrow, cfg, NULL, 0, false) || queue_batch_execute(batch, ins) != 0)
        goto fail;
    if (mysql_commit(conn) != 0) {
        log_error("commit replay %llu: %s", row->id, mysql_error(conn));
        goto fail;
    }
    return 1;

fail:
    mysql_rollback(conn);
    return -1;
}

static int errors_replay(const struct config *cfg, const struct errors_opts *o)
{
    int rc = ADMIN_FAIL;
    struct rule_problems problems = {0};
    struct ruleset *rs = ruleset_load_dir(cfg->rules.dir, &problems);
    MYSQL *conn = NULL;
    MYSQL_STMT *sel = NULL, *ins = NULL, *mark = NULL;
    struct body_decoder *decoder = NULL;
    struct queue_batch *batch = NULL;
    struct replay_row row = {0};
    long queued = 0, invalid = 0, unusable = 0, raced = 0;

    if (rs == NULL) {
        for (size_t i = 0; i < problems.count; i++)
            fprintf(stderr, "%s:%d:%d: %s\n", problems.items[i].file, problems.items[i].line,
                    problems.items[i].column, problems.items[i].message);
        fprintf(stderr, "eye-admin errors replay: the rules in %s do not load\n", cfg->rules.dir);
        goto done;
    }
    conn = db_connect(cfg, &cfg->accounts.admin);
    /* Payloads are parsed exactly as eye.fcgi parses a body. */
    struct body_limits limits = {
        .max_decompressed_bytes = (size_t)cfg->ingest.max_decompressed_bytes,
        .max_events = (size_t)cfg->ingest.max_events_per_request,
        .max_depth = (int)cfg->ingest.max_depth,
    };
    decoder = body_decoder_new(&limits);
    batch = queue_batch_new(1);
    row.payload = malloc(ERRORS_COL_MAX);
    if (conn == NULL || decoder == NULL || batch == NULL || row.payload == NULL ||
        mysql_autocommit(conn, 0) != 0)
        goto done;
    sel = db_prepare(conn, "select_replayable",
                     "SELECT id, application_id, event_id, "
                     "DATE_FORMAT(received_at, '%Y-%m-%d %H:%i:%s.%f'), payload, "
                     "user_agent, client_ip "
                     "FROM event_errors WHERE replayed_at IS NULL AND payload IS NOT NULL "
                     "AND NOT payload_truncated AND (? IS NULL OR code = ?) "
                     "AND received_at >= ? AND id > ? ORDER BY id LIMIT 500");
    ins = db_prepare(conn, "requeue", QUEUE_INSERT_SQL);
    mark = db_prepare(conn, "mark_replayed",
                      "UPDATE event_errors SET replayed_at = CURRENT_TIMESTAMP(6) "
                      "WHERE id = ? AND received_at = ? AND replayed_at IS NULL");
    if (sel == NULL || ins == NULL || mark == NULL)
        goto done;

    struct event_check_opts opts = {.now_us = clock_real_us()};
    unsigned long long after = 0;
    for (;;) {
        MYSQL_BIND in[4] = {{0}}, out[7] = {{0}};
        unsigned long lens[3];
        my_bool nulls[3];
        bind_str(&in[0], o->code, &lens[0], &nulls[0]);
        bind_str(&in[1], o->code, &lens[1], &nulls[1]);
        bind_str(&in[2], o->since, &lens[2], &nulls[2]);
        in[3].buffer_type = MYSQL_TYPE_LONGLONG;
        in[3].buffer = &after;
        in[3].is_unsigned = 1;
        out[0].buffer_type = MYSQL_TYPE_LONGLONG;
        out[0].buffer = &row.id;
        out[0].is_unsigned = 1;
        out[1].buffer_type = MYSQL_TYPE_LONG;
        out[1].buffer = &row.application_id;
        out[1].is_unsigned = 1;
        out[2].buffer_type = MYSQL_TYPE_STRING;
        out[2].buffer = row.event_id;
        out[2].buffer_length = sizeof(row.event_id);
        out[2].length = &row.event_id_len;
        out[2].is_null = &row.event_id_null;
        out[3].buffer_type = MYSQL_TYPE_STRING;
        out[3].buffer = row.received_at;
        out[3].buffer_length = sizeof(row.received_at);
        out[3].length = &row.received_len;
        out[4].buffer_type = MYSQL_TYPE_STRING;
        out[4].buffer = row.payload;
        out[4].buffer_length = ERRORS_COL_MAX;
        out[4].length = &row.payload_len;
        out[5].buffer_type = MYSQL_TYPE_STRING;
        out[5].buffer = row.user_agent;
        out[5].buffer_length = sizeof(row.user_agent) - 1;
        out[5].length = &row.user_agent_len;
        out[5].is_null = &row.user_agent_null;
        out[6].buffer_type = MYSQL_TYPE_STRING;
        out[6].buffer = row.client_ip;
        out[6].buffer_length = sizeof(row.client_ip) - 1;
        out[6].length = &row.client_ip_len;
        out[6].is_null = &row.client_ip_null;
        if (mysql_stmt_bind_param(sel, in) != 0 || mysql_stmt_execute(sel) != 0 ||
            mysql_stmt_bind_result(sel, out) != 0 || mysql_stmt_store_result(sel) != 0) {
            log_error("select_replayable: %s", mysql_stmt_error(sel));
            goto done;
        }
        /* Rows are read into memory first (store_result) so the inserts
         * below can use the same connection. */
        size_t seen = 0;
        int r;
        struct replay_row *page = calloc(ERRORS_PAGE, sizeof(*page));
        if (page == NULL)
            goto done;
        while ((r = mysql_stmt_fetch(sel)) == 0 || r == MYSQL_DATA_TRUNCATED) {
            struct replay_row *p = &page[seen];
            *p = row;
            p->event_id[row.event_id_null ? 0 : (row.event_id_len < 39 ? row.event_id_len : 39)] =
                '\0';
            p->user_agent[row.user_agent_null || row.user_agent_len >= sizeof(p->user_agent)
                              ? 0
                              : row.user_agent_len] = '\0';
            p->client_ip[row.client_ip_null || row.client_ip_len >= sizeof(p->client_ip)
                             ? 0
                             : row.client_ip_len] = '\0';
            p->received_at[row.received_len < 31 ? row.received_len : 31] = '\0';
            p->payload = malloc(row.payload_len + 1);
            if (p->payload == NULL)
                break;
            MYSQL_BIND col = {0};
            col.buffer_type = MYSQL_TYPE_STRING;
            col.buffer = p->payload;
            col.buffer_length = row.payload_len + 1;
            if (mysql_stmt_fetch_column(sel, &col, 4, 0) != 0) {
                free(p->payload);
                p->payload = NULL;
                break;
            }
            p->payload[row.payload_len] = '\0';
            seen++;
        }
        mysql_stmt_free_result(sel);
        mysql_commit(conn);
        for (size_t i = 0; i < seen; i++) {
            struct replay_row *p = &page[i];
            after = p->id;
            struct json_object *ev = NULL;
            struct body_error perr;
            struct event_verdict v = {0};
            struct queue_row qrow = {
                .application_id = p->application_id,
                .rules_version = ruleset_version(rs),
                .event_id = p->event_id,
                .verdict = &v,
                .user_agent = p->user_agent,
                .client_ip = p->client_ip,
            };
            timestamp_parse(p->received_at, strlen(p->received_at), &qrow.received_us);
            if (!body_parse(decoder, p->payload, p->payload_len, &ev, &perr) ||
                !json_object_is_type(ev, json_type_object)) {
                unusable++;
            } else if (event_check(rs, ev, &opts, &v), !queue_row_judge(&qrow, cfg)) {
                invalid++; /* the rules, or ingest's limits (event_too_large) */
            } else if (o->dry_run) {
                queued++;
            } else {
                int q = replay_queue(conn, ins, mark, batch, p, &qrow, cfg);
                if (q < 0) {
                    event_verdict_clear(&v);
                    json_object_put(ev);
                    for (size_t j = i; j < seen; j++)
                        free(page[j].payload);
                    free(page);
                    goto done;
                }
                queued += q;
                raced += q == 0;
            }
            event_verdict_clear(&v);
            json_object_put(ev);
            free(p->payload);
        }
        free(page);
        if (seen < ERRORS_PAGE)
            break;
    }
    printf("%s%ld queued again, %ld still invalid, %ld not replayable (not one event), "
           "%ld already replayed by another run (rules %s)\n",
           o->dry_run ? "dry run: " : "", queued, invalid, unusable, raced, ruleset_version(rs));
    rc = ADMIN_OK;

done:
    if (sel != NULL)
        mysql_stmt_close(sel);
    if (ins != NULL)
        mysql_stmt_close(ins);
    if (mark != NULL)
        mysql_stmt_close(mark);
    if (conn != NULL)
        mysql_close(conn);
    body_decoder_free(decoder);
    queue_batch_free(batch);
    free(row.payload);
    ruleset_free(rs);
    rule_problems_clear(&problems);
    return rc;
}

int admin_errors(const struct config *cfg, int argc, char **argv)
{
    if (admin_wants_help(argc, argv)) {
        errors_usage(stdout);
        return ADMIN_OK;
    }
    struct errors_opts o;
    if (argc < 2 || !errors_parse(argc, argv, &o)) {
        errors_usage(stderr);
        return ADMIN_USAGE;
    }
    if (strcmp(argv[1], "list") == 0)
        return errors_list(cfg, &o);
    if (strcmp(argv[1], "replay") == 0 && o.app == NULL)
        return errors_replay(cfg, &o);
    errors_usage(stderr);
    return ADMIN_USAGE;
}
