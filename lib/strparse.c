/* strparse.c - checked text-to-number conversions (see strparse.h).
 *
 * The project bans atoi and friends: they cannot report errors. These
 * wrappers around strto* check the end pointer, errno and the range.
 */
#include "autoconfig.h"

#include "lib/strparse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

bool strparse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    if (v < min || v > max)
        return false;
    *out = (int64_t)v;
    return true;
}

bool strparse_uint64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || *s == '-' || *s == '+')
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return false;
    *out = (uint64_t)v;
    return true;
}

bool strparse_int(const char *s, int min, int max, int *out)
{
    int64_t v;
    if (!strparse_int64(s, min, max, &v))
        return false;
    *out = (int)v;
    return true;
}

bool strparse_double(const char *s, double *out)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return false;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}
