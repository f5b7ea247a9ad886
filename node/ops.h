/*
 * ops.h - housekeeping verbs (node/ops.c): held messages, waits, the
 * controlled clock, the store check.
 */
#ifndef RELAY_OPS_H
#define RELAY_OPS_H

#include "api.h"

json_t *ops_held_verb(struct api_req *r);         /* GET /api/v1/held */
json_t *ops_release_verb(struct api_req *r);      /* POST /api/v1/held/{id}/release */
json_t *ops_drop_verb(struct api_req *r);         /* POST /api/v1/held/{id}/drop */
json_t *ops_wait_message_verb(struct api_req *r); /* GET /api/v1/messages/{id}/wait */
json_t *ops_wait_outbox_verb(struct api_req *r);  /* GET /api/v1/outbox/wait */
json_t *ops_clock_verb(struct api_req *r);        /* POST /api/v1/clock */
json_t *ops_store_check_verb(struct api_req *r);  /* POST /api/v1/store/check */

#endif
