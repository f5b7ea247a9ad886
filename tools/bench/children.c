/*
 * children.c - relay-bench --children N: one parent serving N children.
 *
 * Builds a throwaway federation in the bench's directory: a national node
 * and a ministry node as real relay-node processes, and N children of the
 * ministry (tier agency) with real Ed25519 keys and directory entries,
 * simulated in this process. Each child has its own nng req socket dialled
 * to the ministry (one connection per child) with two contexts, as
 * link_up.c has: a poll context that long-polls (poll=1) and acknowledges
 * the previous downward batch in its next poll, with the child's signed
 * audit head, and a send context that pushes signed report envelopes
 * (author: the child, addressed by the policy's plan as relay-node
 * addresses a filed report). Both are driven by aio callbacks: no thread
 * per child. Every frame is sealed and opened by sim_seal/sim_open.
 *
 * A child's first exchange is a sealed request without poll (answered at
 * once); its polls follow. "Connected" is that first successful exchange.
 * Phases, each bounded by --timeout: all connected; the parent's idle CPU
 * and memory over --idle seconds; an advisory published through the
 * ministry's API (POST /api/v1/advisories on its Unix socket, bench_api.c)
 * for all its agencies, until the last child has it; K
 * reports (--sample) pushed one at a time, timed from send to the parent's
 * reply; one report from every child at once, until the national node
 * holds them all.
 *
 * DIAGNOSTICS: every figure is printed with its unit. A phase that does not
 * complete (a child never connected, an advisory that reached only some
 * children, a push refused or unanswered, reports missing at the national
 * node) is named on stderr and makes the run exit 1; the later phases still
 * run where they can, so that one run shows every figure it can measure.
 * relay_bench.c stops the nodes on every path.
 *
 * SECURITY: a benchmark, not a node: it trusts the nodes it started, but
 * still opens every reply under the request's key and checks the signature
 * of everything delivered against the directory (a bad one fails the run).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "config.h"
#include "directory.h"
#include "envelope.h"
#include "form.h"
#include "keys.h"
#include "link_seal.h"
#include "plan.h"
#include "policy_file.h"

#include "bench.h"

#define SIM_LINK_VERSION 1    /* LinkRequest.version, as link_up.c */
#define SIM_ID_FMT "bench-child-%05ld"
#define SIM_RETRY_MIN_MS 100  /* backoff after a failed exchange */
#define SIM_RETRY_MAX_MS 2000
#define SIM_WAIT_US 10000     /* main thread: re-check progress every 10 ms */

struct children_opts children_opts = {.sample = 100, .idle_s = 10, .timeout_s = 120};

enum { P_SEND, P_RECV, P_WAIT };

/* One simulated child. The poll fields are touched only by the poll aio's
 * callback, the push fields by the send aio's callback and by the main
 * thread between pushes (sem-ordered); the results are atomics. */
struct sim_child {
    char id[32];
    struct keypair *kp;
    struct link_client *lc; /* its session with the ministry (both contexts) */
    nng_socket sock;
    nng_ctx pctx, sctx;
    nng_aio *paio, *saio;
    int open; /* sock, contexts and aios exist */
    /* poll side */
    int pstate, pfails;
    struct link_seal_ctx pseal;
    uint8_t (*acked)[ENV_ID_LEN]; /* the last downward batch, stored */
    size_t nacked;
    ProtobufCBinaryData head; /* its signed audit head: signed once, as a
                               * relay-node child signs again only when its
                               * log grows */
    /* push side */
    int sstate;
    struct link_seal_ctx sseal;
    uint8_t *env, env_id[ENV_ID_LEN];
    size_t envlen;
    int64_t sent_us, reply_us;
    /* results (monotonic us, 0: not yet) */
    _Atomic int64_t connected_us, adv_us;
};

static struct {
    struct sim_child *c;
    long n;
    uint8_t parent_pk[KEYS_PK_LEN];
    struct directory dir;
    struct policy pol;
    char url[64], aware[40], adv_title[64];
    int64_t poll_timeout_ms, call_timeout_ms, poll_hold_ms;
    size_t maxsz;
    atomic_int stopping;
    atomic_long pipes; /* the children's live connections (sim_pipe_cb) */
    atomic_long connected, adv_got, exchanges, poll_errors, bad_envs,
        pushes_done, pushes_failed;
    sem_t push_done;
    pthread_mutex_t mu; /* why */
    char why[320];      /* the first failed push */
    int soft_failed;    /* a phase did not complete: exit 1 at the end */
    double rss0_mib;    /* the ministry's VmRSS before any child dialled */
} G;

/* soft_fail - name a phase that did not complete; the run goes on and
 * exits 1 at the end */
static void __attribute__((format(printf, 1, 2)))
soft_fail(const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    G.soft_failed = 1;
    fail("%s", buf);
}

/* sim_note - keep the first reason a push failed (callback threads) */
static void __attribute__((format(printf, 2, 3)))
sim_note(struct sim_child *c, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&G.mu);
    if (G.why[0] == '\0') {
        int k = snprintf(G.why, sizeof(G.why), "%s: ", c->id);
        va_start(ap, fmt);
        vsnprintf(G.why + k, sizeof(G.why) - (size_t)k, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&G.mu);
}

