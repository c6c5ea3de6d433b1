/* log.h - one-line log records on stderr.
 *
 * Records look like
 *   2026-11-28T15:30:00.123Z eye-spool[1234] error spool.c:88: message
 * Under lighttpd and Apache, stderr of a FastCGI program lands in the web
 * server's error log; under systemd it lands in the journal.
 */
#ifndef EYE_LOG_H
#define EYE_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the program name shown in every record (the string must outlive the
 * program, e.g. a literal) and the most verbose level printed. */
void log_init(const char *program, enum log_level level);

/* Changes the level after start-up (config loaded later than argv). */
void log_set_level(enum log_level level);

/* Parses "error", "warn", "info" or "debug". Returns false otherwise. */
bool log_level_parse(const char *text, enum log_level *out);

/* True when records of this level are printed (skip expensive formatting). */
bool log_enabled(enum log_level level);

/* Writes one record; use the macros below so file and line are filled in. */
void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_enabled(LOG_LEVEL_DEBUG))                                                          \
            log_write(LOG_LEVEL_DEBUG, __FILE__, __LINE__, __VA_ARGS__);                           \
    } while (0)

#endif
