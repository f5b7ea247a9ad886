/*
 * node.c - wake-ups and backoff shared by the node's threads.
 */
#include "node.h"

#include <errno.h>
#include <sodium.h>
#include <time.h>

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
