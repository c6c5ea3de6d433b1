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

bool apikey_generate(char out[APIKEY_LEN + 1], char prefix[APIKEY_PREFIX_LEN + 1])
{
    unsigned char raw[4 + 32];
    if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
        return false;
    memcpy(out, "eye_", 4);
    apikey_to_hex(raw, 4, out + 4);
    out[12] = '_';
    apikey_to_hex(raw + 4, 32, out + 13);
    out[APIKEY_LEN] = '\0';
    memcpy(prefix, out, APIKEY_PREFIX_LEN);
    prefix[APIKEY_PREFIX_LEN] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    return true;
}

bool apikey_well_formed(const char *key, size_t len)
{
    if (len != APIKEY_LEN || memcmp(key, "eye_", 4) != 0 || key[12] != '_')
        return false;
    for (size_t i = 4; i < len; i++) {
        if (i == 12)
            continue;
        char c = key[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

bool apikey_hash(const char *key, size_t len, unsigned char hash[APIKEY_HASH_LEN])
{
    unsigned int n = 0;
    return EVP_Digest(key, len, hash, &n, EVP_sha256(), NULL) == 1 && n == APIKEY_HASH_LEN;
}
