/* auth.h - who is calling: API key check with a short-lived cache.
 *
 * Keys arrive as "Authorization: Bearer KEY": exactly one token after
 * "Bearer " (case-insensitive), spaces before it and blanks after it
 * allowed; anything else after "Bearer " is an invalid key. They are looked
 * up by their SHA-256 in api_keys and the answer (found or not) is cached in
 * the process for ingest.key_cache_seconds (unknown keys for at most 5 s),
 * so a busy application costs one lookup per process per period, and a
 * revoked key stops working within that period.
 */
#ifndef EYE_FCGI_AUTH_H
#define EYE_FCGI_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcgi/dbconn.h"
#include "lib/origin.h"

/* A browser key writes like a write key, but only from the origins it is
 * bound to (fcgi/browser.c decides). */
enum auth_scope { AUTH_SCOPE_WRITE, AUTH_SCOPE_READ, AUTH_SCOPE_BROWSER };

struct auth_identity {
    unsigned int key_id;
    unsigned int application_id;
    enum auth_scope scope;
    bool app_only; /* read keys: sees only application_id's rows (else every application's) */
    char origins[ORIGIN_LIST_MAX]; /* browser keys: space-separated canonical origins */
};

enum auth_result {
    AUTH_OK,
    AUTH_MISSING,     /* no Authorization header, or not a Bearer one */
    AUTH_INVALID,     /* unknown, revoked or malformed key */
    AUTH_UNAVAILABLE, /* the database could not be asked */
    AUTH_THROTTLED,   /* not cached, and no lookup was allowed (db NULL) */
};

struct auth_cache;

/* Creates a cache whose positive entries live ttl_seconds (0: no caching).
 * Returns NULL when out of memory. Shared by all workers (it locks). */
struct auth_cache *auth_cache_new(int64_t ttl_seconds);

/* Frees the cache (NULL-safe). */
void auth_cache_free(struct auth_cache *cache);

/* Checks the Authorization header value (may be NULL) and fills who:
 * AUTH_MISSING without a "Bearer " header, AUTH_INVALID for anything but
 * one well-formed, known, unrevoked key after it.
 * Queries the database through db only on a cache miss; db NULL forbids
 * that (a throttled client): a key that is not cached is then
 * AUTH_THROTTLED, while a cached one (known or not) is answered as usual. */
enum auth_result auth_check(struct auth_cache *cache, struct dbconn *db, const char *header,
                            int64_t now_us, struct auth_identity *who);

/* Same as auth_check for a key given on its own (len bytes, e.g. from the
 * query string): AUTH_INVALID unless it is one well-formed, known,
 * unrevoked key. */
enum auth_result auth_check_key(struct auth_cache *cache, struct dbconn *db, const char *key,
                                size_t len, int64_t now_us, struct auth_identity *who);

#endif
