/* fuzz_origin.c - libFuzzer harness for lib/origin.c, which reads the
 * Origin header of every request from a web page (untrusted bytes).
 *
 * The input is an Origin header value. Besides crashes and sanitizer
 * reports, it checks what eye.fcgi relies on: a canonical origin is
 * canonical again unchanged (so eye-admin's stored form and the header's
 * form compare equal), fits ORIGIN_MAX, and is found in a list holding
 * it; the input as a list never crashes the lookup.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/origin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[ORIGIN_MAX], again[ORIGIN_MAX];
    if (origin_canonical((const char *)data, size, out)) {
        size_t n = strlen(out);
        if (n >= ORIGIN_MAX || !origin_canonical(out, n, again) || strcmp(out, again) != 0 ||
            !origin_list_has(out, out))
            abort();
    }
    char *list = malloc(size + 1); /* the input as a NUL-terminated list */
    if (list == NULL)
        return 0;
    memcpy(list, data, size);
    list[size] = '\0';
    (void)origin_list_has(list, "https://shop.example.com");
    free(list);
    return 0;
}
