/* log.c - one-line log records on stderr (see log.h).
 *
 * Each record is formatted into a stack buffer and written with a single
 * write(2), so records from concurrent threads never interleave.
 */
#include "autoconfig.h"

#include "lib/log.h"

#include "lib/clock.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "eye";
static atomic_int log_level_current = LOG_LEVEL_INFO;

static const char *const log_level_names[] = {"error", "warn", "info", "debug"};

void log_init(const char *program, enum log_level level)
{
    if (program != NULL)
        log_program = program;
    atomic_store(&log_level_current, (int)level);
}

void log_set_level(enum log_level level)
{
    atomic_store(&log_level_current, (int)level);
}

bool log_level_parse(const char *text, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
        if (strcmp(text, log_level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

bool log_enabled(enum log_level level)
{
    return (int)level <= atomic_load(&log_level_current);
}

void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;

    char buf[2048];
    int64_t now_us = clock_real_us();
    time_t secs = (time_t)(now_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);

    /* Only the file's base name: build paths are noise in a log line. */
    const char *base = strrchr(file, '/');
    base = base != NULL ? base + 1 : file;

    int n = snprintf(buf, sizeof(buf),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s %s:%d: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(now_us % 1000000 / 1000), log_program, (long)getpid(), log_level_names[level],
                     base, line);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;

    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
    va_end(ap);
    if (m > 0)
        len += (size_t)m < sizeof(buf) - len ? (size_t)m : sizeof(buf) - len - 1;

    /* Keep one record on one line even when the message was cut short. */
    if (len >= sizeof(buf) - 1)
        len = sizeof(buf) - 2;
    buf[len++] = '\n';

    ssize_t w = write(STDERR_FILENO, buf, len);
    (void)w; /* nowhere left to report a failed log write */
}
