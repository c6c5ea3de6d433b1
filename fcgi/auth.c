/* auth.c - API key verification and its cache (see auth.h).
 *
 * The cache is a small direct-mapped table indexed by the first bytes of
 * the key's SHA-256 (uniformly distributed, so no further hashing), under
 * one mutex held only for a copy in or out. A collision simply evicts: the
 * worst case is an extra database lookup.
 */
#include "autoconfig.h"

#include "fcgi/auth.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/apikey.h"
#include "lib/db.h"
#include "lib/log.h"

#define AUTH_SLOTS           1024
#define AUTH_NEGATIVE_TTL_US (5 * 1000000LL)

struct auth_entry {
    unsigned char hash[APIKEY_HASH_LEN];
    int64_t expires_us; /* 0: empty slot */
    bool known;
    struct auth_identity who;
};

struct auth_cache {
    pthread_mutex_t lock;
    int64_t ttl_us;
    struct auth_entry slots[AUTH_SLOTS];
};

struct auth_cache *auth_cache_new(int64_t ttl_seconds)
{
    struct auth_cache *cache = calloc(1, sizeof(*cache));
    if (cache == NULL)
        return NULL;
    if (pthread_mutex_init(&cache->lock, NULL) != 0) {
        free(cache);
        return NULL;
    }
    cache->ttl_us = ttl_seconds * 1000000LL;
    return cache;
}

