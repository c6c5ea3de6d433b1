/* apikey.h - application API keys: generation, hashing, shape checks.
 *
 * A key looks like  eye_1a2b3c4d_<56 hex digits>_<8 hex digits>.  The first
 * 12 characters ("eye_1a2b3c4d") are its prefix: shown in listings and used
 * to revoke it. The 256 random bits (prefix and secret) make a plain SHA-256
 * a safe stored form (no slow password hash is needed for secrets that
 * cannot be guessed); the key itself is printed once at creation and never
 * stored. The last 8 digits are a checksum (the first 4 bytes of SHA-256 of
 * everything before them): not a secret, but it lets eye.fcgi refuse a
 * mistyped or random key without asking the database.
 *
 * Keys made before the checksum existed (eye_1a2b3c4d_<64 hex digits>) are
 * still accepted; they cannot be checked offline, so eye.fcgi looks them up
 * (negative cache and per-address limits apply). Rotate them with
 * `eye-admin key create` + `key revoke`.
 */
#ifndef EYE_APIKEY_H
#define EYE_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

#define APIKEY_LEN        78 /* "eye_" + 8 + "_" + 56 + "_" + 8 */
#define APIKEY_LEGACY_LEN 77 /* "eye_" + 8 + "_" + 64, no checksum */
#define APIKEY_PREFIX_LEN 12
#define APIKEY_HASH_LEN   32

/* Writes a new random key (NUL-terminated) into out and its prefix into
 * prefix. Returns false when the system's random source fails. */
bool apikey_generate(char out[APIKEY_LEN + 1], char prefix[APIKEY_PREFIX_LEN + 1]);

enum apikey_shape {
    APIKEY_MALFORMED, /* not a key: refuse without the database */
    APIKEY_CHECKED,   /* current shape, checksum right */
    APIKEY_LEGACY,    /* a key from before checksums: only the database can tell */
};

/* Tells what key looks like (length, alphabet, checksum). Cheap; used to
 * reject garbage before any database work. */
enum apikey_shape apikey_shape(const char *key, size_t len);

/* Writes SHA-256(key) into hash. Returns false if libcrypto fails. */
bool apikey_hash(const char *key, size_t len, unsigned char hash[APIKEY_HASH_LEN]);

#endif
