/* utf8.h - strict UTF-8 (RFC 3629) for text that is stored or answered.
 *
 * Strict means what MariaDB's utf8mb4 and every JSON consumer accept: no
 * overlong forms, no surrogates (U+D800..U+DFFF) encoded in UTF-8, nothing
 * above U+10FFFF, no truncated sequence. Shared by the body decoder (which
 * refuses such text), the payload repair and the queue row (which cuts text
 * to a column's size at a character boundary). No allocation.
 */
#ifndef EYE_LIB_UTF8_H
#define EYE_LIB_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the well-formed sequence at s, which has n > 0 bytes, or
 * 0 when the bytes there are not one. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* True when all n bytes of s are strict UTF-8; otherwise *bad (may be NULL)
 * gets the offset of the first byte that is not. */
bool utf8_valid(const char *s, size_t n, size_t *bad);

/* The longest prefix of the valid UTF-8 text s (n bytes) that has at most
 * max bytes and ends on a character boundary. */
size_t utf8_cut(const char *s, size_t n, size_t max);

/* Bytes of the longest prefix of the valid UTF-8 text s (n bytes) that
 * has at most max_chars characters. */
size_t utf8_prefix_chars(const char *s, size_t n, size_t max_chars);

/* Writes code point cp (at most U+10FFFF, not a surrogate) as UTF-8 into
 * out (room for 4 bytes) and returns its length, or 0 when cp is not a
 * scalar value. */
size_t utf8_encode(unsigned long cp, char out[4]);

#endif
