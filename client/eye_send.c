/* eye_send.c - eye-send: send NDJSON events to The Eye through libeyeclient.
 *
 * Reads one JSON event object per line from each file named (standard
 * input when none, or "-"), hands each to eye_client_track_event, and at
 * the end waits for the server's answers (at most --timeout seconds) and
 * prints a summary: sent, rejected with their reasons, dropped, and lines
 * that were not events. For backfills, and for operators trying a rule.
 *
 * The queue blocks rather than drops: a large file is read as fast as the
 * server takes it. Exit codes: 0 everything sent, 1 anything rejected,
 * dropped, invalid or unreadable, 2 usage.
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/eye_client.h"
#include "lib/strparse.h"

/* Distinct rejection reasons (code + pointer) counted; more are "other". */
#define SEND_REASONS_MAX 64
/* Characters of a rejected event shown on stderr. */
#define SEND_SHOW_MAX 160

struct send_reason {
    char code[64];
    char pointer[128];
    unsigned long count;
};

/* Written by the sender thread (on_reject), read after eye_client_free,
 * which joins that thread: no lock is needed. */
struct send_state {
    struct send_reason reasons[SEND_REASONS_MAX];
    size_t nreasons;
    unsigned long other;
    bool quiet;
};

static void send_usage(FILE *out)
{
    fprintf(out, "usage: eye-send [OPTIONS] [FILE...]\n\n"
                 "Sends events, one JSON object per line (NDJSON), from each FILE (standard\n"
                 "input when none is given, or for \"-\") to The Eye, and prints a summary.\n\n"
                 "  -u, --url URL          base URL of The Eye, e.g. http://127.0.0.1:8080\n"
                 "                         (default: $EYE_URL)\n"
                 "  -k, --key KEY          write key (default: $EYE_KEY)\n"
                 "  -b, --batch-size N     events per request (default 100)\n"
                 "  -t, --timeout SECONDS  longest wait for the server at the end (default 60)\n"
                 "      --no-gzip          send request bodies uncompressed\n"
                 "      --server-error-attempts N\n"
                 "                         server errors (HTTP 500) a batch may get before it\n"
                 "                         is split, and an event alone is rejected as\n"
                 "                         server_error (default 3; 0: retry them forever)\n"
                 "  -q, --quiet            do not print each rejected event\n"
                 "  -v, --verbose          print retries and network errors\n"
                 "  -h, --help             print this help\n\n"
                 "Exit codes: 0 every event sent, 1 an event was rejected or dropped, a line\n"
                 "was not a JSON object, or a file could not be read; 2 usage.\n");
}

static void send_on_reject(const struct eye_client_rejection *r, void *user)
{
    struct send_state *st = user;
    if (!st->quiet)
        fprintf(stderr, "eye-send: rejected (HTTP %d) %s%s%s: %s: %.*s%s\n", r->http_status,
                r->code, *r->pointer ? " at " : "", r->pointer, r->message, SEND_SHOW_MAX, r->event,
                strlen(r->event) > SEND_SHOW_MAX ? "..." : "");
    for (size_t i = 0; i < st->nreasons; i++) {
        struct send_reason *x = &st->reasons[i];
        if (strcmp(x->code, r->code) == 0 && strcmp(x->pointer, r->pointer) == 0) {
            x->count++;
            return;
        }
    }
    if (st->nreasons == SEND_REASONS_MAX) {
        st->other++;
        return;
    }
    struct send_reason *x = &st->reasons[st->nreasons++];
    snprintf(x->code, sizeof(x->code), "%s", r->code);
    snprintf(x->pointer, sizeof(x->pointer), "%s", r->pointer);
    x->count = 1;
}

static void send_on_log(enum eye_client_log_level level, const char *message, void *user)
{
    fprintf(stderr, "eye-send: %s\n", message);
}