void auth_cache_free(struct auth_cache *cache)
{
    if (cache == NULL)
        return;
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

static struct auth_entry *auth_slot(struct auth_cache *cache, const unsigned char *hash)
{
    unsigned int i = ((unsigned int)hash[0] << 8 | hash[1]) % AUTH_SLOTS;
    return &cache->slots[i];
}

/* Returns true and fills *out when a live entry for hash is cached. */
static bool auth_cache_get(struct auth_cache *cache, const unsigned char *hash, int64_t now_us,
                           struct auth_entry *out)
{
    bool hit = false;
    pthread_mutex_lock(&cache->lock);
    struct auth_entry *e = auth_slot(cache, hash);
    if (e->expires_us > now_us && memcmp(e->hash, hash, APIKEY_HASH_LEN) == 0) {
        *out = *e;
        hit = true;
    }
    pthread_mutex_unlock(&cache->lock);
    return hit;
}

static void auth_cache_put(struct auth_cache *cache, const struct auth_entry *entry)
{
    if (cache->ttl_us == 0)
        return;
    pthread_mutex_lock(&cache->lock);
    *auth_slot(cache, entry->hash) = *entry;
    pthread_mutex_unlock(&cache->lock);
}

/* Asks the database. Returns AUTH_OK / AUTH_INVALID, or AUTH_UNAVAILABLE;
 * *stale tells that the connection had died before the query. */
static enum auth_result auth_lookup_once(struct dbconn *db, struct auth_entry *entry, bool *stale)
{
    *stale = false;
    MYSQL_STMT *stmt = dbconn_stmt(db, DBCONN_KEY_LOOKUP);
    if (stmt == NULL)
        return AUTH_UNAVAILABLE;
    unsigned long hash_len = APIKEY_HASH_LEN, scope_len = 0, origins_len = 0;
    char scope[8] = {0};
    unsigned int app_id = 0, key_id = 0;
    signed char app_only = 0;
    MYSQL_BIND in = {0}, out[5] = {{0}};
    in.buffer_type = MYSQL_TYPE_BLOB;
    in.buffer = entry->hash;
    in.length = &hash_len;
    out[0].buffer_type = MYSQL_TYPE_LONG;
    out[0].buffer = &app_id;
    out[0].is_unsigned = 1;
    out[1].buffer_type = MYSQL_TYPE_STRING;
    out[1].buffer = scope;
    out[1].buffer_length = sizeof(scope) - 1;
    out[1].length = &scope_len;
    out[2].buffer_type = MYSQL_TYPE_LONG;
    out[2].buffer = &key_id;
    out[2].is_unsigned = 1;
    out[3].buffer_type = MYSQL_TYPE_STRING;
    out[3].buffer = entry->who.origins;
    out[3].buffer_length = sizeof(entry->who.origins) - 1;
    out[3].length = &origins_len;
    out[4].buffer_type = MYSQL_TYPE_TINY;
    out[4].buffer = &app_only;
    if (mysql_stmt_bind_param(stmt, &in) != 0 || mysql_stmt_execute(stmt) != 0 ||
        mysql_stmt_bind_result(stmt, out) != 0 || mysql_stmt_store_result(stmt) != 0) {
        unsigned int err = mysql_stmt_errno(stmt);
        log_error("key_lookup: %s", mysql_stmt_error(stmt));
        *stale = db_error_is_connection_lost(err);
        dbconn_failed(db, err);
        return AUTH_UNAVAILABLE;
    }
    int r = mysql_stmt_fetch(stmt);
    mysql_stmt_free_result(stmt);
    if (r != 0 && r != MYSQL_NO_DATA && r != MYSQL_DATA_TRUNCATED) {
        log_error("key_lookup fetch: %s", mysql_stmt_error(stmt));
        dbconn_failed(db, mysql_stmt_errno(stmt));
        return AUTH_UNAVAILABLE;
    }
    /* End the read's transaction so no snapshot or lock outlives it. */
    mysql_commit(db->conn);
    /* A list longer than the buffer cannot be stored (eye-admin and the
     * column's size keep it shorter): never match on a cut one. */
    if (r == MYSQL_DATA_TRUNCATED && origins_len >= sizeof(entry->who.origins))
        origins_len = 0;
    entry->known = r == 0 || r == MYSQL_DATA_TRUNCATED;
    entry->who.key_id = key_id;
    entry->who.application_id = app_id;
    entry->who.origins[origins_len < sizeof(entry->who.origins) ? origins_len : 0] = '\0';
    entry->who.app_only = app_only != 0;
    entry->who.scope = strcmp(scope, "read") == 0      ? AUTH_SCOPE_READ
                       : strcmp(scope, "browser") == 0 ? AUTH_SCOPE_BROWSER
                                                       : AUTH_SCOPE_WRITE;
    return entry->known ? AUTH_OK : AUTH_INVALID;
}

/* A connection that died while idle gets one fresh try: reads are safe to
 * repeat. */
static enum auth_result auth_lookup(struct dbconn *db, struct auth_entry *entry)
{
    bool stale;
    enum auth_result r = auth_lookup_once(db, entry, &stale);
    if (r == AUTH_UNAVAILABLE && stale)
        r = auth_lookup_once(db, entry, &stale);
    return r;
}

enum auth_result auth_check(struct auth_cache *cache, struct dbconn *db, const char *header,
                            int64_t now_us, struct auth_identity *who)
{
    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
        return AUTH_MISSING;
    const char *key = header + 7;
    while (*key == ' ')
        key++;
    size_t len = strcspn(key, " \t\r\n");
    if (apikey_shape(key, len) == APIKEY_MALFORMED)
        return AUTH_INVALID;
    /* The key is the one token after "Bearer " and its spaces; anything
     * after it but blanks ("Bearer KEY junk") makes the header invalid,
     * never a valid key followed by ignored text. */
    if (key[len + strspn(key + len, " \t")] != '\0')
        return AUTH_INVALID;
    return auth_check_key(cache, db, key, len, now_us, who);
}

enum auth_result auth_check_key(struct auth_cache *cache, struct dbconn *db, const char *key,
                                size_t len, int64_t now_us, struct auth_identity *who)
{
    if (apikey_shape(key, len) == APIKEY_MALFORMED)
        return AUTH_INVALID;
    struct auth_entry entry = {0};
    if (!apikey_hash(key, len, entry.hash))
        return AUTH_UNAVAILABLE;
    if (!auth_cache_get(cache, entry.hash, now_us, &entry)) {
        if (db == NULL)
            return AUTH_THROTTLED;
        enum auth_result r = auth_lookup(db, &entry);
        if (r == AUTH_UNAVAILABLE)
            return r;
        int64_t ttl = entry.known ? cache->ttl_us
                                  : (cache->ttl_us < AUTH_NEGATIVE_TTL_US ? cache->ttl_us
                                                                          : AUTH_NEGATIVE_TTL_US);
        entry.expires_us = now_us + ttl;
        auth_cache_put(cache, &entry);
    }
    if (!entry.known)
        return AUTH_INVALID;
    *who = entry.who;
    return AUTH_OK;
}
