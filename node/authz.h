/*
 * authz.h - who may send what (issue "Trust", item 2; RULES.md R-UP,
 * R-REVIEW, R-LATE-REVIEW, R-ADVISORY, R-ESC-*, R-DRILL), and freshness.
 *
 * Every node applies the same checks to every message before the writer
 * stores it, whether it came from a link or from its own operator, so a
 * message that breaks them is refused at the first node that sees it. The
 * signature has been verified by then: authz_check judges what the author
 * may do, not who the author is.
 */
#ifndef RELAY_AUTHZ_H
#define RELAY_AUTHZ_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

struct node;

/* authz_check - NULL when m's author may send m; else writes the reason
 * into why (len bytes) and returns why. Reads the store (incident records)
 * in its own read transaction when the rule needs the incident's author. */
const char *authz_check(struct node *n, const struct env_msg *m, char *why,
                        size_t len);

/* authz_fresh - NULL when m's creation time lies within the configured
 * window around now (max_age_s before, max_future_s after); else the reason
 * in why. A message already stored here is always fresh: a retransmission
 * of what was accepted before stays idempotent. Applied by the first node
 * only (the one the author's own link reaches): relays cannot make new ids,
 * and what a relay held through a long outage is not a replay. */
const char *authz_fresh(struct node *n, const struct env_msg *m, int64_t now,
                        char *why, size_t len);

#endif
