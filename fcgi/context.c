/* context.c - user agent and anonymised client address (see context.h). */
#include "autoconfig.h"

#include "fcgi/context.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/utf8.h"

/* The process's policy, set once by context_init before the workers start
 * and read-only afterwards. */
static struct {
    char mode[16];
    char *trusted;           /* owned copy of privacy.trusted_proxies */
    unsigned char key[256];  /* hash mode: the secret */
    size_t key_len;
} context_policy = {.mode = "truncate"};

bool context_init(const struct config *cfg)
{
    snprintf(context_policy.mode, sizeof(context_policy.mode), "%s", cfg->privacy.client_ip);
    context_policy.trusted = strdup(cfg->privacy.trusted_proxies);
    if (context_policy.trusted == NULL)
        return false;
    if (strcmp(context_policy.mode, "hash") != 0)
        return true;
    char *key = config_read_first_line(cfg->privacy.ip_hash_key_file, "privacy.ip_hash_key_file");
    if (key == NULL)
        return false;
    size_t len = strlen(key);
    if (len < 16 || len > sizeof(context_policy.key)) {
        log_error("privacy.ip_hash_key_file: the key must be 16 to %zu bytes long",
                  sizeof(context_policy.key));
        OPENSSL_cleanse(key, len);
        free(key);
        return false;
    }
    memcpy(context_policy.key, key, len);
    context_policy.key_len = len;
    OPENSSL_cleanse(key, len);
    free(key);
    return true;
}

void context_cleanup(void)
{
    free(context_policy.trusted);
    context_policy.trusted = NULL;
    OPENSSL_cleanse(context_policy.key, sizeof(context_policy.key));
    context_policy.key_len = 0;
}

/* Parses addr (IPv4 or IPv6, an IPv4-mapped IPv6 one taken as IPv4) into
 * its canonical text. Returns false when it is neither. */
static bool context_canonical(const char *addr, size_t len, char *out, size_t cap)
{
    char text[INET6_ADDRSTRLEN + 1];
    unsigned char bytes[16];
    if (len == 0 || len >= sizeof(text))
        return false;
    memcpy(text, addr, len);
    text[len] = '\0';
    if (inet_pton(AF_INET, text, bytes) == 1)
        return inet_ntop(AF_INET, bytes, out, (socklen_t)cap) != NULL;
    if (inet_pton(AF_INET6, text, bytes) != 1)
        return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(bytes, mapped, sizeof(mapped)) == 0)
        return inet_ntop(AF_INET, bytes + 12, out, (socklen_t)cap) != NULL;
    return inet_ntop(AF_INET6, bytes, out, (socklen_t)cap) != NULL;
}

/* True when the canonical address addr is in the space-separated list. */
static bool context_is_trusted(const char *addr, const char *trusted)
{
    const char *p = trusted;
    char canon[INET6_ADDRSTRLEN + 1];
    while (p != NULL && *p != '\0') {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t,");
        if (n > 0 && context_canonical(p, n, canon, sizeof(canon)) && strcmp(canon, addr) == 0)
            return true;
        p += n;
    }
    return false;
}

bool context_client_addr(const char *remote, const char *forwarded, const char *trusted,
                         char *out, size_t cap)
{
    if (remote == NULL || !context_canonical(remote, strlen(remote), out, cap))
        return false;
    if (forwarded == NULL || !context_is_trusted(out, trusted))
        return true;
    /* Right to left: each hop appended the address it saw. The first one
     * that is not a trusted proxy is the client. */
    const char *end = forwarded + strlen(forwarded);
    char hop[INET6_ADDRSTRLEN + 1];
    while (end > forwarded) {
        const char *start = end;
        while (start > forwarded && start[-1] != ',')
            start--;
        const char *a = start, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (!context_canonical(a, (size_t)(b - a), hop, sizeof(hop)))
            return true; /* garbage in the header: the proxy's own address stands */
        snprintf(out, cap, "%s", hop);
        if (!context_is_trusted(hop, trusted))
            return true;
        end = start > forwarded ? start - 1 : forwarded;
    }
    return true;
}

void context_anonymize(const char *addr, const char *mode, const unsigned char *key,
                       size_t key_len, char out[40])
{
    out[0] = '\0';
    if (strcmp(mode, "drop") == 0 || addr == NULL || *addr == '\0')
        return;
    unsigned char bytes[16];
    if (strcmp(mode, "hash") == 0) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)addr, strlen(addr), mac,
                 &mac_len) == NULL)
            return;
        for (int i = 0; i < 16; i++)
            snprintf(out + 2 * i, 3, "%02x", mac[i]);
        return;
    }
    /* truncate */
    if (inet_pton(AF_INET, addr, bytes) == 1) {
        bytes[3] = 0;
        inet_ntop(AF_INET, bytes, out, 40);
    } else if (inet_pton(AF_INET6, addr, bytes) == 1) {
        memset(bytes + 6, 0, 10);
        inet_ntop(AF_INET6, bytes, out, 40);
    }
}

void context_of(const struct request *r, struct request_context *out)
{
    const char *ua = request_param(r, "HTTP_USER_AGENT");
    out->user_agent[0] = '\0';
    out->user_agent_len = 0;
    if (ua != NULL) {
        size_t len = strlen(ua);
        /* Cut at a character boundary; a header that is not UTF-8 (or has
         * control characters) is not stored rather than stored wrong. */
        size_t keep = utf8_prefix_chars(ua, len, CONTEXT_USER_AGENT_CHARS);
        bool clean = utf8_valid(ua, keep, NULL);
        for (size_t i = 0; clean && i < keep; i++)
            clean = (unsigned char)ua[i] >= 0x20 && ua[i] != 0x7f;
        if (clean && keep < sizeof(out->user_agent)) {
            memcpy(out->user_agent, ua, keep);
            out->user_agent[keep] = '\0';
            out->user_agent_len = keep;
        }
    }
    char addr[INET6_ADDRSTRLEN + 1];
    out->client_ip[0] = '\0';
    if (context_client_addr(request_param(r, "REMOTE_ADDR"),
                            request_param(r, "HTTP_X_FORWARDED_FOR"),
                            context_policy.trusted != NULL ? context_policy.trusted : "", addr,
                            sizeof(addr)))
        context_anonymize(addr, context_policy.mode, context_policy.key, context_policy.key_len,
                          out->client_ip);
}
