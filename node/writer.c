/*
 * writer.c - grouped write transactions.
 *
 * DIAGNOSTICS: MDB_MAP_FULL aborts the transaction, grows the map and runs
 * the whole group again; at map_max_mb new work is refused with RL_EFULL
 * ("store full") while acknowledgements, which free space, still commit.
 * A failed commit (disk full, i/o error) fails every work of the group:
 * nothing of it is stored and nothing is acknowledged, so senders retry.
 */
#include "writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "clock.h"
#include "dirlog.h"
#include "held.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "router.h"

struct receipt {
    const char *author;
    ProtobufCBinaryData *ids;
    size_t n, cap;
};

struct writer {
    struct node *node;
    pthread_t thr;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* work queued, or stop */
    struct work *head, *tail;
    int stop;
    /* per group */
    struct receipt *rcpt;
    size_t nrcpt, caprcpt;
    struct env_msg *local; /* receipts and notices created in this group */
    size_t nlocal, caplocal;
    struct router_emits emits; /* notices the policy asked for, not yet made */
    const char **hops;         /* router_next_hops: room for the directory's nodes */
    size_t caphops;
    struct directory *dirwork; /* the directory with this group's changes */
    int dir_changed;
    struct work_item *poison;  /* an item that met a damaged record (RL_ECORRUPT) */
};

/* receipt_add - remember to acknowledge id to author at the end of the group */
static int
receipt_add(struct writer *w, const char *author, const ProtobufCBinaryData *id)
{
    struct receipt *r = NULL;

    for (size_t i = 0; i < w->nrcpt; i++)
        if (strcmp(w->rcpt[i].author, author) == 0)
            r = &w->rcpt[i];
    if (r == NULL) {
        if (w->nrcpt == w->caprcpt) {
            size_t cap = w->caprcpt ? 2 * w->caprcpt : 8;
            struct receipt *nr = realloc(w->rcpt, cap * sizeof(*nr));
            if (nr == NULL)
                return RL_ENOMEM;
            w->rcpt = nr;
            w->caprcpt = cap;
        }
        r = &w->rcpt[w->nrcpt++];
        memset(r, 0, sizeof(*r));
        r->author = author;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        ProtobufCBinaryData *ni = realloc(r->ids, cap * sizeof(*ni));
        if (ni == NULL)
            return RL_ENOMEM;
        r->ids = ni;
        r->cap = cap;
    }
    r->ids[r->n++] = *id;
    return RL_OK;
}

/* group_reset - forget receipts and local messages of a failed attempt */
static void
group_reset(struct writer *w)
{
    for (size_t i = 0; i < w->nrcpt; i++)
        free(w->rcpt[i].ids);
    w->nrcpt = 0;
    for (size_t i = 0; i < w->nlocal; i++)
        env_msg_free(&w->local[i]);
    w->nlocal = 0;
    router_emits_clear(&w->emits);
    if (w->dirwork) {
        dir_free(w->dirwork);
        free(w->dirwork);
        w->dirwork = NULL;
    }
    w->dir_changed = 0;
    w->poison = NULL;
}

/* dir_change_apply - a root-signed directory change: keep it under its
 * seq, then apply every change that is next in order (a change that
 * arrives early waits in the log for the ones before it) */
static int
dir_change_apply(struct writer *w, struct store_txn *t, const Relay__Body *b)
{
    struct node *n = w->node;
    Relay__DirChange *c;
    const char *why;
    uint8_t *buf;
    size_t len;
    int rc;

    if (dirlog_verify(b->directory, n->cfg.root_key, &c, &why) != RL_OK)
        return RL_OK; /* authz refused it before; never stored as a change */
    if (w->dirwork == NULL) {
        if ((w->dirwork = malloc(sizeof(*w->dirwork))) == NULL ||
            dirlog_copy(node_dir(n), w->dirwork) != RL_OK) {
            free(w->dirwork);
            w->dirwork = NULL;
            relay__dir_change__free_unpacked(c, NULL);
            return RL_ENOMEM;
        }
    }
    if (c->seq <= w->dirwork->seq) {
        relay__dir_change__free_unpacked(c, NULL);
        return RL_OK; /* already applied */
    }
    len = relay__signed_dir_change__get_packed_size(b->directory);
    if ((buf = malloc(len)) == NULL) {
        relay__dir_change__free_unpacked(c, NULL);
        return RL_ENOMEM;
    }
    relay__signed_dir_change__pack(b->directory, buf);
    rc = store_dirlog_put(t, c->seq, buf, len);
    free(buf);
    relay__dir_change__free_unpacked(c, NULL);
    while (rc == RL_OK) {
        char err[300];
        rc = store_dirlog_get(t, w->dirwork->seq + 1, &buf, &len);
        if (rc == RL_ENOTFOUND)
            return RL_OK;
        if (rc != RL_OK)
            return rc;
        rc = dirlog_open(buf, len, n->cfg.root_key, &c, &why);
        free(buf);
        if (rc != RL_OK) {
            log_warn("directory: stored change %llu: %s",
                     (unsigned long long)w->dirwork->seq + 1, why);
            return RL_OK;
        }
        rc = dirlog_apply(w->dirwork, c, err, sizeof(err));
        relay__dir_change__free_unpacked(c, NULL);
        if (rc != RL_OK) {
            /* root-signed yet breaks the tree: it stays stored, unapplied */
            log_warn("directory: %s", err);
            return RL_OK;
        }
        w->dir_changed = 1;
    }
    return rc;
}

