/*
 * drill.c - R-DRILL: drills, in one place (issue 10: from control.c and
 * router.c). A supervisor starts a drill (drill notices to a random share of
 * its agencies, one commit); the router adds each notice sent to the drill's
 * record and each answer that comes back (received, report, response,
 * closure); the timing record says pass, fail or pending per scenario. A
 * drill report must answer a drill notice sent to the agency filing it.
 *
 * DIAGNOSTICS: a drill started is logged with its id and size, with
 * [DRILL] so that nobody takes it for a real incident.
 */
#include "drill.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control.h"
#include "envelope.h"
#include "log.h"
#include "node.h"
#include "policy.h"
#include "writer.h"

/* drill_update - a drill answer reached the supervisor that started it */
int
drill_update(struct store_txn *t, const uint8_t notice[16],
             const uint8_t *incident, int64_t at, int what)
{
    Relay__DrillRecord *d;
    uint8_t did[16];
    int rc = store_get_drill_notice(t, notice, did);

    if (rc == RL_ENOTFOUND)
        return RL_OK; /* not a drill started here */
    if (rc != RL_OK)
        return rc;
    if ((rc = store_get_drill(t, did, &d)) != RL_OK)
        return rc == RL_ENOTFOUND ? RL_OK : rc;
    for (size_t i = 0; i < d->n_scenarios; i++) {
        Relay__DrillScenario *s = d->scenarios[i];
        if (s->notice.len != 16 || memcmp(s->notice.data, notice, 16) != 0)
            continue;
        switch (what) {
        case 'A': if (!s->received_us) s->received_us = at; break;
        case 'R':
            if (!s->report_us) {
                s->report_us = at;
                free(s->incident.data);
                s->incident.data = malloc(16);
                if (s->incident.data == NULL) {
                    s->incident.len = 0;
                    relay__drill_record__free_unpacked(d, NULL);
                    return RL_ENOMEM;
                }
                memcpy(s->incident.data, incident, 16);
                s->incident.len = 16;
            }
            break;
        case 'U': if (!s->response_us) s->response_us = at; break;
        case 'C': if (!s->closure_us) s->closure_us = at; break;
        }
    }
    rc = store_put_drill(t, d);
    relay__drill_record__free_unpacked(d, NULL);
    return rc;
}

/* drill_started - a drill notice this node sent: add it to its drill */
int
drill_started(struct store_txn *t, struct node *n, const Relay__Body *b)
{
    const Relay__Notice *no = b->notice;
    Relay__DrillRecord *d = NULL, fresh = RELAY__DRILL_RECORD__INIT;
    Relay__DrillScenario sc = RELAY__DRILL_SCENARIO__INIT, **sv;
    int rc = store_get_drill(t, no->drill.data, &d);

    if (no->drill.len != 16 || b->n_to != 1)
        return RL_OK;
    if (rc == RL_ENOTFOUND) {
        fresh.id = no->drill;
        fresh.supervisor = b->author;
        fresh.started_us = b->created_us;
        fresh.window_us = n->pol.drill_window_us;
        d = &fresh;
    } else if (rc != RL_OK) {
        return rc;
    }
    sc.number = no->scenario;
    sc.agency = b->to[0];
    sc.level = no->level;
    sc.notice = b->id;
    sc.sent_us = b->created_us;
    sc.national = no->level >= 3;
    sv = realloc(d == &fresh ? NULL : d->scenarios, (d->n_scenarios + 1) * sizeof(*sv));
    if (sv == NULL) {
        if (d != &fresh)
            relay__drill_record__free_unpacked(d, NULL);
        return RL_ENOMEM;
    }
    sv[d->n_scenarios++] = &sc;
    d->scenarios = sv;
    rc = store_put_drill(t, d);
    d->n_scenarios--; /* sc is ours */
    if (rc == RL_OK)
        rc = store_put_drill_notice(t, b->id.data, no->drill.data);
    if (d == &fresh)
        free(sv);
    else
        relay__drill_record__free_unpacked(d, NULL);
    return rc;
}

