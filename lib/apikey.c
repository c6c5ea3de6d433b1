/* apikey.c - API key generation and hashing with OpenSSL's libcrypto. */
#include "autoconfig.h"

#include "lib/apikey.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static const char apikey_hex[] = "0123456789abcdef";

static void apikey_to_hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = apikey_hex[in[i] >> 4];
        out[2 * i + 1] = apikey_hex[in[i] & 0x0f];
    }
}

/* The checksum digits of the first APIKEY_LEN - 9 characters of key. */
static bool apikey_checksum(const char *key, char out[8])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(key, APIKEY_LEN - 9, digest, &n, EVP_sha256(), NULL) != 1)
        return false;
    apikey_to_hex(digest, 4, out);
    return true;
}

bool apikey_generate(char out[APIKEY_LEN + 1], char prefix[APIKEY_PREFIX_LEN + 1])
{
    unsigned char raw[4 + 28];
    if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
        return false;
    memcpy(out, "eye_", 4);
    apikey_to_hex(raw, 4, out + 4);
    out[12] = '_';
    apikey_to_hex(raw + 4, 28, out + 13);
    out[APIKEY_LEN - 9] = '_';
    OPENSSL_cleanse(raw, sizeof(raw));
    if (!apikey_checksum(out, out + APIKEY_LEN - 8))
        return false;
    out[APIKEY_LEN] = '\0';
    memcpy(prefix, out, APIKEY_PREFIX_LEN);
    prefix[APIKEY_PREFIX_LEN] = '\0';
    return true;
}

/* True when key[from, to) are lower-case hex digits. */
static bool apikey_is_hex(const char *key, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        char c = key[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

enum apikey_shape apikey_shape(const char *key, size_t len)
{
    if ((len != APIKEY_LEN && len != APIKEY_LEGACY_LEN) || memcmp(key, "eye_", 4) != 0 ||
        key[12] != '_' || !apikey_is_hex(key, 4, 12))
        return APIKEY_MALFORMED;
    if (len == APIKEY_LEGACY_LEN)
        return apikey_is_hex(key, 13, len) ? APIKEY_LEGACY : APIKEY_MALFORMED;
    char sum[8];
    if (key[APIKEY_LEN - 9] != '_' || !apikey_is_hex(key, 13, APIKEY_LEN - 9) ||
        !apikey_is_hex(key, APIKEY_LEN - 8, len) || !apikey_checksum(key, sum))
        return APIKEY_MALFORMED;
    /* Not secret, so no constant-time compare is needed. */
    return memcmp(sum, key + APIKEY_LEN - 8, 8) == 0 ? APIKEY_CHECKED : APIKEY_MALFORMED;
}

bool apikey_hash(const char *key, size_t len, unsigned char hash[APIKEY_HASH_LEN])
{
    unsigned int n = 0;
    return EVP_Digest(key, len, hash, &n, EVP_sha256(), NULL) == 1 && n == APIKEY_HASH_LEN;
}
