/*
 * router.h - where a stored message goes next, and what it changes here.
 *
 * Every message names its destinations in the signed Body.to. A node sends
 * a copy towards each destination along the directory tree, never back to
 * the neighbour it came from: in a tree that neighbour is already on the
 * way to any destination that lies behind it. A node that is itself a
 * destination delivers the message: incidents, advisories and receipts are
 * updated here. Every node that stores an incident's message keeps that
 * incident's record, so relays can show what passed through them.
 */
#ifndef RELAY_ROUTER_H
#define RELAY_ROUTER_H

#include <stdint.h>

#include "directory.h"
#include "envelope.h"
#include "store.h"

#define ROUTER_MAX_HOPS 64

/* router_next_hops - distinct neighbours to queue body for; from is the
 * neighbour it arrived from (NULL if authored here). *deliver is set when
 * self is among the destinations. Returns the number of hops written. */
size_t router_next_hops(const struct directory *d, const char *self,
                        const Relay__Body *body, const char *from,
                        const char *hops[ROUTER_MAX_HOPS], int *deliver);

/* router_apply - update incidents/advisories for a message just stored. */
int router_apply(struct store_txn *t, const char *self,
                 const struct env_msg *m, int deliver, int64_t now) RL_MUST_CHECK;

/* router_note_delivered - record on its incident that peer acknowledged
 * msg, if self authored msg. */
int router_note_delivered(struct store_txn *t, const char *self,
                          const uint8_t msg[16], const char *peer,
                          int64_t now) RL_MUST_CHECK;

/* router_wants_receipt - whether a destination acknowledges this kind with
 * a signed receipt to its author (incident traffic; not acks, advisories). */
int router_wants_receipt(const Relay__Body *body);

#endif
