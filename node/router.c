/*
 * router.c - next hops, incident state, due times, escalations, drills.
 *
 * DIAGNOSTICS: a destination that is unknown or unreachable from here is
 * skipped with a warning; the message is still stored. Messages about an
 * incident not seen here yet (a relay that joined late) create a record
 * marked have_report = false, completed when the report arrives. An
 * escalation whose office is missing from the directory is recorded on the
 * incident ("no homeland office in the directory") instead of being sent.
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "drill.h"
#include "log.h"
#include "node.h"
#include "plan.h"

#define ROUTER_SCAN_TO 32 /* destinations up to which duplicates are found by a scan */

/* router_next_hops - neighbours towards every destination */
size_t
router_next_hops(const struct directory *d, const char *self,
                 const Relay__Body *body, const char *from,
                 const char **hops, int *deliver)
{
    size_t n = 0;

    *deliver = 0;
    if (body->kind_case == RELAY__BODY__KIND_DIRECTORY) {
        /* a directory change reaches every node: down to every child */
        int s = -1;
        for (size_t i = 0; i < d->n; i++)
            if (strcmp(d->nodes[i].id, self) == 0)
                s = (int)i;
        *deliver = 1;
        for (size_t i = 0; i < d->n; i++)
            if (s >= 0 && d->nodes[i].parent_ix == s && !d->nodes[i].revoked_us &&
                (from == NULL || strcmp(d->nodes[i].id, from) != 0))
                hops[n++] = d->nodes[i].id;
        return n;
    }
    /* each neighbour once: marked by its directory index when the list is
     * long (an advisory to 4,000 children), else found by a short scan; a
     * failed calloc only costs the scan */
    uint8_t *seen = body->n_to > ROUTER_SCAN_TO ? calloc(d->n ? d->n : 1, 1) : NULL;
    for (size_t i = 0; i < body->n_to; i++) {
        const char *dest = body->to[i];
        size_t j;
        int h;

        if (strcmp(dest, self) == 0) {
            *deliver = 1;
            continue;
        }
        h = dir_next_hop_ix(d, self, dest);
        if (h < 0) {
            log_warn("route: no path from %s to %s", self, dest);
            continue;
        }
        if (from != NULL && strcmp(d->nodes[h].id, from) == 0)
            continue;
        if (seen) {
            j = seen[h] ? 0 : n;
            seen[h] = 1;
        } else {
            for (j = 0; j < n && hops[j] != d->nodes[h].id; j++)
                ;
        }
        if (j == n && n < d->n)
            hops[n++] = d->nodes[h].id;
    }
    free(seen);
    return n;
}

/* router_wants_receipt - incident traffic, notices and advisories (their
 * author lists who has them, issue 11) are acknowledged */
int
router_wants_receipt(const Relay__Body *body)
{
    switch (body->kind_case) {
    case RELAY__BODY__KIND_REPORT:
    case RELAY__BODY__KIND_UPDATE:
    case RELAY__BODY__KIND_LEVEL_REQUEST:
    case RELAY__BODY__KIND_REVIEW:
    case RELAY__BODY__KIND_CLOSURE:
    case RELAY__BODY__KIND_WITHDRAWAL:
    case RELAY__BODY__KIND_NOTICE:
    case RELAY__BODY__KIND_ADVISORY:
        return 1;
    default:
        return 0;
    }
}

/* notice_kind_name - what a notice is, for history and logs */
static const char *
notice_kind_name(int k)
{
    switch (k) {
    case RELAY__NOTICE_KIND__HORIZONTAL: return "horizontal-notice";
    case RELAY__NOTICE_KIND__COPY: return "copy-notice";
    case RELAY__NOTICE_KIND__ESCALATION: return "escalation";
    case RELAY__NOTICE_KIND__OVERDUE: return "overdue";
    case RELAY__NOTICE_KIND__SUPPORT: return "support";
    case RELAY__NOTICE_KIND__DRILL: return "drill-notice";
    case RELAY__NOTICE_KIND__TASK: return "task";
    default: return "notice";
    }
}

/* router_emits_clear - every notice's destinations freed, none left */
void
router_emits_clear(struct router_emits *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].to);
    e->n = 0;
}

/* router_emits_free - release */
void
router_emits_free(struct router_emits *e)
{
    router_emits_clear(e);
    free(e->v);
    memset(e, 0, sizeof(*e));
}

/* emit_new - a zeroed notice appended to out, or NULL */
static struct router_emit *
emit_new(struct router_emits *out)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 4;
        struct router_emit *v = realloc(out->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        out->v = v;
        out->cap = cap;
    }
    memset(&out->v[out->n], 0, sizeof(out->v[0]));
    return &out->v[out->n++];
}

/* emit_to - add a destination once, never self; the list grows as needed
 * (RL_ENOMEM when it cannot: the whole group fails, nothing is dropped) */
static int
emit_to(struct router_emit *e, const char *self, const char *id)
{
    if (id == NULL || id[0] == '\0' || strcmp(id, self) == 0)
        return RL_OK;
    for (size_t i = 0; i < e->nto; i++)
        if (strcmp(e->to[i], id) == 0)
            return RL_OK;
    if (e->nto == e->capto) {
        size_t cap = e->capto ? 2 * e->capto : 4;
        char (*to)[64] = realloc(e->to, cap * sizeof(*to));
        if (to == NULL)
            return RL_ENOMEM;
        e->to = to;
        e->capto = cap;
    }
    snprintf(e->to[e->nto++], sizeof(e->to[0]), "%s", id);
    return RL_OK;
}

