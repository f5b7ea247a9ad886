/*
 * inbox.c - what a node receives for its people (issue 11).
 *
 * ADVISORIES (R-ADVISORY). A recipient acknowledges an advisory when it
 * stores it (router_wants_receipt) and again, with "read" set, when an
 * operator there marks it read (POST /api/v1/advisories/{id}/read): both
 * are signed Acknowledgements to the author, carried like any message.
 * The author records each in its receipts db (node/router.c); the
 * recipient records its own read time there too. GET
 * /api/v1/advisories/{id} lists, at the author, every recipient named in
 * the advisory with when it was delivered and read; receipts from nodes
 * the advisory was not addressed to are never shown.
 *
 * DRILL NOTICES (R-DRILL). A drill notice delivered here is indexed in
 * drill_notices (as the supervisor indexes those it sends); its answer is
 * due policy drill_window after it was sent, and the drill report that
 * answers it is recorded as its "read" time in receipts (router.c).
 *
 * SECURITY: marking read needs only the viewer role (reading is what
 * viewers do); it is audited with the operator's name like every write.
 * DIAGNOSTICS: 404 for an advisory not delivered here; 503 when the store
 * cannot be read or written.
 */
#include "inbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control.h"
#include "form.h"
#include "node.h"
#include "view.h"
#include "writer.h"

/* inbox_advisory_note - received/read here, and the author's counts; with
 * rows, also one {node, delivered_at, read_at} per recipient (one pass) */
void
inbox_advisory_note(struct node *n, struct store_txn *t, const Relay__Body *b, json_t *v,
                    json_t *rows)
{
    int64_t at = 0, d, rd;
    json_int_t delivered = 0, read = 0;

    if (store_advisory_at(t, b->id.data, &at) != RL_OK)
        at = 0;
    json_object_set_new(v, "received_at", api_time(at));
    if (store_receipt_get(t, b->id.data, n->self->id, &d, &rd) != RL_OK)
        rd = 0;
    json_object_set_new(v, "read_at", api_time(rd));
    if (strcmp(b->author, n->self->id) != 0)
        return;
    for (size_t i = 0; i < b->n_to; i++) {
        if (store_receipt_get(t, b->id.data, b->to[i], &d, &rd) != RL_OK)
            d = rd = 0;
        delivered += d != 0 || rd != 0;
        read += rd != 0;
        if (rows) /* a read receipt says it was delivered too */
            json_array_append_new(rows, json_pack("{s:s,s:o,s:o}", "node", b->to[i],
                                                  "delivered_at", api_time(d ? d : rd),
                                                  "read_at", api_time(rd)));
    }
    json_object_set_new(v, "recipients", json_integer((json_int_t)b->n_to));
    json_object_set_new(v, "delivered", json_integer(delivered));
    json_object_set_new(v, "read", json_integer(read));
}

/* inbox_notice_note - arrival (this node's hop), due time and answer of
 * a drill notice */
void
inbox_notice_note(struct node *n, struct store_txn *t, const struct env_msg *m, json_t *v)
{
    const Relay__Body *b = m->body;
    int64_t got = 0, d, answered;

    for (size_t i = 0; i < m->env->n_hops; i++)
        if (strcmp(m->env->hops[i]->node, n->self->id) == 0)
            got = m->env->hops[i]->received_us;
    json_object_set_new(v, "received_at", api_time(got));
    json_object_set_new(v, "due", api_time(b->created_us + n->pol.drill_window_us));
    if (store_receipt_get(t, b->id.data, n->self->id, &d, &answered) != RL_OK)
        answered = 0;
    json_object_set_new(v, "answered_at", api_time(answered));
}

