/*
 * link_child.c - what a child's request means at its parent.
 *
 * The parent's server (link_down.c) hands each opened LinkRequest here:
 * the child's acknowledgements and refusals of its last downward batch are
 * matched against the head of its outbox (what it refused is held with the
 * reason, node/held.c, never dropped), its pushed envelopes are verified and
 * committed through the writer, and its signed audit head is kept, verified
 * once per change. Only then does the server tell the child what is stored.
 *
 * SECURITY: a child may push only messages authored inside its own subtree.
 * Anything refused is audited with its reason and not stored. The peer
 * lookup admits only our own children, with a key valid now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "link.h"
#include "link_child.h"
#include "log.h"
#include "node.h"

/* down_resolve_acks - the child's acks and refusals of its last downward
 * batch, matched against the head of its outbox: what it refused is held
 * here with its reason (node/held.c), never dropped */
static int
down_resolve_acks(struct node *n, const char *child, const Relay__LinkRequest *req)
{
    size_t bmax = (size_t)n->cfg.batch_max, count, k = 0;
    struct outbox_item *items = calloc(bmax, sizeof(*items));
    struct outbox_item *acked = calloc(bmax, sizeof(*acked));
    const char **why = calloc(bmax, sizeof(*why));
    int *transient = calloc(bmax, sizeof(*transient));
    struct store_txn t;
    struct work wk;
    int rc;

    if (items == NULL || acked == NULL || why == NULL || transient == NULL) {
        rc = RL_ENOMEM;
        goto out;
    }
    rc = store_begin(n->store, 0, &t);
    if (rc == RL_OK) {
        rc = store_outbox_first(&t, child, bmax, items, &count);
        store_abort(&t);
    }
    for (size_t i = 0; rc == RL_OK && i < count; i++) {
        int hit = 0;
        for (size_t j = 0; j < req->n_acked && !hit; j++)
            hit = req->acked[j].len == 16 &&
                  memcmp(req->acked[j].data, items[i].id, 16) == 0;
        for (size_t j = 0; j < req->n_refused && !hit; j++) {
            const Relay__Refusal *r = req->refused[j];
            if (r->id.len == 16 && memcmp(r->id.data, items[i].id, 16) == 0) {
                hit = 1;
                why[k] = r->reason && r->reason[0] ? r->reason : "refused";
                transient[k] = r->retry;
            }
        }
        if (hit)
            acked[k++] = items[i];
    }
    if (rc == RL_OK && k > 0) {
        memset(&wk, 0, sizeof(wk));
        wk.type = WORK_ACKED;
        wk.peer = child;
        wk.acked = acked;
        wk.acked_why = why;
        wk.acked_transient = transient;
        wk.nacked = k;
        rc = writer_run(n, &wk);
    }
out:
    free(items);
    free(acked);
    free(why);
    free(transient);
    return rc;
}

/* down_push - verify and store the child's upward batch; fill the reply */
static int
down_push(struct node *n, const char *child, const Relay__LinkRequest *req,
          Relay__LinkReply *rep, char *err, size_t errlen)
{
    struct work wk;
    int rc;

    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_INBOUND;
    wk.peer = child;
    wk.n = req->n_push;
    wk.items = calloc(wk.n, sizeof(*wk.items));
    rep->stored = calloc(wk.n, sizeof(*rep->stored));
    rep->refused = calloc(wk.n, sizeof(*rep->refused));
    if (wk.items == NULL || rep->stored == NULL || rep->refused == NULL) {
        free(wk.items);
        return RL_ENOMEM;
    }
    for (size_t i = 0; i < wk.n; i++)
        link_verify(n, req->push[i].data, req->push[i].len, child, &wk.items[i]);
    rc = writer_run(n, &wk);
    if (rc != RL_OK)
        snprintf(err, errlen, "%s", wk.err);
    for (size_t i = 0; i < wk.n; i++) {
        struct work_item *it = &wk.items[i];
        if (rc == RL_OK && it->refused) {
            Relay__Refusal *r = malloc(sizeof(*r));
            if (r) {
                relay__refusal__init(r);
                r->index = (uint32_t)i;
                r->retry = it->transient;
                r->reason = strdup(it->why);
                if (it->m.body) {
                    r->id.data = malloc(16);
                    if (r->id.data) {
                        memcpy(r->id.data, it->m.body->id.data, 16);
                        r->id.len = 16;
                    }
                }
                rep->refused[rep->n_refused++] = r;
            }
        } else if (rc == RL_OK) {
            ProtobufCBinaryData *s = &rep->stored[rep->n_stored];
            s->data = malloc(16);
            if (s->data) {
                memcpy(s->data, it->m.body->id.data, 16);
                s->len = 16;
                rep->n_stored++;
            }
        }
        env_msg_free(&it->m);
    }
    free(wk.items);
    return rc;
}

