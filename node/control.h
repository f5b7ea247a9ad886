/*
 * control.h - the operator API's table and dispatcher (node/control.c),
 * and what its write verbs share. The transport is node/http.c; the
 * protocol is docs/api.md.
 */
#ifndef RELAY_CONTROL_H
#define RELAY_CONTROL_H

#include "api.h"
#include "err.h"

struct work;
struct work_item;

/* control_commit - run wk through the writer for request r: with an
 * Idempotency-Key, answer (borrowed: the reply the verb will give on
 * success) is kept with the work, and a concurrent retry's first answer
 * replaces the verb's reply. Returns writer_run's result. */
int control_commit(struct api_req *r, struct work *wk, const json_t *answer) RL_MUST_CHECK;

/* control_commit_status - the HTTP status for a commit that failed with rc
 * (403, 400, 413, 409, 503 or 500). */
int control_commit_status(int rc);

/* control_commit_item - commit one message an operator made here (it,
 * sealed; freed here) with the answer rep (taken): rep, or the error reply
 * prefixed by what. */
json_t *control_commit_item(struct api_req *r, struct work_item *it, json_t *rep,
                            const char *what);

#endif