/* inbox_advisory - advisory id as stored here, decoded: 0, or the error */
static json_t *
inbox_advisory(struct api_req *r, struct store_txn *t, uint8_t id[16], struct env_msg *m)
{
    int rc;

    if (api_id(r, "id", id) != 0)
        return api_error(r, 400, "id", "id: not an advisory id (32 hex digits)");
    rc = view_message(t, id, m);
    if (rc == RL_ENOTFOUND)
        return api_error(r, 404, "id", "no advisory with that id here");
    if (rc != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    if (m->body->kind_case != RELAY__BODY__KIND_ADVISORY) {
        env_msg_free(m);
        return api_error(r, 404, "id", "that message is not an advisory");
    }
    return NULL;
}

/* inbox_advisory_verb - GET /api/v1/advisories/{id}: the advisory, and at
 * its author every recipient with its delivery and read times */
json_t *
inbox_advisory_verb(struct api_req *r)
{
    struct node *n = r->n;
    struct store_txn t;
    struct env_msg m;
    uint8_t id[16];
    json_t *rep, *err, *who;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    if ((err = inbox_advisory(r, &t, id, &m)) != NULL) {
        store_abort(&t);
        return err;
    }
    rep = api_ok();
    json_object_set_new(rep, "advisory", form_body_json(m.body));
    who = json_array();
    inbox_advisory_note(n, &t, m.body, rep, who);
    json_object_set_new(rep, "recipients", who); /* the rows, not the count */
    store_abort(&t);
    env_msg_free(&m);
    return rep;
}

/* inbox_read_verb - POST /api/v1/advisories/{id}/read: an operator here
 * read it; a signed read receipt goes to its author. Marking it again
 * answers with the first time and sends nothing. */
json_t *
inbox_read_verb(struct api_req *r)
{
    struct node *n = r->n;
    Relay__Body b = RELAY__BODY__INIT;
    Relay__Acknowledgement ack = RELAY__ACKNOWLEDGEMENT__INIT;
    ProtobufCBinaryData ids[1];
    struct store_txn t;
    struct env_msg m;
    struct work_item it;
    uint8_t id[16], rid[ENV_ID_LEN];
    int64_t d, rd = 0;
    char author[64], hex[ENV_ID_HEX];
    char *to[1] = {author};
    const char *why;
    json_t *rep, *err;
    int rc, mine;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    if ((err = inbox_advisory(r, &t, id, &m)) != NULL) {
        store_abort(&t);
        return err;
    }
    snprintf(author, sizeof(author), "%s", m.body->author);
    mine = strcmp(author, n->self->id) == 0;
    env_msg_free(&m);
    if (store_receipt_get(&t, id, n->self->id, &d, &rd) != RL_OK)
        rd = 0;
    store_abort(&t);
    if (mine)
        return api_error(r, 409, "id", "this node published that advisory: there is no one to tell");
    env_id_hex(id, hex);
    if (rd) {
        rep = api_ok();
        json_object_set_new(rep, "id", json_string(hex));
        json_object_set_new(rep, "read_at", api_time(rd));
        json_object_set_new(rep, "already", json_true());
        return rep;
    }
    ids[0].data = id;
    ids[0].len = 16;
    ack.ids = ids;
    ack.n_ids = 1;
    ack.read = 1;
    env_id_new(rid);
    b.id.data = rid;
    b.id.len = ENV_ID_LEN;
    b.author = (char *)n->self->id;
    b.created_us = clock_now_us();
    b.to = to;
    b.n_to = 1;
    b.kind_case = RELAY__BODY__KIND_ACK;
    b.ack = &ack;
    memset(&it, 0, sizeof(it));
    if ((rc = env_seal_open(&b, n->kp, (size_t)n->cfg.max_message_bytes, &it.m, &why)) != RL_OK)
        return api_error(r, 503, NULL, "cannot sign the read receipt: %s", why ? why : rl_strerror(rc));
    rep = api_ok();
    json_object_set_new(rep, "id", json_string(hex));
    json_object_set_new(rep, "read_at", api_time(b.created_us));
    return control_commit_item(r, &it, rep, "read receipt");
}
