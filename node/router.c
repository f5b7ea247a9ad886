/*
 * router.c - next hops and incident state.
 *
 * DIAGNOSTICS: a destination that is unknown or unreachable from here is
 * skipped with a warning; the message is still stored. Messages about an
 * incident not seen here yet (a relay that joined late) create a record
 * marked have_report = false, completed when the report arrives.
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* router_next_hops - neighbours towards every destination */
size_t
router_next_hops(const struct directory *d, const char *self,
                 const Relay__Body *body, const char *from,
                 const char *hops[ROUTER_MAX_HOPS], int *deliver)
{
    size_t n = 0;

    *deliver = 0;
    for (size_t i = 0; i < body->n_to; i++) {
        const char *dest = body->to[i], *h;
        size_t j;

        if (strcmp(dest, self) == 0) {
            *deliver = 1;
            continue;
        }
        h = dir_next_hop(d, self, dest);
        if (h == NULL) {
            log_warn("route: no path from %s to %s", self, dest);
            continue;
        }
        if (from != NULL && strcmp(h, from) == 0)
            continue;
        for (j = 0; j < n && strcmp(hops[j], h) != 0; j++)
            ;
        if (j == n && n < ROUTER_MAX_HOPS)
            hops[n++] = h;
    }
    return n;
}

/* router_wants_receipt - incident traffic is acknowledged end to end */
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
        return 1;
    default:
        return 0;
    }
}

/* event_add - append a history event to an unpacked or fresh record.
 * Events added here point at caller memory; see record_put. */
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

/* router_apply_incident - the incident side of a stored message */
static int
router_apply_incident(struct store_txn *t, const Relay__Body *b,
                      const uint8_t *iid)
{
    Relay__IncidentRecord fresh_buf, *r;
    Relay__Event ev = RELAY__EVENT__INIT;
    char detail[256] = "";
    char *saved_author;
    int fresh, rc;

    rc = record_load(t, iid, &r, &fresh_buf, &fresh);
    if (rc != RL_OK)
        return rc;
    saved_author = r->author; /* owned by r when loaded: restored before free */
    ev.at_us = b->created_us;
    ev.node = b->author;
    ev.what = (char *)env_kind_name(b->kind_case);
    ev.msg = b->id;
    switch (b->kind_case) {
    case RELAY__BODY__KIND_REPORT:
        r->have_report = 1;
        r->author = b->author;
        r->claimed_level = b->report->claimed_level;
        r->drill = b->drill;
        snprintf(detail, sizeof(detail), "level %u: %s",
                 b->report->claimed_level, b->report->title);
        break;
    case RELAY__BODY__KIND_UPDATE:
        r->team_formed |= b->update->team_formed;
        r->damage_controlled |= b->update->damage_controlled;
        r->recovered |= b->update->recovered;
        if (b->update->recovered && r->state == RELAY__INCIDENT_STATE__REVIEWED)
            r->state = RELAY__INCIDENT_STATE__RECOVERED;
        snprintf(detail, sizeof(detail), "%s%s%s%s",
                 b->update->team_formed ? "team formed; " : "",
                 b->update->damage_controlled ? "damage controlled; " : "",
                 b->update->recovered ? "recovered; " : "", b->update->text);
        break;
    case RELAY__BODY__KIND_LEVEL_REQUEST:
        r->requested_level = b->level_request->level;
        snprintf(detail, sizeof(detail), "level %u: %s",
                 b->level_request->level, b->level_request->reason);
        break;
    case RELAY__BODY__KIND_REVIEW:
        if (!b->review->closure) {
            r->reviewed_level = b->review->level;
            r->requested_level = 0;
            if (r->state == RELAY__INCIDENT_STATE__REPORTED)
                r->state = RELAY__INCIDENT_STATE__REVIEWED;
        }
        snprintf(detail, sizeof(detail), "%s%s level %u: %s",
                 b->review->closure ? "closure " : "",
                 b->review->verdict == RELAY__VERDICT__CHANGE ? "changed to"
                                                              : "confirmed",
                 b->review->level, b->review->basis);
        break;
    case RELAY__BODY__KIND_CLOSURE:
        if (r->state != RELAY__INCIDENT_STATE__WITHDRAWN)
            r->state = RELAY__INCIDENT_STATE__CLOSED;
        snprintf(detail, sizeof(detail), "root cause: %s",
                 b->closure->root_cause);
        break;
    case RELAY__BODY__KIND_WITHDRAWAL:
        r->state = RELAY__INCIDENT_STATE__WITHDRAWN;
        snprintf(detail, sizeof(detail), "%s", b->withdrawal->reason);
        break;
    case RELAY__BODY__KIND_NOTICE:
        snprintf(detail, sizeof(detail), "%s", b->notice->text);
        break;
    default:
        break;
    }
    ev.detail = detail;
    rc = event_add(r, &ev);
    if (rc == RL_OK) {
        rc = store_put_incident(t, r);
        r->n_history--; /* the appended event is ours, not r's */
    }
    r->author = saved_author;
    if (fresh)
        free(r->history);
    else
        relay__incident_record__free_unpacked(r, NULL);
    return rc;
}

