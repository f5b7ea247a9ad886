/*
 * address.c - who a message filed here goes to, and whether this node may
 * send it (issue 10: from control.c, beside node/plan.c, which plans a
 * report's targets and due times). A report goes where the plan says
 * (R-UP, R-COPY3); a review to the incident's author, its supervisor and
 * the national center (R-REVIEW, R-LATE-REVIEW); support from the national
 * center (R-SUPPORT); an advisory to every node of its audience, however
 * many (issue 9 item 2); the agency's own updates up its chain and to the
 * city (R-COPY3).
 *
 * DIAGNOSTICS: a refusal is a sentence naming the rule, with the HTTP
 * status it deserves (403 the tier rules, 404 no such incident, 409 the
 * incident's state, 400 a field).
 */
#include "address.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "drill.h"
#include "envelope.h"
#include "node.h"
#include "plan.h"
#include "store.h"

/* address_push - append id (no check for duplicates) */
void
address_push(struct address_list *to, const char *id)
{
    if (to->n == to->cap) {
        size_t cap = to->cap ? 2 * to->cap : 16;
        char **v = realloc(to->v, cap * sizeof(*v));
        if (v == NULL) {
            to->nomem = 1;
            return;
        }
        to->v = v;
        to->cap = cap;
    }
    to->v[to->n++] = (char *)id;
}

/* address_add - append a destination once, never self */
void
address_add(struct address_list *to, const char *id, const char *self)
{
    if (strcmp(id, self) == 0)
        return;
    for (size_t i = 0; i < to->n; i++)
        if (strcmp(to->v[i], id) == 0)
            return;
    address_push(to, id);
}

/* in_subtree_ix - node i is at or below node s (directory indexes):
 * dir_in_subtree without its two lookups by id, for a whole directory */
static int
in_subtree_ix(const struct directory *d, int s, int i)
{
    for (; i >= 0; i = d->nodes[i].parent_ix)
        if (i == s)
            return 1;
    return 0;
}

/* audience_expand - expand an advisory's audience into destinations: every
 * node it names, however many */
static const char *
audience_expand(struct node *n, const Relay__Advisory *a, struct address_list *to,
                int *status)
{
    const struct directory *dir = node_dir(n);
    const char *scope = n->self->id;
    const struct dir_node *sc;
    unsigned tiers = 0;

    if (a->audience && a->audience->scope[0])
        scope = a->audience->scope;
    *status = 400;
    if ((sc = dir_find(dir, scope)) == NULL)
        return "audience.scope names no node of the directory";
    if (!dir_in_subtree(dir, n->self->id, scope))
        return "audience.scope is outside this node's subtree";
    if (a->audience)
        for (size_t i = 0; i < a->audience->n_tiers; i++)
            tiers |= 1u << a->audience->tiers[i];
    if (tiers == 0)
        tiers = 1u << TIER_AGENCY;
    /* directory ids are distinct: each node is pushed once, without the
     * quadratic check for duplicates of address_add */
    for (size_t i = 0; i < dir->n; i++) {
        const struct dir_node *d = &dir->nodes[i];
        if (!(tiers & (1u << d->tier)) ||
            !in_subtree_ix(dir, (int)(sc - dir->nodes), (int)i))
            continue;
        if (a->audience && a->audience->sector && d->sector != (int)a->audience->sector)
            continue;
        if (strcmp(d->id, n->self->id) != 0)
            address_push(to, d->id);
    }
    if (to->nomem) {
        *status = 503;
        return "out of memory expanding the audience: nothing filed";
    }
    return to->n ? NULL : "the audience names no node";
}

