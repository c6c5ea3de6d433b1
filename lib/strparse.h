/* strparse.h - checked conversions of text to numbers.
 *
 * Every function parses the whole string (no trailing garbage, no leading
 * blanks), checks errno and range, and leaves *out untouched on failure.
 */
#ifndef EYE_STRPARSE_H
#define EYE_STRPARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Parses a base-10 integer in [min, max]. Returns false on any problem. */
bool strparse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parses a base-10 unsigned integer in [0, max]; a leading '-' is rejected. */
bool strparse_uint64(const char *s, uint64_t max, uint64_t *out);

/* Parses an int in [min, max]. */
bool strparse_int(const char *s, int min, int max, int *out);

/* Parses a finite double. */
bool strparse_double(const char *s, double *out);

#endif
