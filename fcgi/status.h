/* status.h - the monitoring page: GET /status (HTML, CSS, JavaScript
 * compiled into eye.fcgi, so there is nothing to install or build) and its
 * data, GET /v1/status/summary?window=1h|24h|7d (JSON, read key).
 *
 * The numbers come from the rollups (event_counts_minute), spool_status,
 * the queue watcher and the live rule set: a page view costs a few indexed
 * range reads of the rollups, never a scan of events. Recent failing
 * payloads come from the read API (/v1/errors).
 */
#ifndef EYE_FCGI_STATUS_H
#define EYE_FCGI_STATUS_H

#include <stdbool.h>

#include "fcgi/request.h"
#include "fcgi/worker.h"

/* True when path is one of the page's files (served without a key: they
 * hold no data). */
bool status_is_asset(const char *path);

/* Sends the file of path (200), or 404. */
void status_asset(struct request *r);

/* Answers /v1/status/summary (the caller checked the read key). */
void status_summary(struct worker *w, struct request *r);

#endif
