/*
 * control.h - the node's control socket (nng req/rep over ipc://).
 *
 * PROTOCOL. One JSON object per request, one per reply. Every reply has
 * "ok": true, or "ok": false and "error": a text naming what was wrong.
 *
 *   {"verb":"submit","kind":K,"args":{...}}
 *       K is report, update, request-level, review, close, withdraw or
 *       advisory; args is the form (node/form.h). The node validates it,
 *       signs it as itself, and replies only after the write transaction
 *       that stores and queues it has committed:
 *       -> {"ok":true,"id":HEX,"incident":HEX (when the message has one),
 *           "to":[node ids]}
 *   {"verb":"list","what":"incidents"|"advisories"}
 *       -> {"ok":true,"incidents":[incident view...]} or
 *          {"ok":true,"advisories":[message view...]}
 *   {"verb":"show","id":HEX}
 *       an incident id -> {"ok":true,"incident":{view...,"hops":[{"node",
 *       "at"}...] (the path the report took to reach this node),
 *       "messages":[message view...]}}; any other message id ->
 *       {"ok":true,"message":{view...,"hops":[...]}}
 *   {"verb":"status"}
 *       -> {"ok":true,"node":ID,"tier":T,"clock":"system"|"manual",
 *           "now":ISO,"counts":{"messages","incidents","advisories",
 *           "audit","outbox"},"links":[{"peer":ID,"direction":"up"|"down",
 *           "connected":bool,"outbox":N,"last_ack":ISO|null,"acked":N}]}
 *   {"verb":"wait","id":HEX,"timeout_ms":N}
 *   {"verb":"wait","outbox_empty":true,"timeout_ms":N}
 *       replies when the message is stored here / every outbox is empty,
 *       or ok:false "timed out" after timeout_ms (default 10000).
 *   {"verb":"clock","set":ISO} | {"verb":"clock","advance_s":N}
 *       moves the controlled clock (only with "clock = manual:..." in the
 *       config) -> {"ok":true,"now":ISO}
 *   {"verb":"audit-verify"}
 *       -> {"ok":true,"entries":N,"intact":bool,"first_bad":SEQ|null}
 *   {"verb":"held"}
 *       -> {"ok":true,"held":[{id,peer,reason,first,last,transient,attempts,
 *          state,next_retry?}]}: messages a neighbour refused (node/held.c)
 *   {"verb":"release","id":HEX,"peer":P?}
 *       queue a held message again -> {"ok":true,"released":N}
 *   {"verb":"drop","id":HEX,"reason":TEXT,"peer":P?}
 *       end a hold without sending (audited; the message stays stored)
 *       -> {"ok":true,"dropped":N}
 * A submit reply carries "warning" when this node's clock disagrees with
 * its parent's by more than max_skew_s; status links carry "held",
 * "clock_skew_ms" (parent minus us) and "clock_warning".
 */
#ifndef RELAY_CONTROL_H
#define RELAY_CONTROL_H

#include "err.h"

struct node;

/* control_start - listen on url and serve with nworkers threads. */
int control_start(struct node *n, const char *url, int nworkers) RL_MUST_CHECK;
/* control_stop - close the socket and join the workers. */
void control_stop(struct node *n);

#endif