/* event_add - append a history event to an unpacked or fresh record.
 * Events added here point at caller memory; see record_store. */
static int
event_add(Relay__IncidentRecord *r, Relay__Event *ev)
{
    Relay__Event **h = realloc(r->history == NULL ? NULL : r->history,
                               (r->n_history + 1) * sizeof(*h));

    if (h == NULL)
        return RL_ENOMEM;
    h[r->n_history++] = ev;
    r->history = h;
    return RL_OK;
}

/* record_load - the record for iid, or a fresh one (*fresh = 1) */
static int
record_load(struct store_txn *t, const uint8_t *iid, Relay__IncidentRecord **r,
            Relay__IncidentRecord *fresh_buf, int *fresh)
{
    int rc = store_get_incident(t, iid, r);

    *fresh = 0;
    if (rc == RL_ENOTFOUND) {
        relay__incident_record__init(fresh_buf);
        fresh_buf->id.data = (uint8_t *)iid;
        fresh_buf->id.len = 16;
        fresh_buf->state = RELAY__INCIDENT_STATE__REPORTED;
        *r = fresh_buf;
        *fresh = 1;
        return RL_OK;
    }
    return rc;
}

/* record_active - due times still fire for this incident */
static int
record_active(const Relay__IncidentRecord *r)
{
    return r->have_report && plan_dues_run(r);
}

/* due_find - the record's entry for deadline which, or NULL */
static Relay__Due *
due_find(const Relay__IncidentRecord *r, int which)
{
    for (size_t i = 0; i < r->n_dues; i++)
        if ((int)r->dues[i]->which == which)
            return r->dues[i];
    return NULL;
}

/* due_armed - the index keys a record should have */
static size_t
due_armed(const Relay__IncidentRecord *r, struct store_due k[POL_D_N])
{
    size_t n = 0;

    if (!record_active(r) || r->id.len != 16)
        return 0;
    for (size_t i = 0; i < r->n_dues && n < POL_D_N; i++) {
        const Relay__Due *d = r->dues[i];
        if (!d->owner || d->due_us == 0 || d->met_us || d->fired)
            continue;
        k[n].due_us = d->due_us;
        memcpy(k[n].iid, r->id.data, 16);
        k[n].which = (int)d->which;
        n++;
    }
    return n;
}

/* due_same - the same index key (fields, not padding) */
static int
due_same(const struct store_due *a, const struct store_due *b)
{
    return a->due_us == b->due_us && a->which == b->which &&
           memcmp(a->iid, b->iid, 16) == 0;
}

/* What one message changes in the due times: met (0 = no news), fired. */
struct due_change {
    int64_t met[POL_D_N];
    int fired[POL_D_N];
};

/* record_store - recompute due times from the record's facts, write the
 * record and bring the dues index from old[] to what the record now needs.
 * The record's dues array is swapped for a local one during the write and
 * restored before return, so r stays freeable by its owner. */
static int
record_store(struct store_txn *t, struct node *n, Relay__IncidentRecord *r,
             const struct store_due *old, size_t nold, const struct due_change *ch)
{
    Relay__Due buf[POL_D_N], *ptrs[POL_D_N];
    Relay__Due **save = r->dues;
    size_t nsave = r->n_dues, nd = 0, nnew;
    struct store_due now_keys[POL_D_N];
    int64_t due[POL_D_N];
    struct pol_facts f;
    int rc;

    if (r->have_report) {
        plan_record_facts(r, &f);
        policy_dues(&n->pol, &f, due);
        for (int w = 0; w < POL_D_N; w++) {
            int role = plan_due_role(node_dir(n), n->self->id, r, w);
            const Relay__Due *e = due_find(r, w);
            if (role == 0)
                continue;
            relay__due__init(&buf[nd]);
            buf[nd].which = (uint32_t)w;
            buf[nd].due_us = due[w];
            buf[nd].owner = role == 2;
            buf[nd].met_us = e ? e->met_us : 0;
            buf[nd].fired = e ? e->fired : 0;
            if (ch && ch->met[w] && buf[nd].met_us == 0)
                buf[nd].met_us = ch->met[w];
            if (ch && ch->fired[w])
                buf[nd].fired = 1;
            ptrs[nd] = &buf[nd];
            nd++;
        }
        r->dues = ptrs;
        r->n_dues = nd;
    }
    rc = store_put_incident(t, r);
    nnew = due_armed(r, now_keys);
    for (size_t i = 0; rc == RL_OK && i < nold; i++) {
        size_t j;
        for (j = 0; j < nnew && !due_same(&old[i], &now_keys[j]); j++)
            ;
        if (j == nnew)
            rc = store_due_del(t, &old[i]);
    }
    for (size_t j = 0; rc == RL_OK && j < nnew; j++)
        rc = store_due_put(t, &now_keys[j]);
    r->dues = save;
    r->n_dues = nsave;
    return rc;
}

