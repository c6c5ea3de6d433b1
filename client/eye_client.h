/* eye_client.h - libeyeclient: send events to The Eye without losing them.
 *
 * A client owns a bounded in-memory queue and one background sender thread.
 * eye_client_track() turns an event into one JSON line (with a fresh UUID
 * event_id), appends it to the queue and returns: it never waits for the
 * network. The sender takes batches off the queue (by count, by bytes, or
 * when the oldest event has waited flush_interval_ms), gzips them, stamps
 * sent_at and POSTs them as NDJSON to BASE_URL/v1/events with
 * "Authorization: Bearer KEY" (see README, "Sending events").
 *
 * Delivery: a batch is retried, with the same event_ids, with exponential
 * backoff and jitter, honouring Retry-After; the server stores an event_id
 * once, so a retry after a lost answer is harmless. Network errors, 503
 * (database_unavailable, queue_full), 502, 504, any 5xx with Retry-After,
 * 408 and 429 mean "not now": the whole batch is retried for as long as it
 * takes. Any other 5xx (500 internal_error) is a server error, which one
 * event the server cannot take causes in every request it is in: after
 * server_error_attempts of them a batch is split in two and each half is
 * sent (a half starts its own count), down to the event at fault alone,
 * which is then rejected with code "server_error"; the rest is delivered,
 * in order. A 413 splits the batch in two at once. Any other 4xx rejects
 * the whole batch; per-event rejections in a 202 (or 422) answer reject
 * those events. Rejected events are reported to on_reject and never
 * retried. Nothing is retried after the client's deadline
 * (eye_client_free); what is left then is counted as dropped.
 *
 * Threads: every function may be called from any thread, except that
 * eye_client_free must be the last call on a client and must not run
 * concurrently with another call on it. Callbacks run on the sender
 * thread; they must not call eye_client_flush or eye_client_free, nor
 * eye_client_track on a client in block mode (the sender would wait for
 * itself until block_timeout_ms).
 *
 * Memory: the client copies everything it is given; the caller keeps
 * ownership of its arguments. At most queue_max_events events and
 * queue_max_bytes bytes wait in the queue, plus the one batch in flight.
 *
 * All exported symbols start with eye_client_ / EYE_CLIENT_. Link with
 * `pkg-config --cflags --libs eyeclient`.
 */
#ifndef EYE_CLIENT_H
#define EYE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Results of the functions below. */
enum eye_client_status {
    EYE_CLIENT_OK = 0,
    EYE_CLIENT_EINVAL = -1,    /* a bad argument: nothing was queued */
    EYE_CLIENT_ENOMEM = -2,    /* out of memory: nothing was queued */
    EYE_CLIENT_EFULL = -3,     /* the queue is full (drop mode): the event was dropped, counted */
    EYE_CLIENT_ETIMEDOUT = -4, /* the wait ran out (block mode, flush, free) */
    EYE_CLIENT_ECLOSED = -5,   /* the client is being freed */
};

/* What eye_client_track does when the queue is full. */
enum eye_client_full_policy {
    EYE_CLIENT_DROP_NEWEST = 0, /* refuse the new event at once (EYE_CLIENT_EFULL), count it */
    EYE_CLIENT_BLOCK = 1,       /* wait up to block_timeout_ms for room, then as DROP_NEWEST
                                   but returning EYE_CLIENT_ETIMEDOUT */
};

/* Length of an event_id as text, with its NUL ("xxxxxxxx-xxxx-4xxx-...") */
#define EYE_CLIENT_ID_SIZE 37

/* eye_client_track's timestamp for "now". */
#define EYE_CLIENT_NOW (-1)

/* One rejected event, as reported to on_reject. Every string lives until the
 * callback returns; copy what you keep. */
struct eye_client_rejection {
    const char *event_id; /* the event's UUID */
    const char *event;    /* the event as sent, one JSON object */
    int http_status;      /* 202 or 422 for a per-event rejection; else the request's status */
    const char *code;     /* stable code: per-event ("unknown_event_type", "wrong_type", ...),
                             the request's ("invalid_key", "body_too_large", ...), or
                             "server_error": this event alone got a server error
                             server_error_attempts times (http_status is the last one's) */
    const char *pointer;  /* JSON pointer of the offending value ("" when none) */
    const char *message;  /* the server's explanation ("" when none); for "server_error",
                             "HTTP 500 internal_error 3 times: " and the server's message */
};

typedef void (*eye_client_reject_fn)(const struct eye_client_rejection *r, void *user);

/* Log levels of eye_client_log_fn. */
enum eye_client_log_level { EYE_CLIENT_LOG_ERROR = 0, EYE_CLIENT_LOG_WARN, EYE_CLIENT_LOG_INFO };

/* Receives the client's diagnostics (retries, network errors). The library
 * writes nothing to stdout or stderr itself. */
typedef void (*eye_client_log_fn)(enum eye_client_log_level level, const char *message, void *user);

/* Options of eye_client_new. Fill with eye_client_options_init, then change
 * what you need. The layout of this struct is part of the ABI: adding a
 * member is an incompatible change of the library's version. */
