/*
 * relay_bench.c - relay-bench: throughput and latency of a three-tier chain.
 *
 * Usage: relay-bench [--node PATH] [--reports N] [--rate R]
 *                    [--concurrency C] [--size BYTES] [--keep]
 *        relay-bench --children N [--set KEY=VALUE]... (children.c: one
 *                    ministry serving N simulated children)
 *
 * Builds a throwaway federation in /tmp/relay-bench.XXXXXX (keys, directory,
 * three configs left at their defaults: durable commits, a signature check at
 * every hop), starts agency -> city -> national as real relay-node processes,
 * submits N reports to the agency's HTTP API (POST /api/v1/reports on its
 * Unix socket, bench_api.c: C requests in flight, one per worker thread and
 * connection, or paced open-loop at R per second), and waits until the
 * national node holds all of them. Latency is then read from the national
 * store: the national node's stored hop time minus the agency's signing
 * time (Body.created_us).
 *
 * DIAGNOSTICS: exit 0 when every report arrived; 1 on any failure (a node
 * that does not start or exits badly, a refused submission, a missing
 * report, a timeout), named on stderr together with the tail of each node
 * log. The nodes are stopped on every exit path, SIGINT included, and die
 * with the bench (PR_SET_PDEATHSIG) if it is killed outright.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "dirlog.h"
#include "envelope.h"
#include "keys.h"
#include "store.h"

#include "bench.h"

#define START_TIMEOUT_MS 10000   /* nodes up and links connected */
#define ARRIVE_TIMEOUT_MS 120000 /* all reports at the national node */
#define STOP_TIMEOUT_MS 10000    /* SIGTERM to exit, then SIGKILL */
#define LATE_US 1000             /* rate mode: later than this is behind */

/* the body of POST /api/v1/reports (the report form): report number,
 * aware_at, facts */
#define REPORT_FMT                                                             \
    "{\"title\":\"bench report %ld\",\"aware_at\":\"%s\",\"level\":2,"          \
    "\"category\":\"external_intrusion\",\"harms\":[{\"kind\":\"tamper\","     \
    "\"class\":\"core\",\"severity\":\"minor\"}],\"facts\":\"%s\"}"

struct worker {
    pthread_t thr;
    struct bench_api *api; /* its own connection to the agency */
    int64_t first_us, last_us; /* monotonic: first send, last reply */
    long late;                 /* rate mode: sent more than LATE_US behind */
    int64_t max_lag_us;
};

struct proc procs[NNODES] = {
    [NAT] = {.id = "bench-national", .tier = "national", .parent = -1},
    [CITY] = {.id = "bench-city", .tier = "city", .parent = NAT},
    [AG] = {.id = "bench-agency", .tier = "agency", .parent = CITY},
};

static struct {
    const char *node;
    long reports, concurrency, size;
    double rate;
    int keep;
    char dir[64];
    char aware[40];
    char root_hex[2 * KEYS_PK_LEN + 1]; /* the directory's root key */
    char *facts;
    int64_t t0_us;            /* rate mode: report i is due at t0 + i/R */
    atomic_long next;         /* next report index to submit */
    atomic_int failed;        /* a worker failed: everyone stops */
} B = {.reports = 20000, .concurrency = 64, .size = 1024};

volatile sig_atomic_t stop_sig;
int bench_nnodes = NNODES; /* procs in use: 2 with --children */
int bench_start_ms = START_TIMEOUT_MS; /* longer for a large directory */

/* on_signal - remember SIGINT/SIGTERM; the main loops stop and clean up */
static void
on_signal(int sig)
{
    stop_sig = sig;
}

