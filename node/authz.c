/*
 * authz.c - per-tier, per-relation authorization of messages; freshness.
 *
 * The rules, by kind (the author's tier and relation come from the
 * directory, the incident's author from this node's record of it):
 *   report             an agency, city or ministry, as itself, addressed to
 *                      its own reporting target (R-UP)
 *   update, level request, closure, withdrawal
 *                      the incident's author only
 *   review             the reporting target of the incident's author, or
 *                      the national center (R-REVIEW, R-LATE-REVIEW, R-LEVEL-3)
 *   advisory           a city, ministry or national node, to nodes of its
 *                      own subtree only (the national node's is everything)
 *   escalation, task, support notices
 *                      the national node only (R-ESC-*, R-PDPA, R-SUPPORT)
 *   drill notice       a city, ministry or national node, to its subtree
 *   horizontal notice  the incident's author
 *   overdue notice     the incident's author or the national node
 *   directory change   the national node, carrying a change signed by the
 *                      root key (node/dirlog.h)
 *   any report or closure
 *                      its times within [2000-01-01, creation + max_future_s]
 *                      and aware <= reported (node/form.h form_times_check)
 * Where this node has no record of the incident yet (a relay that has not
 * seen the report) the relation cannot be judged here; the tier rule still
 * applies, and the incident's own nodes judge the relation.
 *
 * SECURITY: nothing here trusts the link a message came from; link_verify
 * separately checks that a child only relays its own subtree.
 * DIAGNOSTICS: every refusal names the author, the kind and the rule.
 */
#include "authz.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "dirlog.h"
#include "form.h"
#include "node.h"

/* incident_author - copy the author of incident iid into out; 0 if known */
static int
incident_author(struct node *n, const ProtobufCBinaryData *iid, char out[64])
{
    Relay__IncidentRecord *r;
    struct store_txn t;
    int rc;

    if (iid == NULL || iid->len != 16 || store_begin(n->store, 0, &t) != RL_OK)
        return -1;
    rc = store_get_incident(&t, iid->data, &r);
    store_abort(&t);
    if (rc != RL_OK)
        return -1;
    rc = r->have_report ? 0 : -1;
    if (rc == 0)
        snprintf(out, 64, "%s", r->author);
    relay__incident_record__free_unpacked(r, NULL);
    return rc;
}

/* is_supervisor_tier - city, ministry or national */
static int
is_supervisor_tier(int tier)
{
    return tier == TIER_CITY || tier == TIER_MINISTRY || tier == TIER_NATIONAL;
}

/* refuse - format a reason into why */
static const char *
refuse(char *why, size_t len, const Relay__Body *b, const char *rule)
{
    snprintf(why, len, "not authorized: %s from '%s': %s", env_kind_name(b->kind_case),
             b->author, rule);
    return why;
}

/* to_in_subtree - every destination lies in root's subtree */
static int
to_in_subtree(const struct directory *d, const char *root, const Relay__Body *b)
{
    for (size_t i = 0; i < b->n_to; i++)
        if (!dir_in_subtree(d, root, b->to[i]))
            return 0;
    return 1;
}

/* authz_times - the author's times judged as the author's own node judged
 * them (node/form.h), against the signed creation time rather than this
 * node's clock: every node on the path reaches the same verdict, however
 * long a relay held the message (issue 8 finding 6) */
static const char *
authz_times(struct node *n, const Relay__Body *b, char *why, size_t len)
{
    char err[160];

    if (form_times_check(b, b->created_us, n->cfg.max_future_s * 1000000, err,
                         sizeof(err)) == RL_OK)
        return NULL;
    snprintf(why, len, "refused: %s from '%s': %s", env_kind_name(b->kind_case), b->author,
             err);
    return why;
}