/* router_note - add a transport event (delivered, receipt) to msg's
 * incident, when self authored msg: relays do not track hops they passed on
 * (their audit log holds that), which spares a record rewrite per hop. */
static int
router_note(struct store_txn *t, const char *self, const uint8_t msg[16],
            const char *who, int64_t at, const char *what, const char *detail)
{
    struct env_msg m;
    const ProtobufCBinaryData *iid;
    Relay__IncidentRecord *r;
    Relay__Event ev = RELAY__EVENT__INIT;
    const char *why;
    uint8_t *buf, id[16];
    size_t len;
    int rc;

    rc = store_get_message(t, msg, &buf, &len);
    if (rc == RL_ENOTFOUND)
        return RL_OK; /* not ours to track */
    if (rc != RL_OK)
        return rc;
    rc = env_open(buf, len, SIZE_MAX, &m, &why);
    free(buf);
    if (rc != RL_OK)
        return RL_OK;
    iid = env_incident_of(m.body);
    if (iid == NULL || iid->len != 16 || strcmp(m.body->author, self) != 0) {
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
        char d[128];
        snprintf(d, sizeof(d), "%s%s%s", env_kind_name(m.body->kind_case),
                 detail[0] ? " " : "", detail);
        ev.at_us = at;
        ev.node = (char *)who;
        ev.what = (char *)what;
        ev.msg.data = (uint8_t *)msg;
        ev.msg.len = 16;
        ev.detail = d;
        rc = event_add(r, &ev);
        if (rc == RL_OK) {
            rc = store_put_incident(t, r);
            r->n_history--; /* the appended event is ours, not r's */
        }
        relay__incident_record__free_unpacked(r, NULL);
    }
    env_msg_free(&m);
    return rc;
}

/* router_note_delivered - peer stored msg */
int
router_note_delivered(struct store_txn *t, const char *self,
                      const uint8_t msg[16], const char *peer, int64_t now)
{
    return router_note(t, self, msg, peer, now, "delivered", "");
}

/* router_apply - everything a stored message changes here */
int
router_apply(struct store_txn *t, const char *self, const struct env_msg *m,
             int deliver, int64_t now)
{
    const Relay__Body *b = m->body;
    const ProtobufCBinaryData *iid;

    switch (b->kind_case) {
    case RELAY__BODY__KIND_ACK:
        if (!deliver)
            return RL_OK;
        for (size_t i = 0; i < b->ack->n_ids; i++) {
            int rc;
            if (b->ack->ids[i].len != 16)
                continue;
            rc = router_note(t, self, b->ack->ids[i].data, b->author,
                             b->created_us, "receipt", "");
            if (rc != RL_OK)
                return rc;
        }
        return RL_OK;
    case RELAY__BODY__KIND_ADVISORY:
        /* listed where it is delivered, and where it was issued */
        if (deliver || strcmp(b->author, self) == 0)
            return store_put_advisory(t, b->id.data, now);
        return RL_OK;
    default:
        break;
    }
    iid = env_incident_of(b);
    if (iid == NULL || iid->len != 16)
        return RL_OK;
    return router_apply_incident(t, b, iid->data);
}