/* ------------------------------------------------------------------
 * The one place frames are sealed and opened: as relay-node's link_call,
 * through one struct link_client per child (one connection, shared by its
 * poll and send contexts; link_seal.h). When sim_seal returns a handshake
 * frame the callers send it as they send a request, and sim_open's RL_OK
 * with *rep == NULL (the session is made) makes them seal the request again.
 * ------------------------------------------------------------------ */

/* sim_seal - seal the serialized LinkRequest pt for the ministry as c;
 * *frame is malloc'd (caller frees); seal holds the exchange's key */
static int
sim_seal(struct sim_child *c, const uint8_t *pt, size_t ptlen,
         struct link_seal_ctx *seal, uint8_t **frame, size_t *flen, char *why,
         size_t whylen)
{
    return link_client_seal(c->lc, pt, ptlen, seal, frame, flen, why, whylen);
}

/* sim_open - open the ministry's answer to the exchange of seal and unpack
 * it into *rep (caller frees with relay__link_reply__free_unpacked); the
 * exchange's key is wiped on every path. RL_OK with *rep NULL: the answer
 * to a handshake, after which the callers seal their request again. */
static int
sim_open(struct sim_child *c, struct link_seal_ctx *seal, const uint8_t *frame,
         size_t len, Relay__LinkReply **rep, char *why, size_t whylen)
{
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    int rc;

    *rep = NULL;
    rc = link_client_open(c->lc, seal, frame, len, &pt, &ptlen, why, whylen);
    if (rc != RL_OK)
        link_client_drop(c->lc, seal);
    link_seal_wipe(seal);
    if (rc != RL_OK || pt == NULL)
        return rc;
    *rep = relay__link_reply__unpack(NULL, ptlen, pt);
    free(pt);
    if (*rep == NULL) {
        snprintf(why, whylen, "sealed reply holds no decodable LinkReply");
        return RL_EINVAL;
    }
    return RL_OK;
}

/* sim_reset - after a failed exchange: forget its session (if still the
 * current one) and its key */
static void
sim_reset(struct sim_child *c, struct link_seal_ctx *seal)
{
    link_client_drop(c->lc, seal);
    link_seal_wipe(seal);
}

/* sim_request_msg - pack and seal req into an nng message; NULL on failure
 * (why says it) */
static nng_msg *
sim_request_msg(struct sim_child *c, const Relay__LinkRequest *req,
                struct link_seal_ctx *seal, char *why, size_t whylen)
{
    size_t ptlen = relay__link_request__get_packed_size(req), flen;
    uint8_t *pt = malloc(ptlen ? ptlen : 1), *frame = NULL;
    nng_msg *msg = NULL;
    int rc;

