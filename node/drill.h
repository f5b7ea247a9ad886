/*
 * drill.h - R-DRILL drills (node/drill.c): starting one, following its
 * answers, its timing record.
 */
#ifndef RELAY_DRILL_H
#define RELAY_DRILL_H

#include <stdint.h>

#include "api.h"
#include "relay.pb-c.h"
#include "store.h"

struct node;

/* drill_started - in the writer: a drill notice this node sent joins its
 * drill's record. */
int drill_started(struct store_txn *t, struct node *n, const Relay__Body *b) RL_MUST_CHECK;

/* drill_update - in the writer: an answer to drill notice `notice` came
 * back at `at`; what is 'A' (notice received), 'R' (report, incident
 * given), 'U' (response update) or 'C' (closure). RL_OK when the notice is
 * not one of a drill started here. */
int drill_update(struct store_txn *t, const uint8_t notice[16], const uint8_t *incident,
                 int64_t at, int what) RL_MUST_CHECK;

/* drill_notice_check - NULL when b (a drill report) answers a drill notice
 * sent to this node; else why not. */
const char *drill_notice_check(struct node *n, const Relay__Body *b);

/* drill_json - a drill's timing record with pass/fail/pending per scenario. */
json_t *drill_json(const Relay__DrillRecord *d, int64_t now);

/* The verbs: POST /api/v1/drills (start), GET /api/v1/drills/{id}. */
json_t *drill_start_verb(struct api_req *r);
json_t *drill_record_verb(struct api_req *r);

#endif
