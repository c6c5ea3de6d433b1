/* format.h - the string formats a rule can require with `format:`.
 *
 * Strictness, chosen to catch mistakes in event payloads without needing a
 * full RFC grammar:
 *   date-time  RFC 3339 date-time with a zone (Z or +-HH:MM), 1-9 fraction
 *              digits, same calendar rules as timestamps (timestamp.h).
 *   uri        an absolute URI (RFC 3986): scheme ":" then only unreserved,
 *              reserved or %HH-escaped characters; no spaces, no fragment
 *              checks beyond the character set; at most 8192 bytes.
 *   hostname   RFC 1123: dot-separated labels of 1-63 letters, digits and
 *              hyphens, not starting or ending with a hyphen; total at most
 *              253 bytes; no trailing dot, no port, no IDN (send punycode).
 *   email      local@domain: local part 1-64 bytes of RFC 5322 atext and
 *              single dots (no leading/trailing dot, no quoted form); domain
 *              a hostname (above) with at least one dot; at most 254 bytes.
 *   uuid       8-4-4-4-12 hexadecimal digits, either case, any version.
 */
#ifndef EYE_VALIDATORS_FORMAT_H
#define EYE_VALIDATORS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

enum format_kind {
    FORMAT_NONE,
    FORMAT_DATE_TIME,
    FORMAT_URI,
    FORMAT_HOSTNAME,
    FORMAT_EMAIL,
    FORMAT_UUID,
};

/* Returns the format named by name ("date-time", ...), or FORMAT_NONE. */
enum format_kind format_from_name(const char *name);

/* Returns the keyword spelling of a format ("" for FORMAT_NONE). Static. */
const char *format_name(enum format_kind kind);

/* Returns true when s[0..len) is valid for the format (FORMAT_NONE: always). */
bool format_check(enum format_kind kind, const char *s, size_t len);

/* Returns true when s[0..len) is a UUID; when out is not NULL, writes the
 * canonical lowercase form (36 chars and a NUL) there. */
bool format_uuid(const char *s, size_t len, char out[37]);

#endif