/* Feeds every line of f to the client. Returns false when reading failed. */
static bool send_file(eye_client *c, FILE *f, const char *name, unsigned long *invalid,
                      unsigned long *lines)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long number = 0;
    while ((len = getline(&line, &cap, f)) != -1) {
        number++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue; /* blank lines are no events */
        (*lines)++;
        int rc = eye_client_track_event(c, line, NULL);
        if (rc == EYE_CLIENT_EINVAL) {
            fprintf(stderr, "eye-send: %s:%lu: not sent: not one JSON object (or too large)\n",
                    name, number);
            (*invalid)++;
        } else if (rc != EYE_CLIENT_OK && rc != EYE_CLIENT_ETIMEDOUT && rc != EYE_CLIENT_EFULL) {
            /* Dropped events are counted by the client; anything else is
             * reported here. */
            fprintf(stderr, "eye-send: %s:%lu: not sent: %s\n", name, number,
                    eye_client_strerror(rc));
            (*invalid)++;
        }
    }
    bool ok = !ferror(f);
    if (!ok)
        fprintf(stderr, "eye-send: %s: %s\n", name, strerror(errno));
    free(line);
    return ok;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"key", required_argument, NULL, 'k'},
        {"batch-size", required_argument, NULL, 'b'},
        {"timeout", required_argument, NULL, 't'},
        {"no-gzip", no_argument, NULL, 'z'},
        {"server-error-attempts", required_argument, NULL, 'e'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *url = getenv("EYE_URL"), *key = getenv("EYE_KEY");
    int batch = 100, timeout_s = 60, server_error_attempts = -1;
    bool gzip = true, verbose = false;
    static struct send_state st;
    int opt;
    while ((opt = getopt_long(argc, argv, "u:k:b:t:qvh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            url = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'b':
            if (!strparse_int(optarg, 1, 100000, &batch)) {
                fprintf(stderr, "eye-send: --batch-size takes a number from 1 to 100000\n");
                return 2;
            }
            break;
        case 't':
            if (!strparse_int(optarg, 0, 86400, &timeout_s)) {
                fprintf(stderr, "eye-send: --timeout takes seconds from 0 to 86400\n");
                return 2;
            }
            break;
        case 'z':
            gzip = false;
            break;
        case 'e':
            if (!strparse_int(optarg, 0, 1000, &server_error_attempts)) {
                fprintf(stderr, "eye-send: --server-error-attempts takes a number from 0 to "
                                "1000\n");
                return 2;
            }
            break;
        case 'q':
            st.quiet = true;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            send_usage(stdout);
            return 0;
        default:
            send_usage(stderr);
            return 2;
        }
    }
    if (url == NULL || *url == '\0' || key == NULL || *key == '\0') {
        fprintf(stderr, "eye-send: give the server's URL and a write key (--url and --key, or "
                        "EYE_URL and EYE_KEY)\n");
        return 2;
    }

    struct eye_client_options o;
    eye_client_options_init(&o);
    o.batch_max_events = (size_t)batch;
    o.gzip = gzip;
    if (server_error_attempts >= 0)
        o.server_error_attempts = (unsigned)server_error_attempts;
    o.on_full = EYE_CLIENT_BLOCK;
    o.block_timeout_ms = (unsigned)timeout_s * 1000;
    o.on_reject = send_on_reject;
    o.on_log = verbose ? send_on_log : NULL;
    o.user = &st;
    eye_client *c = eye_client_new(url, key, &o);
    if (c == NULL) {
        fprintf(stderr, "eye-send: cannot use %s (an http:// or https:// URL is needed)\n", url);
        return 2;
    }

    unsigned long invalid = 0, lines = 0, unreadable = 0;
    int nfiles = argc - optind;
    for (int i = 0; i < (nfiles > 0 ? nfiles : 1); i++) {
        const char *name = nfiles > 0 ? argv[optind + i] : "-";
        bool is_stdin = strcmp(name, "-") == 0;
        FILE *f = is_stdin ? stdin : fopen(name, "r");
        if (f == NULL) {
            fprintf(stderr, "eye-send: %s: %s\n", name, strerror(errno));
            unreadable++;
            continue;
        }
        if (!send_file(c, f, is_stdin ? "(stdin)" : name, &invalid, &lines))
            unreadable++;
        if (!is_stdin)
            fclose(f);
    }

    struct eye_client_stats s;
    eye_client_free(c, (unsigned)timeout_s * 1000, &s);

    printf("events read: %lu\nsent:        %llu\nrejected:    %llu\n", lines,
           (unsigned long long)s.sent, (unsigned long long)s.rejected);
    for (size_t i = 0; i < st.nreasons; i++)
        printf("  %-6lu %s%s%s\n", st.reasons[i].count, st.reasons[i].code,
               *st.reasons[i].pointer ? " at " : "", st.reasons[i].pointer);
    if (st.other > 0)
        printf("  %-6lu (other reasons)\n", st.other);
    printf("dropped:     %llu\ninvalid:     %lu\n", (unsigned long long)s.dropped, invalid);
    if (unreadable > 0)
        printf("unreadable:  %lu\n", unreadable);
    return s.rejected > 0 || s.dropped > 0 || invalid > 0 || unreadable > 0 ? 1 : 0;
}