/* drill_notice_check - a drill report must answer a drill notice sent here */
const char *
drill_notice_check(struct node *n, const Relay__Body *b)
{
    struct store_txn t;
    struct env_msg m;
    const char *why = NULL, *w;
    uint8_t *buf;
    size_t len;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return "cannot read the store";
    if (store_get_message(&t, b->report->drill_of.data, &buf, &len) != RL_OK) {
        store_abort(&t);
        return "drill_of: no drill notice with that id here";
    }
    store_abort(&t);
    if (env_open(buf, len, SIZE_MAX, &m, &w) != RL_OK) {
        free(buf);
        return "drill_of: the stored message cannot be read";
    }
    free(buf);
    if (m.body->kind_case != RELAY__BODY__KIND_NOTICE ||
        m.body->notice->kind != RELAY__NOTICE_KIND__DRILL)
        why = "drill_of: that message is not a drill notice";
    else if (m.body->n_to != 1 || strcmp(m.body->to[0], n->self->id) != 0)
        why = "drill_of: that drill notice is for another agency";
    env_msg_free(&m);
    return why;
}

/* drill_json - a drill's timing record (R-DRILL): per scenario, when
 * the agency received the notice, reported, sent its response notice
 * (first update) and closed; pass when all three came within the window of
 * the notice's receipt, fail when the window passed first */
json_t *
drill_json(const Relay__DrillRecord *d, int64_t now)
{
    json_t *o, *arr = json_array();
    char hex[ENV_ID_HEX];
    int pass = 0, fail = 0, pending = 0;

    for (size_t i = 0; i < d->n_scenarios; i++) {
        const Relay__DrillScenario *s = d->scenarios[i];
        int64_t from = s->received_us ? s->received_us : s->sent_us;
        int64_t end = from + d->window_us;
        int done = s->report_us && s->response_us && s->closure_us;
        int in_time = done && s->report_us <= end && s->response_us <= end &&
                      s->closure_us <= end && s->received_us;
        const char *res = in_time ? "pass" : (done || now > end) ? "fail" : "pending";
        json_t *e;

        pass += res[0] == 'p' && res[1] == 'a';
        fail += res[0] == 'f';
        pending += res[0] == 'p' && res[1] == 'e';
        env_id_hex(s->notice.data, hex);
        e = json_pack("{s:i,s:s,s:i,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s}", "scenario",
                      (int)s->number, "agency", s->agency, "level", (int)s->level,
                      "solvable_by", s->national ? "national" : "supervisor", "notice", hex,
                      "sent", api_time(s->sent_us), "received", api_time(s->received_us),
                      "report", api_time(s->report_us), "response", api_time(s->response_us),
                      "closure", api_time(s->closure_us), "result", res);
        if (s->incident.len == 16) {
            env_id_hex(s->incident.data, hex);
            json_object_set_new(e, "incident", json_string(hex));
        }
        json_array_append_new(arr, e);
    }
    env_id_hex(d->id.data, hex);
    o = json_pack("{s:s,s:s,s:o,s:I,s:o,s:{s:i,s:i,s:i}}", "id", hex, "supervisor",
                  d->supervisor, "started", api_time(d->started_us), "window_s",
                  (json_int_t)(d->window_us / 1000000), "scenarios", arr, "summary", "pass",
                  pass, "fail", fail, "pending", pending);
    return o;
}

/* drill_start_verb - R-DRILL: drill notices to a random share of this
 * supervisor's agencies, scenarios of levels 1-4, in one commit */
