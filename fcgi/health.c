/* health.c - the health endpoint (see health.h).
 *
 * A module of its own, as nginx keeps stub_status: the router only routes,
 * and this file only reports. Everything it reports is read from state other
 * modules own (the database connection, the live rule set, the queue
 * watcher's last reading); it changes none of it.
 */
#include "autoconfig.h"

#include "fcgi/health.h"

#include "fcgi/health_read.h"
#include "fcgi/queue_watch.h"
#include "fcgi/rules_live.h"
#include "lib/clock.h"

/* True when the worker's ingest connection answers a ping. A connection
 * that died while idle (MariaDB restarted) is replaced once before the
 * database is declared down. */
static bool health_db_up(struct worker *w)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = w->db.conn != NULL;
        MYSQL *conn = dbconn_get(&w->db);
        if (conn == NULL)
            return false;
        if (mysql_ping(conn) == 0)
            return true;
        dbconn_failed(&w->db, mysql_errno(conn));
        if (!reused)
            return false;
    }
    return false;
}

void health_handle(struct worker *w, struct request *r)
{
    const struct ruleset *rules = NULL;
    struct rules_ref *ref = rules_live_acquire(&rules);
    bool db_up = health_db_up(w);

    struct json_object *body = json_object_new_object();
    if (body == NULL) {
        request_reply_error(r, 503, NULL, "out_of_memory", NULL, "cannot answer now");
        rules_live_release(ref);
        return;
    }
    json_object_object_add(body, "status", json_object_new_string(db_up ? "ok" : "degraded"));
    json_object_object_add(body, "database", json_object_new_string(db_up ? "up" : "down"));
    json_object_object_add(body, "rules_version",
                           rules ? json_object_new_string(ruleset_version(rules)) : NULL);
    json_object_object_add(body, "event_types",
                           json_object_new_int64(rules ? (int64_t)ruleset_count(rules) : 0));
    struct queue_status q;
    queue_watch_get(&q);
    if (q.known) {
        json_object_object_add(body, "queue_depth", json_object_new_int64(q.depth));
        json_object_object_add(body, "queue_oldest_age_seconds",
                               json_object_new_double((double)q.oldest_age_us / 1e6));
        json_object_object_add(body, "queue_read_ms_ago",
                               json_object_new_int64((clock_real_us() - q.read_at_us) / 1000));
        json_object_object_add(body, "queue_over_limit",
                               json_object_new_boolean(queue_watch_over_limit(w->cfg)));
    }
    health_read_add(w, body);
    request_reply_json(r, db_up ? 200 : 503, NULL, body);
    json_object_put(body);
    rules_live_release(ref);
}
