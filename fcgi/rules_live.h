/* rules_live.h - the rule set in force in this process, and its hot reload.
 *
 * One compiled rule set is live at a time. Workers take a reference for the
 * length of a request (rules_live_acquire / rules_live_release), so a set
 * being replaced stays valid until its last reader lets go. A background
 * thread checks the rules folder every rules.reload_interval_ms with a few
 * stat(2) calls (no reading, no parsing); when something changed it loads
 * and compiles the whole folder aside and swaps the new set in only if it
 * loaded cleanly. A broken folder is logged, problem by problem, and the
 * previous set stays in force.
 */
#ifndef EYE_FCGI_RULES_LIVE_H
#define EYE_FCGI_RULES_LIVE_H

#include <stdbool.h>

#include "lib/config.h"
#include "validators/ruleset.h"

struct rules_ref; /* a reader's hold on one set */

/* Loads the folder cfg->rules.dir and starts the reload thread. Returns
 * false (problems logged) when the first load fails: the process should not
 * serve without rules. */
bool rules_live_start(const struct config *cfg);

/* Stops the reload thread and drops the live set (after every reader has
 * released its reference). */
void rules_live_stop(void);

/* Takes a reference on the live set; never NULL after a successful start.
 * *set receives the set, valid until rules_live_release(ref). */
struct rules_ref *rules_live_acquire(const struct ruleset **set);

/* Drops a reference taken by rules_live_acquire (NULL-safe). */
void rules_live_release(struct rules_ref *ref);

#endif
