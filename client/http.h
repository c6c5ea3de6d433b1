/* http.h - one POST of a batch to /v1/events through libcurl (internal to
 * libeyeclient).
 *
 * A struct eyec_http belongs to one sender thread: it keeps one curl easy
 * handle, so the connection is reused between batches; only
 * eyec_http_wakeup may be called from another thread.
 */
#ifndef EYE_CLIENT_HTTP_H
#define EYE_CLIENT_HTTP_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/wire.h"

struct eyec_http {
    CURL *curl;
    CURLM *multi; /* runs curl, so that a poll can be woken */
    struct curl_slist *headers;
    unsigned request_timeout_ms;
    /* Monotonic µs after which a request in flight is abandoned (0: none).
     * Owned by the client; written by eye_client_free on another thread. */
    const _Atomic int64_t *deadline_us;
    struct eyec_buf answer; /* the last answer's body, at most 1 MiB */
    char error[CURL_ERROR_SIZE];
};

/* The outcome of one POST. */
struct eyec_http_result {
    long status;            /* HTTP status, 0 when no complete answer came */
    const char *error;      /* status 0: why (curl's words); lives in the eyec_http */
    int64_t retry_after_ms; /* the answer's Retry-After, -1 when absent or unreadable */
    const char *body;       /* the answer's body (not NUL-terminated), lives until the next post */
    size_t body_len;
};

/* Validates url (http or https) and prepares h to POST there with the
 * write key, the timeouts, and Content-Encoding gzip when gzip is true.
 * deadline_us is read during every request (see the struct). Returns false
 * when the URL is not usable or curl cannot be set up; h is then cleaned. */
bool eyec_http_init(struct eyec_http *h, const char *url, const char *key, bool gzip,
                    unsigned connect_timeout_ms, unsigned request_timeout_ms,
                    const _Atomic int64_t *deadline_us);

/* Releases what eyec_http_init set up; a zeroed h is fine. */
void eyec_http_cleanup(struct eyec_http *h);

/* Wakes a request in flight so it sees a new deadline at once. The only
 * function here another thread may call (curl_multi_wakeup is safe so). */
void eyec_http_wakeup(struct eyec_http *h);

/* POSTs body[0..len) and fills *out. Never retries by itself. */
void eyec_http_post(struct eyec_http *h, const char *body, size_t len,
                    struct eyec_http_result *out);

/* Monotonic clock in µs (the clock of every deadline in libeyeclient). */
int64_t eyec_now_us(void);

#endif
