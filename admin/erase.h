/* erase.h - the keyed hash under which erasures are recorded
 * (admin/erase.c), also checked by `eye-admin restore`.
 */
#ifndef EYE_ADMIN_ERASE_H
#define EYE_ADMIN_ERASE_H

#include <mysql.h>
#include <stdbool.h>

/* HMAC-SHA256 of "kind:subject" under the key in erasure_key, into out.
 * Returns false (logged) when the key cannot be read. */
bool erase_subject_hash(MYSQL *conn, const char *kind, const char *subject, unsigned char out[32]);

#endif
