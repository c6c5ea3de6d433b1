/* browser.c - browser keys, origins and CORS (see browser.h).
 *
 * The order of the checks matters: a key in the URL is judged by its kind
 * before anything else (a write key there is already in some log, and the
 * operator is told), then the origin, then the rate limit, so that a
 * refused origin never uses up the key's allowance.
 */
#include "autoconfig.h"

#include "fcgi/browser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/ratelimit.h"
#include "lib/apikey.h"
#include "lib/db.h"
#include "lib/log.h"

enum browser_query_key { BROWSER_KEY_NONE, BROWSER_KEY_FOUND, BROWSER_KEY_BAD };

/* Looks for key=... in query; copies its decoded value into key (len
 * bytes). BAD: more than one key, a value that does not decode or cannot
 * be a key, or no memory to look. */
static enum browser_query_key browser_query_key(const char *query, char key[APIKEY_LEN + 1],
                                                size_t *len)
{
    if (query == NULL || strstr(query, "key") == NULL)
        return BROWSER_KEY_NONE;
    char *copy = strdup(query); /* owned here; request_query_next cuts it up */
    if (copy == NULL)
        return BROWSER_KEY_BAD;
    enum browser_query_key found = BROWSER_KEY_NONE;
    size_t pos = 0;
    struct request_query_item item;
    while (request_query_next(query, copy, &pos, &item)) {
        if (!item.name_ok || strcmp(item.name, "key") != 0)
            continue;
        size_t n = item.value_ok ? strlen(item.value) : 0;
        if (found != BROWSER_KEY_NONE || !item.value_ok || n == 0 || n > APIKEY_LEN) {
            found = BROWSER_KEY_BAD;
            break;
        }
        memcpy(key, item.value, n + 1);
        *len = n;
        found = BROWSER_KEY_FOUND;
    }
    free(copy);
    return found;
}

/* Checks the key of the query string: AUTH_MISSING when there is none. */
static enum auth_result browser_url_key(struct worker *w, struct request *r, struct dbconn *db,
                                        struct auth_identity *who)
{
    char key[APIKEY_LEN + 1];
    size_t len = 0;
    switch (browser_query_key(r->query, key, &len)) {
    case BROWSER_KEY_NONE:
        return AUTH_MISSING;
    case BROWSER_KEY_BAD:
        return AUTH_INVALID;
    case BROWSER_KEY_FOUND:
        break;
    }
    return auth_check_key(w->auth, db, key, len, r->received_us, who);
}

enum auth_result browser_authenticate(struct worker *w, struct request *r,
                                      struct auth_identity *who, bool *in_url, bool may_lookup)
{
    struct dbconn *db = may_lookup ? &w->db : NULL;
    *in_url = false;
    const char *header = request_param(r, "HTTP_AUTHORIZATION");
    if (header != NULL) {
        /* A key in the URL beside the header is in some log all the same:
         * browser_admit refuses it unless the header's key is a browser key. */
        char key[APIKEY_LEN + 1];
        size_t len = 0;
        *in_url = browser_query_key(r->query, key, &len) != BROWSER_KEY_NONE;
        return auth_check(w->auth, db, header, r->received_us, who);
    }
    enum auth_result res = browser_url_key(w, r, db, who);
    *in_url = res != AUTH_MISSING;
    return res;
}

bool browser_scope_allows(enum auth_scope have, enum auth_scope need)
{
    return have == need || (have == AUTH_SCOPE_BROWSER && need == AUTH_SCOPE_WRITE);
}

/* Adds the headers that let the page at origin read the answer. */
static void browser_allow_origin(struct request *r, const char *origin)
{
    char line[ORIGIN_MAX + 40];
    snprintf(line, sizeof(line), "Access-Control-Allow-Origin: %s\r\n", origin);
    request_add_header(r, line);
    request_add_header(r, "Access-Control-Expose-Headers: Retry-After\r\n");
}

static void browser_refuse_origin(struct request *r, const char *message)
{
    request_reply_error(r, 403, NULL, "origin_not_allowed", NULL, message);
}

bool browser_admit(struct worker *w, struct request *r, const struct auth_identity *who,
                   bool in_url)
{
    const struct config *cfg = w->cfg;
    bool browser = who->scope == AUTH_SCOPE_BROWSER;
    if (in_url && !browser) {
        log_warn("application %u: key %u was sent in a URL, which ends up in logs; rotate it",
                 who->application_id, who->key_id);
        request_reply_error(r, 400, NULL, "key_in_url", "key",
                            "only browser keys may be sent in the URL; send this key in "
                            "Authorization: Bearer, and rotate it");
        return false;
    }
    const char *header = request_param(r, "HTTP_ORIGIN");
    char origin[ORIGIN_MAX];
    bool canonical = false;
    if (header != NULL) {
        request_add_header(r, "Vary: Origin\r\n");
        canonical = origin_canonical(header, strlen(header), origin);
    }
    if (browser) {
        if (!canonical || !origin_list_has(who->origins, origin)) {
            browser_refuse_origin(r, header == NULL
                                         ? "a browser key is accepted only from a web page "
                                           "(with an Origin header)"
                                         : "this key is not bound to the page's origin");
            return false;
        }
    } else if (header != NULL && !cfg->browser.allow_server_keys) {
        browser_refuse_origin(r, "write and read keys are not accepted from web pages; "
                                 "use a browser key (eye-admin key create APP --browser)");
        return false;
    }
    if (canonical)
        browser_allow_origin(r, origin);
    int64_t retry_after = 1;
    if (browser &&
        !ratelimit_take(RATELIMIT_BROWSER_KEY, who->key_id, r->received_us, cfg->browser.rate_limit_per_second,
                            cfg->browser.rate_limit_burst, &retry_after)) {
        char headers[48];
        snprintf(headers, sizeof(headers), "Retry-After: %lld\r\n", (long long)retry_after);
        request_reply_error(r, 429, headers, "rate_limited", NULL,
                            "this key sends faster than its rate limit; retry after Retry-After");
        return false;
    }
    return true;
}

