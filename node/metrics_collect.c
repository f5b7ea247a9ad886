/*
 * metrics_collect.c - GET /metrics, /healthz and /readyz: the node's state
 * read into a struct metrics_snapshot, rendered by node/metrics.c.
 *
 * Per link the same reads as `relayctl status` (node/control.c link_json):
 * connected by link_up_connected / link_down_connected, outbox and held
 * depths, the peer's last acknowledgement. One read transaction serves
 * the links and the map figures.
 *
 * The incident figures (open by level, overdue by kind) need a pass over
 * every incident record, so their result is kept: a scrape reuses it for
 * SCAN_TTL_MS (1 s), or ten times what the scan took if that is longer, so
 * that scans take at most a tenth of one core however often the node is
 * scraped and however many incidents it holds (measured: 77 ms at 10,000
 * incidents, 480 ms at 100,000, test_metrics); under a manual clock it is
 * taken again as soon as the clock moves. One scrape
 * scans at a time; the others meanwhile answer with the last result.
 *
 * DIAGNOSTICS: a store that cannot be read gives 503 naming the error.
 * /healthz and /readyz answer 503 with every problem found, in one
 * message ("not ready: parent 'taipei' not connected").
 *
 * SECURITY: read-only. /healthz never opens a write transaction (it would
 * wait for the writer's lock): it reads what the writer recorded of its
 * own commits (metrics_writer_state), so it answers at once even when the
 * writer is stuck, and says so.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "link.h"
#include "node.h"

#ifndef RELAY_VERSION
#define RELAY_VERSION "unknown"
#endif

#define SCAN_TTL_MS 1000
#define WRITER_STUCK_MS 15000 /* a group commit running longer is stuck */

_Static_assert(POL_D_N == sizeof(((struct metrics_incidents *)0)->overdue) /
                              sizeof(uint64_t), "one overdue count per deadline");

/* the incident scan's last result */
static struct {
    pthread_mutex_t scan_mu;  /* held by the one scrape that scans */
    pthread_mutex_t mu;       /* guards the fields below */
    int valid;
    int64_t at_ms;            /* monotonic, when it was taken */
    int64_t clock_us;         /* the node's clock it was judged at */
    struct metrics_incidents inc;
} cache = {.scan_mu = PTHREAD_MUTEX_INITIALIZER, .mu = PTHREAD_MUTEX_INITIALIZER};

/* cache_fresh - the kept result still serves (under cache.mu) */
static int
cache_fresh(int64_t now_ms, int64_t clock_us)
{
    int64_t ttl = SCAN_TTL_MS;

    if (!cache.valid)
        return 0;
    if ((int64_t)(cache.inc.scan_seconds * 10000) > ttl)
        ttl = (int64_t)(cache.inc.scan_seconds * 10000);
    if (clock_is_manual() && clock_us != cache.clock_us)
        return 0;
    return now_ms - cache.at_ms < ttl;
}

/* cache_take - copy the kept result into out if it is still fresh (or, with
 * any, if there is one at all); 1 when copied */
static int
cache_take(struct metrics_incidents *out, int any, int64_t clock_us)
{
    int got;

    pthread_mutex_lock(&cache.mu);
    got = cache.valid && (any || cache_fresh(clock_mono_ms(), clock_us));
    if (got)
        *out = cache.inc;
    pthread_mutex_unlock(&cache.mu);
    return got;
}

