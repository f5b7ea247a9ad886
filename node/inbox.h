/*
 * inbox.h - what a node receives for its people to read and answer (issue
 * 11): advisories with their delivery and read receipts (R-ADVISORY), and
 * drill notices with their answer clock (R-DRILL). node/inbox.c.
 */
#ifndef RELAY_INBOX_H
#define RELAY_INBOX_H

#include "api.h"
#include "envelope.h"
#include "store.h"

struct node;

/* inbox_advisory_note - add to v (an advisory's JSON) when it was listed
 * here, when an operator here read it, and, at its author, how many of its
 * recipients have it and have read it; rows (or NULL) gets, at the author,
 * one {node, delivered_at, read_at} per recipient. */
void inbox_advisory_note(struct node *n, struct store_txn *t, const Relay__Body *b, json_t *v,
                         json_t *rows);

/* inbox_notice_note - add to v (a drill notice's JSON) when it arrived,
 * when its answer is due, and the drill report that answered it. */
void inbox_notice_note(struct node *n, struct store_txn *t, const struct env_msg *m, json_t *v);

json_t *inbox_advisory_verb(struct api_req *r); /* GET /api/v1/advisories/{id} */
json_t *inbox_read_verb(struct api_req *r);     /* POST /api/v1/advisories/{id}/read */

#endif
