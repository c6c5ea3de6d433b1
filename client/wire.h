/* wire.h - what libeyeclient puts on the wire and reads back from it
 * (internal): one event as a JSON line, a batch as an NDJSON body, gzip,
 * and the server's answers (see README, "Sending events").
 *
 * No network and no locks here: the sender thread calls these on data it
 * owns, and unit tests call them directly. Functions returning bool log
 * nothing; false means out of memory or over a limit, as documented.
 */
#ifndef EYE_CLIENT_WIRE_H
#define EYE_CLIENT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/eye_client.h"

/* A growable buffer that never grows past max bytes. */
struct eyec_buf {
    char *data; /* owned; NULL until something is added */
    size_t len;
    size_t cap;
    size_t max;
};

/* Appends n bytes. Returns false, leaving the buffer as it was, when that
 * would pass b->max or memory runs out. */
bool eyec_buf_add(struct eyec_buf *b, const void *p, size_t n);

/* Frees the data; the buffer can be used again (max is kept). */
void eyec_buf_free(struct eyec_buf *b);

/* One tracked event: its JSON object on one line, as it will be sent but
 * without sent_at (added per attempt by eyec_body_build). */
struct eyec_event {
    struct eyec_event *next; /* queue link, owned by the queue */
    uint64_t seq;            /* tracking order, set by the queue */
    int64_t queued_us;       /* monotonic time it was queued, set by the queue */
    size_t len;              /* strlen(line) */
    char id[EYE_CLIENT_ID_SIZE];
    char line[]; /* "{...}", NUL-terminated, no newline */
};

/* Bytes sent_at adds to an event: ,"sent_at":"YYYY-MM-DDTHH:MM:SS.ffffffZ" */
#define EYEC_SENT_AT_BYTES 40

/* Formats microseconds since the epoch (0 up to the year 10000) as RFC
 * 3339 UTC with microseconds ("2021-01-01T09:15:27.243860Z"); out has room
 * for 28 bytes. */
void eyec_format_time(int64_t us, char out[28]);

/* Builds an event from its parts (see eye_client_track) with a new
 * event_id. Returns EYE_CLIENT_OK with *out set (the caller owns it, free
 * with eyec_event_free), EYE_CLIENT_EINVAL or EYE_CLIENT_ENOMEM. */
int eyec_event_new(const char *session_id, const char *category, const char *name,
                   const char *data_json, int64_t timestamp_us, struct eyec_event **out);

/* Builds an event from the text of a whole JSON object (see
 * eye_client_track_event): keeps its event_id or adds one, drops sent_at.
 * Returns as eyec_event_new. */
int eyec_event_parse(const char *event_json, struct eyec_event **out);

/* Frees an event; NULL is a no-op. */
void eyec_event_free(struct eyec_event *e);

/* Bytes the event takes in a body (line, sent_at, newline). */
size_t eyec_event_wire_bytes(const struct eyec_event *e);

/* How many events of the list starting at head go into one request: at most
 * max_events, and no more than fit in max_bytes of body, but at least one
 * when the list is not empty (an event larger than max_bytes is refused at
 * tracking, so it cannot be here). */
size_t eyec_batch_count(const struct eyec_event *head, size_t max_events, size_t max_bytes);

/* Writes the NDJSON body of events ev[0..n) with sent_at = sent_at_us into
 * out (emptied first). Returns false when out->max or memory is reached. */
bool eyec_body_build(struct eyec_event *const *ev, size_t n, int64_t sent_at_us,
                     struct eyec_buf *out);

/* Compresses in[0..len) as one gzip member into out (emptied first).
 * Returns false when zlib or memory fails, or out->max is reached. */
bool eyec_gzip(const char *in, size_t len, struct eyec_buf *out);

/* Called by eyec_response_rejections for each rejected event; the strings
 * live until it returns ("" when the answer lacks them). */
typedef void (*eyec_rejection_fn)(size_t index, const char *code, const char *pointer,
                                  const char *message, void *arg);

/* Reads the "errors" of a 202/422 answer to a batch of n events and calls
 * fn once for each event index in [0, n) it names (an index named twice,
 * or outside the batch, is passed over). Returns how many events were
 * reported: the rest were accepted. A body that is not the expected JSON
 * reports nothing and returns 0. */
size_t eyec_response_rejections(const char *body, size_t len, size_t n, eyec_rejection_fn fn,
                                void *arg);

/* The error of a request-level answer, {"error": {"code", "pointer",
 * "message"}}, copied (cut to fit) into the caller's buffers. Returns false,
 * writing empty strings, when the body is not of that shape. */
bool eyec_response_error(const char *body, size_t len, char *code, size_t code_cap, char *pointer,
                         size_t pointer_cap, char *message, size_t message_cap);

#endif