json_t *
drill_start_verb(struct api_req *r)
{
    struct node *n = r->n;
    size_t na = 0, k, ns;
    size_t *units = NULL, *picked = NULL;
    uint32_t *rnd = NULL;
    struct work_item *items = NULL;
    struct work wk;
    uint8_t did[16];
    char dhex[ENV_ID_HEX], nhex[ENV_ID_HEX];
    json_t *rep = NULL, *arr;
    int rc = RL_OK;

    if (n->cfg.tier != TIER_CITY && n->cfg.tier != TIER_MINISTRY &&
        n->cfg.tier != TIER_NATIONAL)
        return api_error(r, 403, NULL, "drill: only a supervisor (city, ministry or national node) runs drills");
    units = calloc(node_dir(n)->n + 1, sizeof(*units));
    picked = calloc(node_dir(n)->n + 1, sizeof(*picked));
    rnd = calloc(node_dir(n)->n + 1, sizeof(*rnd));
    if (!units || !picked || !rnd)
        goto oom;
    for (size_t i = 0; i < node_dir(n)->n; i++)
        if (node_dir(n)->nodes[i].tier == TIER_AGENCY && node_dir(n)->nodes[i].parent_ix >= 0 &&
            strcmp(node_dir(n)->nodes[node_dir(n)->nodes[i].parent_ix].id, n->self->id) == 0)
            units[na++] = i;
    if (na == 0) {
        rep = api_error(r, 409, NULL, "drill: this node has no agencies to drill");
        goto out;
    }
    randombytes_buf(rnd, na * sizeof(*rnd));
    k = policy_drill_pick(&n->pol, na, rnd, picked);
    ns = policy_drill_scenarios(&n->pol, k);
    if ((items = calloc(ns, sizeof(*items))) == NULL)
        goto oom;
    env_id_new(did);
    env_id_hex(did, dhex);
    arr = json_array();
    for (size_t i = 0; i < ns && rc == RL_OK; i++) {
        const struct dir_node *ag = &node_dir(n)->nodes[units[picked[i % k]]];
        Relay__Body b = RELAY__BODY__INIT;
        Relay__Notice no = RELAY__NOTICE__INIT;
        char *to[1] = {(char *)ag->id}, text[400];
        uint8_t id[ENV_ID_LEN];
        const char *why;
        unsigned level = (unsigned)(1 + i % 4);

        env_id_new(id);
        env_id_hex(id, nhex);
        snprintf(text, sizeof(text),
                 "R-DRILL scenario %zu: a level %u incident (%s). Within %lld min file a drill "
                 "report with drill_of %s, a response update and a closure.",
                 i + 1, level, level >= 3 ? "needs the national center" : "solvable by the supervisor",
                 (long long)(n->pol.drill_window_us / 60000000), nhex);
        b.id.data = id;
        b.id.len = sizeof(id);
        b.author = (char *)n->self->id;
        b.created_us = clock_now_us();
        b.to = to;
        b.n_to = 1;
        b.drill = 1;
        b.kind_case = RELAY__BODY__KIND_NOTICE;
        b.notice = &no;
        no.kind = RELAY__NOTICE_KIND__DRILL;
        no.text = text;
        no.rule = "R-DRILL";
        no.level = level;
        no.drill.data = did;
        no.drill.len = 16;
        no.scenario = (uint32_t)(i + 1);
        if ((rc = env_seal_open(&b, n->kp, SIZE_MAX, &items[i].m, &why)) != RL_OK)
            break;
        json_array_append_new(arr, json_pack("{s:I,s:s,s:I,s:s}", "scenario", (json_int_t)(i + 1),
                                             "agency", ag->id, "level", (json_int_t)level,
                                             "notice", nhex));
    }
    memset(&wk, 0, sizeof(wk));
    rep = api_ok();
    json_object_set_new(rep, "drill", json_string(dhex));
    json_object_set_new(rep, "agencies", json_integer((json_int_t)na));
    json_object_set_new(rep, "drilled", json_integer((json_int_t)k));
    json_object_set_new(rep, "scenarios", arr);
    if (rc == RL_OK) {
        wk.type = WORK_INBOUND;
        wk.items = items;
        wk.n = ns;
        rc = control_commit(r, &wk, rep);
    }
    if (rc != RL_OK) {
        json_decref(rep);
        rep = api_error(r, control_commit_status(rc), NULL, "drill: not started: %s", wk.err[0] ? wk.err : rl_strerror(rc));
    } else {
        log_info("[DRILL] drill %s started: %zu scenarios for %zu of %zu agencies", dhex, ns,
                 k, na);
    }
    for (size_t i = 0; i < ns; i++)
        env_msg_free(&items[i].m);
    goto out;
oom:
    rep = api_error(r, 503, NULL, "drill: out of memory");
out:
    free(items);
    free(units);
    free(picked);
    free(rnd);
    return rep;
}

/* drill_record_verb - a drill's timing record */
json_t *
drill_record_verb(struct api_req *r)
{
    Relay__DrillRecord *d;
    struct store_txn t;
    uint8_t id[16];
    json_t *rep;
    int rc;

    if (api_id(r, "id", id) != 0)
        return api_error(r, 400, "id", "drill: the id must be 32 hex digits (a drill id)");
    if (store_begin(r->n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    rc = store_get_drill(&t, id, &d);
    store_abort(&t);
    if (rc == RL_ENOTFOUND)
        return api_error(r, 404, "id", "drill: no drill with that id was started here");
    if (rc != RL_OK)
        return api_error(r, 503, NULL, "drill: the record cannot be read: %s", rl_strerror(rc));
    rep = api_ok();
    json_object_set_new(rep, "drill", drill_json(d, clock_now_us()));
    relay__drill_record__free_unpacked(d, NULL);
    return rep;
}
