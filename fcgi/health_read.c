/* health_read.c - replication lag of the read API's server (see
 * health_read.h). Both statements are fixed texts without parameters.
 */
#include "autoconfig.h"

#include "fcgi/health_read.h"

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/db.h"
#include "lib/log.h"
#include "lib/strparse.h"

/* Reads the heartbeat on conn: the beat (µs since the epoch), its age by
 * the server's clock (µs) and the node it came from (copied into writer).
 * Returns false (logged at debug) when there is no row or table; *err is
 * the error number then (0 for a missing row). */
static bool health_read_beat(MYSQL *conn, int64_t *beat_us, int64_t *age_us, char *writer,
                             size_t writer_len, unsigned int *err)
{
    const char *sql = "SELECT TIMESTAMPDIFF(MICROSECOND, '1970-01-01', beat_at),"
                      " TIMESTAMPDIFF(MICROSECOND, beat_at, NOW(6)), writer"
                      " FROM heartbeat WHERE id = 1";
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    bool ok = false;
    *err = 0;
    if (mysql_query(conn, sql) != 0 || (res = mysql_store_result(conn)) == NULL) {
        *err = mysql_errno(conn);
        log_debug("heartbeat: %s", mysql_error(conn));
        goto done;
    }
    row = mysql_fetch_row(res);
    if (row == NULL || row[0] == NULL || row[1] == NULL ||
        !strparse_int64(row[0], INT64_MIN, INT64_MAX, beat_us) ||
        !strparse_int64(row[1], INT64_MIN, INT64_MAX, age_us))
        goto done;
    if (writer != NULL)
        snprintf(writer, writer_len, "%s", row[2] != NULL ? row[2] : "");
    ok = true;
done:
    if (res != NULL)
        mysql_free_result(res);
    return ok;
}

void health_read_add(struct worker *w, struct json_object *body)
{
    char addr[ENDPOINT_HOST_MAX + 16], writer[256] = "";
    json_object_object_add(
        body, "writer_endpoint",
        json_object_new_string(db_current_address(w->cfg, ENDPOINT_WRITER, addr, sizeof(addr))));

    struct json_object *rd = json_object_new_object();
    if (rd == NULL)
        return;
    int64_t reader_beat = 0, reader_age = 0, writer_beat = 0, writer_age = 0;
    unsigned int err = 0;
    bool up = false, have_reader = false, have_writer = false;
    MYSQL *conn = dbconn_get(&w->read_db);
    if (conn != NULL) {
        have_reader =
            health_read_beat(conn, &reader_beat, &reader_age, writer, sizeof(writer), &err);
        up = have_reader || !db_error_is_connection_lost(err);
        if (!have_reader && err != 0)
            dbconn_failed(&w->read_db, err);
    }
    /* Address after connecting: connecting may have moved the process. */
    json_object_object_add(rd, "state", json_object_new_string(up ? "up" : "down"));
    json_object_object_add(
        rd, "endpoint",
        json_object_new_string(db_current_address(w->cfg, ENDPOINT_READER, addr, sizeof(addr))));
    if (have_reader) {
        MYSQL *wconn = dbconn_get(&w->db);
        if (wconn != NULL) {
            have_writer = health_read_beat(wconn, &writer_beat, &writer_age, NULL, 0, &err);
            if (!have_writer && err != 0)
                dbconn_failed(&w->db, err);
            else if (mysql_rollback(wconn) != 0) /* end the ingest connection's read */
                dbconn_failed(&w->db, mysql_errno(wconn));
        }
    }
    int64_t lag = writer_beat - reader_beat;
    json_object_object_add(rd, "lag_seconds",
                           have_writer ? json_object_new_double((double)(lag > 0 ? lag : 0) / 1e6)
                                       : NULL);
    json_object_object_add(
        rd, "heartbeat_age_seconds",
        have_reader ? json_object_new_double((double)(reader_age > 0 ? reader_age : 0) / 1e6)
                    : NULL);
    json_object_object_add(rd, "writer", have_reader ? json_object_new_string(writer) : NULL);
    json_object_object_add(body, "read_database", rd);
}