    if (pt == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    relay__link_request__pack(req, pt);
    rc = sim_seal(c, pt, ptlen, seal, &frame, &flen, why, whylen);
    free(pt);
    if (rc != RL_OK)
        return NULL;
    if (nng_msg_alloc(&msg, flen) == 0)
        memcpy(nng_msg_body(msg), frame, flen);
    else
        snprintf(why, whylen, "out of memory");
    free(frame);
    if (msg == NULL)
        sim_reset(c, seal);
    return msg;
}

/* ------------------------------------------------------------------ polls */

static void sim_poll_start(struct sim_child *c);

/* sim_poll_retry - a failed exchange: back off, then poll again */
static void
sim_poll_retry(struct sim_child *c)
{
    int ms = SIM_RETRY_MIN_MS << (c->pfails < 5 ? c->pfails : 5);

    sim_reset(c, &c->pseal);
    c->pfails++;
    atomic_fetch_add(&G.poll_errors, 1);
    c->pstate = P_WAIT;
    nng_sleep_aio(ms < SIM_RETRY_MAX_MS ? ms : SIM_RETRY_MAX_MS, c->paio);
}

/* sim_poll_start - the first exchange (no poll, answered at once), then
 * long polls acknowledging the last batch, with the signed audit head */
static void
sim_poll_start(struct sim_child *c)
{
    Relay__LinkRequest req = RELAY__LINK_REQUEST__INIT;
    ProtobufCBinaryData *acked = calloc(c->nacked ? c->nacked : 1, sizeof(*acked));
    static const uint8_t zero[32];
    char why[256];
    nng_msg *msg;

    if (acked == NULL) {
        sim_poll_retry(c);
        return;
    }
    req.version = SIM_LINK_VERSION;
    req.from = c->id;
    req.poll = atomic_load(&c->connected_us) != 0;
    req.hold_ms = c->pfails == 0 ? (uint32_t)G.poll_hold_ms : 0; /* as relay-node asks */
    for (size_t i = 0; i < c->nacked; i++) {
        acked[i].data = c->acked[i];
        acked[i].len = ENV_ID_LEN;
    }
    req.acked = acked;
    req.n_acked = c->nacked;
    /* a fresh agency's log: the head a relay-node child sends on every poll */
    if (c->head.len == 0 &&
        audit_head_seal(c->id, 0, zero, clock_now_us(), c->kp, &c->head.data,
                        &c->head.len) != RL_OK)
        c->head.len = 0;
    req.audit_head = c->head;
    msg = sim_request_msg(c, &req, &c->pseal, why, sizeof(why));
    free(acked);
    if (msg == NULL) {
        sim_poll_retry(c);
        return;
    }
    c->pstate = P_SEND;
    nng_aio_set_msg(c->paio, msg);
    nng_aio_set_timeout(c->paio, (nng_duration)G.call_timeout_ms);
    nng_ctx_send(c->pctx, c->paio);
}

/* sim_deliver - check, and remember for the next poll's acks, a downward
 * batch; note the bench's advisory */
static void
sim_deliver(struct sim_child *c, const Relay__LinkReply *rep)
{
    size_t k = 0;

    free(c->acked);
    c->acked = rep->n_deliver ? calloc(rep->n_deliver, sizeof(*c->acked)) : NULL;
    for (size_t i = 0; c->acked && i < rep->n_deliver; i++) {
        const struct dir_node *author;
        const uint8_t *pk;
        const char *why;
        struct env_msg m;
        if (env_open(rep->deliver[i].data, rep->deliver[i].len, SIZE_MAX, &m, &why) !=
            RL_OK) {
            atomic_fetch_add(&G.bad_envs, 1);
            continue;
        }
        author = dir_find(&G.dir, m.body->author);
        if (author == NULL || dir_key_at(author, m.body->created_us, &pk, &why) != 0 ||
            env_verify(&m, pk) != RL_OK) {
            atomic_fetch_add(&G.bad_envs, 1);
        } else {
            memcpy(c->acked[k++], m.body->id.data, ENV_ID_LEN);
            if (m.body->kind_case == RELAY__BODY__KIND_ADVISORY &&
                strcmp(m.body->advisory->title, G.adv_title) == 0 &&
                atomic_load(&c->adv_us) == 0) {
                atomic_store(&c->adv_us, mono_us());
                atomic_fetch_add(&G.adv_got, 1);
            }
        }
        env_msg_free(&m);
    }
    c->nacked = k;
}

/* sim_poll_cb - the poll context's state machine */
static void
sim_poll_cb(void *arg)
{
    struct sim_child *c = arg;
    int rv = nng_aio_result(c->paio);
    Relay__LinkReply *rep;
    char why[256];
    nng_msg *msg;

    if (atomic_load(&G.stopping)) {
        if (c->pstate == P_SEND && rv != 0)
            nng_msg_free(nng_aio_get_msg(c->paio));
        else if (c->pstate == P_RECV && rv == 0)
            nng_msg_free(nng_aio_get_msg(c->paio));
        sim_reset(c, &c->pseal);
        return;
    }
    switch (c->pstate) {
    case P_SEND:
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(c->paio));
            sim_poll_retry(c);
            return;
        }
        c->pstate = P_RECV;
        nng_aio_set_timeout(c->paio, (nng_duration)(atomic_load(&c->connected_us)
                                                        ? G.poll_timeout_ms
                                                        : G.call_timeout_ms));
        nng_ctx_recv(c->pctx, c->paio);
        return;
    case P_RECV:
        if (rv != 0) {
            sim_poll_retry(c);
            return;
        }
        msg = nng_aio_get_msg(c->paio);
        rv = sim_open(c, &c->pseal, nng_msg_body(msg), nng_msg_len(msg), &rep, why,
                      sizeof(why));
        nng_msg_free(msg);
        if (rv == RL_OK && rep == NULL) {
            sim_poll_start(c); /* a handshake answered: now the request */
            return;
        }
        if (rv != RL_OK || rep->error[0]) {
            if (rep)
                relay__link_reply__free_unpacked(rep, NULL);
            sim_poll_retry(c);
            return;
        }
        c->pfails = 0;
        atomic_fetch_add(&G.exchanges, 1);
        if (atomic_load(&c->connected_us) == 0) {
            atomic_store(&c->connected_us, mono_us());
            atomic_fetch_add(&G.connected, 1);
        }
        sim_deliver(c, rep);
        relay__link_reply__free_unpacked(rep, NULL);
        sim_poll_start(c);
        return;
    default: /* P_WAIT: the backoff is over */
        sim_poll_start(c);
    }
}

/* ------------------------------------------------------------------ pushes */

/* sim_push_done - one push over: why is NULL when the parent stored it */
static void
sim_push_done(struct sim_child *c, const char *why)
{
    if (why) {
        sim_note(c, "push: %s", why);
        atomic_fetch_add(&G.pushes_failed, 1);
    }
    free(c->env);
    c->env = NULL;
    atomic_fetch_add(&G.pushes_done, 1);
    sem_post(&G.push_done);
}

/* sim_push_start - push c->env (made by sim_report) on the send context */
static void
sim_push_start(struct sim_child *c)
{
    Relay__LinkRequest req = RELAY__LINK_REQUEST__INIT;
    ProtobufCBinaryData env = {c->envlen, c->env};
    char why[256];
    nng_msg *msg;

    req.version = SIM_LINK_VERSION;
    req.from = c->id;
    req.push = &env;
    req.n_push = 1;
    if ((msg = sim_request_msg(c, &req, &c->sseal, why, sizeof(why))) == NULL) {
        sim_push_done(c, why);
        return;
    }
    c->sstate = P_SEND;
    c->reply_us = 0;
    nng_aio_set_msg(c->saio, msg);
    nng_aio_set_timeout(c->saio, (nng_duration)G.call_timeout_ms);
    c->sent_us = mono_us();
    nng_ctx_send(c->sctx, c->saio);
}

