/*
 * relayctl.h - what the parts of relayctl share: a verb's parsed arguments,
 * the request it builds for the node's HTTP API (docs/api.md), and the
 * helpers every part uses.
 *
 * The parts, one concept each: relayctl.c (the verb table, options, main),
 * client.c (the HTTP client over the node's Unix socket), verbs.c (each
 * verb's request), show.c (the text of replies), audit.c (audit export and
 * check), directory.c (keys and the root-signed directory), advise.c (the
 * offline what-if), operator.c (operator accounts).
 */
#ifndef RELAYCTL_H
#define RELAYCTL_H

#include <getopt.h>
#include <stddef.h>

#include <jansson.h>

#define CTL_TIMEOUT_MS 15000 /* default request timeout (-t) */
#define CTL_PATH_MAX 2048    /* a request's path and query */

/* One request to the API. body is owned by the request (ctl_call consumes
 * it); NULL sends no body. */
struct ctl_req {
    const char *method;       /* "GET" or "POST" */
    char path[CTL_PATH_MAX];  /* "/api/v1/...", with the query */
    json_t *body;
    int writes;               /* a write: Idempotency-Key, retried */
};

extern const struct option verb_opts[];
#define NOPTS 46 /* entries of verb_opts before its terminator */

struct args {
    const struct cmd *cmd;
    const char *val[NOPTS]; /* value of each option given; "" for a flag */
    int npos;
    char **pos;     /* positionals, borrowed from argv */
    int timeout_ms; /* of this request */
    int rc;         /* exit status when no request was built */
};

/* A verb: req fills the request and returns 0, or returns -1 when there is
 * nothing to send (a->rc is then the exit status); show prints an answer
 * and returns the exit status. */
struct cmd {
    const char *name;
    int (*req)(struct args *a, struct ctl_req *q);
    int (*show)(struct args *a, const json_t *rep);
    const char *usage; /* after "relayctl " */
    const char *need;  /* "--a --b" */
    int minpos, maxpos;
};

extern struct ctl_global {
    const char *config; /* -c */
    const char *sock;   /* -s, or [node] api_socket from the config */
    int json;           /* --json */
    const char *verb;   /* for messages */
} G;

/* relayctl.c */
int fail_usage(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *opt(const struct args *a, const char *name);
int flag(const struct args *a, const char *name);
void opt_set(struct args *a, const char *name, const char *val);
int parse_int(const char *s, long long min, long long max, long long *out);

/* client.c */
/* ctl_socket - -s, or [node] api_socket of -c (static storage); NULL after
 * a message. */
const char *ctl_socket(void);
/* ctl_set - fill q; body is taken (freed when the path does not fit, -1). */
int ctl_set(struct ctl_req *q, const char *method, json_t *body, int writes,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* ctl_esc - s percent-encoded for a path or query; a ring buffer, valid
 * for 16 more calls. */
const char *ctl_esc(const char *s);
/* ctl_call - send q (q->body always consumed); 0 with *out the answer (the
 * caller decrefs it), 1 after an error reply, 2 after no usable reply (*out
 * NULL); both printed. */
int ctl_call(struct ctl_req *q, int tmo_ms, json_t **out);
/* ctl_quiet - ctl_call without printing the reply for --json. */
int ctl_quiet(struct args *a, struct ctl_req *q, json_t **rep);
/* ctl_fetch - ctl_quiet of a request that writes nothing; body taken. */
int ctl_fetch(struct args *a, json_t **rep, const char *method, json_t *body, const char *fmt,
              ...) __attribute__((format(printf, 5, 6)));

/* show.c: term_safe, jtext and jget return s itself or a ring buffer
 * (valid for 32 more calls), never memory the caller frees; each show_*
 * prints one kind of answer and returns the exit status. */
const char *term_safe(const char *s);
const char *jtext(const json_t *v);
const char *jget(const json_t *obj, const char *key);
void show_drill(const json_t *d);
int show_filed(struct args *a, const json_t *rep);

/* receipt.c: filed_wait - after report, update or close answered rep,
 * wait up to secs seconds (--wait-receipt, CTL_RECEIPT_WAIT_S by default)
 * for the reporting target's receipt and print the outcome (taken
 * as human text or, with --json, rep with "received" and "phone_script");
 * returns the exit status: 0 received, 3 stored here but not received. */
#define CTL_RECEIPT_WAIT_S 5
int filed_wait(struct args *a, json_t *rep, long long secs);
int show_list(struct args *a, const json_t *rep);
int show_show(struct args *a, const json_t *rep);
int show_status(struct args *a, const json_t *rep);
int show_held(struct args *a, const json_t *rep);
int show_held_act(struct args *a, const json_t *rep);
int show_wait(struct args *a, const json_t *rep);
int show_clock(struct args *a, const json_t *rep);
int show_audit(struct args *a, const json_t *rep);
int show_store(struct args *a, const json_t *rep);
int show_drill_reply(struct args *a, const json_t *rep);

/* verbs.c: each req_* fills q (see struct cmd). read_form - a JSON object
 * from file or stdin ("-" or NULL), the caller's to decref; NULL after a
 * message. */
json_t *read_form(const char *file);
int req_form(struct args *a, struct ctl_req *q);
int req_update(struct args *a, struct ctl_req *q);
int req_request_level(struct args *a, struct ctl_req *q);
int req_review(struct args *a, struct ctl_req *q);
int req_close(struct args *a, struct ctl_req *q);
int req_withdraw(struct args *a, struct ctl_req *q);
int req_support(struct args *a, struct ctl_req *q);
int req_list(struct args *a, struct ctl_req *q);
int req_show(struct args *a, struct ctl_req *q);
int req_status(struct args *a, struct ctl_req *q);
int req_held(struct args *a, struct ctl_req *q);
int req_held_act(struct args *a, struct ctl_req *q);
int req_wait(struct args *a, struct ctl_req *q);
int req_clock(struct args *a, struct ctl_req *q);
int req_store(struct args *a, struct ctl_req *q);
int req_drill(struct args *a, struct ctl_req *q);

/* audit.c */
int req_audit(struct args *a, struct ctl_req *q);

/* directory.c */
int req_keygen(struct args *a, struct ctl_req *q);
int req_dir_init(struct args *a, struct ctl_req *q);
int req_dir_change(struct args *a, struct ctl_req *q);
int show_dir_change(struct args *a, const json_t *rep);
int req_dir(struct args *a, struct ctl_req *q);
int show_dir(struct args *a, const json_t *rep);

/* advise.c */
int req_advise(struct args *a, struct ctl_req *q);

/* operator.c */
int req_operator(struct args *a, struct ctl_req *q);
int show_operator(struct args *a, const json_t *rep);

#endif
