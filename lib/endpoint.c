/* endpoint.c - endpoint lists and the process-wide current endpoint (see
 * endpoint.h). One mutex guards the per-role state; it is taken for a few
 * instructions at a time, never across I/O.
 */
#include "autoconfig.h"

#include "lib/endpoint.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/strparse.h"

static pthread_mutex_t endpoint_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    size_t current;
    uint64_t generation;
    int64_t failback_at_us; /* last look for a preferred endpoint */
} endpoint_state[ENDPOINT_NROLES];

/* Parses one item (start..end, blanks already trimmed) into e. */
static bool endpoint_parse_item(const char *start, const char *end, unsigned int default_port,
                                struct endpoint *e, char *err, size_t errlen)
{
    const char *host = start, *host_end, *port = NULL;
    if (*start == '[') {
        host = start + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (host_end == NULL) {
            snprintf(err, errlen, "'%.*s': '[' without ']'", (int)(end - start), start);
            return false;
        }
        if (host_end + 1 < end) {
            if (host_end[1] != ':') {
                snprintf(err, errlen, "'%.*s': expected ':' after ']'", (int)(end - start), start);
                return false;
            }
            port = host_end + 2;
        }
    } else {
        const char *colon = memchr(start, ':', (size_t)(end - start));
        host_end = colon != NULL ? colon : end;
        if (colon != NULL)
            port = colon + 1;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof(e->host)) {
        snprintf(err, errlen, "'%.*s': empty or overlong host", (int)(end - start), start);
        return false;
    }
    memcpy(e->host, host, hlen);
    e->host[hlen] = '\0';
    e->port = default_port;
    if (port != NULL) {
        char num[8];
        int64_t v;
        size_t plen = (size_t)(end - port);
        if (plen == 0 || plen >= sizeof(num)) {
            snprintf(err, errlen, "'%.*s': bad port", (int)(end - start), start);
            return false;
        }
        memcpy(num, port, plen);
        num[plen] = '\0';
        if (!strparse_int64(num, 1, 65535, &v)) {
            snprintf(err, errlen, "'%.*s': the port must be 1 to 65535", (int)(end - start), start);
            return false;
        }
        e->port = (unsigned int)v;
    }
    return true;
}

bool endpoint_list_parse(const char *text, unsigned int default_port, struct endpoint_list *out,
                         char *err, size_t errlen)
{
    out->n = 0;
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return true;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        const char *s = p, *e = end;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (s == e) {
            snprintf(err, errlen, "empty item in the list '%s'", text);
            return false;
        }
        if (out->n == ENDPOINT_MAX) {
            snprintf(err, errlen, "more than %d endpoints", ENDPOINT_MAX);
            return false;
        }
        if (!endpoint_parse_item(s, e, default_port, &out->v[out->n], err, errlen))
            return false;
        out->n++;
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

const char *endpoint_format(const struct endpoint *e, char *buf, size_t len)
{
    bool v6 = strchr(e->host, ':') != NULL;
    snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", e->host, v6 ? "]" : "", e->port);
    return buf;
}

size_t endpoint_current(enum endpoint_role role, uint64_t *generation)
{
    pthread_mutex_lock(&endpoint_lock);
    size_t cur = endpoint_state[role].current;
    if (generation != NULL)
        *generation = endpoint_state[role].generation;
    pthread_mutex_unlock(&endpoint_lock);
    return cur;
}

uint64_t endpoint_generation(enum endpoint_role role)
{
    uint64_t g;
    endpoint_current(role, &g);
    return g;
}

size_t endpoint_move(enum endpoint_role role, const struct endpoint_list *list, size_t from,
                     size_t to, uint64_t *generation)
{
    bool moved = false;
    pthread_mutex_lock(&endpoint_lock);
    if (endpoint_state[role].current == from && from != to) {
        endpoint_state[role].current = to;
        endpoint_state[role].generation++;
        endpoint_state[role].failback_at_us = clock_mono_us();
        moved = true;
    }
    size_t cur = endpoint_state[role].current;
    if (generation != NULL)
        *generation = endpoint_state[role].generation;
    pthread_mutex_unlock(&endpoint_lock);
    if (moved && from < list->n && to < list->n) {
        char a[ENDPOINT_HOST_MAX + 16], b[ENDPOINT_HOST_MAX + 16];
        log_warn("%s moved from %s to %s", role == ENDPOINT_WRITER ? "writer" : "reader",
                 endpoint_format(&list->v[from], a, sizeof(a)),
                 endpoint_format(&list->v[to], b, sizeof(b)));
    }
    return cur;
}

bool endpoint_failback_due(enum endpoint_role role, int64_t interval_ms)
{
    bool due = false;
    int64_t now = clock_mono_us();
    pthread_mutex_lock(&endpoint_lock);
    if (endpoint_state[role].current != 0 &&
        now - endpoint_state[role].failback_at_us >= interval_ms * 1000) {
        endpoint_state[role].failback_at_us = now;
        due = true;
    }
    pthread_mutex_unlock(&endpoint_lock);
    return due;
}