/* authz_check - the rules above */
const char *
authz_check(struct node *n, const struct env_msg *m, char *why, size_t len)
{
    const Relay__Body *b = m->body;
    const struct directory *d = node_dir(n);
    const struct dir_node *a = dir_find(d, b->author);
    const char *national = dir_national(d);
    int is_national = national && strcmp(b->author, national) == 0;
    char owner[64];
    int known;

    if (a == NULL)
        return refuse(why, len, b, "author not in the directory");
    if (authz_times(n, b, why, len) != NULL)
        return why;
    /* the incident's author, where a rule needs it (not for reports: their
     * author is the signer) */
    known = b->kind_case != RELAY__BODY__KIND_REPORT &&
            b->kind_case != RELAY__BODY__KIND_ADVISORY &&
            b->kind_case != RELAY__BODY__KIND_ACK &&
            b->kind_case != RELAY__BODY__KIND_DIRECTORY &&
            incident_author(n, env_incident_of(b), owner) == 0;
    switch (b->kind_case) {
    case RELAY__BODY__KIND_REPORT:
        if (a->tier != TIER_AGENCY && a->tier != TIER_CITY && a->tier != TIER_MINISTRY)
            return refuse(why, len, b, "only agencies, cities and ministries report (R-UP)");
        for (size_t i = 0; i < b->n_to; i++)
            if (a->parent_ix >= 0 && strcmp(b->to[i], d->nodes[a->parent_ix].id) == 0)
                return NULL;
        return refuse(why, len, b, "a report goes to the author's own reporting target (R-UP)");
    case RELAY__BODY__KIND_UPDATE:
    case RELAY__BODY__KIND_LEVEL_REQUEST:
    case RELAY__BODY__KIND_CLOSURE:
    case RELAY__BODY__KIND_WITHDRAWAL:
        if (known && strcmp(owner, b->author) != 0)
            return refuse(why, len, b, "only the incident's author sends this");
        return NULL;
    case RELAY__BODY__KIND_REVIEW:
        if (!is_supervisor_tier(a->tier))
            return refuse(why, len, b, "only a reporting target or the national center reviews (R-REVIEW)");
        if (known && !is_national) {
            const struct dir_node *o = dir_find(d, owner);
            if (o == NULL || o->parent_ix < 0 || strcmp(d->nodes[o->parent_ix].id, b->author) != 0)
                return refuse(why, len, b,
                              "only the incident's reporting target or the national center reviews it (R-REVIEW, R-LATE-REVIEW)");
        }
        return NULL;
    case RELAY__BODY__KIND_ADVISORY:
        if (!is_supervisor_tier(a->tier))
            return refuse(why, len, b, "only city, ministry and national nodes issue advisories (R-ADVISORY)");
        if (!to_in_subtree(d, a->id, b))
            return refuse(why, len, b, "an advisory goes only to the author's own subtree (R-ADVISORY)");
        return NULL;
    case RELAY__BODY__KIND_NOTICE:
        switch (b->notice->kind) {
        case RELAY__NOTICE_KIND__ESCALATION:
        case RELAY__NOTICE_KIND__TASK:
        case RELAY__NOTICE_KIND__SUPPORT:
            if (!is_national)
                return refuse(why, len, b, "only the national node escalates, opens tasks and dispatches support (R-ESC-*, R-PDPA, R-SUPPORT)");
            return NULL;
        case RELAY__NOTICE_KIND__DRILL:
            if (!is_supervisor_tier(a->tier) || !to_in_subtree(d, a->id, b))
                return refuse(why, len, b, "only a supervisor drills, and only its own agencies (R-DRILL)");
            return NULL;
        case RELAY__NOTICE_KIND__HORIZONTAL:
            if (known && strcmp(owner, b->author) != 0)
                return refuse(why, len, b, "only the incident's author sends its horizontal notice (R-HORIZ)");
            return NULL;
        case RELAY__NOTICE_KIND__OVERDUE:
            if (known && !is_national && strcmp(owner, b->author) != 0)
                return refuse(why, len, b, "only the incident's author or the national node sends an overdue notice");
            return NULL;
        default:
            return refuse(why, len, b, "a notice kind no node sends");
        }
    case RELAY__BODY__KIND_ACK:
        return NULL;
    case RELAY__BODY__KIND_DIRECTORY: {
        Relay__DirChange *c;
        const char *bad;
        if (!is_national)
            return refuse(why, len, b, "only the national node carries directory changes");
        if (dirlog_verify(b->directory, n->cfg.root_key, &c, &bad) != RL_OK)
            return refuse(why, len, b, bad);
        relay__dir_change__free_unpacked(c, NULL);
        return NULL;
    }
    default:
        return refuse(why, len, b, "unknown kind");
    }
}

/* authz_fresh - creation time inside [now - max_age, now + max_future] */
const char *
authz_fresh(struct node *n, const struct env_msg *m, int64_t now, char *why,
            size_t len)
{
    const Relay__Body *b = m->body;
    int64_t past = n->cfg.max_age_s * 1000000, future = n->cfg.max_future_s * 1000000;
    struct store_txn t;
    int seen = 0;

    if (b->created_us >= now - past && b->created_us <= now + future)
        return NULL;
    if (store_begin(n->store, 0, &t) == RL_OK) {
        seen = store_seen(&t, b->id.data) == 1;
        store_abort(&t);
    }
    if (seen)
        return NULL;
    snprintf(why, len, "stale or future message: created %lld s %s this node's clock "
             "(window: %lld s before, %lld s after)",
             (long long)((b->created_us > now ? b->created_us - now : now - b->created_us) / 1000000),
             b->created_us > now ? "after" : "before", (long long)n->cfg.max_age_s,
             (long long)n->cfg.max_future_s);
    return why;
}