/* hops_room - w->hops holds at least n entries (one per directory node:
 * the most neighbours a message can have), so no hop is ever left out */
static int
hops_room(struct writer *w, size_t n)
{
    const char **h;

    if (n <= w->caphops)
        return RL_OK;
    if ((h = realloc(w->hops, n * sizeof(*h))) == NULL)
        return RL_ENOMEM;
    w->hops = h;
    w->caphops = n;
    return RL_OK;
}

/* apply_message - store one verified envelope, route and deliver it */
static int
apply_message(struct writer *w, struct store_txn *t, const char *peer,
              struct env_msg *m, int *status)
{
    struct node *n = w->node;
    const Relay__Body *b = m->body;
    uint8_t *buf;
    size_t len, nh;
    int deliver, rc;
    int64_t now;

    rc = store_seen(t, b->id.data);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        *status = RL_EDUP;
        return store_audit(t, clock_now_us(), "duplicate", b->id.data, peer, NULL);
    }
    now = clock_now_us();
    rc = env_with_hop(m, n->self->id, now, &buf, &len);
    if (rc != RL_OK)
        return rc;
    rc = store_put_message(t, b->id.data, buf, len, now);
    free(buf);
    if (rc != RL_OK)
        return rc;
    rc = store_audit(t, now, peer ? "received" : "created", b->id.data, peer,
                     env_kind_name(b->kind_case));
    if (rc != RL_OK)
        return rc;
    if ((rc = hops_room(w, node_dir(n)->n)) != RL_OK)
        return rc;
    nh = router_next_hops(node_dir(n), n->self->id, b, peer, w->hops, &deliver);
    if (b->kind_case == RELAY__BODY__KIND_DIRECTORY &&
        (rc = dir_change_apply(w, t, b)) != RL_OK)
        return rc;
    rc = router_apply(t, n, m, deliver, now, &w->emits);
    if (rc != RL_OK)
        return rc;
    if (nh > 0) {
        uint8_t prio;
        if ((rc = router_priority(t, n, b, &prio)) != RL_OK)
            return rc;
        for (size_t i = 0; i < nh; i++) {
            rc = store_outbox_add(t, w->hops[i], prio, b->id.data);
            if (rc != RL_OK)
                return rc;
        }
    }
    if (deliver && router_wants_receipt(b) && strcmp(b->author, n->self->id) != 0) {
        rc = receipt_add(w, b->author, &b->id);
        if (rc != RL_OK)
            return rc;
    }
    *status = RL_OK;
    return RL_OK;
}

/* apply_acked - a neighbour took (or refused) our outbox entries. A
 * refused entry leaves the outbox for the held queue, with its reason: it
 * is never thrown away (node/held.c). */
static int
apply_acked(struct writer *w, struct store_txn *t, struct work *wk)
{
    int64_t now = clock_now_us();
    size_t stored = 0;
    int rc;

    for (size_t i = 0; i < wk->nacked; i++) {
        const struct outbox_item *it = &wk->acked[i];
        const char *why = wk->acked_why ? wk->acked_why[i] : NULL;

        if ((rc = store_outbox_del(t, it)) != RL_OK)
            return rc;
        if (why) {
            rc = held_refused(t, w->node, wk->peer, it, why,
                              wk->acked_transient && wk->acked_transient[i], now);
        } else {
            stored++;
            rc = store_audit(t, now, "forwarded", it->id, wk->peer, NULL);
            if (rc == RL_OK)
                rc = router_note_delivered(t, w->node, it->id, wk->peer, now);
            if (rc == RL_OK)
                rc = held_forwarded(t, wk->peer, it->id);
        }
        if (rc != RL_OK)
            return rc;
    }
    return store_peer_acked(t, wk->peer, now, stored);
}

