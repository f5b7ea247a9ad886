/*
 * node.c - wake-ups and backoff shared by the node's threads.
 */
#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <sodium.h>
#include <time.h>

#include "log.h"

#include <nng/protocol/reqrep0/rep.h>

/* node_notify - publish a commit */
void
node_notify(struct node *n)
{
    pthread_mutex_lock(&n->mu);
    n->commits++;
    pthread_cond_broadcast(&n->changed);
    pthread_mutex_unlock(&n->mu);
}

/* deadline_in - absolute CLOCK_REALTIME deadline ms from now for condvars */
static struct timespec
deadline_in(int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* node_wait_change - block until another commit or timeout */
int
node_wait_change(struct node *n, uint64_t *seen, int64_t ms)
{
    struct timespec ts = deadline_in(ms);
    int rc = 0;

    pthread_mutex_lock(&n->mu);
    while (n->commits == *seen && !atomic_load(&n->stopping) && rc == 0)
        rc = pthread_cond_timedwait(&n->changed, &n->mu, &ts);
    *seen = n->commits;
    pthread_mutex_unlock(&n->mu);
    return atomic_load(&n->stopping) ? -1 : 0;
}

/* node_sleep - sleep unless stopping */
int
node_sleep(struct node *n, int64_t ms)
{
    struct timespec ts = deadline_in(ms);
    int rc = 0;

    pthread_mutex_lock(&n->mu);
    while (!atomic_load(&n->stopping) && rc == 0)
        rc = pthread_cond_timedwait(&n->changed, &n->mu, &ts);
    pthread_mutex_unlock(&n->mu);
    return atomic_load(&n->stopping) ? -1 : 0;
}

/* node_backoff_ms - min(max, min * 2^k), then a random point in its upper half */
int64_t
node_backoff_ms(const struct node *n, int k)
{
    int64_t d = n->cfg.retry_min_ms;

    for (int i = 0; i < k && d < n->cfg.retry_max_ms; i++)
        d *= 2;
    if (d > n->cfg.retry_max_ms)
        d = n->cfg.retry_max_ms;
    return d / 2 + (int64_t)randombytes_uniform((uint32_t)(d / 2 + 1));
}

struct closer {
    nng_socket s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, abandoned;
};

/* closer_main - close the socket, then tell whoever still waits */
static void *
closer_main(void *arg)
{
    struct closer *c = arg;
    int abandoned;

    nng_close(c->s);
    pthread_mutex_lock(&c->mu);
    c->done = 1;
    abandoned = c->abandoned;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (abandoned)
        free(c);
    return NULL;
}

/* node_close_socket - bounded nng_close */
int
node_close_socket(struct node *n, nng_socket s, const char *what, int64_t ms)
{
    struct closer *c = calloc(1, sizeof(*c));
    struct timespec ts = deadline_in(ms);
    pthread_t thr;
    int done;

    if (c == NULL || (c->s = s, pthread_mutex_init(&c->mu, NULL),
                      pthread_cond_init(&c->cv, NULL),
                      pthread_create(&thr, NULL, closer_main, c)) != 0) {
        free(c);
        nng_close(s);
        return 0;
    }
    pthread_detach(thr);
    pthread_mutex_lock(&c->mu);
    while (!c->done &&
           pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT)
        ;
    done = c->done;
    c->abandoned = !done;
    pthread_mutex_unlock(&c->mu);
    if (done) {
        free(c);
        return 0;
    }
    n->sockets_stuck = 1;
    log_warn("%s socket did not close within %lld ms; left to process exit",
             what, (long long)ms);
    return -1;
}

/* node_rep_start - socket, listener, workers */
int
node_rep_start(struct node *n, struct rep_pool *p, const char *what,
               const char *url, size_t maxsz, int nworkers, void *(*fn)(void *))
{
    int rc;

    p->thr = calloc((size_t)nworkers, sizeof(*p->thr));
    if (p->thr == NULL)
        return RL_ENOMEM;
    if ((rc = nng_rep0_open(&p->sock)) == 0) {
        nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ, maxsz);
        if ((rc = nng_listen(p->sock, url, NULL, 0)) != 0)
            nng_close(p->sock);
    }
    if (rc != 0) {
        log_warn("%s: cannot listen on %s: %s", what, url, nng_strerror(rc));
        free(p->thr);
        p->thr = NULL;
        return RL_ELINK;
    }
    p->n = nworkers;
    for (int i = 0; i < nworkers; i++)
        if (pthread_create(&p->thr[i], NULL, fn, n) != 0)
            log_fatal("%s: cannot start threads", what);
    return RL_OK;
}

/* node_rep_stop - bounded close, then join */
void
node_rep_stop(struct node *n, struct rep_pool *p, const char *what)
{
    if (p->thr == NULL)
        return;
    if (node_close_socket(n, p->sock, what, 2000) != 0)
        return; /* workers may still be inside nng: leave them */
    for (int i = 0; i < p->n; i++)
        pthread_join(p->thr[i], NULL);
    free(p->thr);
    p->thr = NULL;
}

/* node_dir_publish - swap in a new directory snapshot */
void
node_dir_publish(struct node *n, struct directory *d)
{
    struct directory *old;

    pthread_mutex_lock(&n->mu);
    old = atomic_load(&n->dirp);
    if (old && old != &n->dir) {
        struct directory **v = realloc(n->dir_old, (n->n_dir_old + 1) * sizeof(*v));
        if (v != NULL) {
            v[n->n_dir_old++] = old;
            n->dir_old = v;
        } /* else: leaked, never freed while readers may hold it */
    }
    atomic_store(&n->dirp, d);
    pthread_mutex_unlock(&n->mu);
}

/* node_dir_free_all - every snapshot */
void
node_dir_free_all(struct node *n)
{
    struct directory *cur = atomic_load(&n->dirp);

    for (size_t i = 0; i < n->n_dir_old; i++) {
        dir_free(n->dir_old[i]);
        free(n->dir_old[i]);
    }
    free(n->dir_old);
    n->dir_old = NULL;
    n->n_dir_old = 0;
    if (cur && cur != &n->dir) {
        dir_free(cur);
        free(cur);
    }
    atomic_store(&n->dirp, &n->dir);
    dir_free(&n->dir);
}
