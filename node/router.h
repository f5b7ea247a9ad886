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
 *
 * The policy (policy/, node/plan.c) acts here too, inside the writer's
 * transaction: each record carries its due times (armed in the store's dues
 * index where this node judges them), the national node works out the
 * escalations a level requires, the author's node sends the horizontal
 * notice, and a supervisor's drill record follows its agencies' answers.
 * New messages the policy calls for are not created here but listed in a
 * struct router_emits; the writer signs and stores them in the same
 * transaction, after the message that caused them.
 */
#ifndef RELAY_ROUTER_H
#define RELAY_ROUTER_H

#include <stdint.h>

#include "directory.h"
#include "envelope.h"
#include "store.h"

struct node;

/* A notice the policy wants this node to send. Its destinations are a heap
 * list with room for as many as it names (no cap, issue 9 item 2), freed by
 * router_emits_clear or router_emits_free. */
struct router_emit {
    int drill;
    size_t nto, capto;
    char (*to)[64];
    int kind;             /* Relay__NoticeKind */
    uint8_t incident[16];
    char text[512];
    char deadline[16];
    char rule[24];
    char target[24];
    int64_t due_us;
    uint32_t level;
};

struct router_emits {
    struct router_emit *v;
    size_t n, cap;
};

/* router_next_hops - distinct neighbours to queue body for; from is the
 * neighbour it arrived from (NULL if authored here). *deliver is set when
 * self is among the destinations. hops has room for d->n entries: no node
 * has more neighbours than the directory has nodes, so every neighbour
 * towards a destination is written, however many (issue 9 item 2). The
 * entries point into d. Returns the number of hops written. */
size_t router_next_hops(const struct directory *d, const char *self,
                        const Relay__Body *body, const char *from,
                        const char **hops, int *deliver);

/* router_apply - update incidents, advisories, drills and due times for a
 * message just stored; appends what the policy calls for to out. */
int router_apply(struct store_txn *t, struct node *n, const struct env_msg *m,
                 int deliver, int64_t now, struct router_emits *out) RL_MUST_CHECK;

/* router_priority - R-PRIORITY outbox byte for a stored message (after
 * router_apply, so that its incident's current level counts). */
int router_priority(struct store_txn *t, struct node *n, const Relay__Body *b,
                    uint8_t *prio) RL_MUST_CHECK;

/* router_note_held - record on msg's incident, at any node that keeps it,
 * a hold event: what is "refused by <peer>", "released" or "dropped",
 * who the peer or operator, reason the refusal or the operator's reason. */
int router_note_held(struct store_txn *t, struct node *n, const uint8_t msg[16],
                     const char *who, int64_t now, const char *what,
                     const char *reason) RL_MUST_CHECK;
/* router_note_delivered - record on its incident that peer acknowledged
 * msg, if self authored msg. */
int router_note_delivered(struct store_txn *t, struct node *n,
                          const uint8_t msg[16], const char *peer,
                          int64_t now) RL_MUST_CHECK;

/* router_fire - due times up to now that this node owns: mark each fired
 * and append its overdue notice to out (once: the mark commits with the
 * notice). With linkdown, also give the R-OFFLINE warning for reports due
 * within the policy's warn_before. *acted counts what was done. */
int router_fire(struct store_txn *t, struct node *n, int64_t now, int linkdown,
                struct router_emits *out, int *acted) RL_MUST_CHECK;

/* router_wants_receipt - whether a destination acknowledges this kind with
 * a signed receipt to its author (incident traffic and notices; not acks,
 * not advisories). */
int router_wants_receipt(const Relay__Body *body);

/* router_emits_clear - forget every notice (n = 0), keeping the array */
void router_emits_clear(struct router_emits *e);
/* router_emits_free - release the list */
void router_emits_free(struct router_emits *e);

#endif
