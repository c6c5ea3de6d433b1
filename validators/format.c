/* format.c - checks behind the `format` rule keyword (see format.h).
 *
 * Each check is a single pass over the bytes with no allocation; they run
 * on the request path for every formatted field.
 */
#include "autoconfig.h"

#include "validators/format.h"

#include <string.h>

#include "validators/timestamp.h"

static const struct {
    const char *name;
    enum format_kind kind;
} format_names[] = {
    {"date-time", FORMAT_DATE_TIME}, {"uri", FORMAT_URI},   {"hostname", FORMAT_HOSTNAME},
    {"email", FORMAT_EMAIL},         {"uuid", FORMAT_UUID},
};

enum format_kind format_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
        if (strcmp(name, format_names[i].name) == 0)
            return format_names[i].kind;
    return FORMAT_NONE;
}

const char *format_name(enum format_kind kind)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
        if (format_names[i].kind == kind)
            return format_names[i].name;
    return "";
}

static bool fmt_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool fmt_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool fmt_hex(unsigned char c)
{
    return fmt_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool fmt_hostname(const char *s, size_t len, bool need_dot)
{
    size_t label = 0;
    bool dot = false;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            dot = true;
            continue;
        }
        if (!fmt_alpha(c) && !fmt_digit(c) && c != '-')
            return false;
        if (c == '-' && label == 0)
            return false;
        if (++label > 63)
            return false;
    }
    if (label == 0 || s[len - 1] == '-')
        return false;
    return !need_dot || dot;
}

static bool fmt_atext(unsigned char c)
{
    return fmt_alpha(c) || fmt_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool fmt_email(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (len > 254 || at == NULL)
        return false;
    size_t local = (size_t)(at - s);
    if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
        return false;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!fmt_atext(c)) {
            return false;
        }
    }
    return fmt_hostname(at + 1, len - local - 1, true);
}

static bool fmt_uri(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || len > 8192 || !fmt_alpha((unsigned char)s[0]))
        return false;
    while (i < len && s[i] != ':') {
        unsigned char c = (unsigned char)s[i];
        if (!fmt_alpha(c) && !fmt_digit(c) && c != '+' && c != '-' && c != '.')
            return false;
        i++;
    }
    if (i == len)
        return false;
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len || !fmt_hex((unsigned char)s[i + 1]) ||
                !fmt_hex((unsigned char)s[i + 2]))
                return false;
            i += 2;
        } else if (!fmt_alpha(c) && !fmt_digit(c) &&
                   (c == '\0' || strchr("-._~:/?#[]@!$&'()*+,;=", c) == NULL)) {
            return false;
        }
    }
    return true;
}

bool format_uuid(const char *s, size_t len, char out[37])
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!fmt_hex(c)) {
            return false;
        }
    }
    if (out != NULL) {
        for (size_t i = 0; i < 36; i++) {
            char c = s[i];
            out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
        }
        out[36] = '\0';
    }
    return true;
}

bool format_check(enum format_kind kind, const char *s, size_t len)
{
    int64_t us;
    switch (kind) {
    case FORMAT_NONE:
        return true;
    case FORMAT_DATE_TIME:
        return timestamp_parse_rfc3339(s, len, &us);
    case FORMAT_URI:
        return fmt_uri(s, len);
    case FORMAT_HOSTNAME:
        return fmt_hostname(s, len, false);
    case FORMAT_EMAIL:
        return fmt_email(s, len);
    case FORMAT_UUID:
        return format_uuid(s, len, NULL);
    }
    return false;
}
