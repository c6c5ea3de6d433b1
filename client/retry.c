/* retry.c - retry decisions of libeyeclient: which answers are retried,
 * how long to back off, what Retry-After asks for (see retry.h).
 *
 * The rules follow the ingest contract (README, "Sending events"): a 503
 * (database_unavailable, queue_full, or a web server with no backend), a
 * 502 or 504 (a gateway that cannot reach the server), any 5xx that says
 * Retry-After, a 408 and a 429 are the server saying "not now": the same
 * batch, with the same event_ids, is sent again for as long as it takes.
 * Any other 5xx (eye.fcgi's 500 internal_error: MariaDB refused the
 * insert) is a failure on this batch, which may be one event's fault: the
 * plan (plan.c) retries it a bounded number of times, then splits it.
 * Every other 4xx means the request itself is wrong and sending it again
 * would get the same answer.
 */
#include "autoconfig.h"

#include "client/retry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum eyec_verdict eyec_classify(long status, size_t events, bool retry_after)
{
    if (status >= 500 && status <= 599 && status != 502 && status != 503 && status != 504 &&
        !retry_after)
        return EYEC_SERVER_ERROR;
    if (status == 0 || status >= 500 || status == 408 || status == 429)
        return EYEC_RETRY;
    if ((status >= 200 && status < 300) || status == 422)
        return EYEC_DONE;
    if (status == 413 && events > 1)
        return EYEC_SPLIT;
    return EYEC_REJECT;
}

int64_t eyec_backoff_ms(unsigned attempt, unsigned base_ms, unsigned max_ms, uint64_t random)
{
    uint64_t hi = base_ms;
    /* Doubling stops at max_ms, so it never overflows, and the loop runs
     * at most 33 times whatever attempt is. */
    for (unsigned i = 0; i < attempt && hi != 0 && hi < max_ms; i++)
        hi *= 2;
    if (hi > max_ms)
        hi = max_ms;
    uint64_t lo = hi / 2;
    return (int64_t)(lo + random % (hi - lo + 1));
}

bool eyec_retry_after_ms(const char *value, time_t now, int64_t *delay_ms)
{
    if (value == NULL)
        return false;
    while (isspace((unsigned char)*value))
        value++;
    size_t len = strlen(value);
    while (len > 0 && isspace((unsigned char)value[len - 1]))
        len--;
    if (len == 0 || len > 64)
        return false;
    char text[65];
    memcpy(text, value, len);
    text[len] = '\0';

    int64_t ms;
    if (strspn(text, "0123456789") == len) {
        /* delta-seconds: 1*DIGIT (RFC 9110 10.2.3), however large. */
        errno = 0;
        char *end = NULL;
        unsigned long long s = strtoull(text, &end, 10);
        if (errno == ERANGE || s > (unsigned long long)(EYEC_RETRY_AFTER_MAX_MS / 1000))
            ms = EYEC_RETRY_AFTER_MAX_MS;
        else
            ms = (int64_t)s * 1000;
    } else {
        /* An HTTP-date; curl_getdate knows all three forms RFC 9110 asks a
         * recipient to accept. It also takes a few looser forms, and a
         * date is a date whatever it was spelt like. */
        if (!isalpha((unsigned char)text[0]))
            return false;
        time_t when = curl_getdate(text, NULL);
        if (when == -1)
            return false;
        if (when <= now)
            ms = 0;
        else if ((int64_t)(when - now) > EYEC_RETRY_AFTER_MAX_MS / 1000)
            ms = EYEC_RETRY_AFTER_MAX_MS;
        else
            ms = (int64_t)(when - now) * 1000;
    }
    *delay_ms = ms;
    return true;
}

int64_t eyec_retry_delay_ms(int64_t backoff_ms, int64_t retry_after_ms)
{
    if (retry_after_ms > EYEC_RETRY_AFTER_MAX_MS)
        retry_after_ms = EYEC_RETRY_AFTER_MAX_MS;
    return retry_after_ms > backoff_ms ? retry_after_ms : backoff_ms;
}
