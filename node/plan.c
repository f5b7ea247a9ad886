/*
 * plan.c - the policy applied to one report in one federation.
 *
 * DIAGNOSTICS: plan_report names the field at fault ("affected_agencies[1]:
 * 'x' is not in the directory"). Everything else here is total.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"

/* add_once - append id to list unless present or equal to skip */
static void
add_once(const char **list, size_t *n, size_t max, const char *id,
         const char *skip)
{
    if (id == NULL || (skip && strcmp(id, skip) == 0) || *n >= max)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], id) == 0)
            return;
    list[(*n)++] = id;
}

/* plan_free - the horizontal list */
void
plan_free(struct plan *pl)
{
    free(pl->horiz_to);
    pl->horiz_to = NULL;
    pl->nhoriz = 0;
}

/* plan_esc_name - short name of one escalation bit */
const char *
plan_esc_name(unsigned bit)
{
    switch (bit) {
    case POL_ESC_CISO: return "ciso";
    case POL_ESC_HOMELAND: return "homeland";
    case POL_ESC_NSC: return "nsc";
    case POL_ESC_PDPA: return "pdpa";
    default: return "?";
    }
}

/* plan_esc_rule - the rule behind one escalation bit */
const char *
plan_esc_rule(unsigned bit)
{
    switch (bit) {
    case POL_ESC_CISO: return "R-ESC-CISO";
    case POL_ESC_HOMELAND: return "R-ESC-NATIONAL";
    case POL_ESC_NSC: return "R-ESC-NATIONAL";
    case POL_ESC_PDPA: return "R-PDPA";
    default: return "?";
    }
}

/* plan_esc_target - who receives one escalation */
const char *
plan_esc_target(const struct directory *d, unsigned bit, const char *author,
                const char *target)
{
    const struct dir_node *o;

    switch (bit) {
    case POL_ESC_CISO: return target;
    case POL_ESC_HOMELAND:
        o = dir_office(d, DIR_ROLE_HOMELAND, 0);
        return o ? o->id : NULL;
    case POL_ESC_NSC:
        o = dir_office(d, DIR_ROLE_NSC, 0);
        return o ? o->id : NULL;
    case POL_ESC_PDPA: return author;
    default: return NULL;
    }
}

/* plan_report - everything the policy says about one report */
int
plan_report(const struct policy *p, const struct directory *d,
            const char *author, const Relay__IncidentReport *r, int drill,
            struct plan *out, char *err, size_t errlen)
{
    const struct dir_node *a = dir_find(d, author), *city, *o;
    struct pol_harm h[PLAN_HARM_CHUNK];
    struct pol_facts f;
    size_t nh;

    memset(out, 0, sizeof(*out));
    if (a == NULL) {
        snprintf(err, errlen, "author '%s' is not in the directory", author);
        return RL_EINVAL;
    }
    if (a->parent_ix < 0) {
        snprintf(err, errlen, "'%s' is the national node: it has no reporting target", author);
        return RL_EINVAL;
    }
    out->target = d->nodes[a->parent_ix].id;
    out->national = dir_national(d);
    /* R-COPY3: a central reporting target owes the agency's city a copy */
    city = a->city[0] ? dir_find(d, a->city) : NULL;
    if (city && strcmp(city->id, out->target) != 0 &&
        d->nodes[a->parent_ix].tier != TIER_CITY)
        out->city = city->id;
    add_once(out->report_to, &out->nreport_to, 3, out->target, author);
    add_once(out->report_to, &out->nreport_to, 3, out->national, author);
    add_once(out->report_to, &out->nreport_to, 3, out->city, author);

    /* R-LEVEL-1: the maximum over every harm, read a chunk at a time */
    for (size_t i = 0; i < r->n_harms; i += nh) {
        int lvl;
        for (nh = 0; nh < PLAN_HARM_CHUNK && i + nh < r->n_harms; nh++) {
            h[nh].kind = r->harms[i + nh]->kind;
            h[nh].cls = r->harms[i + nh]->class_;
            h[nh].severity = r->harms[i + nh]->severity;
        }
        if ((lvl = policy_advise_level(p, h, nh)) > out->advised)
            out->advised = lvl;
    }
    out->claimed = (int)r->claimed_level;
    out->below_advised = out->claimed < out->advised;

    /* R-HORIZ: other affected agencies, and the sector's CI group: room
     * for every one of them (no cap, issue 9 item 2) */
    if ((out->horiz_to = calloc(r->n_affected_agencies + 1, sizeof(*out->horiz_to))) == NULL) {
        snprintf(err, errlen, "out of memory planning %zu affected agencies",
                 r->n_affected_agencies);
        return RL_ENOMEM;
    }
    for (size_t i = 0; i < r->n_affected_agencies; i++) {
        const struct dir_node *x = dir_find(d, r->affected_agencies[i]);
        if (x == NULL) {
            snprintf(err, errlen, "affected_agencies[%zu]: '%s' is not in the directory",
                     i, r->affected_agencies[i]);
            plan_free(out);
            return RL_EINVAL;
        }
        add_once(out->horiz_to, &out->nhoriz, r->n_affected_agencies + 1, x->id, author);
    }
    if (r->ci_sector != RELAY__SECTOR__SECTOR_NONE &&
        (o = dir_office(d, DIR_ROLE_CI_GROUP, (int)r->ci_sector)) != NULL) {
        out->ci_group = o->id;
        add_once(out->horiz_to, &out->nhoriz, r->n_affected_agencies + 1, o->id, author);
    }