/* fail - print "relay-bench: ..." and mark the run failed; returns -1 */
int
fail(const char *fmt, ...)
{
    va_list ap;

    atomic_store(&B.failed, 1);
    va_start(ap, fmt);
    fputs("relay-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

/* mono_us - monotonic microseconds */
int64_t
mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* sleep_until - sleep until monotonic time us */
static void
sleep_until(int64_t us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    int rc;

    do
        rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    while (rc == EINTR && !stop_sig);
}

/* free_port - a TCP port on 127.0.0.1 that was free a moment ago, or -1 */
int
free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* write_file - create path with text; 0 or -1 */
int
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        return fail("%s: %s", path, strerror(errno));
    return 0;
}

/* setup_files - keys, directory.ini and one config per node in B.dir */
static int
setup_files(void)
{
    char dir[4096] = "", path[PATH_MAX], log[PATH_MAX], pk[1][2 * KEYS_PK_LEN + 1];
    size_t used = 0;

    for (int i = 0; i < NNODES; i++) {
        struct proc *p = &procs[i];
        snprintf(path, sizeof(path), "%s/%s.key", B.dir, p->id);
        if (keys_generate(&p->kp) != RL_OK || keys_save(p->kp, path) != RL_OK)
            return fail("%s: cannot create a key pair", path);
        if (i != AG && (p->port = free_port()) < 0)
            return fail("no free TCP port on 127.0.0.1");
        keys_hex(p->kp->pk, KEYS_PK_LEN, pk[0]);
        used += (size_t)snprintf(dir + used, sizeof(dir) - used,
                                 "[%s]\ntier = %s\nkey = %s\n", p->id, p->tier,
                                 pk[0]);
        if (p->parent >= 0)
            used += (size_t)snprintf(dir + used, sizeof(dir) - used,
                                     "parent = %s\n", procs[p->parent].id);
        if (i == AG)
            used += (size_t)snprintf(dir + used, sizeof(dir) - used,
                                     "city = %s\n", procs[CITY].id);
        used += (size_t)snprintf(dir + used, sizeof(dir) - used, "\n");
    }
    snprintf(path, sizeof(path), "%s/directory.ini", B.dir);
    if (write_file(path, dir) != 0)
        return -1;
    snprintf(log, sizeof(log), "%s/directory.log", B.dir);
    if (sign_directory(path, log, B.root_hex) != 0)
        return -1;
    for (int i = 0; i < NNODES; i++)
        if (write_conf(&procs[i], B.dir, log, B.root_hex, NULL, 0) != 0)
            return -1;
    return 0;
}

/* sign_directory - the directory at ini, signed by a fresh root key, into
 * the directory log the nodes run on; the root key's hex in root_hex */
int
sign_directory(const char *ini, const char *log, char root_hex[2 * KEYS_PK_LEN + 1])
{
    static char err[4096];
    struct directory d;
    struct keypair *root;
    ProtobufCBinaryData *v;
    size_t nv;
    int rc;

    if (dir_load(ini, &d, err, sizeof(err)) != RL_OK)
        return fail("%s: %s", ini, err);
    if (keys_generate(&root) != RL_OK) {
        dir_free(&d);
        return fail("cannot make a root key");
    }
    keys_hex(root->pk, KEYS_PK_LEN, root_hex);
    rc = dirlog_from_dir(&d, root, 0, &v, &nv);
    if (rc == RL_OK) {
        rc = dirlog_write_file(log, v, nv);
        dirlog_free(v, nv);
    }
    keys_free(root);
    dir_free(&d);
    return rc == RL_OK ? 0 : fail("%s: cannot sign the directory", log);
}

/* write_conf - p's config in dir (the procs[] entry of its parent gives
 * upstream and upstream_key), then the extra "key=value" lines; fills
 * p->sock (its api_socket), p->conf and p->log */
int
write_conf(struct proc *p, const char *dir, const char *dirlog,
           const char *root_hex, const char *const *extra, size_t nextra)
{
    char conf[8192], pk[2 * KEYS_PK_LEN + 1];
    size_t n = (size_t)snprintf(
        conf, sizeof(conf),
        "[node]\nid = %s\ntier = %s\napi_socket = %s/%s.sock\n"
        "store = %s/%s.db\nkey = %s/%s.key\ndirectory = %s\nroot_key = %s\n",
        p->id, p->tier, dir, p->id, dir, p->id, dir, p->id, dirlog, root_hex);

    if (p->port)
        n += (size_t)snprintf(conf + n, sizeof(conf) - n,
                              "listen = tcp://127.0.0.1:%d\n", p->port);
    if (p->parent >= 0) {
        keys_hex(procs[p->parent].kp->pk, KEYS_PK_LEN, pk);
        n += (size_t)snprintf(conf + n, sizeof(conf) - n,
                              "upstream = tcp://127.0.0.1:%d\nupstream_key = %s\n",
                              procs[p->parent].port, pk);
    }
    for (size_t i = 0; i < nextra && n < sizeof(conf); i++)
        n += (size_t)snprintf(conf + n, sizeof(conf) - n, "%s\n", extra[i]);
    if (n >= sizeof(conf))
        return fail("%s: config too long", p->id);
    snprintf(p->sock, sizeof(p->sock), "%s/%s.sock", dir, p->id);
    snprintf(p->conf, sizeof(p->conf), "%s/%s.conf", dir, p->id);
    snprintf(p->log, sizeof(p->log), "%s/%s.log", dir, p->id);
    return write_file(p->conf, conf);
}

/* spawn - start p as a relay-node with stdout and stderr in its log */
int
spawn(struct proc *p)
{
    pid_t pid = fork();

    if (pid < 0)
        return fail("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        setpgid(0, 0); /* a terminal's ^C reaches the bench, which stops us */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        /* a fresh store each run: the first start creates it */
        execl(B.node, "relay-node", "--config", p->conf, "--init", (char *)NULL);
        fprintf(stderr, "relay-bench: exec %s: %s\n", B.node, strerror(errno));
        _exit(127);
    }
    p->pid = pid;
    return 0;
}

/* reap - 1 if p has exited (status in *st), 0 if it runs */
static int
reap(struct proc *p, int *st)
{
    if (p->pid <= 0)
        return 1;
    if (waitpid(p->pid, st, WNOHANG) != p->pid)
        return 0;
    p->pid = 0;
    return 1;
}

/* check_alive - fail if a node died under us */
int
check_alive(void)
{
    int st = 0;

    for (int i = 0; i < bench_nnodes; i++)
        if (procs[i].pid > 0 && reap(&procs[i], &st))
            return fail("%s exited early (%s %d)", procs[i].id,
                        WIFEXITED(st) ? "status" : "signal",
                        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return 0;
}

/* stop_all - SIGTERM every node and reap it (SIGKILL after STOP_TIMEOUT_MS);
 * -1 if one exited other than with status 0 */
int
stop_all(void)
{
    int64_t until = mono_us() + STOP_TIMEOUT_MS * 1000LL;
    int st, rc = 0;

    for (int i = 0; i < bench_nnodes; i++)
        if (procs[i].pid > 0)
            kill(procs[i].pid, SIGTERM);
    for (int i = 0; i < bench_nnodes; i++) {
        struct proc *p = &procs[i];
        if (p->pid <= 0)
            continue;
        while (p->pid > 0 && !reap(p, &st) && mono_us() < until)
            usleep(5000);
        if (p->pid > 0) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            p->pid = 0;
            rc = fail("%s did not stop on SIGTERM within %d ms", p->id,
                      STOP_TIMEOUT_MS);
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            rc = fail("%s stopped badly (%s %d)", p->id,
                      WIFEXITED(st) ? "status" : "signal",
                      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        }
    }
    return rc;
}

/* up_connected - 1 if a status reply shows the "up" link connected */
static int
up_connected(json_t *st)
{
    size_t i;
    json_t *l;

    json_array_foreach(json_object_get(st, "links"), i, l)
    {
        const char *dir = json_string_value(json_object_get(l, "direction"));
        if (dir && strcmp(dir, "up") == 0 &&
            json_is_true(json_object_get(l, "connected")))
            return 1;
    }
    return 0;
}

/* wait_ready - poll status every 20 ms until every node answers and every
 * child's up link is connected */
int
wait_ready(void)
{
    int64_t until = mono_us() + bench_start_ms * 1000LL;
    int ready[NNODES] = {0}, answered[NNODES] = {0}, nready = 0, rc = 0;
    json_t *st;

    while (nready < bench_nnodes && rc == 0) {
        if (stop_sig || check_alive() != 0) {
            rc = -1;
            break;
        }
        if (mono_us() > until) {
            for (int i = 0; i < bench_nnodes; i++)
                if (!ready[i])
                    rc = fail("%s not ready after %d ms (%s)", procs[i].id,
                              bench_start_ms,
                              answered[i] ? "up link not connected"
                                          : "no answer on its API socket");
            break;
        }
        for (int i = 0; i < bench_nnodes; i++) {
            if (ready[i])
                continue;
            if (proc_api_call(&procs[i], "GET", "/api/v1/status", NULL, &st) == NULL) {
                answered[i] = 1;
                if (procs[i].parent < 0 || up_connected(st))
                    nready += ready[i] = 1;
            }
            json_decref(st);
        }
        usleep(20000);
    }
    return rc;
}

/* worker_main - submit reports until none is left, one request at a time */
static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    size_t cap = (size_t)B.size + 512;
    char *req = malloc(cap);
    json_t *rep;
    long i;

    while (req && !stop_sig && !atomic_load(&B.failed) &&
           (i = atomic_fetch_add(&B.next, 1)) < B.reports) {
        if (B.rate > 0) {
            int64_t due = B.t0_us + (int64_t)((double)i * 1e6 / B.rate), lag;
            sleep_until(due);
            lag = mono_us() - due;
            w->late += lag > LATE_US;
            if (lag > w->max_lag_us)
                w->max_lag_us = lag;
        }
        snprintf(req, cap, REPORT_FMT, i, B.aware, B.facts);
        int64_t t = mono_us();
        if (w->first_us == 0)
            w->first_us = t;
        const char *why = bench_api_call(w->api, "POST", "/api/v1/reports", req, &rep);
        json_decref(rep);
        if (why) {
            /* the first failure says enough; after a signal, say nothing */
            if (!atomic_load(&B.failed) && !stop_sig)
                fail("report %ld: submit failed: %s", i, why);
            break;
        }
        w->last_us = mono_us();
    }
    free(req);
    return NULL;
}

/* submit_all - run the C workers against the agency; the submission
 * window is [*first_us, *last_us] */
static int
submit_all(int64_t *first_us, int64_t *last_us, long *late, int64_t *max_lag)
{
    long C = B.concurrency, nopen = 0, nthr = 0;
    struct worker *w = calloc((size_t)C, sizeof(*w));
    int rv = 0;

    if (w == NULL)
        return fail("out of memory");
    /* every worker's connection is open before the first report, as the
     * req sockets were dialled before; wait_ready's is closed, so that the
     * agency holds exactly C */
    bench_api_close(procs[AG].api);
    procs[AG].api = NULL;
    while (rv == 0 && nopen < C &&
           (w[nopen].api = bench_api_open(procs[AG].sock, BENCH_CALL_TIMEOUT_MS)) != NULL) {
        const char *why = bench_api_connect(w[nopen++].api);
        if (why) /* e.g. over the node's limit of API connections */
            rv = fail("cannot open connection %ld of %ld to the agency: %s", nopen, C, why);
    }
    if (rv == 0 && nopen < C)
        rv = -1; /* bench_api_open said why */
    /* rate mode: 2 ms to start the threads before the first due time */
    B.t0_us = mono_us() + 2000;
    while (rv == 0 && nthr < C &&
           pthread_create(&w[nthr].thr, NULL, worker_main, &w[nthr]) == 0)
        nthr++;
    if (rv == 0 && nthr < C)
        rv = fail("cannot start worker threads");
    /* on a signal, each worker's call in progress ends within about a
     * second (bench_api_progress) */
    *first_us = INT64_MAX;
    *last_us = *late = *max_lag = 0;
    for (long i = 0; i < nthr; i++) {
        pthread_join(w[i].thr, NULL);
        if (w[i].first_us && w[i].first_us < *first_us)
            *first_us = w[i].first_us;
        if (w[i].last_us > *last_us)
            *last_us = w[i].last_us;
        *late += w[i].late;
        if (w[i].max_lag_us > *max_lag)
            *max_lag = w[i].max_lag_us;
    }
    for (long i = 0; i < nopen; i++)
        bench_api_close(w[i].api);
    free(w);
    return rv || stop_sig || atomic_load(&B.failed) ? -1 : 0;
}

/* wait_national - poll the national status every 10 ms until it holds
 * every report; *end_us is the monotonic time it did */
static int
wait_national(int64_t *end_us)
{
    int64_t until = mono_us() + ARRIVE_TIMEOUT_MS * 1000LL, have = -1;
    const char *why = NULL;
    json_t *st;

    for (;;) {
        if ((why = proc_api_call(&procs[NAT], "GET", "/api/v1/status", NULL, &st)) == NULL)
            have = json_integer_value(
                json_object_get(json_object_get(st, "counts"), "incidents"));
        json_decref(st);
        *end_us = mono_us();
        if (why || have >= B.reports || stop_sig || check_alive() != 0 ||
            *end_us > until)
            break;
        usleep(10000);
    }
    if (why)
        return fail("national status: %s", why);
    if (have < B.reports && !stop_sig && !atomic_load(&B.failed))
        return fail("the national node holds %lld of %ld reports after %d s",
                    (long long)have, B.reports, ARRIVE_TIMEOUT_MS / 1000);
    return have >= B.reports ? 0 : -1;
}

/* peak_rss - VmHWM of p in MiB into p->rss_mib (0 if unreadable) */
static void
peak_rss(struct proc *p)
{
    char path[64], line[256];
    long kb = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
    if ((f = fopen(path, "r")) == NULL)
        return;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    p->rss_mib = (double)kb / 1024.0;
}

/* cmp_i64 - qsort order for int64_t */
static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* latencies - from the national store, the national hop time minus
 * created_us of every report, sorted, in *lat (malloc) and *n */
static int
latencies(int64_t **lat, size_t *n)
{
    char path[PATH_MAX];
    struct store *s;
    struct store_txn t;
    uint8_t *ids = NULL;
    size_t nids = 0;
    int rc;

    *lat = NULL;
    *n = 0;
    snprintf(path, sizeof(path), "%s/%s.db", B.dir, procs[NAT].id);
    if (store_open(path, 64, 4096, 1, &s) != RL_OK)
        return fail("%s: cannot open the national store", path);
    if ((rc = store_begin(s, 0, &t)) == RL_OK) {
        rc = store_list_ids(&t, "incidents", &ids, &nids);
        if (rc == RL_OK &&
            (*lat = malloc((nids ? nids : 1) * sizeof(**lat))) == NULL)
            rc = RL_ENOMEM;
        for (size_t i = 0; rc == RL_OK && i < nids; i++) {
            struct env_msg m;
            const char *why;
            uint8_t *buf;
            size_t len;
            if ((rc = store_get_message(&t, ids + 16 * i, &buf, &len)) != RL_OK)
                break;
            rc = env_open(buf, len, SIZE_MAX, &m, &why);
            free(buf);
            if (rc != RL_OK)
                break;
            for (size_t h = 0; m.body->kind_case == RELAY__BODY__KIND_REPORT &&
                               h < m.env->n_hops;
                 h++)
                if (strcmp(m.env->hops[h]->node, procs[NAT].id) == 0) {
                    (*lat)[(*n)++] =
                        m.env->hops[h]->received_us - m.body->created_us;
                    break;
                }
            env_msg_free(&m);
        }
        store_abort(&t);
    }
    store_close(s);
    free(ids);
    if (rc != RL_OK)
        return fail("%s: reading the national store: %s", path,
                    rl_strerror(rc));
    qsort(*lat, *n, sizeof(**lat), cmp_i64);
    if ((long)*n != B.reports)
        return fail("the national store holds %zu reports with a national "
                    "hop, expected %ld",
                    *n, B.reports);
    return 0;
}

/* pct_ms - the q quantile (nearest rank) of sorted microseconds, in ms */
static double
pct_ms(const int64_t *v, size_t n, double q)
{
    size_t k = (size_t)ceil(q * (double)n);

    return (double)v[k ? k - 1 : 0] / 1000.0;
}

/* rm_entry - nftw callback removing one entry */
static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* log_tails - the last few lines of every node log, after a failure */
static void
log_tails(void)
{
    char buf[1024];
    FILE *f;

    for (int i = 0; i < bench_nnodes; i++) {
        if ((f = fopen(procs[i].log, "r")) == NULL)
            continue;
        /* fails on a short log, which is then read from its start */
        fseek(f, -(long)sizeof(buf) + 1, SEEK_END);
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        char *from = strchr(buf, '\n');
        fprintf(stderr, "--- end of %s\n%s", procs[i].log,
                n == sizeof(buf) - 1 && from ? from + 1 : buf);
    }
}

/* parse_args - options into B; exits 2 on a usage error */
static void
parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        {"node", required_argument, NULL, 'n'},
        {"reports", required_argument, NULL, 'N'},
        {"rate", required_argument, NULL, 'r'},
        {"concurrency", required_argument, NULL, 'c'},
        {"size", required_argument, NULL, 's'},
        {"keep", no_argument, NULL, 'k'},
        /* --children mode (children.c) */
        {"children", required_argument, NULL, 'C'},
        {"set", required_argument, NULL, 'S'},
        {"sample", required_argument, NULL, 'm'},
        {"idle", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 't'},
        {"bound-ms", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0}};
    static char self[PATH_MAX], node[PATH_MAX + 32];
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        errno = 0;
        switch (c) {
        case 'n':
            B.node = optarg;
            continue;
        case 'k':
            B.keep = 1;
            continue;
        case 'r':
            B.rate = strtod(optarg, &end);
            break;
        case 'N':
            B.reports = strtol(optarg, &end, 10);
            break;
        case 'c':
            B.concurrency = strtol(optarg, &end, 10);
            break;
        case 's':
            B.size = strtol(optarg, &end, 10);
            break;
        case 'C':
            children_opts.n = strtol(optarg, &end, 10);
            break;
        case 'm':
            children_opts.sample = strtol(optarg, &end, 10);
            break;
        case 'i':
            children_opts.idle_s = strtol(optarg, &end, 10);
            break;
        case 't':
            children_opts.timeout_s = strtol(optarg, &end, 10);
            break;
        case 'b':
            children_opts.bound_ms = strtol(optarg, &end, 10);
            break;
        case 'S': {
            const char **set = realloc(children_opts.set, (children_opts.nset + 1) *
                                                              sizeof(*set));
            if (set == NULL || strchr(optarg, '=') == NULL || strchr(optarg, '\n'))
                goto usage;
            (children_opts.set = set)[children_opts.nset++] = optarg;
            continue;
        }
        default:
            goto usage;
        }
        if (errno || *end || end == optarg)
            goto usage;
    }
    if (optind != argc || B.reports < 1 || B.concurrency < 1 ||
        B.concurrency > 1024 || B.size < 1 || B.size > 8192 ||
        !(B.rate >= 0 && B.rate <= 1e6) || children_opts.n < 0 ||
        children_opts.n > 100000 || children_opts.sample < 0 ||
        children_opts.idle_s < 0 || children_opts.timeout_s < 1 || children_opts.bound_ms < 0 ||
        (children_opts.nset && !children_opts.n))
        goto usage;
    if (B.node == NULL) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0) {
            fprintf(stderr, "relay-bench: cannot find myself (/proc/self/exe); "
                            "use --node\n");
            exit(1);
        }
        self[n] = '\0';
        snprintf(node, sizeof(node), "%s/../../node/relay-node", dirname(self));
        B.node = node;
    }
    if (access(B.node, X_OK) != 0) {
        fprintf(stderr, "relay-bench: %s: %s; use --node PATH\n", B.node,
                strerror(errno));
        exit(1);
    }
    return;