/* hop_time - when node stored this envelope, from its hops, or 0 */
static int64_t
hop_time(const struct env_msg *m, const char *node)
{
    for (size_t i = 0; i < m->env->n_hops; i++)
        if (strcmp(m->env->hops[i]->node, node) == 0)
            return m->env->hops[i]->received_us;
    return 0;
}

/* apply_report - the report's facts onto its record */
static void
apply_report(struct node *n, Relay__IncidentRecord *r, const struct env_msg *m,
             int64_t now, struct due_change *ch, char *detail, size_t dlen,
             struct plan *pl, int *planned)
{
    const Relay__Body *b = m->body;
    const Relay__IncidentReport *rep = b->report;
    const char *self = n->self->id;
    char err[200];

    r->have_report = 1;
    r->author = b->author;
    r->claimed_level = rep->claimed_level;
    r->drill = b->drill;
    r->aware_us = rep->aware_us;
    r->reported_us = rep->reported_us;
    r->ci_sector = rep->ci_sector;
    r->personal_data = rep->personal_data;
    r->support_requested = rep->support_requested[0] != '\0';
    r->drill_of = rep->drill_of;
    *planned = plan_report(&n->pol, node_dir(n), b->author, rep, b->drill, pl, err,
                           sizeof(err)) == RL_OK;
    if (!*planned) {
        log_warn("policy: report from %s: %s", b->author, err);
        snprintf(detail, dlen, "level %u: %s (policy: %s)", rep->claimed_level,
                 rep->title, err);
        return;
    }
    r->advised_level = (uint32_t)pl->advised;
    r->target = (char *)pl->target;
    r->city = (char *)(pl->city ? pl->city : "");
    r->affected = (char **)pl->horiz_to;
    r->n_affected = pl->nhoriz;
    /* R-REPORT: met when the reporting target stored it (at the author:
     * its receipt, see note_receipt) */
    if (strcmp(self, pl->target) == 0)
        ch->met[POL_D_REPORT] = now;
    else if (strcmp(self, b->author) != 0) {
        int64_t at = hop_time(m, pl->target);
        ch->met[POL_D_REPORT] = at ? at : now;
    }
    if (pl->city && strcmp(self, pl->city) == 0)
        ch->met[POL_D_COPY] = now;
    snprintf(detail, dlen, "level %u%s: %s", rep->claimed_level,
             pl->below_advised ? " (below the advised level: flagged, R-LEVEL-2)" : "",
             rep->title);
    if (pl->below_advised)
        snprintf(detail + strlen(detail), dlen - strlen(detail),
                 " [advised %d]", pl->advised);
}

/* emit_horizontal - R-HORIZ: the author's node notifies the affected */
static int
emit_horizontal(struct node *n, const Relay__Body *b, const struct plan *pl,
                struct router_emits *out)
{
    struct router_emit *e;

    if (pl->nhoriz == 0)
        return RL_OK;
    if ((e = emit_new(out)) == NULL)
        return RL_ENOMEM;
    e->drill = b->drill;
    e->kind = RELAY__NOTICE_KIND__HORIZONTAL;
    memcpy(e->incident, b->id.data, 16);
    snprintf(e->rule, sizeof(e->rule), "R-HORIZ");
    e->level = b->report->claimed_level;
    e->due_us = pl->due[POL_D_HORIZ];
    snprintf(e->deadline, sizeof(e->deadline), "horiz");
    snprintf(e->text, sizeof(e->text),
             "%sR-HORIZ: %s reports a level %u incident that affects you%s: %.300s",
             b->drill ? "[DRILL] " : "", b->author, b->report->claimed_level,
             pl->ci_group ? " (critical-infrastructure operation affected)" : "",
             b->report->title);
    for (size_t i = 0; i < pl->nhoriz; i++)
        if (emit_to(e, n->self->id, pl->horiz_to[i]) != RL_OK)
            return RL_ENOMEM;
    return RL_OK;
}

/* national_escalate - R-ESC-*, R-PDPA: what the level newly requires, once */
static int
national_escalate(struct node *n, Relay__IncidentRecord *r,
                  struct router_emits *out, char *note, size_t nlen)
{
    int level = plan_esc_level(r);
    unsigned req = policy_escalations(&n->pol, level, (int)r->ci_sector,
                                      r->personal_data);
    unsigned fresh = req & ~(r->escalated | r->escalation_unsent);

