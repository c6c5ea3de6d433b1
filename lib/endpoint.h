/* endpoint.h - ordered lists of database endpoints, and which one of them
 * this process uses now.
 *
 * database.hosts names the writer candidates in order of preference
 * ("10.0.0.1:3306,10.0.0.2:3306,[fd00::3]:3306"); database.read_hosts the
 * servers the read API may use (a Galera standby, an asynchronous replica).
 * Every thread of a process shares one "current" endpoint per role, so a
 * process never writes to two servers at once: the thread that finds the
 * current writer dead moves the whole process to the next one (the
 * generation counter goes up), and every other connection of that role is
 * closed and reopened on the new one before its next statement.
 *
 * Thread-safe; no allocation (lists are fixed-size values).
 */
#ifndef EYE_LIB_ENDPOINT_H
#define EYE_LIB_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENDPOINT_MAX      16
#define ENDPOINT_HOST_MAX 256

enum endpoint_role {
    ENDPOINT_WRITER, /* ingest, spool, admin: the one node that takes writes */
    ENDPOINT_READER, /* the read API's analyst connections */
    ENDPOINT_NROLES
};

struct endpoint {
    char host[ENDPOINT_HOST_MAX]; /* name or address, without IPv6 brackets */
    unsigned int port;
};

struct endpoint_list {
    struct endpoint v[ENDPOINT_MAX];
    size_t n;
};

/* Parses a comma-separated list of host[:port] (IPv6 as [addr]:port;
 * blanks around items ignored; a missing port is default_port). An empty
 * text gives n == 0. Returns false and writes the reason into err on a
 * malformed list (empty item, bad port, more than ENDPOINT_MAX items). */
bool endpoint_list_parse(const char *text, unsigned int default_port, struct endpoint_list *out,
                         char *err, size_t errlen);

/* Writes "host:port" (IPv6 in brackets) into buf. Returns buf. */
const char *endpoint_format(const struct endpoint *e, char *buf, size_t len);

/* The index this process uses now for role (0 until a failure moved it),
 * and its generation through *generation (may be NULL). */
size_t endpoint_current(enum endpoint_role role, uint64_t *generation);

/* The generation of role: it changes every time the process moves. */
uint64_t endpoint_generation(enum endpoint_role role);

/* Moves role from index `from` to index `to`, unless another thread moved
 * it already. Returns the index in use afterwards (to, or the other
 * thread's choice) and its generation through *generation (may be NULL).
 * Logs the move at warn level with the addresses from list. */
size_t endpoint_move(enum endpoint_role role, const struct endpoint_list *list, size_t from,
                     size_t to, uint64_t *generation);

/* True (once per interval) when the caller should look whether a more
 * preferred endpoint than the current one is back: the current index is
 * not 0 and interval_ms has passed since the last look. */
bool endpoint_failback_due(enum endpoint_role role, int64_t interval_ms);

#endif