/* sim_push_reply - what the parent said of the pushed envelope */
static const char *
sim_push_reply(struct sim_child *c, const Relay__LinkReply *rep, char *why,
               size_t whylen)
{
    if (rep->error[0]) {
        snprintf(why, whylen, "request refused: %s", rep->error);
        return why;
    }
    for (size_t i = 0; i < rep->n_stored; i++)
        if (rep->stored[i].len == ENV_ID_LEN &&
            memcmp(rep->stored[i].data, c->env_id, ENV_ID_LEN) == 0)
            return NULL;
    if (rep->n_refused) {
        snprintf(why, whylen, "report refused: %s", rep->refused[0]->reason);
        return why;
    }
    return "the reply neither stores nor refuses the report";
}

/* sim_push_cb - the send context's state machine */
static void
sim_push_cb(void *arg)
{
    struct sim_child *c = arg;
    int rv = nng_aio_result(c->saio);
    Relay__LinkReply *rep = NULL;
    char why[320];
    nng_msg *msg;

    if (c->sstate == P_SEND) {
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(c->saio));
            sim_reset(c, &c->sseal);
            sim_push_done(c, nng_strerror(rv));
            return;
        }
        c->sstate = P_RECV;
        nng_ctx_recv(c->sctx, c->saio);
        return;
    }
    c->reply_us = mono_us();
    if (rv != 0) {
        sim_reset(c, &c->sseal);
        sim_push_done(c, nng_strerror(rv));
        return;
    }
    msg = nng_aio_get_msg(c->saio);
    rv = sim_open(c, &c->sseal, nng_msg_body(msg), nng_msg_len(msg), &rep, why,
                  sizeof(why));
    nng_msg_free(msg);
    if (rv == RL_OK && rep == NULL) {
        sim_push_start(c); /* a handshake answered: now the push */
        return;
    }
    sim_push_done(c, rv != RL_OK ? why : sim_push_reply(c, rep, why, sizeof(why)));
    if (rep)
        relay__link_reply__free_unpacked(rep, NULL);
}

/* sim_report - c's next report as relay-node files one: the form, the
 * policy's addressing (plan_report), signed by c; into c->env */
static int
sim_report(struct sim_child *c, long seq)
{
    Relay__Body b = RELAY__BODY__INIT;
    char err[256], title[96];
    struct plan pl;
    json_t *args;
    int rc;

    snprintf(title, sizeof(title), "bench report %ld from %s", seq, c->id);
    args = json_pack("{s:s,s:s,s:i,s:s,s:[{s:s,s:s,s:s}],s:s}", "title", title,
                     "aware_at", G.aware, "level", 2, "category",
                     "external_intrusion", "harms", "kind", "tamper", "class", "core",
                     "severity", "minor", "facts",
                     "Home page replaced by an intruder; web server logs show a "
                     "login from an unknown address before the change.");
    if (args == NULL)
        return fail("out of memory");
    rc = form_to_body_within("report", args, clock_now_us(), FORM_FUTURE_US, &b, err,
                             sizeof(err));
    json_decref(args);
    if (rc != RL_OK)
        return fail("%s: report form: %s", c->id, err);
    env_id_new(c->env_id);
    b.id.data = c->env_id;
    b.id.len = ENV_ID_LEN;
    b.author = c->id;
    b.created_us = clock_now_us();
    if (plan_report(&G.pol, &G.dir, c->id, b.report, b.drill, &pl, err, sizeof(err)) !=
        RL_OK) {
        form_body_clear(&b);
        return fail("%s: report plan: %s", c->id, err);
    }
    b.to = (char **)pl.report_to;
    b.n_to = pl.nreport_to;
    rc = env_seal(&b, c->kp, &c->env, &c->envlen);
    form_body_clear(&b);
    plan_free(&pl);
    return rc == RL_OK ? 0 : fail("%s: cannot sign a report", c->id);
}

/* ------------------------------------------------------------- the federation */

/* raise_nofile - the open-file limit up to the hard limit (the bench holds
 * a socket per child, and the nodes it starts inherit the limit) */
static void
raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            fprintf(stderr, "relay-bench: setrlimit NOFILE: %s\n", strerror(errno));
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(G.n + 64))
        fprintf(stderr, "relay-bench: warning: open-file limit %llu for %ld children\n",
                (unsigned long long)rl.rlim_cur, G.n);
}

/* fed_files - keys, directory (national, ministry, N agencies under it),
 * the two configs; the ministry's with the --set lines */