    /* R-ESC-*, R-PDPA: what the national node sends (never for drills) */
    if (!drill) {
        out->esc = policy_escalations(p, out->claimed, (int)r->ci_sector,
                                      r->personal_data);
        out->esc_advised = policy_escalations(p, out->advised, (int)r->ci_sector,
                                              r->personal_data);
    }
    for (unsigned i = 0; i < 4; i++)
        if (out->esc & (1u << i))
            out->esc_to[i] = plan_esc_target(d, 1u << i, author, out->target);

    memset(&f, 0, sizeof(f));
    f.aware_us = r->aware_us;
    f.reported_us = r->reported_us;
    f.level = out->claimed;
    f.copy = out->city != NULL;
    f.horiz = out->nhoriz > 0;
    f.support = r->support_requested[0] != '\0';
    policy_dues(p, &f, out->due);
    return RL_OK;
}

/* plan_level - reviewed level if any, else claimed */
int
plan_level(const Relay__IncidentRecord *r)
{
    return r->reviewed_level ? (int)r->reviewed_level : (int)r->claimed_level;
}

/* plan_dues_run - the incident is neither closed, closing nor withdrawn */
int
plan_dues_run(const Relay__IncidentRecord *r)
{
    return r->state != RELAY__INCIDENT_STATE__CLOSED &&
           r->state != RELAY__INCIDENT_STATE__CLOSING &&
           r->state != RELAY__INCIDENT_STATE__WITHDRAWN;
}

/* plan_esc_level - the higher of claimed and reviewed */
int
plan_esc_level(const Relay__IncidentRecord *r)
{
    return r->reviewed_level > r->claimed_level ? (int)r->reviewed_level
                                                : (int)r->claimed_level;
}

/* plan_record_facts - policy facts from a stored record */
void
plan_record_facts(const Relay__IncidentRecord *r, struct pol_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->aware_us = r->aware_us;
    f->reported_us = r->reported_us;
    f->national_review_us = r->first_review_us;
    f->level = plan_level(r);
    f->copy = r->city[0] != '\0';
    f->horiz = r->n_affected > 0;
    f->support = r->support_requested;
}

/* plan_due_role - tracked or owned here */
int
plan_due_role(const struct directory *d, const char *self,
              const Relay__IncidentRecord *r, int which)
{
    const char *national = dir_national(d);

    if (strcmp(r->author, self) == 0)
        return which == POL_D_REPORT || which == POL_D_HORIZ || which == POL_D_COPY ? 2 : 1;
    if (which == POL_D_HORIZ)
        return 0;
    if (which == POL_D_COPY)
        return strcmp(r->city, self) == 0 ? 1 : 0;
    if (national && strcmp(national, self) == 0)
        return which == POL_D_REPORT ? 1 : 2;
    if (strcmp(r->target, self) == 0)
        return 1;
    return 0;
}

/* plan_json - the plan as JSON */
json_t *
plan_json(const struct policy *p, const struct plan *pl)
{
    json_t *o = json_pack("{s:b,s:s,s:i,s:i,s:b}", "ok", 1, "policy", p->name, "claimed_level",
                          pl->claimed, "advised_level", pl->advised, "below_advised",
                          pl->below_advised);
    json_t *to = json_array(), *h = json_array(), *esc = json_array(), *dues = json_object();
    char iso[40];

    for (size_t i = 0; i < pl->nreport_to; i++)
        json_array_append_new(to, json_string(pl->report_to[i]));
    for (size_t i = 0; i < pl->nhoriz; i++)
        json_array_append_new(h, json_string(pl->horiz_to[i]));
    for (unsigned b = 0; b < 4; b++)
        if (pl->esc & (1u << b))
            json_array_append_new(esc, json_pack("{s:s,s:s,s:o}", "kind", plan_esc_name(1u << b),
                                                 "rule", plan_esc_rule(1u << b), "to",
                                                 pl->esc_to[b] ? json_string(pl->esc_to[b])
                                                               : json_null()));
    for (int d = 0; d < POL_D_N; d++)
        if (pl->due[d]) {
            clock_format_iso(pl->due[d], iso, sizeof(iso));
            json_object_set_new(dues, policy_deadline_name(d), json_string(iso));
        }
    json_object_set_new(o, "report_to", to);
    json_object_set_new(o, "copy_to", pl->city ? json_string(pl->city) : json_null());
    json_object_set_new(o, "horizontal_to", h);
    json_object_set_new(o, "escalations", esc);
    {
        json_t *ea = json_array();
        for (unsigned b = 0; b < 4; b++)
            if (pl->esc_advised & (1u << b))
                json_array_append_new(ea, json_string(plan_esc_name(1u << b)));
        json_object_set_new(o, "escalations_at_advised_level", ea);
    }
    json_object_set_new(o, "dues", dues);
    return o;
}
