/* row.c - a verdict to an event_queue row (see row.h). */
#include "autoconfig.h"

#include "queue/row.h"

#include <stdio.h>
#include <string.h>

bool queue_row_judge(struct queue_row *row, const struct config *cfg)
{
    const struct event_verdict *v = row->verdict;
    if (v != NULL && *v->event_id != '\0')
        row->event_id = v->event_id;
    if (row->event_id == NULL || *row->event_id == '\0') {
        uuid4_generate(row->id_buf);
        row->event_id = row->id_buf;
    }
    if (row->code != NULL)
        return false;
    if (v == NULL || !v->ok) {
        if (v != NULL && v->error_count > 0) {
            row->code = v->errors[0].code;
            row->pointer = v->errors[0].pointer;
            row->message = v->errors[0].message;
        } else {
            row->code = "internal_error";
            row->pointer = "";
            row->message = "out of memory while validating";
        }
        return false;
    }
    row->data = json_object_to_json_string_length(
        v->data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &row->data_len);
    if (row->data == NULL) {
        row->code = "internal_error";
        row->pointer = "";
        row->message = "out of memory while storing";
        return false;
    }
    if (row->data_len > (size_t)cfg->ingest.max_event_bytes) {
        snprintf(row->message_buf, sizeof(row->message_buf), "data is %zu bytes; at most %lld",
                 row->data_len, (long long)cfg->ingest.max_event_bytes);
        row->code = "event_too_large";
        row->pointer = "/data";
        row->message = row->message_buf;
        row->data = NULL;
        return false;
    }
    return true;
}

bool queue_row_add(struct queue_batch *b, const struct queue_row *row, const struct config *cfg,
                   const char *payload, size_t payload_len, bool truncated)
{
    int r = queue_batch_add(b);
    if (r < 0)
        return false;
    const char *version = row->rules_version;
    queue_set_int(b, r, QC_APPLICATION_ID, row->application_id);
    queue_set_time(b, r, QC_RECEIVED_AT, row->received_us);
    queue_set_str(b, r, QC_RULES_VERSION, version, strlen(version));
    if (row->event_id != NULL && *row->event_id != '\0')
        queue_set_str(b, r, QC_EVENT_ID, row->event_id, strlen(row->event_id));
    if (row->user_agent != NULL && *row->user_agent != '\0')
        queue_set_str(b, r, QC_USER_AGENT, row->user_agent, strlen(row->user_agent));
    if (row->client_ip != NULL && *row->client_ip != '\0')
        queue_set_str(b, r, QC_CLIENT_IP, row->client_ip, strlen(row->client_ip));
    const struct event_verdict *v = row->verdict;
    if (v != NULL) {
        if (v->session_id != NULL)
            queue_set_str(b, r, QC_SESSION_KEY, v->session_id, strlen(v->session_id));
        if (v->category != NULL)
            queue_set_str(b, r, QC_CATEGORY, v->category, strlen(v->category));
        if (v->name != NULL)
            queue_set_str(b, r, QC_NAME, v->name, strlen(v->name));
        if (v->has_timestamp) {
            int64_t occurred = v->timestamp_us;
            queue_set_time(b, r, QC_CLIENT_TIMESTAMP, v->timestamp_us);
            if (v->has_sent_at) {
                int64_t skew = row->received_us - v->sent_at_us;
                queue_set_time(b, r, QC_SENT_AT, v->sent_at_us);
                queue_set_int(b, r, QC_CLOCK_SKEW_US, skew);
                if (cfg->ingest.correct_clock_skew) {
                    occurred += skew;
                    queue_set_int(b, r, QC_SKEW_CORRECTED, 1);
                }
            }
            queue_set_time(b, r, QC_OCCURRED_AT, occurred);
        }
    }
    if (row->code == NULL) {
        queue_set_str(b, r, QC_DATA, row->data, row->data_len);
        return true;
    }
    const char *pointer = row->pointer != NULL ? row->pointer : "";
    const char *message = row->message != NULL ? row->message : "";
    queue_set_str(b, r, QC_ERROR_CODE, row->code, strlen(row->code));
    queue_set_str(b, r, QC_ERROR_POINTER, pointer, strlen(pointer));
    queue_set_str(b, r, QC_ERROR_MESSAGE, message, strlen(message));
    if (payload != NULL) {
        queue_set_str(b, r, QC_PAYLOAD, payload, payload_len);
        queue_set_int(b, r, QC_PAYLOAD_TRUNCATED, truncated);
    }
    return true;
}