static int
fed_files(const char *dir)
{
    char ini[PATH_MAX], log[PATH_MAX], path[PATH_MAX], hex[2 * KEYS_PK_LEN + 1],
        root_hex[2 * KEYS_PK_LEN + 1], err[2048];
    struct config cfg;
    FILE *f;

    procs[CITY].id = "bench-ministry";
    procs[CITY].tier = "ministry";
    bench_nnodes = 2;
    /* each node imports and checks N signed directory changes at start */
    bench_start_ms += (int)(G.n * 5);
    snprintf(ini, sizeof(ini), "%s/directory.ini", dir);
    if ((f = fopen(ini, "w")) == NULL)
        return fail("%s: %s", ini, strerror(errno));
    for (int i = 0; i < bench_nnodes; i++) {
        struct proc *p = &procs[i];
        snprintf(path, sizeof(path), "%s/%s.key", dir, p->id);
        if (keys_generate(&p->kp) != RL_OK || keys_save(p->kp, path) != RL_OK) {
            fclose(f);
            return fail("%s: cannot create a key pair", path);
        }
        if ((p->port = free_port()) < 0) {
            fclose(f);
            return fail("no free TCP port on 127.0.0.1");
        }
        keys_hex(p->kp->pk, KEYS_PK_LEN, hex);
        fprintf(f, "[%s]\ntier = %s\nkey = %s\n", p->id, p->tier, hex);
        if (p->parent >= 0)
            fprintf(f, "parent = %s\n", procs[p->parent].id);
        fputc('\n', f);
    }
    for (long i = 0; i < G.n; i++) {
        struct sim_child *c = &G.c[i];
        snprintf(c->id, sizeof(c->id), SIM_ID_FMT, i);
        if (keys_generate(&c->kp) != RL_OK) {
            fclose(f);
            return fail("cannot create a key pair");
        }
        keys_hex(c->kp->pk, KEYS_PK_LEN, hex);
        fprintf(f, "[%s]\ntier = agency\nkey = %s\nparent = %s\n\n", c->id, hex,
                procs[CITY].id);
    }
    if (fclose(f) != 0)
        return fail("%s: %s", ini, strerror(errno));
    snprintf(log, sizeof(log), "%s/directory.log", dir);
    if (sign_directory(ini, log, root_hex) != 0 ||
        write_conf(&procs[NAT], dir, log, root_hex, NULL, 0) != 0 ||
        write_conf(&procs[CITY], dir, log, root_hex, children_opts.set,
                   children_opts.nset) != 0)
        return -1;
    /* the children's view: the same directory, the default policy */
    if (dir_load(ini, &G.dir, err, sizeof(err)) != RL_OK)
        return fail("%s: %s", ini, err);
    if (policy_file_load(NULL, &G.pol, path, sizeof(path), err, sizeof(err)) != RL_OK)
        return fail("built-in policy: %s", err);
    /* the children's timeouts follow the ministry's settings, as a
     * relay-node child's follow its own (the same on both ends) */
    if (config_load(procs[CITY].conf, &cfg, err, sizeof(err)) != RL_OK)
        return fail("%s", err);
    G.call_timeout_ms = cfg.link_timeout_ms;
    G.poll_timeout_ms = cfg.poll_hold_ms + cfg.link_timeout_ms;
    G.poll_hold_ms = cfg.poll_hold_ms;
    G.maxsz = config_frame_max(&cfg);
    memcpy(G.parent_pk, procs[CITY].kp->pk, KEYS_PK_LEN);
    for (long i = 0; i < G.n; i++)
        if ((G.c[i].lc = link_client_new(G.c[i].kp, G.parent_pk, G.c[i].id)) == NULL)
            return fail("out of memory");
    snprintf(G.url, sizeof(G.url), "tcp://127.0.0.1:%d", procs[CITY].port);
    return 0;
}

/* sim_pipe_cb - count the children's live connections: nng gives a pipe
 * that had its ADD_PRE event its REM_POST once it is closed */
static void
sim_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)arg;
    atomic_fetch_add(&G.pipes, ev == NNG_PIPE_EV_ADD_PRE ? 1 : -1);
}

/* sim_open_child - c's socket dialled to the ministry, its two contexts
 * and aios; its first exchange started */
static int
sim_open_child(struct sim_child *c)
{
    nng_dialer d;
    int rv;

    if ((rv = nng_req0_open(&c->sock)) != 0)
        return fail("%s: req socket: %s", c->id, nng_strerror(rv));
    if ((rv = nng_ctx_open(&c->pctx, c->sock)) != 0 ||
        (rv = nng_ctx_open(&c->sctx, c->sock)) != 0 ||
        (rv = nng_aio_alloc(&c->paio, sim_poll_cb, c)) != 0 ||
        (rv = nng_aio_alloc(&c->saio, sim_push_cb, c)) != 0) {
        nng_close(c->sock);
        return fail("%s: contexts: %s", c->id, nng_strerror(rv));
    }
    c->open = 1;
    /* as link_up.c: never resend (the child decides), bounded replies */
    nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, G.maxsz);
    nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_PRE, sim_pipe_cb, NULL);
    nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, sim_pipe_cb, NULL);
    if ((rv = nng_dialer_create(&d, c->sock, G.url)) != 0)
        return fail("%s: dialer: %s", c->id, nng_strerror(rv));
    nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, SIM_RETRY_MIN_MS);
    nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, SIM_RETRY_MAX_MS);
    if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0)
        return fail("%s: dial %s: %s", c->id, G.url, nng_strerror(rv));
    sim_poll_start(c);
    return 0;
}

