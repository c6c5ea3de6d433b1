/* uuid4.c - random (version 4) UUIDs (see uuid4.h).
 *
 * libuuid's uuid_generate_random reads the kernel's random source on every
 * call, which bench/run.sh showed as a fifth of eye.fcgi's time on
 * 100-event batches; OpenSSL's DRBG gives the same 122 random bits from
 * user space and is thread-safe. libuuid stays the fallback should the
 * DRBG ever fail, and formats the text.
 */
#include "autoconfig.h"

#include "lib/uuid4.h"

#include <openssl/rand.h>
#include <uuid/uuid.h>

void uuid4_generate(char out[UUID4_TEXT_SIZE])
{
    uuid_t u;
    if (RAND_bytes(u, (int)sizeof(u)) == 1) {
        u[6] = (unsigned char)((u[6] & 0x0F) | 0x40); /* version 4 */
        u[8] = (unsigned char)((u[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    } else {
        uuid_generate_random(u);
    }
    uuid_unparse_lower(u, out);
}
