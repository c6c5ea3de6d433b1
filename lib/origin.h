/* origin.h - web origins (scheme://host[:port]) as browser keys are bound
 * to them.
 *
 * An origin is compared in its canonical form, the one browsers send in
 * the Origin header (RFC 6454 serialisation): scheme and host in lower
 * case, the port left out when it is the scheme's default (80 for http,
 * 443 for https). Only http and https origins exist here; there are no
 * wildcards, no paths, no user info, and "null" (a sandboxed or file:
 * page) is never an origin a key can be bound to. eye-admin stores the
 * canonical form, eye.fcgi canonicalises the header the same way, and the
 * match is then an exact string compare.
 *
 * A key's origins are kept as one space-separated list (ORIGIN_LIST_MAX
 * bytes at most, NUL included).
 */
#ifndef EYE_ORIGIN_H
#define EYE_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

#define ORIGIN_MAX      256  /* one canonical origin, NUL included */
#define ORIGIN_LIST_MAX 1024 /* a key's whole list, NUL included */

/* Writes the canonical form of the origin text in (len bytes) into out
 * (ORIGIN_MAX bytes). Returns false, out then undefined, when in is not an
 * http or https origin: anything but scheme "://" host [":" port], a host
 * with characters other than letters, digits, '-' and '.' (or an IPv6
 * literal in brackets), a port outside 1-65535, or too long. */
bool origin_canonical(const char *in, size_t len, char out[ORIGIN_MAX]);

/* True when the canonical origin is one of the space-separated list. */
bool origin_list_has(const char *list, const char *origin);

#endif