/* apply_held - an operator's release or drop of a held message */
static int
apply_held(struct writer *w, struct store_txn *t, struct work *wk)
{
    int64_t now = clock_now_us();

    if (wk->held_op == WORK_HELD_RELEASE)
        return held_release(t, w->node, wk->held_id, wk->peer, now, &wk->acted);
    return held_drop(t, w->node, wk->held_id, wk->peer, wk->held_reason, now,
                     &wk->acted);
}

/* local_message - sign b as this node, store and route it in t */
static int
local_message(struct writer *w, struct store_txn *t, Relay__Body *b)
{
    struct node *n = w->node;
    uint8_t id[ENV_ID_LEN];
    const char *why;
    int rc, status;

    if (w->nlocal == w->caplocal) {
        size_t cap = w->caplocal ? 2 * w->caplocal : 8;
        struct env_msg *nl = realloc(w->local, cap * sizeof(*nl));
        if (nl == NULL)
            return RL_ENOMEM;
        w->local = nl;
        w->caplocal = cap;
    }
    env_id_new(id);
    b->id.data = id;
    b->id.len = sizeof(id);
    b->author = (char *)n->self->id;
    b->created_us = clock_now_us();
    if ((rc = env_seal_open(b, n->kp, SIZE_MAX, &w->local[w->nlocal], &why)) != RL_OK)
        return rc;
    w->nlocal++;
    return apply_message(w, t, NULL, &w->local[w->nlocal - 1], &status);
}

/* emits_drain - make every notice the policy asked for (their own
 * application may ask for more; the loop takes those too) */
static int
emits_drain(struct writer *w, struct store_txn *t)
{
    for (size_t i = 0; i < w->emits.n; i++) {
        struct router_emit e = w->emits.v[i]; /* v may move as it grows */
        Relay__Body b = RELAY__BODY__INIT;
        Relay__Notice no = RELAY__NOTICE__INIT;
        char **to;
        int rc;

        if (e.nto == 0)
            continue;
        if ((to = malloc(e.nto * sizeof(*to))) == NULL)
            return RL_ENOMEM;
        for (size_t j = 0; j < e.nto; j++)
            to[j] = e.to[j];
        b.to = to;
        b.n_to = e.nto;
        b.drill = e.drill;
        b.kind_case = RELAY__BODY__KIND_NOTICE;
        b.notice = &no;
        no.kind = e.kind;
        no.incident.data = e.incident;
        no.incident.len = 16;
        no.text = e.text;
        no.deadline = e.deadline;
        no.due_us = e.due_us;
        no.rule = e.rule;
        no.target = e.target;
        no.level = e.level;
        rc = local_message(w, t, &b);
        free(to);
        if (rc != RL_OK)
            return rc;
    }
    router_emits_clear(&w->emits);
    return RL_OK;
}

/* make_receipts - one signed Acknowledgement per author seen in this group */
static int
make_receipts(struct writer *w, struct store_txn *t)
{
    size_t nr = w->nrcpt;

    for (size_t i = 0; i < nr; i++) {
        Relay__Body b = RELAY__BODY__INIT;
        Relay__Acknowledgement ack = RELAY__ACKNOWLEDGEMENT__INIT;
        char *to[1] = {(char *)w->rcpt[i].author};
        int rc;

        b.to = to;
        b.n_to = 1;
        b.kind_case = RELAY__BODY__KIND_ACK;
        b.ack = &ack;
        ack.ids = w->rcpt[i].ids;
        ack.n_ids = w->rcpt[i].n;
        if ((rc = local_message(w, t, &b)) != RL_OK)
            return rc;
    }
    return RL_OK;
}

/* request_check - an operator's retry or a form filed again: the work
 * stores nothing (issue 8 finding 7) */
