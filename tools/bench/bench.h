/*
 * bench.h - what relay-bench's two modes share: the node processes it
 * starts, their API sockets (bench_api.c), and how a failure is reported.
 *
 * relay_bench.c owns the processes (spawn, check_alive, stop_all) and the
 * three-tier chain; children.c is the --children mode (one ministry, N
 * simulated children in this process). procs[] holds the nodes of the run:
 * the first bench_nnodes entries are in use (NAT, CITY, AG for the chain;
 * NAT and CITY, renamed to a ministry, with --children).
 *
 * DIAGNOSTICS: fail() prints "relay-bench: ..." on stderr, marks the run
 * failed and returns -1; every function below that returns int follows
 * that convention (0 or -1), and has already said why.
 */
#ifndef RELAY_BENCH_H
#define RELAY_BENCH_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "keys.h"

enum { NAT, CITY, AG, NNODES };

#define BENCH_CALL_TIMEOUT_MS 30000 /* one API request */

struct bench_api;

struct proc {
    const char *id, *tier;
    int parent; /* index, -1 at the root */
    int port;   /* listen port, 0 for the leaf */
    struct keypair *kp;
    char sock[PATH_MAX], conf[PATH_MAX], log[PATH_MAX]; /* sock: api_socket */
    struct bench_api *api; /* the main thread's handle to sock, or NULL */
    pid_t pid;
    double rss_mib;
};

/* the --children options (children.c); n == 0: the three-tier chain */
struct children_opts {
    long n;          /* simulated children of the ministry */
    long sample;     /* children that push one report each, one at a time */
    long idle_s;     /* seconds over which the parent's idle CPU is read */
    long timeout_s;  /* bound on each phase (connect, fan-out, burst) */
    long bound_ms;   /* > 0: exit 1 when the advisory's last child or the ack
                      * p99 takes longer (a test's bound, not a target) */
    const char **set; /* "key=value" for the ministry's config (malloc'd array) */
    size_t nset;
};

extern struct proc procs[NNODES];
extern int bench_nnodes;
extern int bench_start_ms; /* wait_ready's bound */
extern volatile sig_atomic_t stop_sig;
extern struct children_opts children_opts;

int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t mono_us(void);
int free_port(void);
int write_file(const char *path, const char *text);
int spawn(struct proc *p);
int check_alive(void);
int stop_all(void);

/* bench_api.c: a node's HTTP API over its Unix socket. bench_api_global
 * once before any thread; a struct bench_api is used by one thread at a
 * time. bench_api_call and proc_api_call: NULL on a 2xx "ok": true reply,
 * else why (valid until the handle's next call); *rep is the parsed reply
 * whenever it is JSON (caller decrefs), else NULL. */
int bench_api_global(void);
struct bench_api *bench_api_open(const char *sock, long timeout_ms);
void bench_api_close(struct bench_api *a);
const char *bench_api_connect(struct bench_api *a);
const char *bench_api_call(struct bench_api *a, const char *method, const char *path,
                           const char *body, json_t **rep);
const char *proc_api_call(struct proc *p, const char *method, const char *path,
                          const char *body, json_t **rep);
void proc_api_close(void);
int wait_ready(void);
int sign_directory(const char *ini, const char *log, char root_hex[2 * KEYS_PK_LEN + 1]);
int write_conf(struct proc *p, const char *dir, const char *dirlog,
               const char *root_hex, const char *const *extra, size_t nextra);

/* children_run - the --children benchmark in directory dir; 0 or -1 */
int children_run(const char *dir);

#endif
