/* timestamp.c - event timestamp parsing and formatting (see timestamp.h).
 *
 * The request path parses one or two timestamps per event, so this is a
 * small hand-written scanner: no sscanf, no strptime, no timegm, no locale.
 * Calendar arithmetic uses the proleptic Gregorian days-from-civil formula
 * (eras of 400 years), which is exact for every year we accept.
 */
#include "autoconfig.h"

#include "validators/timestamp.h"

#define US_PER_SEC  INT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)

/* Reads exactly n ASCII digits at s as a non-negative number. */
static bool ts_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool ts_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int ts_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ts_is_leap(y))
        return 29;
    return days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t ts_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                  /* [0, 399] */
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* Inverse of ts_days_from_civil. */
static void ts_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int64_t timestamp_from_civil(int year, int month, int day, int hour, int minute, int second,
                             int micros)
{
    int64_t days = ts_days_from_civil(year, month, day);
    int64_t secs = days * SEC_PER_DAY + hour * 3600 + minute * 60 + second;
    return secs * US_PER_SEC + micros;
}

/* The common scanner; require_zone selects RFC 3339 strictness. */
static bool ts_parse(const char *s, size_t len, bool require_zone, int64_t *us_out)
{
    int year, month, day, hour, minute, second, micros = 0;
    size_t i;

    /* "YYYY-MM-DD?HH:MM:SS" is 19 bytes. */
    if (s == NULL || len < 19)
        return false;
    if (!ts_digits(s, 4, &year) || s[4] != '-' || !ts_digits(s + 5, 2, &month) || s[7] != '-' ||
        !ts_digits(s + 8, 2, &day))
        return false;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return false;
    if (!ts_digits(s + 11, 2, &hour) || s[13] != ':' || !ts_digits(s + 14, 2, &minute) ||
        s[16] != ':' || !ts_digits(s + 17, 2, &second))
        return false;
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > ts_days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 59)
        return false;

    i = 19;
    if (i < len && s[i] == '.') {
        int ndigits = 0;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (ndigits < 6)
                micros = micros * 10 + (s[i] - '0');
            ndigits++;
            i++;
        }
        if (ndigits < 1 || ndigits > 9)
            return false;
        for (int k = ndigits; k < 6; k++)
            micros *= 10;
    }

    int64_t offset_s = 0;
    if (i == len) {
        if (require_zone)
            return false;
    } else if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        i++;
    } else if ((s[i] == '+' || s[i] == '-') && len - i == 6) {
        int oh, om;
        if (!ts_digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || !ts_digits(s + i + 4, 2, &om) ||
            oh > 23 || om > 59)
            return false;
        offset_s = (int64_t)oh * 3600 + om * 60;
        if (s[i] == '-')
            offset_s = -offset_s;
        i += 6;
    } else {
        return false;
    }

    int64_t us = timestamp_from_civil(year, month, day, hour, minute, second, micros) -
                 offset_s * US_PER_SEC;
    if (us < 0 || us > TIMESTAMP_MAX_US)
        return false;
    *us_out = us;
    return true;
}

bool timestamp_parse(const char *s, size_t len, int64_t *us_out)
{
    return ts_parse(s, len, false, us_out);
}

bool timestamp_parse_rfc3339(const char *s, size_t len, int64_t *us_out)
{
    return ts_parse(s, len, true, us_out);
}

/* Writes v as exactly n digits (v must fit). */
static void ts_put(char *out, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void timestamp_format(int64_t us, char out[TIMESTAMP_FORMAT_LEN + 1])
{
    if (us < 0)
        us = 0;
    if (us > TIMESTAMP_MAX_US)
        us = TIMESTAMP_MAX_US;
    int64_t secs = us / US_PER_SEC;
    int64_t frac = us % US_PER_SEC;
    int64_t days = secs / SEC_PER_DAY;
    int64_t rem = secs % SEC_PER_DAY;
    int y, m, d;
    ts_civil_from_days(days, &y, &m, &d);

    ts_put(out, y, 4);
    out[4] = '-';
    ts_put(out + 5, m, 2);
    out[7] = '-';
    ts_put(out + 8, d, 2);
    out[10] = ' ';
    ts_put(out + 11, rem / 3600, 2);
    out[13] = ':';
    ts_put(out + 14, rem / 60 % 60, 2);
    out[16] = ':';
    ts_put(out + 17, rem % 60, 2);
    out[19] = '.';
    ts_put(out + 20, frac, 6);
    out[TIMESTAMP_FORMAT_LEN] = '\0';
}