static int
request_check(struct store_txn *t, struct work *wk)
{
    int64_t at;
    int rc;

    free(wk->prior); /* from an earlier attempt of this group */
    wk->prior = NULL;
    wk->prior_at = 0;
    if (wk->request) {
        rc = store_request_get(t, wk->request, &at, &wk->prior);
        if (rc == RL_OK) {
            wk->rc = RL_EDUP;
            snprintf(wk->err, sizeof(wk->err), "a retried request: answered as before");
            return RL_OK; /* the first answer stands; the form is not looked at */
        }
        if (rc != RL_ENOTFOUND)
            return rc;
    }
    if (wk->form && !wk->again) {
        rc = store_form_get(t, wk->form, &at, wk->prior_incident);
        if (rc == RL_OK && at > clock_now_us() - WRITER_FORM_US) {
            wk->prior_at = at;
            wk->rc = RL_EDUP;
            snprintf(wk->err, sizeof(wk->err), "the same form was filed in the last 24 hours");
        }
        if (rc != RL_OK && rc != RL_ENOTFOUND)
            return rc;
    }
    return RL_OK;
}

/* apply_quarantine - move the damaged messages of a store check to
 * corrupt; one already moved (RL_ENOTFOUND) is left as it is */
static int
apply_quarantine(struct writer *w, struct store_txn *t, struct work *wk)
{
    int64_t now = clock_now_us();

    for (size_t i = 0; i < wk->nacked; i++) {
        char why[256];
        int held, rc;
        /* its holds end as a drop does: audited per peer, with the reason */
        snprintf(why, sizeof(why), "quarantined: %s", wk->acked_why[i]);
        if ((rc = held_drop(t, w->node, wk->acked[i].id, NULL, why, now, &held)) != RL_OK)
            return rc;
        rc = store_quarantine(t, wk->acked[i].id, wk->acked_why[i], now);
        if (rc != RL_OK && rc != RL_ENOTFOUND)
            return rc;
    }
    return RL_OK;
}

/* request_record - keep the answer and the form with the work; expire a
 * few old ones */
static int
request_record(struct store_txn *t, struct work *wk)
{
    int64_t now = clock_now_us();
    size_t gone;
    int rc = RL_OK;

    if (wk->request && wk->answer)
        rc = store_request_put(t, wk->request, now, wk->answer);
    if (rc == RL_OK && wk->form && wk->incident)
        rc = store_form_put(t, wk->form, now, wk->incident);
    if (rc == RL_OK)
        rc = store_requests_expire(t, now - WRITER_REQUEST_US, 64, &gone);
    return rc;
}

/* apply_operator - an operator's account change (node/account.c) or a
 * lone audit entry (a login): new work, refused while the store is full;
 * done once per request id, like a submit */
static int
apply_operator(struct store_txn *t, struct work *wk, int full)
{
    int rc;

    if (full) {
        wk->rc = RL_EFULL;
        return RL_OK;
    }
    if (wk->request && (rc = request_check(t, wk)) != RL_OK)
        return rc;
    if (wk->rc != RL_OK)
        return RL_OK;
    if (wk->type == WORK_AUDIT)
        rc = store_audit(t, clock_now_us(), wk->audit_what, NULL, wk->peer, wk->audit_detail);
    else
        rc = account_apply(t, wk);
    if (rc == RL_OK && wk->rc == RL_OK && wk->request)
        rc = request_record(t, wk);
    return rc;
}