/* sim_close_all - stop every callback, stop the nodes, then close and free;
 * 0, or -1 if a node stopped badly.
 *
 * The nodes go before the sockets are closed. nng 1.5.2 can lose a pipe's
 * receive when the pipe is closed locally while a reply is being read (its
 * tcp transport reads the length, then the body; a close between the two
 * leaves the body read unstarted and the REQ pipe's receive never done:
 * nanomsg/nng#616, fixed upstream by nanomsg/nng#1636 in 1.6.0), and
 * nng_close then waits for that pipe for ever: the bench hung there about
 * once in 50 runs under load, after its last phase. With the nodes gone,
 * each connection ends from the far side, through the transport's own error
 * path, and nng_close finds no pipe left to close. */
static int
sim_close_all(void)
{
    int64_t until;
    int rc = 0;

    atomic_store(&G.stopping, 1);
    for (long i = 0; i < G.n; i++)
        if (G.c[i].open) {
            nng_aio_stop(G.c[i].paio);
            nng_aio_stop(G.c[i].saio);
        }
    if (stop_all() != 0)
        rc = -1;
    until = mono_us() + 5 * 1000000LL;
    while (atomic_load(&G.pipes) > 0 && mono_us() < until)
        usleep(SIM_WAIT_US);
    if (atomic_load(&G.pipes) > 0)
        rc = fail("%ld child connections still open 5 s after the nodes stopped",
                  atomic_load(&G.pipes));
    for (long i = 0; i < G.n; i++) {
        struct sim_child *c = &G.c[i];
        if (c->open) {
            nng_ctx_close(c->pctx);
            nng_ctx_close(c->sctx);
            nng_close(c->sock);
            nng_aio_free(c->paio);
            nng_aio_free(c->saio);
        }
        free(c->acked);
        free(c->head.data);
        free(c->env);
        link_client_free(c->lc);
        keys_free(c->kp);
    }
    return rc;
}

/* ---------------------------------------------------------------- measures */

/* wait_count - until *v reaches want, or timeout_s; 0 or -1 (interrupted,
 * timed out or a node died: the caller names it) */
static int
wait_count(atomic_long *v, long want, int64_t start_us, long timeout_s)
{
    while (atomic_load(v) < want) {
        if (stop_sig || check_alive() != 0 ||
            mono_us() - start_us > timeout_s * 1000000LL)
            return -1;
        usleep(SIM_WAIT_US);
    }
    return 0;
}

/* proc_cpu_s - user + system CPU seconds of pid, or -1 */
static double
proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* fields after the command name in parentheses: state is field 3,
     * utime 14 and stime 15 */
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
               &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* self_cpu_s - this process's CPU seconds */
static double
self_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* proc_mem_mib - VmRSS and VmHWM of pid in MiB (0 when unreadable) */
static void
proc_mem_mib(pid_t pid, double *rss, double *hwm)
{
    char path[64], line[256];
    long kb;
    FILE *f;

    *rss = *hwm = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            *rss = (double)kb / 1024.0;
        else if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            *hwm = (double)kb / 1024.0;
    }
    fclose(f);
}

/* down_connected - how many children the ministry's status counts
 * connected (its own view), or -1 */
static long
down_connected(void)
{
    json_t *st, *l;
    long k = -1;
    size_t i;

    if (proc_api_call(&procs[CITY], "GET", "/api/v1/status", NULL, &st) == NULL) {
        k = 0;
        json_array_foreach(json_object_get(st, "links"), i, l)
        {
            const char *dir = json_string_value(json_object_get(l, "direction"));
            k += dir && strcmp(dir, "down") == 0 &&
                 json_is_true(json_object_get(l, "connected"));
        }
    }
    json_decref(st);
    return k;
}

/* national_incidents - the national node's incident count, or -1 */
static long
national_incidents(void)
{
    json_t *st;
    long k = -1;

    if (proc_api_call(&procs[NAT], "GET", "/api/v1/status", NULL, &st) == NULL)
        k = (long)json_integer_value(
            json_object_get(json_object_get(st, "counts"), "incidents"));
    json_decref(st);
    return k;
}

/* cmp_i64 - qsort order for int64_t */
static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* quantile_ms - nearest-rank quantile q of n sorted microseconds, in ms */
static double
quantile_ms(const int64_t *v, size_t n, double q)
{
    size_t k = (size_t)ceil(q * (double)n);

    return n ? (double)v[k ? k - 1 : 0] / 1000.0 : 0;
}

