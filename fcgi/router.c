/* router.c - dispatch of a request to its handler (see router.h).
 *
 * Routes:
 *   POST /v1/events      write key   events in (ingest.c); or a browser key, from
 *                                    its origins only (browser.c)
 *   POST /api/events/    write key   the earlier prototype's route, same contract
 *   GET  /v1/events, /api/events/, /v1/sessions/{id}/events, /v1/errors
 *                        read key    the read API (read.c)
 *   OPTIONS /v1/events   none or browser key in the URL: CORS preflight (browser.c)
 *   GET  /v1/health      none        database state, queue depth and age, live rule-set
 *                                    version (health.c)
 *   GET  /metrics        read key, or a network of metrics.allow_networks
 *                                    Prometheus exposition (metrics.c)
 *   GET  /status, /status/...  none  the monitoring page's files (status.c)
 *   GET  /v1/status/summary  read key   the page's figures (status.c)
 * Anything else is 404; a known path with another method is 405 with Allow.
 * This file only routes: every answer, refusals included, is written by
 * request.c, and every handler lives in its own module.
 */
#include "autoconfig.h"

#include "fcgi/router.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/browser.h"
#include "fcgi/health.h"
#include "fcgi/ingest.h"
#include "fcgi/metrics.h"
#include "fcgi/ratelimit.h"
#include "fcgi/read.h"
#include "fcgi/status.h"

static bool router_path_is(const char *path, const char *a, const char *b)
{
    return strcmp(path, a) == 0 || (b != NULL && strcmp(path, b) == 0);
}

static void router_reply_throttled(struct request *r, int64_t retry_after)
{
    char headers[48];
    snprintf(headers, sizeof(headers), "Retry-After: %lld\r\n", (long long)retry_after);
    request_reply_error(r, 429, headers, "rate_limited", NULL,
                        "too many failed authentications from this address; retry after "
                        "Retry-After");
}

/* Authenticates and checks the scope; answers and returns false on refusal. */
static bool router_authorize(struct worker *w, struct request *r, enum auth_scope need,
                             struct auth_identity *who)
{
    /* An address that spent its allowance of failed authentications
     * (ratelimit.h) gets no key lookup: a key the cache knows (valid or
     * not) is still answered, any other is 429. So guessing keys costs no
     * database query, and an application whose key is cached is not shut
     * out by another client behind the same address. */
    const struct config *cfg = w->cfg;
    bool in_url = false;
    uint64_t client = request_client_id(r);
    int64_t retry_after = 1;
    bool may_lookup = ratelimit_check(RATELIMIT_AUTH_FAILURE, client, r->received_us,
                                      cfg->ingest.auth_failures_per_second,
                                      cfg->ingest.auth_failure_burst, &retry_after);
    enum auth_result result = browser_authenticate(w, r, who, &in_url, may_lookup);
    if (result == AUTH_INVALID) {
        int64_t ignored;
        ratelimit_take(RATELIMIT_AUTH_FAILURE, client, r->received_us,
                       cfg->ingest.auth_failures_per_second, cfg->ingest.auth_failure_burst,
                       &ignored);
    }
    switch (result) {
    case AUTH_OK:
        break;
    case AUTH_MISSING:
        request_reply_error(r, 401, "WWW-Authenticate: Bearer\r\n", "missing_key", NULL,
                            "send Authorization: Bearer <key>");
        return false;
    case AUTH_INVALID:
        request_reply_error(r, 401, "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n",
                            "invalid_key", NULL, "the key is unknown or revoked");
        return false;
    case AUTH_UNAVAILABLE:
        request_reply_unavailable(r, w->cfg->ingest.retry_after_seconds, "database_unavailable",
                                  "the key cannot be checked now; retry later");
        return false;
    case AUTH_THROTTLED:
        router_reply_throttled(r, retry_after);
        return false;
    }
    /* A write or read key in the URL is refused as such (400 key_in_url:
     * rotate it) before its scope is looked at. */
    if (in_url && who->scope != AUTH_SCOPE_BROWSER)
        return browser_admit(w, r, who, in_url);
    if (!browser_scope_allows(who->scope, need)) {
        request_reply_error(r, 403, NULL, "wrong_scope", NULL,
                            need == AUTH_SCOPE_WRITE ? "this key may only read"
                                                     : "this key may only write");
        return false;
    }
    return browser_admit(w, r, who, in_url);
}