/* group_apply - every work of the group in one transaction */
static int
group_apply(struct writer *w, struct store_txn *t, struct work *list, int full)
{
    int rc;

    for (struct work *wk = list; wk; wk = wk->next) {
        wk->rc = RL_OK;
        /* who did what (R-RECORDS): every audit entry this work makes,
         * notices and quarantines included, names its operator */
        t->actor = wk->actor;
        if (wk->type == WORK_ACCOUNT || wk->type == WORK_AUDIT) {
            if ((rc = apply_operator(t, wk, full)) != RL_OK)
                return rc;
            continue;
        }
        if (wk->type == WORK_ACKED) {
            if ((rc = apply_acked(w, t, wk)) != RL_OK)
                return rc;
            continue;
        }
        if (wk->type == WORK_QUARANTINE) {
            if ((rc = apply_quarantine(w, t, wk)) != RL_OK)
                return rc;
            continue;
        }
        if (wk->type == WORK_TIMER) {
            /* overdue notices are new work too: not while the store is full */
            wk->acted = 0;
            if (!full && ((rc = router_fire(t, w->node, clock_now_us(), wk->linkdown,
                                            &w->emits, &wk->acted)) != RL_OK ||
                          (rc = emits_drain(w, t)) != RL_OK))
                return rc;
            if ((rc = held_retry_due(t, clock_now_us(), &wk->acted)) != RL_OK)
                return rc;
            continue;
        }
        if (wk->type == WORK_HELD) {
            /* an operator's request: done once per request id, like a submit */
            wk->acted = 0;
            if (wk->request && (rc = request_check(t, wk)) != RL_OK)
                return rc;
            if (wk->rc != RL_OK)
                continue;
            if ((rc = apply_held(w, t, wk)) != RL_OK ||
                (wk->request && (rc = request_record(t, wk)) != RL_OK))
                return rc;
            continue;
        }
        if (full) {
            wk->rc = RL_EFULL;
            continue;
        }
        if (wk->peer == NULL && wk->n > 0 && wk->items[0].refused) {
            /* an operator's message refused on an earlier attempt of this
             * group (a record it needs is damaged): the operator is told,
             * and no answer is kept for a retry to replay */
            wk->rc = RL_ECORRUPT;
            snprintf(wk->err, sizeof(wk->err), "%s", wk->items[0].why);
            continue;
        }
        if ((wk->request || wk->form) &&
            ((rc = request_check(t, wk)) != RL_OK ||
             (wk->rc == RL_OK && (rc = request_record(t, wk)) != RL_OK)))
            return rc;
        if (wk->rc != RL_OK)
            continue;
        for (size_t i = 0; i < wk->n; i++) {
            struct work_item *it = &wk->items[i];
            it->status = RL_EINVAL;
            if (it->refused) {
                rc = store_audit(t, clock_now_us(), "refused",
                                 it->m.body ? it->m.body->id.data : NULL,
                                 wk->peer, it->why);
            } else {
                rc = apply_message(w, t, wk->peer, &it->m, &it->status);
                if (rc == RL_ECORRUPT)
                    w->poison = it;
                if (rc == RL_OK)
                    rc = emits_drain(w, t);
            }
            if (rc != RL_OK)
                return rc;
        }
    }
    t->actor = NULL; /* receipts are the node's own */
    return make_receipts(w, t);
}

/* group_log_operator - an account change or a login, as committed: the
 * account, its role and who; never a password */
static void
group_log_operator(const struct work *wk)
{
    static const char *const done[] = {"", "added", "given a new password", "disabled"};
    const char *actor = wk->actor ? wk->actor : "-", *peer = wk->peer ? wk->peer : "-";

    if (wk->rc != RL_OK)
        log_warn("operator=%s peer=%s %s refused: %s", actor, peer,
                 wk->type == WORK_AUDIT ? wk->audit_what : "account change", wk->err);
    else if (wk->type == WORK_AUDIT)
        log_info("operator=%s peer=%s %s%s%s", actor, peer, wk->audit_what,
                 wk->audit_detail ? ": " : "", wk->audit_detail ? wk->audit_detail : "");
    else if (wk->account->op == ACCOUNT_ADD)
        log_info("operator=%s peer=%s account %s added, role %s", actor, peer,
                 wk->account->name, api_role_name(wk->account->role));
    else
        log_info("operator=%s peer=%s account %s %s", actor, peer, wk->account->name,
                 done[wk->account->op]);
}

