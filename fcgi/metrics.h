/* metrics.h - GET /metrics: Prometheus text exposition of The Eye.
 *
 * What is counted lives in the shared counter file (metrics_shm.h), so the
 * answer is the total of every eye.fcgi process whichever one serves the
 * scrape. Gauges come from state other modules own: the queue watcher's
 * last reading, the live rule set, /proc for each registered process. The
 * spool's figures come from the spool_status table, which eye-spool keeps
 * in the same transaction as the rows it moves (spool/status.c): one small
 * query per scrape, never a scan of events.
 */
#ifndef EYE_FCGI_METRICS_H
#define EYE_FCGI_METRICS_H

#include <stdbool.h>

#include "fcgi/metrics_shm.h"
#include "fcgi/request.h"
#include "fcgi/worker.h"
#include "lib/config.h"
#include "queue/row.h"
#include "validators/ruleset.h"

/* Returns the route label of a request (its path and method). */
enum metrics_route metrics_route_of_request(const struct request *r);

/* True when addr (REMOTE_ADDR, may be NULL) is inside one of the networks
 * of metrics.allow_networks. A malformed entry never matches (it is
 * logged once). */
bool metrics_network_allowed(const struct config *cfg, const char *addr);

/* Answers the scrape (200, text/plain; version=0.0.4). The caller has
 * checked access. */
void metrics_handle(struct worker *w, struct request *r);

/* Counts the outcome of each of a committed request's n events (rows[i]
 * is events[i]'s queue row: code NULL for accepted), labelled by
 * application and by event type when the type is in rules. */
void metrics_count_events(const struct ruleset *rules, struct json_object *const *events,
                          const struct queue_row *rows, size_t n, unsigned int application_id);

#endif
