/*
 * main.c - relay-node: one store-and-forward node of any tier.
 *
 * Usage: relay-node --config FILE [--check]
 *
 * Starts the writer, the control socket, the downstream listener (if the
 * node has children) and the upstream link (if it has a parent), then
 * waits for SIGTERM or SIGINT and stops in reverse order: sockets first, so
 * no new work arrives, then the writer after it committed what it holds.
 *
 * DIAGNOSTICS: a bad config, directory or key file is reported with file,
 * line and key, and the node exits 1 without touching its store.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control.h"
#include "link.h"
#include "log.h"
#include "node.h"
#include "dirlog.h"
#include "policy_file.h"
#include "timer.h"
#include "writer.h"

static void
usage(void)
{
    fprintf(stderr, "usage: relay-node --config FILE [--check]\n"
                    "  --check   validate the config, directory and key, then exit\n");
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

/* node_dir_init - the signed directory kept in the store; on first start,
 * imported from the bootstrap file (every change verified) */
static void
node_dir_init(struct node *n, const char *path)
{
    static char err[8192];
    ProtobufCBinaryData *v = NULL;
    struct store_txn t;
    size_t cnt = 0;

    if (store_begin(n->store, 0, &t) != RL_OK || store_dirlog_all(&t, &v, &cnt) != RL_OK)
        log_fatal("%s: cannot read the directory from the store", path);
    store_abort(&t);
    if (cnt == 0) {
        node_dir_file(n, path, &v, &cnt);
        dir_free(&n->dir);
        if (store_begin(n->store, 1, &t) != RL_OK)
            log_fatal("cannot begin a write transaction");
        for (size_t i = 0; i < cnt; i++)
            if (store_dirlog_put(&t, i + 1, v[i].data, v[i].len) != RL_OK) {
                store_abort(&t);
                log_fatal("cannot store the directory");
            }
        if (store_commit(&t) != RL_OK)
            log_fatal("cannot store the directory");
        log_info("directory: %zu signed changes imported from %s", cnt, n->cfg.directory);
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

int
main(int argc, char **argv)
{
    /* static: on the sockets_stuck path main returns with the store open,
     * and everything must stay reachable for the leak checker */
    static struct node n;
    const char *path = NULL;
    int check = 0, sig;
    sigset_t set;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--check") == 0)
            check = 1;
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
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&n.mu, NULL);
    pthread_cond_init(&n.changed, NULL);

    if (store_open(n.cfg.store, n.cfg.map_mb, n.cfg.map_max_mb, 0, &n.store) != RL_OK)
        log_fatal("%s: key 'store': cannot open the store %s", path, n.cfg.store);
    node_dir_init(&n, path);
    node_identity(&n, path);
    if (writer_start(&n) != RL_OK)
        log_fatal("cannot start the writer");
    if (timer_start(&n) != RL_OK)
        log_fatal("cannot start the timer");
    if (control_start(&n, n.cfg.control, (int)n.cfg.control_workers) != RL_OK)
        log_fatal("%s: key 'control': cannot listen on %s", path, n.cfg.control);
    if (n.cfg.listen[0] && link_down_start(&n) != RL_OK)
        log_fatal("%s: key 'listen': cannot listen on %s", path, n.cfg.listen);
    if (n.parent && link_up_start(&n) != RL_OK)
        log_fatal("%s: key 'upstream': cannot dial %s", path, n.cfg.upstream);
    log_info("started: tier %s, store %s, policy %s from %s", config_tier_name(n.cfg.tier),
             n.cfg.store, n.pol.name, n.pol_source);

    sigwait(&set, &sig);
    log_info("stopping on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    atomic_store(&n.stopping, 1);
    node_notify(&n);
    control_stop(&n);
    link_up_stop(&n);
    link_down_stop(&n);
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
    node_dir_free_all(&n);
    log_info("stopped");
    return 0;
}
