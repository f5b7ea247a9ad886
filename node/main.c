/*
 * main.c - relay-node: one store-and-forward node of any tier.
 *
 * Usage: relay-node --config FILE [--init] [--check]
 *
 * A store is made only by the first start, --init: it creates the store,
 * imports the bootstrap directory and records the node's id and key in it.
 * Every other start first takes the store's lock (one node per store,
 * before any socket is touched: a second bind breaks nng 1.5.2's ipc
 * listener of the running node, nanomsg/nng#1518), checks data.mdb's size
 * against LMDB's meta pages (a truncated file would be SIGBUS once
 * mapped), refuses a missing, empty or foreign store, and verifies the
 * bootstrap directory file again. --check runs all of that without
 * opening a socket or changing the store (it may create the empty lock
 * file to test the lock).
 *
 * Starts the writer, the HTTP API (node/http.c), the downstream listener
 * (if the node has children) and the upstream link (if it has a parent), then
 * waits for SIGTERM, SIGINT or SIGHUP (handled like SIGTERM: there is no
 * reload, a changed config or policy needs a restart) and stops in reverse
 * order: sockets first, so no new work arrives, then the writer after it
 * committed what it holds.
 *
 * DIAGNOSTICS: a bad config, directory or key file is reported with file,
 * line and key, and the node exits 1 without touching its store. A
 * refused store is reported as "relay-node: <store>: <problem>: <what to do>"
 * and the node exits 1 with every file as it was.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "link.h"
#include "link_seal.h"
#include "log.h"
#include "node.h"
#include "dirlog.h"
#include "policy_file.h"
#include "timer.h"
#include "writer.h"

static void
usage(void)
{
    fprintf(stderr, "usage: relay-node --config FILE [--init] [--check]\n"
                    "  --init    first start: create the store (refused if one exists)\n"
                    "  --check   validate the config, directory, key and store, then exit\n");
    exit(2);
}

/* node_setup - config, policy, key; exits on any problem */
static void
node_setup(struct node *n, const char *path)
{
    static char err[8192];
    const char *why;
    int rc;

    if (config_load(path, &n->cfg, err, sizeof(err)) != RL_OK) {
        fputs(err, stderr);
        fprintf(stderr, "relay-node: %s: configuration refused\n", path);
        exit(1);
    }
    log_init(n->cfg.id);
    log_set_debug((int)n->cfg.debug);
    if (!n->cfg.have_root_key) {
        fprintf(stderr, "%s: key 'root_key': missing: the national root key that signs the "
                        "directory (relayctl keygen --public ROOTKEY)\n"
                        "relay-node: %s: configuration refused\n", path, path);
        exit(1);
    }
    if (policy_file_load(n->cfg.policy, &n->pol, n->pol_source,
                         sizeof(n->pol_source), err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "%s\n", err);
        fprintf(stderr, "relay-node: %s: key 'policy': policy refused\n", path);
        exit(1);
    }
    if (keys_init() != RL_OK)
        log_fatal("libsodium failed to initialise");
    rc = keys_load(n->cfg.key, &n->kp, &why);
    if (rc != RL_OK)
        log_fatal("%s: key 'key': %s: %s", path, n->cfg.key, why);
}

static void node_identity(struct node *n, const char *path);

/* node_dir_file - the signed directory of the bootstrap file */
static void
node_dir_file(struct node *n, const char *path, ProtobufCBinaryData **v, size_t *cnt)
{
    static char err[8192];

    if (dirlog_read_file(n->cfg.directory, v, cnt, err, sizeof(err)) != RL_OK ||
        dirlog_build(*v, *cnt, n->cfg.root_key, &n->dir, err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "%s\nrelay-node: %s: key 'directory': directory refused\n", err, path);
        exit(1);
    }
}

/* node_dir_compare - warn when the bootstrap file, which verified, is not a
 * prefix of the stored log (the stored one is in force) */
static void
node_dir_compare(struct node *n, const ProtobufCBinaryData *f, size_t fcnt,
                 const ProtobufCBinaryData *v, size_t cnt)
{
    for (size_t i = 0; i < fcnt && i < cnt; i++)
        if (f[i].len != v[i].len || memcmp(f[i].data, v[i].data, v[i].len) != 0) {
            log_warn("directory: %s differs from the stored directory at change %zu; "
                     "the stored one (%zu changes) is in force", n->cfg.directory, i + 1, cnt);
            return;
        }
}

/* node_dir_init - the signed directory kept in the store; with --init,
 * imported from the bootstrap file with the node's identity in one
 * transaction. The bootstrap file is verified at every start: a file that
 * does not verify is refused, never ignored. */