/* router_authorize for the whole service's figures (/metrics, the status
 * page's summary): an all-data read key; an application-scoped one would
 * see every application's counts there, so it is 403. */
static bool router_authorize_service(struct worker *w, struct request *r,
                                     struct auth_identity *who)
{
    if (!router_authorize(w, r, AUTH_SCOPE_READ, who))
        return false;
    if (who->app_only) {
        request_reply_error(r, 403, NULL, "wrong_scope", NULL,
                            "an application-scoped read key cannot read the whole service's "
                            "figures");
        return false;
    }
    return true;
}

/* Returns the session id of /v1/sessions/{id}/events, as sent (not
 * decoded: the read API decodes and checks it like any parameter), copied
 * into buf, or NULL when path is not that route. */
static const char *router_timeline_id(const char *path, char *buf, size_t cap)
{
    static const char prefix[] = "/v1/sessions/", suffix[] = "/events";
    size_t plen = sizeof(prefix) - 1, slen = sizeof(suffix) - 1, len = strlen(path);
    if (len <= plen + slen || strncmp(path, prefix, plen) != 0 ||
        strcmp(path + len - slen, suffix) != 0 || len - plen - slen >= cap)
        return NULL;
    memcpy(buf, path + plen, len - plen - slen);
    buf[len - plen - slen] = '\0';
    if (strchr(buf, '/') != NULL)
        return NULL;
    return buf;
}

/* GET with a read key. */
static void router_read(struct worker *w, struct request *r, enum read_route route,
                        const char *session_raw)
{
    struct auth_identity who;
    if (router_authorize(w, r, AUTH_SCOPE_READ, &who))
        read_handle(w, r, &who, route, session_raw);
}

static void router_not_allowed(struct request *r, const char *allow)
{
    char headers[64];
    snprintf(headers, sizeof(headers), "Allow: %s\r\n", allow);
    request_reply_error(r, 405, headers, "method_not_allowed", NULL, "method not allowed here");
}

void router_dispatch(struct worker *w, struct request *r)
{
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    bool post = strcmp(r->method, "POST") == 0;
    bool v1_events = strcmp(r->path, "/v1/events") == 0;
    bool prototype = router_path_is(r->path, "/api/events/", "/api/events");
    char sid[512];
    const char *timeline = router_timeline_id(r->path, sid, sizeof(sid));

    if (v1_events || prototype) {
        if (post) {
            struct auth_identity who;
            if (router_authorize(w, r, AUTH_SCOPE_WRITE, &who))
                ingest_handle(w, r, &who);
        } else if (get) {
            router_read(w, r, v1_events ? READ_EVENTS : READ_PROTOTYPE, NULL);
        } else if (v1_events && strcmp(r->method, "OPTIONS") == 0) {
            browser_preflight(w, r);
        } else {
            router_not_allowed(r, v1_events ? "GET, POST, OPTIONS" : "GET, POST");
        }
        return;
    }
    if (timeline != NULL || strcmp(r->path, "/v1/errors") == 0) {
        if (get)
            router_read(w, r, timeline != NULL ? READ_TIMELINE : READ_ERRORS, timeline);
        else
            router_not_allowed(r, "GET");
        return;
    }
    if (router_path_is(r->path, "/v1/health", NULL)) {
        if (get)
            health_handle(w, r);
        else
            router_not_allowed(r, "GET, HEAD");
        return;
    }
    if (strcmp(r->path, "/metrics") == 0 && w->cfg->metrics.enabled) {
        struct auth_identity who;
        if (!get)
            router_not_allowed(r, "GET, HEAD");
        else if (metrics_network_allowed(w->cfg, request_param(r, "REMOTE_ADDR")) ||
                 router_authorize_service(w, r, &who))
            metrics_handle(w, r);
        return;
    }
    if (status_is_asset(r->path) || strcmp(r->path, "/v1/status/summary") == 0) {
        struct auth_identity who;
        if (!get)
            router_not_allowed(r, "GET, HEAD");
        else if (status_is_asset(r->path))
            status_asset(r);
        else if (router_authorize_service(w, r, &who))
            status_summary(w, r);
        return;
    }
    request_reply_error(r, 404, NULL, "not_found", NULL, "no such resource");
}