/* Asks whether some active browser key is bound to origin. Returns 1, 0,
 * or -1 when the database cannot tell now. */
static int browser_origin_known(struct dbconn *db, const char *origin)
{
    MYSQL_STMT *stmt = dbconn_stmt(db, DBCONN_ORIGIN_KNOWN);
    if (stmt == NULL)
        return -1;
    unsigned long len = strlen(origin);
    int one = 0;
    MYSQL_BIND in = {0}, out = {0};
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = (char *)origin;
    in.length = &len;
    out.buffer_type = MYSQL_TYPE_LONG;
    out.buffer = &one;
    if (mysql_stmt_bind_param(stmt, &in) != 0 || mysql_stmt_execute(stmt) != 0 ||
        mysql_stmt_bind_result(stmt, &out) != 0 || mysql_stmt_store_result(stmt) != 0) {
        log_error("origin_known: %s", mysql_stmt_error(stmt));
        dbconn_failed(db, mysql_stmt_errno(stmt));
        return -1;
    }
    int r = mysql_stmt_fetch(stmt);
    mysql_stmt_free_result(stmt);
    mysql_commit(db->conn); /* no snapshot outlives the read */
    if (r != 0 && r != MYSQL_NO_DATA) {
        log_error("origin_known fetch: %s", mysql_stmt_error(stmt));
        return -1;
    }
    return r == 0 ? 1 : 0;
}

void browser_preflight(struct worker *w, struct request *r)
{
    const struct config *cfg = w->cfg;
    const char *header = request_param(r, "HTTP_ORIGIN");
    if (header == NULL) { /* a plain OPTIONS, not a preflight */
        request_stream_begin(r, 204, "text/plain", "Allow: GET, POST, OPTIONS\r\n");
        return;
    }
    request_add_header(r, "Vary: Origin\r\n");
    char origin[ORIGIN_MAX];
    if (!origin_canonical(header, strlen(header), origin)) {
        browser_refuse_origin(r, "the Origin header is not an http or https origin");
        return;
    }
    /* A preflight carries no credentials: only a key in the URL counts. */
    struct auth_identity who;
    int allowed;
    switch (browser_url_key(w, r, &w->db, &who)) {
    case AUTH_OK:
        if (who.scope != AUTH_SCOPE_BROWSER) {
            log_warn("application %u: key %u was sent in a URL, which ends up in logs; rotate it",
                     who.application_id, who.key_id);
            request_reply_error(r, 400, NULL, "key_in_url", "key",
                                "only browser keys may be sent in the URL");
            return;
        }
        allowed = origin_list_has(who.origins, origin);
        break;
    case AUTH_MISSING: /* the usual preflight: it carries no credentials */
        allowed = cfg->browser.allow_server_keys ? 1 : browser_origin_known(&w->db, origin);
        break;
    case AUTH_INVALID:
        request_reply_error(r, 401, "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n",
                            "invalid_key", NULL, "the key is unknown or revoked");
        return;
    case AUTH_UNAVAILABLE:
    default:
        allowed = -1;
        break;
    }
    if (allowed < 0) {
        request_reply_unavailable(r, cfg->ingest.retry_after_seconds, "database_unavailable",
                                  "the origin cannot be checked now; retry later");
        return;
    }
    if (!allowed) {
        browser_refuse_origin(r, "no browser key is bound to this origin");
        return;
    }
    char headers[ORIGIN_MAX + 256];
    snprintf(headers, sizeof(headers),
             "Access-Control-Allow-Origin: %s\r\n"
             "Access-Control-Allow-Methods: POST\r\n"
             "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
             "Access-Control-Max-Age: %lld\r\n",
             origin, (long long)cfg->browser.preflight_max_age_seconds);
    request_stream_begin(r, 204, "text/plain", headers);
}

size_t browser_body_cap(const struct config *cfg, const struct auth_identity *who)
{
    int64_t cap = cfg->ingest.max_body_bytes;
    if (who->scope == AUTH_SCOPE_BROWSER && cfg->browser.max_body_bytes < cap)
        cap = cfg->browser.max_body_bytes;
    return (size_t)cap;
}

size_t browser_max_events(const struct config *cfg, const struct auth_identity *who)
{
    int64_t n = cfg->ingest.max_events_per_request;
    if (who->scope == AUTH_SCOPE_BROWSER && cfg->browser.max_events_per_request < n)
        n = cfg->browser.max_events_per_request;
    return (size_t)n;
}

const char *browser_content_type(const struct auth_identity *who, const char *content_type)
{
    if (who->scope != AUTH_SCOPE_BROWSER || content_type == NULL)
        return content_type;
    const char *t = content_type + strspn(content_type, " \t");
    if (strncasecmp(t, "text/plain", 10) == 0 &&
        (t[10] == '\0' || t[10] == ';' || t[10] == ' ' || t[10] == '\t'))
        return "application/json";
    return content_type;
}