/* phase_connect - every child's first sealed exchange */
static int
phase_connect(void)
{
    int64_t t0 = mono_us(), last = 0;
    double rss;
    long seen;

    proc_mem_mib(procs[CITY].pid, &G.rss0_mib, &rss);
    for (long i = 0; i < G.n; i++)
        if (sim_open_child(&G.c[i]) != 0)
            return -1;
    if (wait_count(&G.connected, G.n, t0, children_opts.timeout_s) != 0) {
        if (!stop_sig)
            soft_fail("connect: %ld of %ld children connected after %ld s",
                      atomic_load(&G.connected), G.n, children_opts.timeout_s);
        return -1;
    }
    for (long i = 0; i < G.n; i++)
        if (atomic_load(&G.c[i].connected_us) > last)
            last = atomic_load(&G.c[i].connected_us);
    seen = down_connected();
    printf("all %ld children connected (a sealed exchange each) in %.2f s; "
           "the ministry's status counts %ld connected\n",
           G.n, (double)(last - t0) / 1e6, seen);
    if (seen != G.n)
        soft_fail("the ministry counts %ld of %ld children connected", seen, G.n);
    return 0;
}

/* phase_idle - the ministry's CPU and memory with every child polling */
static int
phase_idle(void)
{
    pid_t pid = procs[CITY].pid;
    long ex0 = atomic_load(&G.exchanges), err0 = atomic_load(&G.poll_errors), ex;
    double c0 = proc_cpu_s(pid), c1, rss, hwm, s, b0 = self_cpu_s(), b1;
    int64_t t0 = mono_us(), t1;

    while (!stop_sig && mono_us() - t0 < children_opts.idle_s * 1000000LL)
        usleep(50000);
    if (stop_sig || check_alive() != 0)
        return -1;
    c1 = proc_cpu_s(pid);
    b1 = self_cpu_s();
    t1 = mono_us();
    proc_mem_mib(pid, &rss, &hwm);
    s = (double)(t1 - t0) / 1e6;
    ex = atomic_load(&G.exchanges) - ex0;
    if (children_opts.idle_s > 0) { /* --idle 0: memory only */
        printf("ministry idle over %.1f s: CPU %.2f %% of one core; %ld polls answered "
               "(%.0f/s), %.1f us of CPU per poll; %ld failed exchanges\n",
               s, 100.0 * (c1 - c0) / s, ex, (double)ex / s,
               ex ? 1e6 * (c1 - c0) / (double)ex : 0.0,
               atomic_load(&G.poll_errors) - err0);
        printf("the bench itself (the %ld children) used %.1f %% of one core meanwhile\n",
               G.n, 100.0 * (b1 - b0) / s);
    }
    printf("ministry memory: VmRSS %.1f MiB, VmHWM %.1f MiB; %.1f KiB of VmRSS per "
           "child over the %.1f MiB before they dialled\n",
           rss, hwm, (rss - G.rss0_mib) * 1024.0 / (double)G.n, G.rss0_mib);
    return 0;
}

/* phase_advisory - one advisory from the ministry to all its agencies */
static int
phase_advisory(void)
{
    char req[512];
    uint8_t tok[8];
    json_t *rep;
    const char *why;
    int64_t t0, first = INT64_MAX, last = 0;
    size_t nto;

    randombytes_buf(tok, sizeof(tok));
    snprintf(G.adv_title, sizeof(G.adv_title), "bench advisory %02x%02x%02x%02x%02x%02x%02x%02x",
             tok[0], tok[1], tok[2], tok[3], tok[4], tok[5], tok[6], tok[7]);
    snprintf(req, sizeof(req),
             "{\"kind\":\"mitigation\",\"severity\":2,\"title\":\"%s\","
             "\"text\":\"Patch the web servers.\"}",
             G.adv_title);
    t0 = mono_us();
    why = proc_api_call(&procs[CITY], "POST", "/api/v1/advisories", req, &rep);
    nto = json_array_size(json_object_get(rep, "to"));
    json_decref(rep);
    if (why) {
        /* e.g. a Body.to of N ids beyond max_message_bytes: name it, go on */
        soft_fail("advisory: submit at the ministry failed: %s", why);
        return 0;
    }
    if (wait_count(&G.adv_got, G.n, t0, children_opts.timeout_s) != 0 && stop_sig)
        return -1;
    for (long i = 0; i < G.n; i++) {
        int64_t t = atomic_load(&G.c[i].adv_us);
        if (t && t < first)
            first = t;
        if (t > last)
            last = t;
    }
    if (atomic_load(&G.adv_got) < G.n) {
        soft_fail("advisory: %ld of %ld children had it after %ld s (addressed to %zu)",
                  atomic_load(&G.adv_got), G.n, children_opts.timeout_s, nto);
        return 0;
    }
    printf("advisory fan-out (addressed to %zu): first child %.3f s, last child %.3f s "
           "after the submit\n",
           nto, (double)(first - t0) / 1e6, (double)(last - t0) / 1e6);
    if (children_opts.bound_ms > 0 && (last - t0) / 1000 > children_opts.bound_ms)
        soft_fail("advisory: the last child had it after %.0f ms, over the bound of %ld ms",
                  (double)(last - t0) / 1e3, children_opts.bound_ms);
    return 0;
}

