/* batch.c - event_queue rows and their bulk insert (see batch.h).
 *
 * Column-wise array binding (MariaDB Connector/C bulk execution): for every
 * column an array of values (or of string pointers), an array of lengths
 * and an array of indicators (SQL NULL or not). One round trip inserts the
 * whole batch.
 */
#include "autoconfig.h"

#include "queue/batch.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/utf8.h"
#include "validators/timestamp.h"

/* The time columns whose text each row keeps. */
enum { QT_RECEIVED, QT_OCCURRED, QT_CLIENT, QT_SENT, QT_N };

struct queue_batch {
    size_t cap, count;
    MYSQL_BIND bind[QC_NCOLS];
    const char **str[QC_NCOLS];   /* string columns: pointer per row */
    long long *num[QC_NCOLS];     /* integer columns: value per row */
    unsigned long *len[QC_NCOLS]; /* string lengths per row */
    char *ind[QC_NCOLS];          /* STMT_INDICATOR_NONE / _NULL per row */
    char (*times)[QT_N][QUEUE_TIME_LEN + 1];
};

static bool queue_col_is_int(enum queue_col col)
{
    return col == QC_APPLICATION_ID || col == QC_CLOCK_SKEW_US || col == QC_SKEW_CORRECTED ||
           col == QC_PAYLOAD_TRUNCATED;
}

struct queue_batch *queue_batch_new(size_t cap)
{
    struct queue_batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    b->cap = cap;
    b->times = calloc(cap, sizeof(*b->times));
    if (b->times == NULL)
        goto fail;
    for (int c = 0; c < QC_NCOLS; c++) {
        b->ind[c] = calloc(cap, 1);
        if (b->ind[c] == NULL)
            goto fail;
        MYSQL_BIND *bd = &b->bind[c];
        bd->u.indicator = b->ind[c];
        if (queue_col_is_int(c)) {
            b->num[c] = calloc(cap, sizeof(long long));
            if (b->num[c] == NULL)
                goto fail;
            bd->buffer_type = MYSQL_TYPE_LONGLONG;
            bd->buffer = b->num[c];
        } else {
            b->str[c] = calloc(cap, sizeof(char *));
            b->len[c] = calloc(cap, sizeof(unsigned long));
            if (b->str[c] == NULL || b->len[c] == NULL)
                goto fail;
            bd->buffer_type = MYSQL_TYPE_STRING;
            bd->buffer = b->str[c];
            bd->length = b->len[c];
        }
    }
    return b;

fail:
    queue_batch_free(b);
    return NULL;
}

void queue_batch_free(struct queue_batch *b)
{
    if (b == NULL)
        return;
    for (int c = 0; c < QC_NCOLS; c++) {
        free(b->ind[c]);
        free(b->num[c]);
        free(b->str[c]);
        free(b->len[c]);
    }
    free(b->times);
    free(b);
}

void queue_batch_reset(struct queue_batch *b)
{
    b->count = 0;
}

size_t queue_batch_count(const struct queue_batch *b)
{
    return b->count;
}

size_t queue_batch_bytes(const struct queue_batch *b)
{
    size_t bytes = 0;
    for (int c = 0; c < QC_NCOLS; c++)
        if (!queue_col_is_int(c))
            for (size_t row = 0; row < b->count; row++)
                bytes += b->len[c][row];
    return bytes;
}

bool queue_batch_append(struct queue_batch *dst, const struct queue_batch *src)
{
    if (src->count > dst->cap - dst->count)
        return false;
    size_t at = dst->count, n = src->count;
    for (int c = 0; c < QC_NCOLS; c++) {
        memcpy(dst->ind[c] + at, src->ind[c], n);
        if (queue_col_is_int(c)) {
            memcpy(dst->num[c] + at, src->num[c], n * sizeof(*src->num[c]));
        } else {
            memcpy(dst->str[c] + at, src->str[c], n * sizeof(*src->str[c]));
            memcpy(dst->len[c] + at, src->len[c], n * sizeof(*src->len[c]));
        }
    }
    dst->count += n;
    return true;
}

int queue_batch_add(struct queue_batch *b)
{
    if (b->count >= b->cap)
        return -1;
    size_t row = b->count++;
    for (int c = 0; c < QC_NCOLS; c++) {
        if (queue_col_is_int(c)) {
            b->num[c][row] = 0;
            /* Flags are NOT NULL columns: 0 unless set. */
            b->ind[c][row] = (c == QC_SKEW_CORRECTED || c == QC_PAYLOAD_TRUNCATED)
                                 ? STMT_INDICATOR_NONE
                                 : STMT_INDICATOR_NULL;
        } else {
            b->str[c][row] = NULL;
            b->len[c][row] = 0;
            b->ind[c][row] = STMT_INDICATOR_NULL;
        }
    }
    return (int)row;
}

void queue_set_str(struct queue_batch *b, int row, enum queue_col col, const char *s, size_t len)
{
    if (s != NULL && (col == QC_ERROR_POINTER || col == QC_ERROR_MESSAGE))
        len = utf8_prefix_chars(s, len, QUEUE_TEXT_MAX_CHARS);
    b->str[col][row] = s;
    b->len[col][row] = (unsigned long)len;
    b->ind[col][row] = s != NULL ? STMT_INDICATOR_NONE : STMT_INDICATOR_NULL;
}

void queue_set_int(struct queue_batch *b, int row, enum queue_col col, long long v)
{
    b->num[col][row] = v;
    b->ind[col][row] = STMT_INDICATOR_NONE;
}

void queue_set_time(struct queue_batch *b, int row, enum queue_col col, int64_t us)
{
    int slot = col == QC_RECEIVED_AT        ? QT_RECEIVED
               : col == QC_OCCURRED_AT      ? QT_OCCURRED
               : col == QC_CLIENT_TIMESTAMP ? QT_CLIENT
                                            : QT_SENT;
    char *text = b->times[row][slot];
    timestamp_format(us, text);
    queue_set_str(b, row, col, text, QUEUE_TIME_LEN);
}

unsigned int queue_batch_execute(struct queue_batch *b, MYSQL_STMT *stmt)
{
    unsigned int rows = (unsigned int)b->count;
    if (mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &rows) != 0 ||
        mysql_stmt_bind_param(stmt, b->bind) != 0 || mysql_stmt_execute(stmt) != 0) {
        unsigned int err = mysql_stmt_errno(stmt);
        log_error("queue_insert (%u rows): %s (error %u)", rows, mysql_stmt_error(stmt), err);
        return err != 0 ? err : 2000; /* CR_UNKNOWN_ERROR */
    }
    return 0;
}
