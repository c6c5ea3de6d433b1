/* context.h - the request's context, stored with each of its events: the
 * client's user agent, and its address as privacy.client_ip allows.
 *
 * The address is REMOTE_ADDR, or, when REMOTE_ADDR is one of
 * privacy.trusted_proxies, the right-most X-Forwarded-For entry that is
 * not itself a trusted proxy (the left part of that header is the
 * client's word, not a proxy's). What is kept of it:
 *   drop      nothing (NULL);
 *   truncate  its network: a.b.c.0 (/24), or the /48 of an IPv6 address
 *             (2001:db8:1::), the default;
 *   hash      HMAC-SHA-256 under privacy.ip_hash_key_file, first 16 bytes
 *             in hex: the same client gets the same value, which cannot be
 *             turned back into the address without the key.
 * The full address is never stored.
 */
#ifndef EYE_FCGI_CONTEXT_H
#define EYE_FCGI_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "fcgi/request.h"
#include "lib/config.h"

/* Characters of the user agent kept (the column holds 255). */
#define CONTEXT_USER_AGENT_CHARS 255

struct request_context {
    char user_agent[4 * CONTEXT_USER_AGENT_CHARS + 1]; /* "" when none, or not UTF-8 */
    size_t user_agent_len;
    char client_ip[40]; /* "" when dropped or unknown */
};

/* Reads the policy (and the hash key) for this process. Returns false,
 * logged, when the key file cannot be read. */
bool context_init(const struct config *cfg);

/* Forgets the policy and wipes the key. */
void context_cleanup(void);

/* Fills out from r's CGI parameters. */
void context_of(const struct request *r, struct request_context *out);

/* The pure parts, for tests. context_client_addr writes the client's
 * address (see above) into out (INET6_ADDRSTRLEN at least) and returns
 * false when there is none it can parse; trusted is space-separated.
 * context_anonymize writes what `mode` keeps of addr into out[40]. */
bool context_client_addr(const char *remote, const char *forwarded, const char *trusted,
                         char *out, size_t cap);
void context_anonymize(const char *addr, const char *mode, const unsigned char *key,
                       size_t key_len, char out[40]);

#endif