/* collect_incidents - the kept result, or a new scan when it is stale */
static int
collect_incidents(struct node *n, struct metrics_incidents *out)
{
    int64_t clock_us = clock_now_us();
    struct metrics_incidents inc;
    struct store_txn t;
    int rc;

    if (cache_take(out, 0, clock_us))
        return RL_OK;
    if (pthread_mutex_trylock(&cache.scan_mu) != 0) {
        /* another scrape scans now: its last result, or wait for this one */
        if (cache_take(out, 1, clock_us))
            return RL_OK;
        pthread_mutex_lock(&cache.scan_mu);
    }
    if (cache_take(out, 0, clock_us)) { /* scanned while we waited */
        pthread_mutex_unlock(&cache.scan_mu);
        return RL_OK;
    }
    if ((rc = store_begin(n->store, 0, &t)) == RL_OK) {
        rc = metrics_scan_incidents(&t, clock_us, &inc);
        store_abort(&t);
    }
    pthread_mutex_lock(&cache.mu);
    if (rc == RL_OK) {
        cache.inc = inc;
        cache.at_ms = clock_mono_ms();
        cache.clock_us = clock_us;
        cache.valid = 1;
        *out = inc;
    }
    pthread_mutex_unlock(&cache.mu);
    pthread_mutex_unlock(&cache.scan_mu);
    return rc;
}

/* collect_link - one neighbour's figures */
static int
collect_link(struct store_txn *t, const char *peer, int up, int connected, int64_t now_us,
             struct metrics_link *l)
{
    int64_t last;
    uint64_t acked;
    int rc;

    snprintf(l->peer, sizeof(l->peer), "%s", peer);
    l->up = up;
    l->connected = connected;
    if ((rc = store_outbox_depth(t, peer, &l->outbox)) != RL_OK ||
        (rc = store_held_depth(t, peer, &l->held)) != RL_OK ||
        (rc = store_peer_get(t, peer, &last, &acked)) != RL_OK)
        return rc;
    /* the age on the node's clock, which stamped the ack; never negative */
    l->last_ack_age_us = last == 0 ? -1 : now_us > last ? now_us - last : 0;
    return RL_OK;
}

