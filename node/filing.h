/*
 * filing.h - the verbs that file a message signed by this node
 * (node/filing.c). Each takes its form as the JSON body; the incident ones
 * take the incident from the path.
 */
#ifndef RELAY_FILING_H
#define RELAY_FILING_H

#include "api.h"

json_t *filing_report_verb(struct api_req *r);   /* POST /api/v1/reports[?again=1] */
json_t *filing_update_verb(struct api_req *r);   /* POST .../incidents/{id}/updates */
json_t *filing_level_verb(struct api_req *r);    /* POST .../{id}/level-requests */
json_t *filing_review_verb(struct api_req *r);   /* POST .../{id}/reviews */
json_t *filing_close_verb(struct api_req *r);    /* POST .../{id}/closure */
json_t *filing_withdraw_verb(struct api_req *r); /* POST .../{id}/withdrawal */
json_t *filing_support_verb(struct api_req *r);  /* POST .../{id}/support */
json_t *filing_advisory_verb(struct api_req *r); /* POST /api/v1/advisories */
json_t *filing_advise_verb(struct api_req *r);   /* POST /api/v1/advise (nothing stored) */

#endif