    note[0] = '\0';
    for (unsigned bit = 1; bit <= POL_ESC_PDPA; bit <<= 1) {
        const char *to;
        struct router_emit *e;
        size_t used = strlen(note);

        if (!(fresh & bit))
            continue;
        if (r->drill) {
            /* R-DRILL: drills never reach the offices as real escalations */
            snprintf(note + used, nlen - used, "%sdrill: %s not sent (R-DRILL)",
                     used ? "; " : "", plan_esc_name(bit));
            r->escalation_unsent |= bit;
            continue;
        }
        to = plan_esc_target(node_dir(n), bit, r->author, r->target);
        if (to == NULL || strcmp(to, n->self->id) == 0) {
            /* never shown as sent (issue 12 item 6): said on the incident
             * and in the log, where someone will read it */
            snprintf(note + used, nlen - used, "%s%s: not sent: no %s node in the directory (%s)",
                     used ? "; " : "", plan_esc_name(bit), plan_esc_name(bit),
                     plan_esc_rule(bit));
            log_warn("%s: level %d incident of %s: %s escalation not sent: no %s node in the "
                     "directory", plan_esc_rule(bit), level, r->author, plan_esc_name(bit),
                     plan_esc_name(bit));
            r->escalation_unsent |= bit;
            continue;
        }
        if ((e = emit_new(out)) == NULL)
            return RL_ENOMEM;
        e->kind = bit == POL_ESC_PDPA ? RELAY__NOTICE_KIND__TASK
                                      : RELAY__NOTICE_KIND__ESCALATION;
        memcpy(e->incident, r->id.data, 16);
        e->level = (uint32_t)level;
        snprintf(e->rule, sizeof(e->rule), "%s", plan_esc_rule(bit));
        snprintf(e->target, sizeof(e->target), "%s", plan_esc_name(bit));
        if (emit_to(e, n->self->id, to) != RL_OK)
            return RL_ENOMEM;
        if (bit == POL_ESC_CISO) {
            const struct dir_node *sup = dir_find(node_dir(n), to);
            snprintf(e->text, sizeof(e->text),
                     "R-ESC-CISO: level %d incident of %s: notify the CISO and IT director%s%s",
                     level, r->author, sup && sup->contact[0] ? ": " : "",
                     sup ? sup->contact : "");
        } else if (bit == POL_ESC_PDPA) {
            snprintf(e->text, sizeof(e->text),
                     "R-PDPA: level %d incident with personal data leaked: notify the data subjects, "
                     "then send an update with subjects_notified", level);
        } else {
            snprintf(e->text, sizeof(e->text),
                     "%s: level %d incident of %s%s", e->rule, level, r->author,
                     r->ci_sector ? " (critical infrastructure)" : "");
        }
    }
    r->escalated |= fresh & ~r->escalation_unsent;
    return RL_OK;
}

/* apply_review - R-REVIEW, R-LATE-REVIEW, R-LEVEL-3, R-CLOSE-REVIEW */
static void
apply_review(struct node *n, Relay__IncidentRecord *r, const Relay__Body *b,
             struct due_change *ch, char *detail, size_t dlen)
{
    const Relay__ReviewDecision *rv = b->review;
    const char *national = dir_national(node_dir(n));
    int by_national = national && strcmp(b->author, national) == 0;
    const char *stands = "";

    if (rv->closure) {
        if (r->state == RELAY__INCIDENT_STATE__CLOSING)
            r->state = RELAY__INCIDENT_STATE__CLOSED;
    } else {
        if (r->first_review_us == 0)
            r->first_review_us = b->created_us;
        ch->met[POL_D_REVIEW] = b->created_us;
        if (by_national) {
            r->reviewed_level = rv->level;
            r->national_reviewed = 1;
            r->requested_level = 0;
        } else if (!r->national_reviewed) {
            r->reviewed_level = rv->level;
            r->requested_level = 0;
        } else {
            stands = " (recorded; the national center's review stands, R-LATE-REVIEW)";
        }
        if (r->state == RELAY__INCIDENT_STATE__REPORTED)
            r->state = RELAY__INCIDENT_STATE__REVIEWED;
    }
    snprintf(detail, dlen, "%s%s level %u: %.150s%s%s%.60s", rv->closure ? "closure " : "",
             rv->verdict == RELAY__VERDICT__CHANGE ? "changed to" : "confirmed",
             rv->level, rv->basis, stands, rv->follow_up[0] ? "; follow-up: " : "",
             rv->follow_up);
}

/* router_apply_incident - the incident side of a stored message */
static int
router_apply_incident(struct store_txn *t, struct node *n, const struct env_msg *m,
                      const uint8_t *iid, int deliver, int64_t now,
                      struct router_emits *out)
{
    const Relay__Body *b = m->body;
    const char *self = n->self->id;
    Relay__IncidentRecord fresh_buf, *r;
    Relay__Event ev = RELAY__EVENT__INIT, ev2 = RELAY__EVENT__INIT;
    struct store_due old[POL_D_N];
    struct due_change ch;
    struct plan pl = {0};
    char detail[512] = "", esc_note[256] = "";
    char *saved_author, *saved_target, *saved_city;
    char **saved_affected;
    size_t saved_naffected, nold;
    ProtobufCBinaryData saved_drill_of;
    int fresh, rc, planned = 0, national_here;

