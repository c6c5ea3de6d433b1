/* router.h - which handler answers a request: method, path, key scope. */
#ifndef EYE_FCGI_ROUTER_H
#define EYE_FCGI_ROUTER_H

#include "fcgi/request.h"
#include "fcgi/worker.h"

/* Answers the request (always: every path through it replies once). */
void router_dispatch(struct worker *w, struct request *r);

#endif