static void
node_dir_init(struct node *n, const char *path, int init)
{
    static char err[8192];
    ProtobufCBinaryData *v = NULL, *f = NULL;
    struct store_txn t;
    size_t cnt = 0, fcnt = 0;

    node_dir_file(n, path, &f, &fcnt);
    if (init) {
        /* the identity is checked before anything is written */
        atomic_store(&n->dirp, &n->dir);
        node_identity(n, path);
        dir_free(&n->dir);
        if (store_begin(n->store, 1, &t) != RL_OK)
            log_fatal("cannot begin a write transaction");
        for (size_t i = 0; i < fcnt; i++)
            if (store_dirlog_put(&t, i + 1, f[i].data, f[i].len) != RL_OK) {
                store_abort(&t);
                log_fatal("cannot store the directory");
            }
        if (store_identity_put(&t, n->cfg.id, n->kp->pk) != RL_OK) {
            store_abort(&t);
            log_fatal("cannot record the node's identity");
        }
        if (store_commit(&t) != RL_OK)
            log_fatal("cannot store the directory");
        log_info("store %s created (--init): node %s, %zu signed directory changes "
                 "imported from %s", n->cfg.store, n->cfg.id, fcnt, n->cfg.directory);
        v = f;
        cnt = fcnt;
    } else {
        dir_free(&n->dir);
        if (store_begin(n->store, 0, &t) != RL_OK || store_dirlog_all(&t, &v, &cnt) != RL_OK)
            log_fatal("%s: cannot read the directory from the store", path);
        store_abort(&t);
        if (cnt == 0)
            log_fatal("%s: the store %s holds no directory", path, n->cfg.store);
        node_dir_compare(n, f, fcnt, v, cnt);
        dirlog_free(f, fcnt);
    }
    if (dirlog_build(v, cnt, n->cfg.root_key, &n->dir, err, sizeof(err)) != RL_OK)
        log_fatal("%s: the stored directory does not verify: %s", path, err);
    dirlog_free(v, cnt);
    atomic_store(&n->dirp, &n->dir);
}

/* node_identity - this node and its parent in the directory */
static void
node_identity(struct node *n, const char *path)
{
    n->self = dir_find(&n->dir, n->cfg.id);
    if (n->self == NULL)
        log_fatal("%s: key 'id': '%s' is not in the directory %s", path,
                  n->cfg.id, n->cfg.directory);
    if (n->self->tier != n->cfg.tier)
        log_fatal("%s: key 'tier': '%s' but the directory says '%s'", path,
                  config_tier_name(n->cfg.tier), config_tier_name(n->self->tier));
    if (n->self->revoked_us)
        log_fatal("%s: key 'id': '%s' is revoked in the directory", path, n->cfg.id);
    if (n->self->parent_ix >= 0) {
        n->parent = &n->dir.nodes[n->self->parent_ix];
        if (!n->cfg.upstream[0])
            log_fatal("%s: key 'upstream': missing, the directory names parent '%s'",
                      path, n->parent->id);
        if (n->cfg.have_upstream_key && memcmp(n->cfg.upstream_key, n->parent->pk, 32) != 0)
            log_fatal("%s: key 'upstream_key': does not match the directory key of parent '%s'",
                      path, n->parent->id);
    } else if (n->cfg.upstream[0]) {
        log_fatal("%s: key 'upstream': the directory gives '%s' no parent", path,
                  n->self->id);
    }
    if (memcmp(n->kp->pk, n->self->pk, 32) != 0)
        log_fatal("%s: key 'key': %s does not match the directory key of '%s'",
                  path, n->cfg.key, n->self->id);
}

/* store_owner - open dir read-only and read the node it belongs to; 0, or
 * -1 with the reason in why. *empty is set when nothing is stored. */
static int
store_owner(const char *dir, char id[STORE_PEER_MAX], uint8_t pk[32], int *empty,
            char *why, size_t len)
{
    struct store *s;
    struct store_txn t;
    int rc;

    *empty = 0;
    id[0] = '\0';
    if (store_open(dir, 64, 64, 1, &s) != RL_OK) {
        /* empty only if LMDB holds nothing at all: a store of another
         * version, or one this process may not read, holds data */
        rc = store_blank(dir);
        if (rc == 1) {
            *empty = 1;
            return 0;
        }
        snprintf(why, len, "the store cannot be opened with this node's databases%s%s",
                 rc < 0 ? ": " : " (it holds others)", rc < 0 ? rl_strerror(rc) : "");
        return -1;
    }
    rc = store_begin(s, 0, &t);
    if (rc == RL_OK) {
        rc = store_is_empty(&t);
        *empty = rc == 1;
        rc = rc < 0 ? rc : store_identity_get(&t, id, pk);
        store_abort(&t);
    }
    store_close(s);
    if (rc == RL_ENOTFOUND) {
        id[0] = '\0';
        return 0;
    }
    if (rc != RL_OK) {
        snprintf(why, len, "cannot read the node record: %s", rl_strerror(rc));
        return -1;
    }
    return 0;
}