    memset(&ch, 0, sizeof(ch));
    rc = record_load(t, iid, &r, &fresh_buf, &fresh);
    if (rc != RL_OK)
        return rc;
    nold = due_armed(r, old);
    /* fields that may be pointed at message memory: restored before free */
    saved_author = r->author;
    saved_target = r->target;
    saved_city = r->city;
    saved_affected = r->affected;
    saved_naffected = r->n_affected;
    saved_drill_of = r->drill_of;
    ev.at_us = b->created_us;
    ev.node = b->author;
    ev.what = (char *)env_kind_name(b->kind_case);
    ev.msg = b->id;
    switch (b->kind_case) {
    case RELAY__BODY__KIND_REPORT:
        apply_report(n, r, m, now, &ch, detail, sizeof(detail), &pl, &planned);
        if (planned && strcmp(b->author, self) == 0 &&
            (rc = emit_horizontal(n, b, &pl, out)) != RL_OK)
            goto done;
        if (deliver && b->report->drill_of.len == 16 &&
            (rc = drill_update(t, b->report->drill_of.data, b->id.data,
                               b->created_us, 'R')) != RL_OK)
            goto done;
        /* the drill notice answered here, for the console's list (issue 11) */
        if (strcmp(b->author, self) == 0 && b->report->drill_of.len == 16 &&
            (rc = store_receipt_note(t, b->report->drill_of.data, self, 0,
                                     b->created_us)) != RL_OK)
            goto done;
        break;
    case RELAY__BODY__KIND_UPDATE:
        r->team_formed |= b->update->team_formed;
        r->damage_controlled |= b->update->damage_controlled;
        r->recovered |= b->update->recovered;
        if (b->update->team_formed)
            ch.met[POL_D_TEAM] = b->created_us;
        if (b->update->damage_controlled || b->update->recovered)
            ch.met[POL_D_CONTROL] = b->created_us;
        if (b->update->subjects_notified)
            r->pdpa_open = 0;
        if (b->update->recovered && r->state == RELAY__INCIDENT_STATE__REVIEWED)
            r->state = RELAY__INCIDENT_STATE__RECOVERED;
        snprintf(detail, sizeof(detail), "%s%s%s%s%.300s",
                 b->update->team_formed ? "team formed; " : "",
                 b->update->damage_controlled ? "damage controlled; " : "",
                 b->update->recovered ? "recovered; " : "",
                 b->update->subjects_notified ? "data subjects notified; " : "",
                 b->update->text);
        if (deliver && r->drill_of.len == 16 &&
            (rc = drill_update(t, r->drill_of.data, NULL, b->created_us, 'U')) != RL_OK)
            goto done;
        break;
    case RELAY__BODY__KIND_LEVEL_REQUEST:
        r->requested_level = b->level_request->level;
        snprintf(detail, sizeof(detail), "level %u requested: %.300s",
                 b->level_request->level, b->level_request->reason);
        break;
    case RELAY__BODY__KIND_REVIEW:
        apply_review(n, r, b, &ch, detail, sizeof(detail));
        break;
    case RELAY__BODY__KIND_CLOSURE:
        ch.met[POL_D_CLOSE] = b->created_us;
        if (r->state != RELAY__INCIDENT_STATE__WITHDRAWN) {
            int need = n->pol.closure_review_level;
            r->state = need && plan_level(r) >= need ? RELAY__INCIDENT_STATE__CLOSING
                                                     : RELAY__INCIDENT_STATE__CLOSED;
        }
        snprintf(detail, sizeof(detail), "root cause: %.300s%s", b->closure->root_cause,
                 r->state == RELAY__INCIDENT_STATE__CLOSING
                     ? " (awaiting the supervisor's closure review, R-CLOSE-REVIEW)" : "");
        if (deliver && r->drill_of.len == 16 &&
            (rc = drill_update(t, r->drill_of.data, NULL, b->created_us, 'C')) != RL_OK)
            goto done;
        break;
    case RELAY__BODY__KIND_WITHDRAWAL:
        r->state = RELAY__INCIDENT_STATE__WITHDRAWN;
        snprintf(detail, sizeof(detail), "%.300s", b->withdrawal->reason);
        break;
    case RELAY__BODY__KIND_NOTICE:
        ev.what = (char *)notice_kind_name(b->notice->kind);
        if (b->notice->kind == RELAY__NOTICE_KIND__SUPPORT)
            ch.met[POL_D_SUPPORT] = b->created_us;
        if (b->notice->kind == RELAY__NOTICE_KIND__TASK && deliver)
            r->pdpa_open = 1;
        snprintf(detail, sizeof(detail), "%s%.400s", b->drill ? "[DRILL] " : "",
                 b->notice->text);
        break;
    default:
        break;
    }
    national_here = dir_national(node_dir(n)) && strcmp(dir_national(node_dir(n)), self) == 0;
    if (national_here && r->have_report && r->state != RELAY__INCIDENT_STATE__WITHDRAWN &&
        (rc = national_escalate(n, r, out, esc_note, sizeof(esc_note))) != RL_OK)
        goto done;
    ev.detail = detail;
    if ((rc = event_add(r, &ev)) != RL_OK)
        goto done;
    if (esc_note[0]) {
        ev2.at_us = now;
        ev2.node = (char *)self;
        ev2.what = "escalation-note";
        ev2.detail = esc_note;
        if ((rc = event_add(r, &ev2)) != RL_OK) {
            r->n_history--;
            goto done;
        }
    }
    rc = record_store(t, n, r, old, nold, &ch);
    r->n_history -= esc_note[0] ? 2 : 1; /* the appended events are ours */
done:
    r->author = saved_author;
    r->target = saved_target;
    r->city = saved_city;
    r->affected = saved_affected;
    r->n_affected = saved_naffected;
    r->drill_of = saved_drill_of;
    plan_free(&pl); /* after the record that pointed at its list was stored */
    if (fresh)
        free(r->history);
    else
        relay__incident_record__free_unpacked(r, NULL);
    return rc;
}

