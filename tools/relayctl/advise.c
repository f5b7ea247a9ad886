/*
 * advise.c - relayctl advise: the policy's view of a report form, offline,
 * from a directory file and a policy file: advised level, targets,
 * escalations and due times (the node's own plan code, node/plan.c).
 *
 * DIAGNOSTICS: a form, directory or policy that does not load exits 2 with
 * the reason; a plan the policy refuses exits 1.
 *
 * SECURITY: reads files only; talks to no node and stores nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "directory.h"
#include "err.h"
#include "form.h"
#include "plan.h"
#include "policy_file.h"
#include "relayctl.h"

/* advise_print - the plan as text */
static void
advise_print(const struct policy *p, const struct plan *pl, int drill)
{
    char iso[40];

    printf("policy          %s\n", p->name);
    printf("claimed level   %d (%s)\n", pl->claimed, p->level_name[pl->claimed]);
    printf("advised level   %d (%s)%s\n", pl->advised,
           pl->advised ? p->level_name[pl->advised] : "-",
           pl->below_advised ? "  FLAG: claimed is below advised (R-LEVEL-2)" : "");
    printf("report to      ");
    for (size_t i = 0; i < pl->nreport_to; i++)
        printf(" %s%s", pl->report_to[i],
               pl->city && strcmp(pl->report_to[i], pl->city) == 0 ? " (copy, R-COPY3)" : "");
    printf("\nhorizontal     ");
    for (size_t i = 0; i < pl->nhoriz; i++)
        printf(" %s", pl->horiz_to[i]);
    printf("%s\n", pl->nhoriz ? " (R-HORIZ)" : " none");
    printf("escalations    ");
    for (unsigned b = 0; b < 4; b++)
        if (pl->esc & (1u << b))
            printf(" %s->%s (%s)", plan_esc_name(1u << b),
                   pl->esc_to[b] ? pl->esc_to[b] : "(not in the directory)",
                   plan_esc_rule(1u << b));
    printf("%s\n", pl->esc ? "" : drill ? " none (drill, R-DRILL)" : " none");
    if (pl->below_advised && pl->esc_advised != pl->esc) {
        printf("at level %d      ", pl->advised);
        for (unsigned b = 0; b < 4; b++)
            if (pl->esc_advised & (1u << b))
                printf(" %s (%s)", plan_esc_name(1u << b), plan_esc_rule(1u << b));
        printf("\n");
    }
    printf("due times (UTC):\n");
    for (int d = 0; d < POL_D_N; d++) {
        if (!pl->due[d])
            continue;
        clock_format_iso(pl->due[d], iso, sizeof(iso));
        printf("  %-8s %-9s %s\n", policy_deadline_name(d), policy_deadline_rule_id(d), iso);
    }
    if (!pl->due[POL_D_REVIEW])
        printf("  (review, support and later due times start when their anchor happens)\n");
}

/* req_advise - offline what-if: the policy's view of a report form */
int
req_advise(struct args *a, struct ctl_req *q)
{
    static char err[8192];
    struct directory d;
    struct policy p;
    struct plan pl;
    Relay__Body b = RELAY__BODY__INIT;
    char src[300];
    const char *nowtxt = opt(a, "now");
    int64_t now = clock_now_us();
    json_t *form;

    (void)q;
    a->rc = 2;
    if (nowtxt && clock_parse_iso(nowtxt, &now) != 0)
        return fail_usage(a, "--now '%s' is not an ISO 8601 time with a zone", nowtxt);
    if (policy_file_load(opt(a, "policy"), &p, src, sizeof(src), err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "relayctl: advise: %s\n", err);
        return -1;
    }
    if (dir_load(opt(a, "directory"), &d, err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "%srelayctl: advise: directory refused\n", err);
        return -1;
    }
    if ((form = read_form(a->npos ? a->pos[0] : NULL)) == NULL) {
        dir_free(&d);
        return -1;
    }
    if (form_to_body("report", form, now, &b, err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "relayctl: advise: %s\n", err);
    } else if (plan_report(&p, &d, opt(a, "node"), b.report, b.drill, &pl, err,
                           sizeof(err)) != RL_OK) {
        fprintf(stderr, "relayctl: advise: %s\n", err);
        a->rc = 1;
    } else {
        if (G.json) {
            json_t *o = plan_json(&p, &pl);
            char *txt = json_dumps(o, JSON_INDENT(2));
            printf("%s\n", txt);
            free(txt);
            json_decref(o);
        } else {
            advise_print(&p, &pl, b.drill);
        }
        plan_free(&pl);
        a->rc = 0;
    }
    form_body_clear(&b);
    json_decref(form);
    dir_free(&d);
    return -1;
}