/* group_log - one line per event, after the commit made it true */
static void
group_log(struct writer *w, struct work *list)
{
    char hex[ENV_ID_HEX];

    for (struct work *wk = list; wk; wk = wk->next) {
        const char *peer = wk->peer ? wk->peer : "local";
        if (wk->type == WORK_INBOUND && (wk->rc == RL_EFULL || wk->rc == RL_ECORRUPT))
            metrics_note_refused(wk->rc == RL_EFULL ? METRICS_R_STORE_FULL : METRICS_R_DAMAGED,
                                 wk->n);
        if (wk->type == WORK_ACCOUNT || wk->type == WORK_AUDIT) {
            group_log_operator(wk);
            continue;
        }
        if (wk->rc != RL_OK) {
            log_warn("peer=%s %s refused: %s", peer,
                     wk->type == WORK_ACKED ? "acknowledgement" : "batch",
                     wk->err);
            continue;
        }
        if (wk->type == WORK_TIMER)
            continue;
        if (wk->type == WORK_HELD) {
            env_id_hex(wk->held_id, hex);
            if (wk->held_op == WORK_HELD_RELEASE)
                log_info("msg=%s peer=%s released by the operator: %d hold(s) queued again",
                         hex, wk->peer ? wk->peer : "*", wk->acted);
            else
                log_warn("msg=%s peer=%s dropped by the operator (%d hold(s)): %s", hex,
                         wk->peer ? wk->peer : "*", wk->acted, wk->held_reason);
            continue;
        }
        if (wk->type == WORK_QUARANTINE) {
            for (size_t i = 0; i < wk->nacked; i++) {
                env_id_hex(wk->acked[i].id, hex);
                log_warn("msg=%s moved to corrupt: %s", hex, wk->acked_why[i]);
            }
            continue;
        }
        if (wk->type == WORK_ACKED) {
            for (size_t i = 0; i < wk->nacked; i++) {
                env_id_hex(wk->acked[i].id, hex);
                if (wk->acked_why && wk->acked_why[i])
                    log_warn("msg=%s peer=%s held: refused by %s: %s (%s)", hex,
                             wk->peer, wk->peer, wk->acked_why[i],
                             wk->acked_transient && wk->acked_transient[i]
                                 ? "transient, will retry"
                                 : "waiting for an operator: relayctl held");
                else
                    log_info("msg=%s peer=%s acknowledged", hex, wk->peer);
            }
            continue;
        }
        for (size_t i = 0; i < wk->n; i++) {
            struct work_item *it = &wk->items[i];
            const Relay__Body *b = it->m.body;
            if (b)
                env_id_hex(b->id.data, hex);
            else
                strcpy(hex, "-");
            if (it->refused)
                metrics_note_refused(it->reason, 1);
            else if (it->status == RL_EDUP)
                metrics_note_duplicate(1);
            else
                metrics_note_stored(1);
            if (it->refused)
                log_warn("msg=%s peer=%s refused: %s", hex, peer, it->why);
            else if (it->status == RL_EDUP)
                log_info("msg=%s peer=%s duplicate %s dropped", hex, peer,
                         env_kind_name(b->kind_case));
            else
                log_info("msg=%s peer=%s stored %s from %s%s", hex, peer,
                         env_kind_name(b->kind_case), b->author,
                         b->drill ? " [DRILL]" : "");
        }
    }
    metrics_note_stored(w->nlocal); /* receipts and notices made here */
    for (size_t i = 0; i < w->nlocal; i++) {
        const Relay__Body *b = w->local[i].body;
        env_id_hex(b->id.data, hex);
        if (b->kind_case == RELAY__BODY__KIND_ACK)
            log_info("msg=%s peer=%s receipt for %zu message(s) queued", hex,
                     b->to[0], b->ack->n_ids);
        else
            log_info("msg=%s notice %s queued for %zu destination(s) (%s)%s: %s", hex,
                     b->notice->rule, b->n_to, b->to[0], b->drill ? " [DRILL]" : "",
                     b->notice->text);
    }
}

/* group_fail - every work of the group failed with rc */
static void
group_fail(struct work *list, int rc, const char *why)
{
    for (struct work *wk = list; wk; wk = wk->next) {
        wk->rc = rc;
        snprintf(wk->err, sizeof(wk->err), "%s", why);
    }
}

