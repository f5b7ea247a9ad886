/*
 * held.h - messages a neighbour refused, held with the reason (node/held.c).
 *
 * Every function taking a store_txn runs in the writer's write transaction
 * (held_view also in a read one). Nothing here removes a
 * message from the store; held_drop only ends its hold.
 */
#ifndef RELAY_HELD_H
#define RELAY_HELD_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

#define HELD_VIEW_MAX 1000

struct node;

/* held_refused - peer refused outbox entry it (the caller removed it from
 * the outbox in t): record the hold, its audit entry and incident event.
 * transient: queued again after a backoff; else it waits for an operator. */
int held_refused(struct store_txn *t, struct node *n, const char *peer,
                 const struct outbox_item *it, const char *reason, int transient,
                 int64_t now) RL_MUST_CHECK;
/* held_forwarded - peer stored id: end its hold there, if it had one. */
int held_forwarded(struct store_txn *t, const char *peer, const uint8_t id[16]) RL_MUST_CHECK;
/* held_retry_due - queue again every transient hold due at now; adds the
 * number queued to *acted. */
int held_retry_due(struct store_txn *t, int64_t now, int *acted) RL_MUST_CHECK;
/* held_next_us - the earliest retry time of a waiting transient hold, 0 if
 * none. */
int held_next_us(struct store_txn *t, int64_t *next_us) RL_MUST_CHECK;
/* held_find - the number of holds of id (for peer, or every peer when
 * peer is NULL; only those not queued again with waiting_only) in *count. */
int held_find(struct store_txn *t, const uint8_t id[16], const char *peer, int waiting_only,
              int *count) RL_MUST_CHECK;
/* held_release - queue held message id again (for peer, or for every peer
 * that holds it when peer is NULL); *count holds released. */
int held_release(struct store_txn *t, struct node *n, const uint8_t id[16],
                 const char *peer, int64_t now, int *count) RL_MUST_CHECK;
/* held_drop - end the hold of id (peer or every peer) without sending it,
 * audited with reason; the message stays stored. *count holds dropped. */
int held_drop(struct store_txn *t, struct node *n, const uint8_t id[16],
              const char *peer, const char *reason, int64_t now, int *count) RL_MUST_CHECK;

/* held_view - a page of the held messages (in peer and id order: those
 * after the first skip, at most limit and HELD_VIEW_MAX) as a new JSON
 * array the caller owns, their number in all in *total; NULL on a store
 * error. */
json_t *held_view(struct store_txn *t, size_t skip, size_t limit, size_t *total);

#endif
