/*
 * relayctl.c - the operator's control tool: one verb, one request, one reply.
 *
 * relayctl speaks the node's HTTP/JSON API (docs/api.md) over its Unix
 * socket and prints the reply as text, or with --json as indented JSON.
 * Verbs live in one table, as in smtpctl: {name, request builder, text
 * printer, usage, required options, positionals}; a verb accepts exactly
 * the options its usage line names. keygen, dir-init and advise need no
 * node. The parts are listed in relayctl.h.
 *
 * DIAGNOSTICS: exit 0 on success (and for --help); 1 when the node answered
 * with an error, the audit log is not intact or a key operation failed; 2
 * for usage errors, bad input, and a node that is unreachable or answers
 * garbage. Messages go to stderr as "relayctl: ...".
 *
 * SECURITY: relayctl signs nothing but directory changes with a root key it
 * holds; the node signs what it submits. Text output escapes control
 * characters (term_safe); --json prints the node's reply exactly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relayctl.h"

/* every verb option; a verb accepts those its usage line names, and --json */
const struct option verb_opts[] = {
    {"json", no_argument, NULL, 1},
    {"help", no_argument, NULL, 1},
    {"advisories", no_argument, NULL, 1},
    {"public", no_argument, NULL, 1},
    {"outbox-empty", no_argument, NULL, 1},
    {"team-formed", no_argument, NULL, 1},
    {"damage-controlled", no_argument, NULL, 1},
    {"recovered", no_argument, NULL, 1},
    {"confirm", no_argument, NULL, 1},
    {"change", no_argument, NULL, 1},
    {"closure", no_argument, NULL, 1},
    {"text", required_argument, NULL, 1},
    {"reason", required_argument, NULL, 1},
    {"basis", required_argument, NULL, 1},
    {"follow-up", required_argument, NULL, 1},
    {"level", required_argument, NULL, 1},
    {"timeout", required_argument, NULL, 1},
    {"wait-receipt", required_argument, NULL, 1},
    {"no-wait", no_argument, NULL, 1},
    {"overdue", no_argument, NULL, 1},
    {"queue", no_argument, NULL, 1},
    {"drills", no_argument, NULL, 1},
    {"subjects-notified", no_argument, NULL, 1},
    {"node", required_argument, NULL, 1},
    {"directory", required_argument, NULL, 1},
    {"policy", required_argument, NULL, 1},
    {"now", required_argument, NULL, 1},
    {"root", required_argument, NULL, 1},
    {"from", required_argument, NULL, 1},
    {"out", required_argument, NULL, 1},
    {"id", required_argument, NULL, 1},
    {"tier", required_argument, NULL, 1},
    {"parent", required_argument, NULL, 1},
    {"city", required_argument, NULL, 1},
    {"sector", required_argument, NULL, 1},
    {"role", required_argument, NULL, 1},
    {"contact", required_argument, NULL, 1},
    {"key", required_argument, NULL, 1},
    {"at", required_argument, NULL, 1},
    {"valid-from", required_argument, NULL, 1},
    {"valid-until", required_argument, NULL, 1},
    {"peer", required_argument, NULL, 1},
    {"again", no_argument, NULL, 1},
    {"limit", required_argument, NULL, 1},
    {"cursor", required_argument, NULL, 1},
    {"all", no_argument, NULL, 1},
    {NULL, 0, NULL, 0}};

_Static_assert(sizeof(verb_opts) / sizeof(verb_opts[0]) - 1 == NOPTS, "NOPTS in relayctl.h");

struct ctl_global G;

/* fail_usage - report a usage error for the verb, print its usage; -1 with
 * a->rc 2 */
int
fail_usage(struct args *a, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "relayctl: %s: ", a->cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: relayctl %s\n", a->cmd->usage);
    a->rc = 2;
    return -1;
}

/* mentions - 1 if text names the option "--name" as a whole word */
static int
mentions(const char *text, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = text; (p = strstr(p, "--")) != NULL; p += 2)
        if (strncmp(p + 2, name, n) == 0 && strchr(" |)]", p[2 + n]))
            return 1;
    return 0;
}

/* opt_index - the index of option name in verb_opts */
static size_t
opt_index(const char *name)
{
    size_t i;

    for (i = 0; i < NOPTS && strcmp(verb_opts[i].name, name) != 0; i++)
        ;
    return i;
}

/* opt - the value of a verb option, "" for a flag, NULL when not given */
const char *
opt(const struct args *a, const char *name)
{
    size_t i = opt_index(name);

    return i < NOPTS ? a->val[i] : NULL;
}

/* opt_set - give option name the value val (borrowed), or none for NULL */
void
opt_set(struct args *a, const char *name, const char *val)
{
    size_t i = opt_index(name);

    if (i < NOPTS)
        a->val[i] = val;
}

/* flag - 1 if the option was given */
int
flag(const struct args *a, const char *name)
{
    return opt(a, name) != NULL;
}

/* parse_int - a whole decimal integer within min..max; 0 or -1 */
int
parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return (errno || end == s || *end || *out < min || *out > max) ? -1 : 0;
}

