/*
 * audit_verbs.h - the audit log's verbs (node/audit_verbs.c).
 */
#ifndef RELAY_AUDIT_VERBS_H
#define RELAY_AUDIT_VERBS_H

#include "api.h"

json_t *audit_verify_verb(struct api_req *r);  /* GET /api/v1/audit/verify */
json_t *audit_entries_verb(struct api_req *r); /* GET /api/v1/audit/entries?from=N */
json_t *audit_head_verb(struct api_req *r);    /* GET /api/v1/audit/heads/{child} */
json_t *audit_seen_verb(struct api_req *r);    /* POST /api/v1/seen */

#endif
