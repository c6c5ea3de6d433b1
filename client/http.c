/* http.c - libeyeclient's HTTP: one POST of an NDJSON batch through a curl
 * easy handle kept for the sender's life (see http.h).
 *
 * Whatever happens on the wire comes back as a status and never as a retry
 * here: retry.c decides. Two things bound a request in time: the request
 * timeout, and the client's deadline, which eye_client_free may set while
 * the request is in flight. The request runs in a curl multi handle so
 * that free() can wake its poll (curl_multi_wakeup) and the deadline is
 * seen at once: a server that accepts the connection and never answers
 * cannot hold free() up.
 */
#include "autoconfig.h"

#include "client/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client/retry.h"

/* The most of an answer kept: a 202 to 500 events, each rejected, is far
 * below this. A longer answer is a failed request (and retried). */
#define EYEC_ANSWER_MAX (1024 * 1024)

int64_t eyec_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t eyec_http_write(char *data, size_t size, size_t n, void *arg)
{
    struct eyec_http *h = arg;
    /* Returning less than given makes curl fail the transfer. */
    return eyec_buf_add(&h->answer, data, size * n) ? size * n : 0;
}

/* True when url parses and its scheme is http or https. */
static bool eyec_http_url_ok(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    bool ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

bool eyec_http_init(struct eyec_http *h, const char *url, const char *key, bool gzip,
                    unsigned connect_timeout_ms, unsigned request_timeout_ms,
                    const _Atomic int64_t *deadline_us)
{
    memset(h, 0, sizeof(*h));
    h->answer.max = EYEC_ANSWER_MAX;
    h->request_timeout_ms = request_timeout_ms;
    h->deadline_us = deadline_us;
    if (!eyec_http_url_ok(url))
        return false;

    /* The key goes into a header line; a line break in it would forge
     * other headers. */
    if (strpbrk(key, "\r\n") != NULL)
        return false;
    size_t auth_len = strlen(key) + sizeof("Authorization: Bearer ");
    char *auth = malloc(auth_len);
    if (auth == NULL)
        return false;
    snprintf(auth, auth_len, "Authorization: Bearer %s", key);
    const char *lines[] = {auth, "Content-Type: application/x-ndjson",
                           /* no "100 Continue" round trip before each body */
                           "Expect:", gzip ? "Content-Encoding: gzip" : NULL};
    bool ok = true;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && ok; i++) {
        if (lines[i] == NULL)
            continue;
        struct curl_slist *l = curl_slist_append(h->headers, lines[i]);
        if (l == NULL)
            ok = false;
        else
            h->headers = l;
    }
    explicit_bzero(auth, auth_len);
    free(auth);
    h->curl = ok ? curl_easy_init() : NULL;
    h->multi = h->curl != NULL ? curl_multi_init() : NULL;
    if (h->multi == NULL)
        goto fail;

    CURL *c = h->curl;
    /* Each call is checked: an option this libcurl refuses is a setup
     * error, not a surprise on the wire. */
    if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
        /* Threads: no signals (no SIGALRM for DNS timeouts). */
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout_ms) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, eyec_http_write) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, h) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->error) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_USERAGENT, "libeyeclient/" PACKAGE_VERSION) != CURLE_OK ||
        /* A redirect would resend the key elsewhere; the answer is judged
         * as it is (a 3xx rejects the batch). */
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK)
        goto fail;
    return true;

fail:
    eyec_http_cleanup(h);
    return false;
}

void eyec_http_cleanup(struct eyec_http *h)
{
    if (h->multi != NULL)
        curl_multi_cleanup(h->multi);
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    eyec_buf_free(&h->answer);
    h->curl = NULL;
    h->multi = NULL;
    h->headers = NULL;
}

void eyec_http_wakeup(struct eyec_http *h)
{
    if (h->multi != NULL)
        curl_multi_wakeup(h->multi);
}

/* Runs the prepared transfer until it ends or the deadline comes. Returns
 * curl's result for it. */
static CURLcode eyec_http_run(struct eyec_http *h)
{
    if (curl_multi_add_handle(h->multi, h->curl) != CURLM_OK)
        return CURLE_OUT_OF_MEMORY;
    CURLcode rc = CURLE_ABORTED_BY_CALLBACK;
    int running = 1;
    for (;;) {
        if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
            rc = CURLE_RECV_ERROR;
            break;
        }
        if (running == 0) {
            int left;
            CURLMsg *m = curl_multi_info_read(h->multi, &left);
            rc = m != NULL && m->msg == CURLMSG_DONE ? m->data.result : CURLE_RECV_ERROR;
            break;
        }
        int64_t deadline = atomic_load(h->deadline_us), now = eyec_now_us();
        int wait_ms = 1000;
        if (deadline != 0) {
            if (now >= deadline) {
                snprintf(h->error, sizeof(h->error), "abandoned at the client's deadline");
                break;
            }
            if ((deadline - now) / 1000 + 1 < wait_ms)
                wait_ms = (int)((deadline - now) / 1000 + 1);
        }
        /* Wakes on socket activity, curl's own timers, eyec_http_wakeup
         * (a deadline was set) or the deadline itself. */
        if (curl_multi_poll(h->multi, NULL, 0, wait_ms, NULL) != CURLM_OK) {
            rc = CURLE_RECV_ERROR;
            break;
        }
    }
    curl_multi_remove_handle(h->multi, h->curl);
    return rc;
}

void eyec_http_post(struct eyec_http *h, const char *body, size_t len, struct eyec_http_result *out)
{
    memset(out, 0, sizeof(*out));
    out->retry_after_ms = -1;
    h->answer.len = 0;
    h->error[0] = '\0';

    long timeout_ms = (long)h->request_timeout_ms;
    int64_t deadline = atomic_load(h->deadline_us);
    if (deadline != 0) {
        int64_t left = (deadline - eyec_now_us()) / 1000;
        if (left < 1)
            left = 1;
        if (left < timeout_ms)
            timeout_ms = (long)left;
    }
    CURLcode rc = curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (rc == CURLE_OK)
        rc = eyec_http_run(h);
    if (rc != CURLE_OK) {
        if (h->error[0] == '\0')
            snprintf(h->error, sizeof(h->error), "%s", curl_easy_strerror(rc));
        out->error = h->error;
        return;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
    struct curl_header *ra = NULL;
    if (curl_easy_header(h->curl, "Retry-After", 0, CURLH_HEADER, -1, &ra) == CURLHE_OK) {
        int64_t ms;
        if (eyec_retry_after_ms(ra->value, time(NULL), &ms))
            out->retry_after_ms = ms;
    }
    out->body = h->answer.data;
    out->body_len = h->answer.len;
}