/* note_receipt - what a receipt for our own message meets */
static void
note_receipt(Relay__IncidentRecord *r, const Relay__Body *mb, const char *who,
             int64_t at, struct due_change *ch, int *acked_changed)
{
    if (mb->kind_case == RELAY__BODY__KIND_REPORT) {
        /* R-REPORT: met when the reporting target acknowledges;
         * R-COPY3: when the city does */
        if (r->target && strcmp(who, r->target) == 0)
            ch->met[POL_D_REPORT] = at;
        if (r->city && r->city[0] && strcmp(who, r->city) == 0)
            ch->met[POL_D_COPY] = at;
        return;
    }
    if (mb->kind_case == RELAY__BODY__KIND_NOTICE &&
        mb->notice->kind == RELAY__NOTICE_KIND__HORIZONTAL) {
        size_t have = 0, need = mb->n_to;
        int listed = 0, addressed = 0;

        for (size_t i = 0; i < r->n_horiz_acked; i++)
            listed |= strcmp(r->horiz_acked[i], who) == 0;
        for (size_t i = 0; i < mb->n_to; i++)
            addressed |= strcmp(mb->to[i], who) == 0;
        *acked_changed = addressed && !listed;
        for (size_t i = 0; i < mb->n_to; i++) {
            int got = *acked_changed && strcmp(mb->to[i], who) == 0;
            for (size_t j = 0; j < r->n_horiz_acked && !got; j++)
                got = strcmp(r->horiz_acked[j], mb->to[i]) == 0;
            have += got;
        }
        /* R-HORIZ: met when every affected agency has it */
        if (have == need)
            ch->met[POL_D_HORIZ] = at;
    }
}

/* router_note - add a transport event (delivered, receipt) to msg's
 * incident, when self authored msg: relays do not track hops they passed on
 * (their audit log holds that), which spares a record rewrite per hop. */
static int
router_note(struct store_txn *t, struct node *n, const uint8_t msg[16],
            const char *who, int64_t at, const char *what, const char *reason)
{
    struct env_msg m;
    const ProtobufCBinaryData *iid;
    const char *self = n->self->id;
    Relay__IncidentRecord *r;
    Relay__Event ev = RELAY__EVENT__INIT;
    struct store_due old[POL_D_N];
    struct due_change ch;
    const char *why;
    uint8_t *buf, id[16];
    size_t len, nold;
    int rc, receipt = strcmp(what, "receipt") == 0, acked_changed = 0, kind;
    int read = strcmp(what, "read") == 0;
    char author[64];

    rc = store_get_message(t, msg, &buf, &len);
    if (rc == RL_ENOTFOUND)
        return RL_OK; /* not ours to track */
    if (rc != RL_OK)
        return rc;
    /* most deliveries concern nothing tracked here: tell them without
     * decoding (an advisory to 4,000 agencies, acknowledged by each, was
     * decoded 4,000 times: 16 million allocations) */
    if (env_peek(buf, len, author, sizeof(author), &kind) == RL_OK &&
        ((reason == NULL && strcmp(author, self) != 0) ||
         kind == RELAY__BODY__KIND_ADVISORY || kind == RELAY__BODY__KIND_ACK ||
         kind == RELAY__BODY__KIND_DIRECTORY)) {
        free(buf);
        /* R-ADVISORY: the author lists who has its advisory, who read it */
        if (kind == RELAY__BODY__KIND_ADVISORY && reason == NULL && (receipt || read) &&
            strcmp(author, self) == 0)
            return store_receipt_note(t, msg, who, receipt ? at : 0, read ? at : 0);
        return RL_OK;
    }
    if (read) { /* read receipts are for advisories only */
        free(buf);
        return RL_OK;
    }
    rc = env_open(buf, len, SIZE_MAX, &m, &why);
    free(buf);
    if (rc != RL_OK)
        return RL_OK;
    /* transport events are tracked by the author's node; a hold (reason
     * set) is shown wherever the message waits */
    if (reason == NULL && strcmp(m.body->author, self) != 0) {
        env_msg_free(&m);
        return RL_OK;
    }
    if (receipt && m.body->kind_case == RELAY__BODY__KIND_NOTICE &&
        m.body->notice->kind == RELAY__NOTICE_KIND__DRILL) {
        rc = drill_update(t, msg, NULL, at, 'A');
        env_msg_free(&m);
        return rc;
    }
    iid = env_incident_of(m.body);
    if (iid == NULL || iid->len != 16) {
        env_msg_free(&m);
        return RL_OK;
    }
    memcpy(id, iid->data, 16);
    rc = store_get_incident(t, id, &r);
    if (rc == RL_ENOTFOUND) {
        env_msg_free(&m);
        return RL_OK;
    }
    if (rc == RL_OK) {
        char d[320];
        char **saved = r->horiz_acked, **acked = NULL;
        size_t nsaved = r->n_horiz_acked;

        memset(&ch, 0, sizeof(ch));
        nold = due_armed(r, old);
        if (receipt)
            note_receipt(r, m.body, who, at, &ch, &acked_changed);
        if (acked_changed) {
            acked = malloc((nsaved + 1) * sizeof(*acked));
            if (acked == NULL) {
                rc = RL_ENOMEM;
                goto out;
            }
            if (nsaved)
                memcpy(acked, saved, nsaved * sizeof(*acked));
            acked[nsaved] = (char *)who;
            r->horiz_acked = acked;
            r->n_horiz_acked = nsaved + 1;
        }
        snprintf(d, sizeof(d), "%s%s%.256s",
                 m.body->kind_case == RELAY__BODY__KIND_NOTICE
                     ? notice_kind_name(m.body->notice->kind)
                     : env_kind_name(m.body->kind_case),
                 reason ? ": " : "", reason ? reason : "");
        ev.at_us = at;
        ev.node = (char *)who;
        ev.what = (char *)what;
        ev.msg.data = (uint8_t *)msg;
        ev.msg.len = 16;
        ev.detail = d;
        rc = event_add(r, &ev);
        if (rc == RL_OK) {
            rc = record_store(t, n, r, old, nold, &ch);
            r->n_history--; /* the appended event is ours, not r's */
        }
        r->horiz_acked = saved;
        r->n_horiz_acked = nsaved;
        free(acked);
    out:
        relay__incident_record__free_unpacked(r, NULL);
    }
    env_msg_free(&m);
    return rc;
}

