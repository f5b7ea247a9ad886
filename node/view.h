/*
 * view.h - what an operator reads (node/view.c): incident views with due
 * times, lists, one message, the node's status. Read-only.
 */
#ifndef RELAY_VIEW_H
#define RELAY_VIEW_H

#include <stdint.h>

#include "api.h"
#include "envelope.h"
#include "relay.pb-c.h"
#include "store.h"

struct node;

/* view_incident - incident id as JSON: its record, the report's title, due
 * times with time left or overdue, whether it is in this node's review
 * queue; with full, also the hops and the report itself. NULL when no
 * incident has that id. With keep, *keep is the record (caller frees with
 * relay__incident_record__free_unpacked). */
json_t *view_incident(struct node *n, struct store_txn *t, const uint8_t id[16], int full,
                      int64_t now, Relay__IncidentRecord **keep);

/* The verbs: GET /api/v1/incidents, /advisories, /drills (pages),
 * GET /api/v1/incidents/{id}, GET /api/v1/messages/{id}, GET /api/v1/status. */
/* view_message - stored message id, decoded into m (env_msg_free):
 * RL_OK, RL_ENOTFOUND, or the error. */
int view_message(struct store_txn *t, const uint8_t id[16], struct env_msg *m);

json_t *view_incidents_verb(struct api_req *r);
json_t *view_advisories_verb(struct api_req *r);
json_t *view_drills_verb(struct api_req *r);
json_t *view_drill_notices_verb(struct api_req *r); /* GET /api/v1/drill-notices */
json_t *view_incident_verb(struct api_req *r);
json_t *view_message_verb(struct api_req *r);
json_t *view_status_verb(struct api_req *r);

#endif
