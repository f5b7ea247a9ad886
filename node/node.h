/*
 * node.h - the running node: what every part of the daemon shares.
 *
 * Threads: the writer (node/writer.c) owns every write transaction; the
 * upstream link (node/link_up.c) runs a sender and a poller; the downstream
 * server (node/link_down.c) runs a pool of request threads, the HTTP API
 * (node/http.c) a thread per connection. They meet in two places: the
 * writer's work queue, and node->changed, broadcast after every commit so
 * that senders, held polls and API waits look at the store again.
 */
#ifndef RELAY_NODE_H
#define RELAY_NODE_H

#include <nng/nng.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "directory.h"
#include "keys.h"
#include "policy.h"
#include "store.h"

struct writer;

/* A rep socket served by a pool of threads, each owning one context. */
struct rep_pool {
    nng_socket sock;
    pthread_t *thr; /* NULL when not running */
    int n;
};

struct link_client;
struct http_srv;

struct node {
    struct config cfg;
    struct directory dir;   /* the directory the node started with */
    struct directory *_Atomic dirp; /* the one in force (node_dir) */
    struct directory **dir_old;     /* replaced snapshots, freed at exit */
    size_t n_dir_old;
    const struct dir_node *self;
    const struct dir_node *parent; /* NULL at the root */
    struct keypair *kp;
    struct policy pol;      /* the rules this node applies (policy/) */
    char pol_source[CONFIG_STR + 32];
    struct store *store;
    struct writer *writer;

    pthread_mutex_t mu;
    pthread_cond_t changed; /* broadcast after every commit, and on stop */
    uint64_t commits;       /* under mu */
    atomic_int stopping;

    /* upstream link (child side) */
    nng_socket up_sock;
    atomic_int up_pipes;
    _Atomic int64_t up_ok_ms; /* last exchange the parent answered (monotonic) */
    int64_t started_us;       /* when this process started serving (node clock) */
    uint64_t up_head_seq;     /* the audit head signed last (poller only) */
    ProtobufCBinaryData up_head;
    pthread_t up_send_thr, up_poll_thr;
    nng_aio *up_aio[2];     /* sender's and poller's: cancelled on stop */
    struct link_client *up_link; /* the session with the parent (link_seal.h) */
    int up_running;
    int sockets_stuck;      /* a socket close gave up: skip freeing */
    /* the parent's clock minus ours, from its replies (link_skew_note) */
    _Atomic int64_t up_skew_us;
    _Atomic int64_t up_skew_at_us; /* when measured (our clock); 0: never */
    _Atomic int64_t up_skew_mono_ms; /* when measured (monotonic) */
    int64_t up_skew_logged_us;     /* the skew last warned about (under mu) */
    int up_skew_bad;               /* beyond max_skew_s when last logged (under mu) */

    /* downstream server (parent side, node/link_down.c) */
    _Atomic int64_t *child_seen_ms; /* per directory index: last request */
    size_t n_child_seen;            /* slots in child_seen_ms and child_heads */
    uint64_t *child_head_seq;         /* per directory index: its seq */
    ProtobufCBinaryData *child_heads; /* per directory index: latest signed
                                       * audit head (under mu) */

    /* the operator API's listeners (node/http.c) */
    struct http_srv *http;

    /* due times (node/timer.c) */
    pthread_t timer_thr;
    int timer_running;
};

/* node_dir - the directory in force now. Snapshots are never freed while
 * the node runs, so pointers into one stay valid after a change, and they
 * only grow (enrolment appends; revocation marks): an index valid in one
 * names the same node in every later one. Compare nodes by id, not by
 * pointer. */
static inline const struct directory *
node_dir(struct node *n)
{
    return atomic_load(&n->dirp);
}

/* node_dir_publish - make d (heap, owned by the node from now on) the
 * directory in force; the previous one stays allocated until exit. */
void node_dir_publish(struct node *n, struct directory *d);
/* node_dir_free_all - at exit, after every thread stopped. */
void node_dir_free_all(struct node *n);

/* node_notify - after a commit: wake everyone who waits on the store. */
void node_notify(struct node *n);
/* node_wait_change - wait until the commit count passes *seen or ms pass;
 * updates *seen. Returns 0, or -1 when the node is stopping. */
int node_wait_change(struct node *n, uint64_t *seen, int64_t ms);
/* node_sleep - interruptible sleep for backoff; -1 when stopping. */
int node_sleep(struct node *n, int64_t ms);
/* node_close_socket - nng_close that gives up waiting after ms (nng 1.5.2
 * can stall in close while a dialer races a peer going away); 0 closed,
 * -1 gave up and leaves the socket to process exit. */
int node_close_socket(struct node *n, nng_socket s, const char *what, int64_t ms);
/* node_rep_start - open a rep socket that refuses messages above maxsz,
 * listen on url, and start nworkers threads running fn(n). On failure
 * nothing is left open and the reason is logged. */
int node_rep_start(struct node *n, struct rep_pool *p, const char *what,
                   const char *url, size_t maxsz, int nworkers,
                   void *(*fn)(void *)) RL_MUST_CHECK;
/* node_rep_stop - close the socket (bounded) and join the workers, which
 * leave their loop on NNG_ECLOSED. */
void node_rep_stop(struct node *n, struct rep_pool *p, const char *what);
/* node_backoff_ms - capped exponential delay with jitter for attempt k. */
int64_t node_backoff_ms(const struct node *n, int k);

#endif