/* router_note_delivered - peer stored msg */
int
router_note_delivered(struct store_txn *t, struct node *n,
                      const uint8_t msg[16], const char *peer, int64_t now)
{
    return router_note(t, n, msg, peer, now, "delivered", NULL);
}

/* router_note_held - a hold event (refused, released, dropped) on msg's
 * incident, wherever the message waits */
int
router_note_held(struct store_txn *t, struct node *n, const uint8_t msg[16],
                 const char *who, int64_t now, const char *what, const char *reason)
{
    return router_note(t, n, msg, who, now, what, reason ? reason : "");
}

/* router_apply - everything a stored message changes here */
int
router_apply(struct store_txn *t, struct node *n, const struct env_msg *m,
             int deliver, int64_t now, struct router_emits *out)
{
    const Relay__Body *b = m->body;
    const ProtobufCBinaryData *iid;
    int rc;

    switch (b->kind_case) {
    case RELAY__BODY__KIND_ACK:
        if (!deliver && b->ack->read && strcmp(b->author, n->self->id) == 0) {
            /* our own read receipt: an operator here read these */
            for (size_t i = 0; i < b->ack->n_ids; i++)
                if (b->ack->ids[i].len == 16 &&
                    (rc = store_receipt_note(t, b->ack->ids[i].data, n->self->id, 0,
                                             b->created_us)) != RL_OK)
                    return rc;
            return RL_OK;
        }
        if (!deliver)
            return RL_OK;
        for (size_t i = 0; i < b->ack->n_ids; i++) {
            if (b->ack->ids[i].len != 16)
                continue;
            rc = router_note(t, n, b->ack->ids[i].data, b->author, b->created_us,
                             b->ack->read ? "read" : "receipt", NULL);
            if (rc != RL_OK)
                return rc;
        }
        return RL_OK;
    case RELAY__BODY__KIND_ADVISORY:
        /* listed where it is delivered, and where it was issued */
        if (deliver || strcmp(b->author, n->self->id) == 0)
            return store_put_advisory(t, b->id.data, now);
        return RL_OK;
    case RELAY__BODY__KIND_NOTICE:
        if (b->notice->kind == RELAY__NOTICE_KIND__DRILL) {
            if (strcmp(b->author, n->self->id) == 0)
                return drill_started(t, n, b);
            if (deliver)
                log_warn("[DRILL] scenario %u from %s, level %u: %s", b->notice->scenario,
                         b->author, b->notice->level, b->notice->text);
            /* listed where it must be answered (issue 11: the console) */
            if (deliver && b->notice->drill.len == 16)
                return store_put_drill_notice(t, b->id.data, b->notice->drill.data);
            return RL_OK;
        }
        break;
    default:
        break;
    }
    iid = env_incident_of(b);
    if (iid == NULL || iid->len != 16)
        return RL_OK;
    return router_apply_incident(t, n, m, iid->data, deliver, now, out);
}

/* router_priority - R-PRIORITY: level, then sector rank, then age (seq) */
int
router_priority(struct store_txn *t, struct node *n, const Relay__Body *b,
                uint8_t *prio)
{
    const ProtobufCBinaryData *iid = env_incident_of(b);
    const struct dir_node *a = dir_find(node_dir(n), b->author);
    int level = 0, sector = a ? a->sector : 0;
    Relay__IncidentRecord *r;
    int rc;

    if (b->kind_case == RELAY__BODY__KIND_REPORT) {
        /* the report carries its own level: no record read on the hot path */
        level = (int)b->report->claimed_level;
        if (b->report->ci_sector)
            sector = b->report->ci_sector;
    } else if (b->kind_case == RELAY__BODY__KIND_ADVISORY) {
        level = (int)b->advisory->severity;
    } else if (b->kind_case == RELAY__BODY__KIND_NOTICE &&
               b->notice->kind == RELAY__NOTICE_KIND__DRILL) {
        level = (int)b->notice->level;
    } else if (iid && iid->len == 16) {
        rc = store_get_incident(t, iid->data, &r);
        if (rc == RL_OK) {
            level = plan_esc_level(r);
            if (r->ci_sector)
                sector = r->ci_sector;
            relay__incident_record__free_unpacked(r, NULL);
        } else if (rc != RL_ENOTFOUND) {
            return rc;
        }
    }
    *prio = policy_priority(&n->pol, level, sector);
    return RL_OK;
}