/* node_store_check - why the store would be refused, in why; 0 when it
 * would not be. keep: a start, which keeps the lock and makes the folder
 * for --init; else --check, which releases the lock and changes nothing. */
static int
node_store_check(struct node *n, int init, int keep, int *lock_fd, char *why, size_t len)
{
    const char *dir = n->cfg.store;
    char id[STORE_PEER_MAX], fwhy[1024], dpath[4200];
    uint8_t pk[32];
    struct stat st;
    long holder;
    int fd, rc, empty;

    if (stat(dir, &st) != 0) {
        if (errno != ENOENT) {
            snprintf(why, len, "%s", strerror(errno));
            return -1;
        }
        if (!init) {
            snprintf(why, len, "no store here (missing folder): a node's first start, and "
                     "only that, is 'relay-node --config %s --init'", n->cfg.path);
            return -1;
        }
        if (!keep)
            return 0; /* --init would make it */
        if (mkdir(dir, 0700) != 0) {
            snprintf(why, len, "cannot create the store folder: %s", strerror(errno));
            return -1;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        snprintf(why, len, "not a folder (the store is a folder of LMDB files)");
        return -1;
    }
    /* one node per store, decided before any socket is touched */
    rc = store_lock(dir, &fd, &holder);
    if (rc == RL_EDUP) {
        snprintf(why, len, "already running (pid %ld)", holder);
        return -1;
    }
    if (rc != RL_OK) {
        snprintf(why, len, "cannot take the lock %s/relay.lock", dir);
        return -1;
    }
    if (keep)
        *lock_fd = fd;
    else
        close(fd);
    snprintf(dpath, sizeof(dpath), "%s/data.mdb", dir);
    rc = store_file_check(dir, fwhy, sizeof(fwhy));
    if (init) {
        if (rc == RL_ENOTFOUND || (stat(dpath, &st) == 0 && st.st_size == 0))
            return 0;
        if (rc != RL_OK) {
            snprintf(why, len, "--init refused: %s", fwhy);
            return -1;
        }
        if (store_owner(dir, id, pk, &empty, fwhy, sizeof(fwhy)) != 0) {
            snprintf(why, len, "--init refused: %s", fwhy);
            return -1;
        }
        if (!empty) {
            snprintf(why, len, "--init refused: the store already holds %s%s%s; start "
                     "without --init, or move the store away first", id[0] ? "node " : "data",
                     id, id[0] ? "'s data" : "");
            return -1;
        }
        return 0;
    }
    if (rc == RL_ENOTFOUND) {
        snprintf(why, len, "no data.mdb in the store folder (missing store): restore the "
                 "store, or for a new node start once with --init");
        return -1;
    }
    if (rc != RL_OK) {
        snprintf(why, len, "%s: refused, nothing changed; restore the store from a backup",
                 fwhy);
        return -1;
    }
    if (store_owner(dir, id, pk, &empty, fwhy, sizeof(fwhy)) != 0) {
        snprintf(why, len, "%s: refused; restore the store from a backup", fwhy);
        return -1;
    }
    if (id[0] == '\0') {
        snprintf(why, len, "the store has no node record (%s, or not made by "
                 "'relay-node --init'): refused, so that a lost store never starts as a "
                 "new node; restore it from a backup, or move it away and start with --init",
                 empty ? "empty" : "damaged");
        return -1;
    }
    if (strcmp(id, n->cfg.id) != 0) {
        snprintf(why, len, "a foreign store: it belongs to node '%s', not '%s'", id, n->cfg.id);
        return -1;
    }
    return 0;
}

/* node_store_key - the key recorded in the store follows a rotation the
 * directory made (node_identity checked the key file against it) */
static void
node_store_key(struct node *n)
{
    char id[STORE_PEER_MAX];
    uint8_t pk[32];
    struct store_txn t;

    if (store_begin(n->store, 1, &t) != RL_OK)
        log_fatal("cannot begin a write transaction");
    if (store_identity_get(&t, id, pk) != RL_OK) {
        store_abort(&t);
        log_fatal("cannot read the store's node record");
    }
    if (memcmp(pk, n->kp->pk, 32) == 0) {
        store_abort(&t);
        return;
    }
    if (store_identity_put(&t, id, n->kp->pk) != RL_OK || store_commit(&t) != RL_OK)
        log_fatal("cannot record the node's new key");
    log_info("store: node key changed since the last start (rotated in the directory)");
}

int
main(int argc, char **argv)
{
    /* static: on the sockets_stuck path main returns with the store open,
     * and everything must stay reachable for the leak checker */
    static struct node n;
    const char *path = NULL;
    int check = 0, init = 0, sig, lock_fd = -1;
    char why[2048];
    sigset_t set;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else if (strcmp(argv[i], "--init") == 0)
            init = 1;
        else
            usage();
    }
    if (path == NULL)
        usage();
    memset(&n, 0, sizeof(n));
    node_setup(&n, path);
    if (check) {
        ProtobufCBinaryData *v;
        size_t cnt;
        node_dir_file(&n, path, &v, &cnt);
        dirlog_free(v, cnt);
        atomic_store(&n.dirp, &n.dir);
        node_identity(&n, path);
        if (node_store_check(&n, init, 0, &lock_fd, why, sizeof(why)) != 0) {
            int line = config_key_line(&n.cfg, "store");
            if (line)
                fprintf(stderr, "%s:%d: key 'store': %s: %s\n", path, line, n.cfg.store, why);
            else
                fprintf(stderr, "%s: key 'store': %s: %s\n", path, n.cfg.store, why);
            fprintf(stderr, "relay-node: %s: store refused\n", path);
            keys_free(n.kp);
            dir_free(&n.dir);
            return 1;
        }
        printf("%s: ok: node %s, tier %s, %zu nodes in the directory, policy %s from %s\n",
               path, n.cfg.id, config_tier_name(n.cfg.tier), n.dir.n, n.pol.name,
               n.pol_source);
        keys_free(n.kp);
        dir_free(&n.dir);
        return 0;
    }
    if (n.cfg.clock_manual) {
        char iso[40];
        clock_use_manual(n.cfg.clock_start_us);
        clock_format_iso(n.cfg.clock_start_us, iso, sizeof(iso));
        log_info("controlled clock, starting at %s", iso);
    }

    /* signals are taken by sigwait below, never by a worker thread */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&n.mu, NULL);
    pthread_cond_init(&n.changed, NULL);

    if (node_store_check(&n, init, 1, &lock_fd, why, sizeof(why)) != 0) {
        fprintf(stderr, "relay-node: %s: %s\n", n.cfg.store, why);
        exit(1);
    }
    if (store_open(n.cfg.store, n.cfg.map_mb, n.cfg.map_max_mb, 0, &n.store) != RL_OK)
        log_fatal("%s: key 'store': cannot open the store %s", path, n.cfg.store);
    node_dir_init(&n, path, init);
    node_identity(&n, path);
    if (!init)
        node_store_key(&n);
    n.started_us = clock_now_us(); /* links down since then, at most */
    if (writer_start(&n) != RL_OK)
        log_fatal("cannot start the writer");
    if (timer_start(&n) != RL_OK)
        log_fatal("cannot start the timer");
    if (http_start(&n) != RL_OK)
        log_fatal("%s: the HTTP API did not start (see above)", path);
    if (n.cfg.listen[0] && link_down_start(&n) != RL_OK)
        log_fatal("%s: key 'listen': cannot listen on %s", path, n.cfg.listen);
    if (n.parent && link_up_start(&n) != RL_OK)
        log_fatal("%s: key 'upstream': cannot dial %s", path, n.cfg.upstream);
    log_info("started: tier %s, store %s, policy %s from %s", config_tier_name(n.cfg.tier),
             n.cfg.store, n.pol.name, n.pol_source);

    sigwait(&set, &sig);
    log_info("stopping on %s", sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "SIGINT");
    atomic_store(&n.stopping, 1);
    node_notify(&n);
    http_stop(&n);
    link_up_stop(&n);
    link_down_stop(&n);
    /* once both links are down: the parent's sessions and the static
     * secrets are process-wide (link_up_stop alone would end the sessions
     * of children still being served) */
    link_seal_forget();
    timer_stop(&n);
    writer_stop(&n);
    if (n.sockets_stuck) {
        /* a worker may still hold a read transaction: everything acknowledged
         * is committed, so leave the environment to process exit */
        log_info("stopped (sockets left to process exit)");
        return 0;
    }
    store_close(n.store);
    keys_free(n.kp);
    free(n.child_seen_ms);
    for (size_t i = 0; n.child_heads && i < n.n_child_seen; i++)
        free(n.child_heads[i].data);
    free(n.child_heads);
    free(n.child_head_seq);
    node_dir_free_all(&n);
    log_info("stopped");
    return 0;
}