/* group_run - apply and commit, growing the map as needed */
static void
group_run(struct writer *w, struct work *list)
{
    struct store *s = w->node->store;
    struct store_txn t;
    int full = store_nearly_full(s);
    uint64_t t0 = 0; /* when the last commit began (0: none did) */
    int rc;

    for (;;) {
        group_reset(w);
        rc = store_begin(s, 1, &t);
        if (rc != RL_OK) {
            group_fail(list, RL_EIO, "cannot begin a write transaction");
            return;
        }
        rc = group_apply(w, &t, list, full);
        t0 = 0;
        if (rc == RL_OK) {
            t0 = metrics_clock_ns();
            rc = store_commit(&t);
        } else {
            store_abort(&t);
        }
        if (rc == RL_EFULL && !full) {
            if (store_grow(s) != RL_OK)
                full = 1;
            continue;
        }
        if (rc == RL_ECORRUPT && w->poison) {
            /* a record this message needs (its incident) is damaged here and
             * was logged with its key: refuse the message, so that its sender
             * keeps it, and run the rest of the group again */
            w->poison->refused = 1;
            w->poison->reason = METRICS_R_DAMAGED;
            snprintf(w->poison->why, sizeof(w->poison->why), "%s",
                     "a record it needs is damaged at this node (relayctl store check)");
            continue;
        }
        break;
    }
    metrics_commit_done(t0, rc); /* the last commit's time; the group's result */
    if (rc == RL_EFULL) {
        char why[128];
        snprintf(why, sizeof(why),
                 "store full: map_max_mb (%lld MiB) reached; new work refused",
                 (long long)store_map_max_mb(s));
        group_fail(list, RL_EFULL, why);
        return;
    }
    if (rc == RL_ENOSPC) { /* ENOSPC/EDQUOT, or LMDB's EIO on a full disk */
        group_fail(list, RL_ENOSPC, "disk full (No space left on device); nothing stored");
        log_warn("store: disk full (No space left on device): writes refused, nothing stored");
        return;
    }
    if (rc != RL_OK) {
        group_fail(list, RL_EIO, "write transaction failed (disk full or i/o error); nothing stored");
        return;
    }
    if (w->dir_changed) {
        /* the commit made the new directory true: now it is in force */
        log_info("directory: now at change %llu, %zu nodes",
                 (unsigned long long)w->dirwork->seq, w->dirwork->n);
        (void)dir_index_build(w->dirwork); /* without it, lookups scan */
        node_dir_publish(w->node, w->dirwork);
        w->dirwork = NULL;
        w->dir_changed = 0;
    }
    for (struct work *wk = list; wk; wk = wk->next)
        if (wk->rc == RL_EFULL)
            snprintf(wk->err, sizeof(wk->err),
                     "store full: map_max_mb (%lld MiB) nearly reached; new work refused",
                     (long long)store_map_max_mb(s));
    group_log(w, list);
}

/* writer_main - take everything queued, run it as one group */
static void *
writer_main(void *arg)
{
    struct writer *w = arg;
    struct work *list;

    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (w->head == NULL && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        list = w->head;
        w->head = w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        if (list == NULL)
            break;
        metrics_writer_busy(clock_mono_ms());
        group_run(w, list);
        metrics_writer_busy(0);
        group_reset(w);
        pthread_mutex_lock(&w->mu);
        for (struct work *wk = list, *next; wk; wk = next) {
            next = wk->next; /* wk may be gone once its waiter runs */
            wk->done = 1;
            pthread_cond_signal(wk->cv); /* only this work's waiter */
        }
        pthread_mutex_unlock(&w->mu);
        node_notify(w->node);
    }
    return NULL;
}

/* writer_start - allocate and start */
int
writer_start(struct node *n)
{
    struct writer *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return RL_ENOMEM;
    w->node = n;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thr, NULL, writer_main, w) != 0) {
        free(w);
        return RL_ENOMEM;
    }
    n->writer = w;
    return RL_OK;
}

/* writer_stop - drain and join */
void
writer_stop(struct node *n)
{
    struct writer *w = n->writer;

    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thr, NULL);
    group_reset(w);
    free(w->rcpt);
    free(w->local);
    router_emits_free(&w->emits);
    free(w->hops);
    free(w);
    n->writer = NULL;
}

/* writer_submit - queue wk; cv (initialized, the caller's) is signalled
 * when it is done */
int
writer_submit(struct node *n, struct work *wk, pthread_cond_t *cv)
{
    struct writer *w = n->writer;

    wk->cv = cv;
    wk->done = 0;
    wk->next = NULL;
    wk->rc = RL_OK;
    wk->err[0] = '\0';
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
        pthread_mutex_unlock(&w->mu);
        wk->rc = RL_ECLOSED;
        wk->done = 1;
        snprintf(wk->err, sizeof(wk->err), "node is stopping");
        return wk->rc;
    }
    if (w->tail)
        w->tail->next = wk;
    else
        w->head = wk;
    w->tail = wk;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return RL_OK;
}

/* writer_wait - until submitted work is committed or failed */
int
writer_wait(struct node *n, struct work *wk)
{
    struct writer *w = n->writer;

    pthread_mutex_lock(&w->mu);
    while (!wk->done)
        pthread_cond_wait(wk->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return wk->rc;
}

/* writer_run - queue and wait for the commit */
int
writer_run(struct node *n, struct work *wk)
{
    pthread_cond_t cv;
    int rc;

    pthread_cond_init(&cv, NULL);
    if ((rc = writer_submit(n, wk, &cv)) == RL_OK)
        rc = writer_wait(n, wk);
    pthread_cond_destroy(&cv);
    return rc;
}