/* offline_warn - R-OFFLINE: the operator must use the fallback now */
static int
offline_warn(struct store_txn *t, struct node *n, Relay__IncidentRecord *r,
             const Relay__Due *d, int64_t now)
{
    const struct dir_node *tg = r->target ? dir_find(node_dir(n), r->target) : NULL;
    Relay__Event ev = RELAY__EVENT__INIT;
    struct store_due old[POL_D_N];
    char due[40], aware[40], hex[ENV_ID_HEX], text[1024];
    size_t nold = due_armed(r, old);
    long mins = (long)((d->due_us - now) / 60000000);
    int rc;

    clock_format_iso(d->due_us, due, sizeof(due));
    clock_format_iso(r->aware_us, aware, sizeof(aware));
    env_id_hex(r->id.data, hex);
    snprintf(text, sizeof(text),
             "R-OFFLINE: the link to %s is down and the report of incident %s is due at %s "
             "(%ld min left). Report by other means now: phone %s and say: agency %s, "
             "incident %s, level %d, aware since %s. The relay sends the report by itself "
             "when the link returns.%s",
             r->target ? r->target : "?", hex, due, mins < 0 ? 0 : mins,
             tg && tg->contact[0] ? tg->contact : "the reporting target's designated contact",
             r->author, hex, plan_level(r), aware, r->drill ? " [DRILL]" : "");
    log_warn("%s", text);
    r->offline_warned = 1;
    ev.at_us = now;
    ev.node = (char *)n->self->id;
    ev.what = "offline-warning";
    ev.detail = text;
    if ((rc = event_add(r, &ev)) != RL_OK)
        return rc;
    rc = record_store(t, n, r, old, nold, NULL);
    r->n_history--;
    return rc;
}

/* fire_one - the overdue notice for one armed due time, once */
static int
fire_one(struct store_txn *t, struct node *n, const struct store_due *k,
         int64_t now, int linkdown, struct router_emits *out, int *acted)
{
    Relay__IncidentRecord *r;
    const Relay__Due *d;
    struct store_due old[POL_D_N];
    struct due_change ch;
    struct router_emit *e;
    char due[40];
    size_t nold;
    int rc = store_get_incident(t, k->iid, &r);

    if (rc == RL_ENOTFOUND)
        return store_due_del(t, k);
    if (rc == RL_ECORRUPT)
        return RL_OK; /* logged with its key; the other due times still fire */
    if (rc != RL_OK)
        return rc;
    d = due_find(r, k->which);
    if (d == NULL || !d->owner || d->met_us || d->fired || d->due_us != k->due_us ||
        !record_active(r)) {
        /* stale key: the record no longer wants it */
        rc = store_due_del(t, k);
        goto out;
    }
    if (k->due_us > now) {
        /* not due yet: only the R-OFFLINE warning can apply */
        if (linkdown && k->which == POL_D_REPORT && !r->offline_warned) {
            rc = offline_warn(t, n, r, d, now);
            (*acted)++;
        }
        goto out;
    }
    nold = due_armed(r, old);
    memset(&ch, 0, sizeof(ch));
    ch.fired[k->which] = 1;
    if ((e = emit_new(out)) == NULL) {
        rc = RL_ENOMEM;
        goto out;
    }
    e->drill = r->drill;
    e->kind = RELAY__NOTICE_KIND__OVERDUE;
    memcpy(e->incident, k->iid, 16);
    e->due_us = k->due_us;
    e->level = (uint32_t)plan_level(r);
    snprintf(e->deadline, sizeof(e->deadline), "%s", policy_deadline_name(k->which));
    snprintf(e->rule, sizeof(e->rule), "%s", policy_deadline_rule_id(k->which));
    clock_format_iso(k->due_us, due, sizeof(due));
    snprintf(e->text, sizeof(e->text), "%s%s: %s overdue since %s (level %d incident of %s)",
             r->drill ? "[DRILL] " : "", e->rule, e->deadline, due, plan_level(r), r->author);
    if (emit_to(e, n->self->id, r->author) != RL_OK ||
        emit_to(e, n->self->id, r->target) != RL_OK ||
        emit_to(e, n->self->id, dir_national(node_dir(n))) != RL_OK) {
        rc = RL_ENOMEM;
        goto out;
    }
    log_warn("%s", e->text);
    rc = record_store(t, n, r, old, nold, &ch);
    (*acted)++;
out:
    relay__incident_record__free_unpacked(r, NULL);
    return rc;
}

/* router_fire - every owned due time up to now (and, with the link down,
 * up to now + warn_before for reports) */
int
router_fire(struct store_txn *t, struct node *n, int64_t now, int linkdown,
            struct router_emits *out, int *acted)
{
    struct store_due keys[256];
    int64_t until = now + (linkdown ? n->pol.offline_warn_us : 0), next;
    size_t k;
    int rc;

    *acted = 0;
    if ((rc = store_due_upto(t, until, 256, keys, &k, &next)) != RL_OK)
        return rc;
    for (size_t i = 0; i < k; i++)
        if ((rc = fire_one(t, n, &keys[i], now, linkdown, out, acted)) != RL_OK)
            return rc;
    return RL_OK;
}