usage:
    fprintf(stderr,
            "usage: relay-bench [--node PATH] [--reports N (>=1)]\n"
            "                   [--rate R (per second; 0: saturation)]\n"
            "                   [--concurrency C (1..1024)]\n"
            "                   [--size BYTES (of facts, 1..8192)] [--keep]\n"
            "       relay-bench --children N [--node PATH] [--set KEY=VALUE ...]\n"
            "                   [--sample K (reports timed one at a time)]\n"
            "                   [--idle SECONDS] [--timeout SECONDS] [--bound-ms MS]\n"
            "                   [--keep]\n");
    exit(2);
}

/* run - the whole benchmark between setup and cleanup; 0 or -1 */
static int
run(void)
{
    static const char text[] =
        "Home page replaced by an intruder; web server logs show a "
        "login from an unknown address before the change. ";
    int64_t first = 0, last = 0, end = 0, max_lag = 0, *lat;
    size_t n;
    long late = 0;

    if ((B.facts = malloc((size_t)B.size + 1)) == NULL)
        return fail("out of memory");
    for (long i = 0; i < B.size; i++)
        B.facts[i] = text[i % (sizeof(text) - 1)];
    B.facts[B.size] = '\0';
    clock_format_iso(clock_now_us() - 60 * 1000000LL, B.aware, sizeof(B.aware));
    if (setup_files() != 0)
        return -1;
    for (int i = 0; i < NNODES; i++)
        if (spawn(&procs[i]) != 0)
            return -1;
    if (wait_ready() != 0 || submit_all(&first, &last, &late, &max_lag) != 0 ||
        wait_national(&end) != 0)
        return -1;
    for (int i = 0; i < NNODES; i++)
        peak_rss(&procs[i]);
    if (stop_all() != 0 || latencies(&lat, &n) != 0)
        return -1;

    double sub_s = (double)(last - first) / 1e6,
           e2e_s = (double)(end - first) / 1e6;
    printf("relay-bench: %ld reports of %ld-byte facts, agency -> city -> "
           "national, durable (fsync) commits, signature check at every hop\n",
           B.reports, B.size);
    if (B.rate > 0)
        printf("open loop at %.0f/s over %ld workers: %ld of %ld reports sent "
               "> %d ms behind schedule (max lag %.2f ms)\n",
               B.rate, B.concurrency, late, B.reports, LATE_US / 1000,
               (double)max_lag / 1000.0);
    else
        printf("saturation: %ld requests in flight at the agency\n",
               B.concurrency);
    printf("submitted in %.2f s (%.0f/s at the agency); "
           "end to end %.2f s: %.0f reports/s\n",
           sub_s, (double)B.reports / sub_s, e2e_s, (double)B.reports / e2e_s);
    printf("latency created->stored at national: p50 %.2f ms  p90 %.2f ms  "
           "p99 %.2f ms  max %.2f ms  (n=%zu)\n",
           pct_ms(lat, n, 0.50), pct_ms(lat, n, 0.90), pct_ms(lat, n, 0.99),
           pct_ms(lat, n, 1.0), n);
    printf("peak RSS: agency %.1f MiB, city %.1f MiB, national %.1f MiB\n",
           procs[AG].rss_mib, procs[CITY].rss_mib, procs[NAT].rss_mib);
    printf("note: latency ends at the national node's write transaction "
           "(its stored hop time), before that transaction's fsync\n");
    free(lat);
    return 0;
}

int
main(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_signal};
    int rc;

    parse_args(argc, argv);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (keys_init() != RL_OK) {
        fprintf(stderr, "relay-bench: libsodium failed to initialise\n");
        return 1;
    }
    if (bench_api_global() != 0)
        return 1;
    snprintf(B.dir, sizeof(B.dir), "/tmp/relay-bench.XXXXXX");
    if (mkdtemp(B.dir) == NULL) {
        fprintf(stderr, "relay-bench: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    rc = children_opts.n ? children_run(B.dir) : run();
    /* a no-op after a clean run; stops the nodes after a failure */
    if (stop_all() != 0)
        rc = -1;
    if (stop_sig)
        fprintf(stderr, "relay-bench: interrupted by signal %d\n",
                (int)stop_sig);
    if (rc != 0 && !stop_sig)
        log_tails();
    if (B.keep)
        printf("relay-bench: kept %s\n", B.dir);
    else
        nftw(B.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < NNODES; i++)
        keys_free(procs[i].kp);
    proc_api_close();
    curl_global_cleanup();
    free(B.facts);
    free(children_opts.set);
    return rc == 0 && !stop_sig ? 0 : 1;
}
