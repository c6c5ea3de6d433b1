/* fuzz_event.c - libFuzzer harness for a request body as eye.fcgi decodes
 * and validates it.
 *
 * The input is the body, decoded as application/json and again as
 * application/x-ndjson by the same body_decode entry point and the same
 * limits as an eye.fcgi worker, then each event checked in first-error and
 * all-errors mode (fuzz_body.c lists the invariants).
 */
#include "autoconfig.h"

#include "fuzz/fuzz_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_body_run(data, size, BODY_JSON, false);
    fuzz_body_run(data, size, BODY_NDJSON, false);
    return 0;
}