static const struct cmd cmds[] = {
    {"keygen", req_keygen, NULL, "keygen [--public] KEYFILE", "", 1, 1},
    {"report", req_form, show_filed,
     "report [FILE|-] [--again] [--wait-receipt SECONDS | --no-wait]", "", 0, 1},
    {"update", req_update, show_filed,
     "update ID [--team-formed] [--damage-controlled] [--recovered] "
     "[--subjects-notified] [--text TEXT] [--wait-receipt SECONDS | --no-wait]",
     "", 1, 1},
    {"support", req_support, show_filed, "support ID --text TEXT", "--text", 1, 1},
    {"request-level", req_request_level, show_filed,
     "request-level ID LEVEL --reason TEXT", "--reason", 2, 2},
    {"review", req_review, show_filed,
     "review ID --level N (--confirm|--change) --basis TEXT [--closure] "
     "[--follow-up TEXT]",
     "--level --basis", 1, 1},
    {"close", req_close, show_filed,
     "close ID [FILE|-] [--wait-receipt SECONDS | --no-wait]", "", 1, 2},
    {"withdraw", req_withdraw, show_filed, "withdraw ID --reason TEXT",
     "--reason", 1, 1},
    {"advisory", req_form, show_filed, "advisory [FILE|-]", "", 0, 1},
    {"list", req_list, show_list,
     "list [--overdue | --queue | --advisories | --drills] [--limit N] [--cursor C] [--all]",
     "", 0, 0},
    {"drill", req_drill, show_drill_reply, "drill (start | record DRILL)", "", 1, 2},
    {"advise", req_advise, NULL,
     "advise [FILE|-] --node ID --directory FILE [--policy FILE] [--now ISO]",
     "--node --directory", 0, 1},
    {"show", req_show, show_show, "show ID", "", 1, 1},
    {"status", req_status, show_status, "status", "", 0, 0},
    {"wait", req_wait, show_wait, "wait (ID | --outbox-empty) [--timeout MS]",
     "", 0, 1},
    {"clock", req_clock, show_clock, "clock (set ISO | advance DURATION)", "",
     2, 2},
    {"audit", req_audit, show_audit, "audit (verify | export FILE | check CHILD FILE | head CHILD)", "", 1,
     3},
    {"dir-init", req_dir_init, NULL,
     "dir-init --root ROOTKEY --from TOPOLOGY.ini --out DIRECTORY [--at ISO]",
     "--root --from --out", 0, 0},
    {"enrol", req_dir_change, show_dir_change,
     "enrol --root ROOTKEY --id ID --tier TIER [--parent P] [--city C] [--sector S] "
     "[--role R] [--contact C] --key HEX [--valid-from ISO] [--valid-until ISO] "
     "[--out DIRECTORY] [--at ISO]",
     "--root --id --tier --key", 0, 0},
    {"rotate", req_dir_change, show_dir_change,
     "rotate --root ROOTKEY --id ID --key HEX [--at ISO]", "--root --id --key", 0, 0},
    {"revoke", req_dir_change, show_dir_change, "revoke --root ROOTKEY --id ID [--at ISO]",
     "--root --id", 0, 0},
    {"dir", req_dir, show_dir, "dir list", "", 1, 1},
    {"held", req_held, show_held, "held", "", 0, 0},
    {"release", req_held_act, show_held_act, "release ID [--peer P]", "", 1, 1},
    {"drop", req_held_act, show_held_act, "drop ID --reason TEXT [--peer P]", "--reason", 1,
     1},
    {"store", req_store, show_store, "store check", "", 1, 1},
    {"operator", req_operator, show_operator,
     "operator (add NAME --role viewer|reporter|reviewer|admin | passwd NAME | disable NAME "
     "| list)",
     "", 1, 2},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* usage - the whole synopsis to fp; returns status */
static int
usage(FILE *fp, int status)
{
    fprintf(fp, "usage: relayctl [-c CONFIG | -s PATH] [-t MS] [--json] VERB "
                "[ARGS]\nverbs:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(fp, "  %s\n", cmds[i].usage);
    fprintf(fp,
            "options:\n"
            "  -c CONFIG  take the node's API socket from CONFIG "
            "([node] api_socket)\n"
            "  -s PATH    the node's API socket (a Unix socket path)\n"
            "  -t MS      request timeout in milliseconds (default %d)\n"
            "  --json     print the node's JSON reply (also after VERB)\n"
            "  --help     this text; VERB --help: that verb's usage\n"
            "FILE is a JSON form; '-' or none reads stdin. "
            "DURATION: 90s, 15m, 3h, 2d, 1h30m.\n"
            "report, update and close wait up to --wait-receipt SECONDS (default 5) for the\n"
            "reporting target's receipt and say whether it was received.\n"
            "exit: 0 ok, 1 the node said no, 2 usage or unreachable node, 3 filed and stored\n"
            "on this node but NOT yet received by its target (the phone script is printed)\n",
            CTL_TIMEOUT_MS);
    return status;
}

/* parse_verb - the options and positionals of one verb into *a; 0, 2, or
 * 3 after printing the verb's usage for --help */
static int
parse_verb(int argc, char **argv, struct args *a)
{
    int c, i;

    optind = 0; /* GNU: start over, permuting options before positionals */
    while ((c = getopt_long(argc, argv, ":", verb_opts, &i)) != -1) {
        if (c == ':')
            return fail_usage(a, "option '%s' needs a value", argv[optind - 1]),
                   2;
        if (c != 1)
            return fail_usage(a, "unknown option '%s'", argv[optind - 1]), 2;
        if (strcmp(verb_opts[i].name, "help") == 0) {
            printf("usage: relayctl %s\n", a->cmd->usage);
            return 3;
        }
        if (i > 0 && !mentions(a->cmd->usage, verb_opts[i].name))
            return fail_usage(a, "unknown option '--%s'", verb_opts[i].name), 2;
        a->val[i] = optarg ? optarg : "";
    }
    a->npos = argc - optind;
    a->pos = argv + optind;
    if (a->npos < a->cmd->minpos || a->npos > a->cmd->maxpos)
        return fail_usage(a, a->npos < a->cmd->minpos ? "missing argument"
                                                      : "too many arguments"),
               2;
    for (i = 0; i < (int)NOPTS; i++)
        if (!a->val[i] && mentions(a->cmd->need, verb_opts[i].name))
            return fail_usage(a, "--%s is required", verb_opts[i].name), 2;
    for (i = 1; i < argc && a->cmd->show; i++) { /* JSON strings are UTF-8 */
        json_t *t = json_string(argv[i]);
        if (t == NULL)
            return fail_usage(a, "'%s' is not valid UTF-8", argv[i]), 2;
        json_decref(t);
    }
    G.json |= flag(a, "json");
    return 0;
}

/* main - global options, one verb: build, send, show */
int
main(int argc, char **argv)
{
    static const struct option gopts[] = {{"json", no_argument, NULL, 'j'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    struct args a = {.timeout_ms = CTL_TIMEOUT_MS};
    struct ctl_req q = {0};
    json_t *rep;
    long long n;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:c:s:t:h", gopts, NULL)) != -1) {
        if (c == 'c' || c == 's')
            *(c == 'c' ? &G.config : &G.sock) = optarg;
        else if (c == 'j')
            G.json = 1;
        else if (c == 'h')
            return usage(stdout, 0);
        else if (c == 't' && parse_int(optarg, 1, INT32_MAX, &n) == 0)
            a.timeout_ms = (int)n;
        else {
            fprintf(stderr, "relayctl: %s '%s'\n",
                    c == 't'   ? "-t needs a positive number of ms, not"
                    : c == ':' ? "a value is missing after"
                               : "unknown option",
                    c == 't' ? optarg : argv[optind - 1]);
            return usage(stderr, 2);
        }
    }
    if (G.config && G.sock) {
        fprintf(stderr, "relayctl: give -c or -s, not both\n");
        return 2;
    }
    if (optind >= argc)
        return usage(stderr, 2);
    if (strcmp(argv[optind], "help") == 0 && optind + 1 < argc) {
        for (size_t i = 0; i < NCMDS; i++)
            if (strcmp(cmds[i].name, argv[optind + 1]) == 0) {
                printf("usage: relayctl %s\n", cmds[i].usage);
                return 0;
            }
    }
    if (strcmp(argv[optind], "help") == 0)
        return usage(stdout, 0);
    for (size_t i = 0; i < NCMDS; i++)
        if (strcmp(cmds[i].name, argv[optind]) == 0)
            a.cmd = &cmds[i];
    if (a.cmd == NULL) {
        fprintf(stderr, "relayctl: unknown verb '%s'\n", argv[optind]);
        return usage(stderr, 2);
    }
    G.verb = a.cmd->name;
    if ((c = parse_verb(argc - optind, argv + optind, &a)) != 0)
        return c == 3 ? 0 : 2;
    if (a.cmd->show && ctl_socket() == NULL)
        return 2;
    if (a.cmd->req(&a, &q) != 0)
        return a.rc;
    if (mentions(a.cmd->usage, "wait-receipt") && !flag(&a, "no-wait")) {
        /* honest filing (issue 12 item 2): say whether the target has it */
        long long s = CTL_RECEIPT_WAIT_S;
        if (opt(&a, "wait-receipt") && parse_int(opt(&a, "wait-receipt"), 0, 600, &s) != 0) {
            json_decref(q.body);
            return fail_usage(&a, "--wait-receipt: seconds from 0 to 600, not '%s'",
                              opt(&a, "wait-receipt")), 2;
        }
        if ((c = ctl_quiet(&a, &q, &rep)) != 0)
            return c;
        c = filed_wait(&a, rep, s);
        json_decref(rep);
        return c;
    }
    if ((c = ctl_call(&q, a.timeout_ms, &rep)) != 0)
        return c;
    /* audit's verdict sets the exit status even with --json, and an
     * enrolment writes its bootstrap file either way */
    if (!G.json || a.cmd->show == show_audit || a.cmd->show == show_dir_change ||
        (a.cmd->show == show_list && flag(&a, "all")) || a.cmd->show == show_store)
        c = a.cmd->show(&a, rep);
    json_decref(rep);
    return c;
}