/* phase_latency - K reports, one at a time, from K different children */
static int
phase_latency(long k)
{
    int64_t *lat = calloc((size_t)(k ? k : 1), sizeof(*lat));
    size_t n = 0;
    long failed0 = atomic_load(&G.pushes_failed);

    if (lat == NULL)
        return fail("out of memory");
    for (long i = 0; i < k && !stop_sig; i++) {
        /* spread over the population */
        struct sim_child *c = &G.c[(i * G.n) / k];
        struct timespec ts;
        if (sim_report(c, i) != 0) {
            free(lat);
            return -1;
        }
        sim_push_start(c);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += children_opts.timeout_s;
        while (sem_timedwait(&G.push_done, &ts) != 0 && errno == EINTR && !stop_sig)
            ;
        if (atomic_load(&G.pushes_failed) > failed0 || c->reply_us == 0)
            break;
        lat[n++] = c->reply_us - c->sent_us;
    }
    if ((long)n < k) {
        /* a push may still be in flight: the burst cannot reuse its child */
        free(lat);
        if (!stop_sig)
            soft_fail("report ack latency: %zu of %ld pushes answered: %s", n, k,
                      G.why[0] ? G.why : "no reply in time");
        return -1;
    }
    qsort(lat, n, sizeof(*lat), cmp_i64);
    printf("report ack latency (push sent -> parent's sealed reply, %zu reports one at "
           "a time, all children polling): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           n, quantile_ms(lat, n, 0.50), quantile_ms(lat, n, 0.99),
           quantile_ms(lat, n, 1.0));
    if (children_opts.bound_ms > 0 && quantile_ms(lat, n, 0.99) > (double)children_opts.bound_ms)
        soft_fail("report ack latency: p99 %.0f ms, over the bound of %ld ms",
                  quantile_ms(lat, n, 0.99), children_opts.bound_ms);
    free(lat);
    return 0;
}

/* phase_burst - one report from every child at once, to the national node */
static int
phase_burst(void)
{
    long base = national_incidents(), have = base, done0 = atomic_load(&G.pushes_done);
    int64_t t0, acked = 0, end = 0, deadline;

    if (base < 0)
        return fail("national status unreadable");
    for (long i = 0; i < G.n; i++)
        if (sim_report(&G.c[i], 1000000 + i) != 0)
            return -1;
    t0 = mono_us();
    for (long i = 0; i < G.n; i++)
        sim_push_start(&G.c[i]);
    deadline = t0 + children_opts.timeout_s * 1000000LL;
    while (!stop_sig && check_alive() == 0 && mono_us() < deadline) {
        if (!acked && atomic_load(&G.pushes_done) - done0 >= G.n)
            acked = mono_us();
        if ((have = national_incidents()) >= base + G.n) {
            end = mono_us();
            break;
        }
        usleep(SIM_WAIT_US);
    }
    if (!acked && atomic_load(&G.pushes_done) - done0 >= G.n)
        acked = mono_us();
    if (stop_sig)
        return -1;
    if (atomic_load(&G.pushes_failed))
        soft_fail("burst: %ld pushes failed, first: %s", atomic_load(&G.pushes_failed),
                  G.why);
    if (!end) {
        soft_fail("burst: the national node holds %ld of %ld reports after %ld s",
                  have - base, G.n, children_opts.timeout_s);
        return 0;
    }
    printf("burst of %ld reports (one per child): all acknowledged by the ministry in "
           "%.2f s, all at the national node in %.2f s\n",
           G.n, acked ? (double)(acked - t0) / 1e6 : -1.0, (double)(end - t0) / 1e6);
    return 0;
}

/* children_run - the whole --children benchmark; 0 or -1 */
int
children_run(const char *dir)
{
    long k;
    int rc;

    memset(&G, 0, sizeof(G));
    G.n = children_opts.n;
    k = children_opts.sample < G.n ? children_opts.sample : G.n;
    pthread_mutex_init(&G.mu, NULL);
    sem_init(&G.push_done, 0, 0);
    clock_format_iso(clock_now_us() - 60 * 1000000LL, G.aware, sizeof(G.aware));
    raise_nofile();
    if ((G.c = calloc((size_t)G.n, sizeof(*G.c))) == NULL)
        return fail("out of memory");
    rc = fed_files(dir);
    for (int i = 0; rc == 0 && i < bench_nnodes; i++)
        rc = spawn(&procs[i]);
    if (rc == 0)
        rc = wait_ready();
    setvbuf(stdout, NULL, _IOLBF, 0); /* each figure as soon as it is known */
    if (rc == 0) {
        printf("relay-bench --children %ld: national <- ministry (relay-node processes) "
               "<- %ld simulated children, one connection each, sealed frames\n",
               G.n, G.n);
        for (size_t i = 0; i < children_opts.nset; i++)
            printf("ministry setting: %s\n", children_opts.set[i]);
    }
    /* a phase that could not run stops the run; one that ran short only
     * marks it failed (soft_fail) */
    if (rc == 0)
        rc = phase_connect();
    if (rc == 0)
        rc = phase_idle();
    if (rc == 0)
        rc = phase_advisory();
    if (rc == 0)
        rc = phase_latency(k);
    if (rc == 0)
        rc = phase_burst();
    if (sim_close_all() != 0)
        rc = -1;
    free(G.c);
    dir_free(&G.dir);
    sem_destroy(&G.push_done);
    return rc == 0 && !G.soft_failed ? 0 : -1;
}