/* link_child_peer - link_seal_peer_fn: the key of a child of ours, by id */
int
link_child_peer(void *arg, const char *from, uint8_t pk[KEYS_PK_LEN], char *why,
          size_t whylen)
{
    struct node *n = arg;
    const struct directory *d = node_dir(n);
    const struct dir_node *child = dir_find(d, from);
    const uint8_t *key;
    const char *kwhy = "";

    if (child == NULL) {
        snprintf(why, whylen, "unknown node '%.63s'", from);
        return RL_EUNKNOWN;
    }
    if (child->parent_ix < 0 ||
        strcmp(d->nodes[child->parent_ix].id, n->self->id) != 0) {
        snprintf(why, whylen, "'%s' is not a child of '%s'", child->id, n->self->id);
        return RL_EPERM;
    }
    if (dir_key_at(child, clock_now_us(), &key, &kwhy) != 0) {
        snprintf(why, whylen, "no key of '%s' is valid now: %s", child->id, kwhy);
        return RL_EPERM;
    }
    memcpy(pk, key, KEYS_PK_LEN);
    return RL_OK;
}

/* down_audit_head - keep the child's latest signed audit head (in memory:
 * relayctl audit check compares a child's exported log with it) */
static void
down_audit_head(struct node *n, const struct dir_node *child, size_t ix,
                const ProtobufCBinaryData *signed_head)
{
    Relay__AuditHead *h = NULL;
    const uint8_t *pk;
    const char *why;
    uint8_t *copy;
    int same;

    /* the child re-signs its head only when its log grew: the same bytes
     * again need no verification (issue 9: once per change, not per poll) */
    pthread_mutex_lock(&n->mu);
    same = n->child_heads[ix].len == signed_head->len &&
           memcmp(n->child_heads[ix].data, signed_head->data, signed_head->len) == 0;
    pthread_mutex_unlock(&n->mu);
    if (same)
        return;
    if (dir_key_at(child, clock_now_us(), &pk, &why) != 0 ||
        audit_head_open(signed_head->data, signed_head->len, pk, &h, &why) != RL_OK) {
        log_warn("peer=%s audit head refused: %s", child->id, why);
        return;
    }
    if (strcmp(h->node, child->id) != 0) {
        log_warn("peer=%s audit head refused: it is %s's", child->id, h->node);
        relay__audit_head__free_unpacked(h, NULL);
        return;
    }
    pthread_mutex_lock(&n->mu);
    if (n->child_heads[ix].len && n->child_head_seq[ix] > h->seq) {
        log_warn("peer=%s audit head went back from %llu to %llu entries", child->id,
                 (unsigned long long)n->child_head_seq[ix], (unsigned long long)h->seq);
    } else if ((copy = malloc(signed_head->len)) != NULL) {
        memcpy(copy, signed_head->data, signed_head->len);
        free(n->child_heads[ix].data);
        n->child_heads[ix].data = copy;
        n->child_heads[ix].len = signed_head->len;
        n->child_head_seq[ix] = h->seq;
    }
    pthread_mutex_unlock(&n->mu);
    relay__audit_head__free_unpacked(h, NULL);
}

/* link_child_request - one request from a child */
void
link_child_request(struct node *n, const Relay__LinkRequest *req,
            Relay__LinkReply *rep, long *ixp, char *err, size_t errlen)
{
    const struct directory *d = node_dir(n);
    const struct dir_node *child = dir_find(d, req->from);
    size_t ix;
    int rc;

    if (child == NULL) {
        snprintf(err, errlen, "unknown node '%.63s'", req->from);
        return;
    }
    if (child->parent_ix < 0 ||
        strcmp(d->nodes[child->parent_ix].id, n->self->id) != 0) {
        snprintf(err, errlen, "'%s' is not a child of '%s'", child->id, n->self->id);
        return;
    }
    ix = (size_t)(child - d->nodes);
    if (ix >= n->n_child_seen) {
        snprintf(err, errlen, "more children enrolled than this run has room for "
                 "(%zu): restart the node", n->n_child_seen);
        return;
    }
    atomic_store(&n->child_seen_ms[ix], clock_mono_ms());
    if (req->audit_head.len)
        down_audit_head(n, child, ix, &req->audit_head);
    if ((req->n_acked || req->n_refused) && (rc = down_resolve_acks(n, child->id, req)) != RL_OK) {
        snprintf(err, errlen, "acknowledgements not recorded: %s", rl_strerror(rc));
        rep->retry = 1;
        return;
    }
    if (req->n_push && down_push(n, child->id, req, rep, err, errlen) != RL_OK) {
        rep->retry = 1;
        return;
    }
    *ixp = (long)ix;
}