/* address_message - who a new message goes to, and whether this node may send it */
const char *
address_message(struct node *n, Relay__Body *b, struct address_list *to, uint8_t iid[16],
                int *has_iid, int *status)
{
    const ProtobufCBinaryData *ref = env_incident_of(b);
    const char *national = dir_national(node_dir(n));
    Relay__IncidentRecord *r = NULL;
    struct store_txn t;
    const char *why = NULL;

    *has_iid = 0;
    *status = 403; /* most refusals: the tier rules */
    if (b->kind_case == RELAY__BODY__KIND_ADVISORY) {
        if (n->cfg.tier == TIER_AGENCY || n->cfg.tier == TIER_OFFICE)
            return "only city, ministry and national nodes issue advisories";
        return audience_expand(n, b->advisory, to, status);
    }
    if (b->kind_case == RELAY__BODY__KIND_REPORT) {
        static __thread char perr[300];
        struct plan pl;

        if (n->parent == NULL)
            return "the national node has no reporting target to report to";
        if (n->cfg.tier == TIER_OFFICE)
            return "office nodes receive escalations only; they do not report";
        if (plan_report(&n->pol, node_dir(n), n->self->id, b->report, b->drill, &pl,
                        perr, sizeof(perr)) != RL_OK) {
            *status = 400;
            return perr;
        }
        plan_free(&pl); /* only report_to is used: it points into the directory */
        if (b->report->drill_of.len == 16 && (why = drill_notice_check(n, b)) != NULL) {
            *status = 400;
            return why;
        }
        /* R-UP: target and national; R-COPY3: the city, when central */
        for (size_t i = 0; i < pl.nreport_to; i++)
            address_add(to, pl.report_to[i], n->self->id);
        memcpy(iid, b->id.data, 16);
        *has_iid = 1;
        return NULL;
    }
    memcpy(iid, ref->data, 16);
    *has_iid = 1;
    if (store_begin(n->store, 0, &t) != RL_OK) {
        *status = 503;
        return "cannot read the store";
    }
    if (store_get_incident(&t, iid, &r) != RL_OK || !r->have_report) {
        store_abort(&t);
        if (r)
            relay__incident_record__free_unpacked(r, NULL);
        *status = 404;
        return "no such incident here";
    }
    store_abort(&t);
    const struct dir_node *author = dir_find(node_dir(n), r->author);
    if (author == NULL) {
        why = "the incident's author is not in the directory";
    } else if (b->kind_case == RELAY__BODY__KIND_REVIEW) {
        int is_target = author->parent_ix >= 0 &&
                        strcmp(node_dir(n)->nodes[author->parent_ix].id, n->self->id) == 0;
        if (!is_target && n->cfg.tier != TIER_NATIONAL)
            why = "only the incident's reporting target or the national center reviews it (R-REVIEW, R-LATE-REVIEW)";
        else if (b->review->closure && r->state != RELAY__INCIDENT_STATE__CLOSING)
            why = "closure review: the incident has no closure awaiting review (R-CLOSE-REVIEW)",
            *status = 409;
        address_add(to, author->id, n->self->id);
        if (author->parent_ix >= 0)
            address_add(to, node_dir(n)->nodes[author->parent_ix].id, n->self->id);
        address_add(to, national, n->self->id);
    } else if (b->kind_case == RELAY__BODY__KIND_NOTICE) {
        /* R-SUPPORT: the national center dispatches technical support */
        if (n->cfg.tier != TIER_NATIONAL)
            why = "only the national center dispatches technical support (R-SUPPORT)";
        address_add(to, author->id, n->self->id);
        if (author->parent_ix >= 0)
            address_add(to, node_dir(n)->nodes[author->parent_ix].id, n->self->id);
    } else if (strcmp(author->id, n->self->id) != 0) {
        why = "only the agency that filed the incident sends this";
    } else {
        address_add(to, n->parent->id, n->self->id);
        address_add(to, national, n->self->id);
        /* R-COPY3: every later update goes to the city too (the directory's
         * copy of the id: r is freed before the message is sealed) */
        const struct dir_node *city = r->city[0] ? dir_find(node_dir(n), r->city) : NULL;
        if (city)
            address_add(to, city->id, n->self->id);
    }
    relay__incident_record__free_unpacked(r, NULL);
    return why;
}