/* collect_links - the parent's link and each child's, into *out (malloc) */
static int
collect_links(struct node *n, struct store_txn *t, struct metrics_link **out, size_t *nout)
{
    const struct directory *dir = node_dir(n);
    int64_t now_ms = clock_mono_ms(), now_us = clock_now_us();
    struct metrics_link *v = calloc(dir->n + 1, sizeof(*v));
    size_t k = 0;
    int rc = RL_OK;

    if (v == NULL)
        return RL_ENOMEM;
    if (n->parent)
        rc = collect_link(t, n->parent->id, 1, link_up_connected(n, now_ms), now_us, &v[k++]);
    for (size_t i = 0; rc == RL_OK && i < dir->n; i++) {
        const struct dir_node *d = &dir->nodes[i];
        if (d->parent_ix < 0 || strcmp(dir->nodes[d->parent_ix].id, n->self->id) != 0)
            continue;
        rc = collect_link(t, d->id, 0, link_down_connected(n, i, now_ms, NULL), now_us,
                          &v[k++]);
    }
    if (rc != RL_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *nout = k;
    return RL_OK;
}

/* metrics_collect - every figure of the snapshot; s->links is malloc'd
 * (the caller frees it) on RL_OK, nothing is left allocated otherwise */
static int
metrics_collect(struct node *n, struct metrics_snapshot *s)
{
    struct store_counts c;
    struct store_txn t;
    int rc;

    memset(s, 0, sizeof(*s));
    s->version = RELAY_VERSION;
    metrics_counters(s);
    if ((rc = collect_incidents(n, &s->inc)) != RL_OK)
        return rc;
    if ((rc = store_begin(n->store, 0, &t)) != RL_OK)
        return rc;
    if ((rc = store_counts(&t, &c)) == RL_OK)
        rc = collect_links(n, &t, &s->links, &s->n_links);
    store_abort(&t);
    if (rc != RL_OK)
        return rc;
    s->map_bytes = c.map_bytes;
    s->used_bytes = c.used_bytes;
    s->map_max_bytes = (uint64_t)store_map_max_mb(n->store) * 1024 * 1024;
    return RL_OK;
}

/* metrics_verb - GET /metrics */
json_t *
metrics_verb(struct api_req *r)
{
    struct metrics_snapshot s;
    int rc = metrics_collect(r->n, &s);
    char *text;

    if (rc != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store: %s", rl_strerror(rc));
    text = metrics_render(&s);
    free(s.links);
    if (text == NULL)
        return api_error(r, 503, NULL, "%s", "out of memory");
    r->text = text;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return NULL;
}

/* problem - append "; what" (or "what" first) to msg */
static void
problem(char *msg, size_t len, const char *what)
{
    size_t k = strlen(msg);

    snprintf(msg + k, len - k, "%s%s", k ? "; " : "", what);
}

/* writer_problem - the writer is gone or stuck: the sentence, else NULL */
static const char *
writer_problem(struct node *n, char *buf, size_t len)
{
    struct metrics_writer_state ws;

    if (atomic_load(&n->stopping))
        return "node is stopping";
    if (n->writer == NULL)
        return "writer not running";
    metrics_writer_state(&ws);
    if (ws.busy_since_ms && clock_mono_ms() - ws.busy_since_ms > WRITER_STUCK_MS) {
        snprintf(buf, len, "writer: one group commit has run for %lld s",
                 (long long)((clock_mono_ms() - ws.busy_since_ms) / 1000));
        return buf;
    }
    return NULL;
}

/* health_verb - GET /healthz: alive, and the store takes writes */
json_t *
health_verb(struct api_req *r)
{
    struct node *n = r->n;
    struct metrics_writer_state ws;
    struct store_txn t;
    char msg[400] = "", buf[120];
    const char *w = writer_problem(n, buf, sizeof(buf));
    json_t *rep;

    if (w)
        problem(msg, sizeof(msg), w);
    metrics_writer_state(&ws);
    if (ws.last_rc != RL_OK) {
        snprintf(buf, sizeof(buf), "store: the last commit failed: %s", rl_strerror(ws.last_rc));
        problem(msg, sizeof(msg), buf);
    }
    if (store_nearly_full(n->store))
        problem(msg, sizeof(msg), "store full: map_max_mb nearly reached, new work refused");
    if (store_begin(n->store, 0, &t) != RL_OK)
        problem(msg, sizeof(msg), "store: cannot begin a read transaction");
    else
        store_abort(&t);
    if (msg[0])
        return api_error(r, 503, NULL, "not healthy: %s", msg);
    rep = api_ok();
    json_object_set_new(rep, "writer", json_string(ws.busy_since_ms ? "committing" : "idle"));
    json_object_set_new(rep, "last_commit", json_string("ok"));
    return rep;
}

/* ready_verb - GET /readyz: the links as configured */
json_t *
ready_verb(struct api_req *r)
{
    struct node *n = r->n;
    char msg[600] = "", buf[200];
    const char *w = writer_problem(n, buf, sizeof(buf));
    int up = n->parent ? link_up_connected(n, clock_mono_ms()) : 0;
    int listening = n->cfg.listen[0] ? link_down_listening() : 0;
    json_t *rep;

    if (w)
        problem(msg, sizeof(msg), w);
    if (n->parent && !up) {
        snprintf(buf, sizeof(buf), "parent '%s' not connected", n->parent->id);
        problem(msg, sizeof(msg), buf);
    }
    if (n->cfg.listen[0] && !listening) {
        snprintf(buf, sizeof(buf), "not listening for children on %.150s", n->cfg.listen);
        problem(msg, sizeof(msg), buf);
    }
    if (msg[0])
        return api_error(r, 503, NULL, "not ready: %s", msg);
    rep = api_ok();
    json_object_set_new(rep, "writer", json_string("running"));
    json_object_set_new(rep, "parent",
                        n->parent ? json_pack("{s:s,s:b}", "id", n->parent->id, "connected", 1)
                                  : json_null());
    json_object_set_new(rep, "listen", n->cfg.listen[0] ? json_string(n->cfg.listen)
                                                        : json_null());
    return rep;
}
