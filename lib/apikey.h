/* apikey.h - application API keys: generation, hashing, shape checks.
 *
 * A key looks like  eye_1a2b3c4d_<64 hex digits>.  The first 12 characters
 * ("eye_1a2b3c4d") are its prefix: shown in listings and used to revoke it.
 * The 256-bit random tail makes a plain SHA-256 a safe stored form (no slow
 * password hash is needed for secrets that cannot be guessed); the secret
 * itself is printed once at creation and never stored.
 */
#ifndef EYE_APIKEY_H
#define EYE_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

#define APIKEY_LEN        77 /* "eye_" + 8 + "_" + 64 */
#define APIKEY_PREFIX_LEN 12
#define APIKEY_HASH_LEN   32

/* Writes a new random key (NUL-terminated) into out and its prefix into
 * prefix. Returns false when the system's random source fails. */
bool apikey_generate(char out[APIKEY_LEN + 1], char prefix[APIKEY_PREFIX_LEN + 1]);

/* True when key has the shape of a key (length, alphabet). Cheap; used to
 * reject garbage before any hashing or database work. */
bool apikey_well_formed(const char *key, size_t len);

/* Writes SHA-256(key) into hash. Returns false if libcrypto fails. */
bool apikey_hash(const char *key, size_t len, unsigned char hash[APIKEY_HASH_LEN]);

#endif