struct eye_client_options {
    /* Events per request (100, at most 100000). A batch above the server's
     * ingest.max_events_per_request (500 by default) gets 413 and is sent
     * in halves. */
    size_t batch_max_events;
    /* Uncompressed body bytes per request (512 KiB, at least 1024; the
     * server's ingest.max_body_bytes is 1 MiB by default). */
    size_t batch_max_bytes;
    /* Longest wait of a queued event before it is sent (1000). */
    unsigned flush_interval_ms;
    /* Events, and bytes of events, waiting at most (10000; 16 MiB). */
    size_t queue_max_events;
    size_t queue_max_bytes;
    /* A full queue: EYE_CLIENT_DROP_NEWEST (the default) or
     * EYE_CLIENT_BLOCK, which waits up to block_timeout_ms (1000). */
    enum eye_client_full_policy on_full;
    unsigned block_timeout_ms;
    /* TCP + TLS connect (5000); one whole request (30000). */
    unsigned connect_timeout_ms;
    unsigned request_timeout_ms;
    /* Backoff: the first (200, at least 10) and the longest (30000, at
     * least retry_base_ms); a Retry-After may ask for more. */
    unsigned retry_base_ms;
    unsigned retry_max_ms;
    /* Server errors (a 5xx other than 502, 503, 504 and without
     * Retry-After; eye.fcgi's 500 internal_error) one batch may get before
     * it is split in two; an event alone is then rejected as
     * "server_error" (3). One such event in a batch of n then costs at
     * most K * (L + 1) + L requests, K this value, L = ceil(log2 n): 31
     * for n = 100. A server failing every request makes the client reject
     * everything after that many; 0 retries server errors, like a 503, for
     * as long as it takes (one poison event then blocks the client). */
    unsigned server_error_attempts;
    /* Nonzero: gzip request bodies (1). */
    int gzip;
    /* Callbacks (NULL: rejections are only counted, no diagnostics) and
     * the pointer passed to them. */
    eye_client_reject_fn on_reject;
    eye_client_log_fn on_log;
    void *user;
};

/* Counters since eye_client_new. tracked = sent + rejected + dropped +
 * pending at every moment. */
struct eye_client_stats {
    uint64_t tracked;  /* valid events given to eye_client_track* (dropped ones too) */
    uint64_t sent;     /* events the server accepted (202) */
    uint64_t rejected; /* events the server refused (reported to on_reject) */
    uint64_t dropped;  /* events refused on a full queue, or left over by eye_client_free */
    uint64_t retried;  /* requests sent again after a retryable failure */
    uint64_t pending;  /* events queued or in flight now */
};

typedef struct eye_client eye_client;

/* Fills opts with the defaults given above. */
void eye_client_options_init(struct eye_client_options *opts);

/* Creates a client for the server at base_url (e.g. "https://eye.example.com",
 * without "/v1/events") with the write key, and starts its sender thread.
 * opts may be NULL for the defaults; it is copied. Returns NULL on a bad
 * argument (an empty URL or key, an option out of range) or when memory or
 * the thread cannot be had. The caller owns the client and must release it
 * with eye_client_free. */
eye_client *eye_client_new(const char *base_url, const char *write_key,
                           const struct eye_client_options *opts);

/* Queues one event: session_id, category and name as the server expects
 * them, data_json the text of a JSON object (NULL means {}), timestamp_us
 * microseconds since the Unix epoch (UTC) or EYE_CLIENT_NOW. Gives it a new
 * UUID event_id. Returns EYE_CLIENT_OK when queued, EYE_CLIENT_EINVAL when an
 * argument is missing, data_json is not a JSON object or the event is larger
 * than batch_max_bytes, or EYE_CLIENT_EFULL / EYE_CLIENT_ETIMEDOUT /
 * EYE_CLIENT_ECLOSED / EYE_CLIENT_ENOMEM (the event was not queued; only
 * EFULL and ETIMEDOUT count it as dropped). */
int eye_client_track(eye_client *c, const char *session_id, const char *category, const char *name,
                     const char *data_json, int64_t timestamp_us);

/* Queues one event given whole as the text of a JSON object (for example a
 * line of NDJSON). Its event_id is kept when present, else a new one is
 * added; a sent_at member is replaced when the event is sent. When event_id
 * is not NULL, the id is written there (EYE_CLIENT_ID_SIZE bytes). Returns
 * what eye_client_track returns. */
int eye_client_track_event(eye_client *c, const char *event_json, char *event_id);

/* Sends everything tracked before the call and waits until the server has
 * answered for all of it (accepted or rejected), at most timeout_ms.
 * Returns EYE_CLIENT_OK, or EYE_CLIENT_ETIMEDOUT when something is still
 * pending (it stays queued and is retried). */
int eye_client_flush(eye_client *c, unsigned timeout_ms);

/* Copies the counters into out. */
void eye_client_stats(eye_client *c, struct eye_client_stats *out);

/* Flushes, stops the sender and frees the client, returning within about
 * timeout_ms even when the server is gone or hangs: a request in flight is
 * abandoned at the deadline, and every event not answered by then is
 * counted as dropped. When final is not NULL, the counters as they stand
 * at the end are copied there (pending is then 0). Returns EYE_CLIENT_OK
 * when nothing was dropped here, else EYE_CLIENT_ETIMEDOUT.
 * eye_client_free(NULL, ...) does nothing and returns EYE_CLIENT_OK. */
int eye_client_free(eye_client *c, unsigned timeout_ms, struct eye_client_stats *final);

/* A short English description of a status ("queue full"). Never NULL. */
const char *eye_client_strerror(int status);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *eye_client_version(void);

#ifdef __cplusplus
}
#endif

#endif
