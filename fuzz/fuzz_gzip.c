/* fuzz_gzip.c - libFuzzer harness for the gzip path of a request body.
 *
 * The input is a Content-Encoding: gzip body (application/json): the
 * decoder inflates it (several members allowed, bounded by
 * ingest.max_decompressed_bytes) and decodes what comes out, exactly as
 * eye.fcgi does. The seeds in corpus/gzip are gzip files of events, so
 * mutations explore both the container and the JSON inside it.
 */
#include "autoconfig.h"

#include "fuzz/fuzz_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_body_run(data, size, BODY_JSON, true);
    return 0;
}
