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
 *           "to":[node ids]}; a report also gets "advised_level",
 *           "below_advised" and "dues" (not kept for a replayed answer)
 *   {"verb":"list","what":"incidents"|"advisories"|"drills",
 *    "filter":"overdue"|"queue" (incidents), "limit":1..1000 (100),
 *    "cursor":C (the "next" of the page before)}
 *       -> {"ok":true,"incidents":[incident view...],"counts":{"real",
 *          "drill"} (this page)} or "advisories":[message view...] or
 *          "drills":[...]; with "total" (records of that kind held here),
 *          "scanned" (records read), "next" (cursor of the following page,
 *          null after the last), "unreadable" (records that could not be
 *          read, never left out silently) and "unreadable_ids" (the first
 *          16). Pages go in id order (ids are random: not by time); a page
 *          reads at most 5000 records, so a filtered page may be short or
 *          empty and still have a "next". Nothing grows with the store.
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
 *       or ok:false "timed out" after timeout_ms (default 10000, taken
 *       within 0..24 h).
 *   {"verb":"clock","set":ISO} | {"verb":"clock","advance_s":N}
 *       moves the controlled clock (only with "clock = manual:..." in the
 *       config) -> {"ok":true,"now":ISO}
 *   {"verb":"audit-verify"}
 *       -> {"ok":true,"entries":N,"intact":bool,"first_bad":SEQ|null}
 *   {"verb":"held"}
 *       -> {"ok":true,"held":[{id,peer,reason,first,last,transient,attempts,
 *          state,next_retry?}],"total":N}: messages a neighbour refused
 *          (node/held.c), the first 1000 of total
 *   {"verb":"release","id":HEX,"peer":P?}
 *       queue a held message again -> {"ok":true,"released":N}
 *   {"verb":"drop","id":HEX,"reason":TEXT,"peer":P?}
 *       end a hold without sending (audited; the message stays stored)
 *       -> {"ok":true,"dropped":N}
 * A submit reply carries "warning" when this node's clock disagrees with
 * its parent's by more than max_skew_s; status links carry "held",
 * "clock_skew_ms" (parent minus us) and "clock_warning".
 *
 * WRITES ARE IDEMPOTENT (issue 8 finding 7). A write request (submit,
 * drill, dir-change, and the verbs listed with them in control.c
 * ctl_writes) may carry "request_id": 8..128 of [0-9a-fA-F_-] (relayctl
 * sends 16 random bytes in hex). The first answer is kept with the work in
 * the same write transaction, for 7 days; the same id again gets that
 * answer with "replayed":true (and "first_at") and nothing new is stored.
 * A report whose form (every field but reported_at) equals one filed here
 * in the last 24 hours is refused: "same form as incident X filed at T;
 * use --again to file it again", unless the submit has "again":true.
 *
 * LIMITS. A request longer than 2 * max_message_bytes + 4096 is answered
 * "request too large (N bytes, limit M)" and logged once (requests up to
 * 4 MiB past it are read to say so; longer ones are cut off by nng).
 * Every time field of a form lies in [2000-01-01, now + max_future_s]
 * (node/form.h).
 */
#ifndef RELAY_CONTROL_H
#define RELAY_CONTROL_H

#include "err.h"

/* The verbs that write, and so take a "request_id" (see WRITES ARE
 * IDEMPOTENT): one list for the node and relayctl. */
#define CONTROL_WRITE_VERBS {"submit", "drill", "dir-change", "release", "drop", NULL}

struct node;

/* control_start - listen on url and serve with nworkers threads. */
int control_start(struct node *n, const char *url, int nworkers) RL_MUST_CHECK;
/* control_stop - close the socket and join the workers. */
void control_stop(struct node *n);

#endif
