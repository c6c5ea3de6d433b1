/* timestamp.h - parse and format event timestamps (UTC, microseconds).
 *
 * Accepted forms (parsed without locale, libc time functions or time zones):
 *
 *   YYYY-MM-DD HH:MM:SS[.f]           the brief's form, read as UTC
 *   YYYY-MM-DDTHH:MM:SS[.f]           same with 'T' (or 't')
 *   ...followed by Z, z or +HH:MM / -HH:MM   RFC 3339 with a zone
 *
 * The fraction has 1 to 9 digits in every form; digits past the sixth are
 * truncated (not rounded). Calendar fields are checked exactly (leap years,
 * days per month, hour <= 23, minute <= 59, second <= 59). A leap second
 * (":60") is rejected: MariaDB DATETIME cannot store it and clients almost
 * never produce it. Zone offsets are limited to +-23:59. The instant, after
 * the offset is applied, must lie in 1970-01-01 00:00:00 ..
 * 9999-12-31 23:59:59.999999 UTC; so must the written date (years 1970-9999).
 */
#ifndef EYE_VALIDATORS_TIMESTAMP_H
#define EYE_VALIDATORS_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest valid value: 9999-12-31 23:59:59.999999 UTC in microseconds. */
#define TIMESTAMP_MAX_US INT64_C(253402300799999999)

/* Length of timestamp_format's output, without the terminating NUL. */
#define TIMESTAMP_FORMAT_LEN 26

/* Parses s[0..len) in any accepted form (see above). Returns true and stores
 * microseconds since 1970-01-01 UTC in *us_out; returns false and leaves
 * *us_out untouched on any problem (including trailing bytes). s need not be
 * NUL-terminated. */
bool timestamp_parse(const char *s, size_t len, int64_t *us_out);

/* Like timestamp_parse, but accepts only RFC 3339 date-time: the zone (Z or
 * an offset) is required. Used by the rule keyword "format: date-time". */
bool timestamp_parse_rfc3339(const char *s, size_t len, int64_t *us_out);

/* Converts a civil UTC date and time to microseconds since the epoch, with
 * no range checks beyond what the arithmetic needs (fields must be valid).
 * Exposed for tests and for callers that build instants from parts. */
int64_t timestamp_from_civil(int year, int month, int day, int hour, int minute, int second,
                             int micros);

/* Writes "YYYY-MM-DD HH:MM:SS.ffffff" (a MariaDB DATETIME(6) literal, UTC)
 * and a NUL into out. Values outside [0, TIMESTAMP_MAX_US] are clamped into
 * that range. */
void timestamp_format(int64_t us, char out[TIMESTAMP_FORMAT_LEN + 1]);

#endif
