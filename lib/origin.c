/* origin.c - canonical web origins and origin lists (see origin.h). */
#include "autoconfig.h"

#include "lib/origin.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/strparse.h"

static char origin_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool origin_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool origin_canonical(const char *in, size_t len, char out[ORIGIN_MAX])
{
    const char *default_port;
    size_t skip;
    if (len >= 7 && strncasecmp(in, "http://", 7) == 0) {
        default_port = "80";
        skip = 7;
    } else if (len >= 8 && strncasecmp(in, "https://", 8) == 0) {
        default_port = "443";
        skip = 8;
    } else {
        return false;
    }
    const char *host = in + skip, *end = in + len;
    const char *colon = NULL;
    char hostbuf[ORIGIN_MAX];
    size_t hn = 0;
    if (host < end && *host == '[') { /* IPv6 literal: hex digits, ':' and '.' */
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (close == NULL || close == host + 1)
            return false;
        for (const char *c = host; c <= close; c++) {
            char l = origin_lower(*c);
            bool okc = (l >= '0' && l <= '9') || (l >= 'a' && l <= 'f') || l == ':' || l == '.' ||
                       c == host || c == close;
            if (!okc || hn + 1 >= sizeof(hostbuf))
                return false;
            hostbuf[hn++] = l;
        }
        if (close + 1 < end) {
            if (close[1] != ':')
                return false;
            colon = close + 1;
        }
    } else {
        for (const char *c = host; c < end && *c != ':'; c++) {
            char l = origin_lower(*c);
            if (!origin_host_char(l) || hn + 1 >= sizeof(hostbuf))
                return false;
            hostbuf[hn++] = l;
        }
        hostbuf[hn] = '\0';
        if (hn == 0 || hostbuf[0] == '.' || hostbuf[0] == '-' || hostbuf[hn - 1] == '-' ||
            strstr(hostbuf, "..") != NULL)
            return false;
        if (host + hn < end)
            colon = host + hn;
    }
    hostbuf[hn] = '\0';
    if (hn > 0 && hostbuf[hn - 1] == '.')
        return false; /* "example.com." is another origin than "example.com" */
    char port[8] = "";
    if (colon != NULL) {
        size_t pn = (size_t)(end - colon - 1);
        if (pn == 0 || pn >= sizeof(port))
            return false;
        memcpy(port, colon + 1, pn);
        port[pn] = '\0';
        for (size_t i = 0; i < pn; i++)
            if (port[i] < '0' || port[i] > '9')
                return false;
        uint64_t n;
        if (!strparse_uint64(port, 65535, &n) || n == 0)
            return false;
        snprintf(port, sizeof(port), "%u", (unsigned)n); /* drops leading zeros */
        if (strcmp(port, default_port) == 0)
            port[0] = '\0';
    }
    int n = snprintf(out, ORIGIN_MAX, "%s://%s%s%s", skip == 7 ? "http" : "https", hostbuf,
                     port[0] != '\0' ? ":" : "", port);
    return n > 0 && n < ORIGIN_MAX;
}

bool origin_list_has(const char *list, const char *origin)
{
    size_t olen = strlen(origin);
    if (list == NULL || olen == 0)
        return false;
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (n == olen && memcmp(p, origin, n) == 0)
            return true;
        p += n;
        p += strspn(p, " ");
    }
    return false;
}
