/*
 * timer.c - fire due times on the node's clock, and queue again the held
 * messages whose retry time has come (node/held.c).
 *
 * DIAGNOSTICS: a failed timer commit (store full, i/o error) is logged and
 * retried on the next tick; nothing is marked fired unless its notice was
 * committed with the mark.
 */
#include "timer.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "held.h"
#include "log.h"
#include "node.h"
#include "writer.h"

#define TIMER_TICK_MS 1000
#define TIMER_OFFLINE_RECHECK_MS 10000

/* timer_due - is anything armed at or before until_us (or, with
 * check_held, a held message's retry due: a scan of the held queue, so
 * done once a tick rather than after every commit) */
static int
timer_due(struct node *n, int64_t until_us, int *report_soon, int64_t now,
          int check_held)
{
    struct store_due keys[64];
    struct store_txn t;
    int64_t next;
    size_t k = 0;
    int due = 0;

    *report_soon = 0;
    if (store_begin(n->store, 0, &t) != RL_OK)
        return 0;
    if (store_due_upto(&t, until_us, 64, keys, &k, &next) == RL_OK)
        for (size_t i = 0; i < k; i++) {
            if (keys[i].due_us <= now)
                due = 1;
            else if (keys[i].which == POL_D_REPORT)
                *report_soon = 1;
        }
    /* a held message whose retry time has come (node/held.c) */
    if (!due && check_held && held_next_us(&t, &next) == RL_OK && next > 0 && next <= now)
        due = 1;
    store_abort(&t);
    return due;
}

/* timer_main - wait, look, fire */
static void *
timer_main(void *arg)
{
    struct node *n = arg;
    uint64_t seen = 0;
    int64_t last_offline_ms = 0, last_held_ms = 0;

    while (!atomic_load(&n->stopping)) {
        int64_t now = clock_now_us();
        int linkdown = n->parent != NULL && atomic_load(&n->up_pipes) == 0;
        int soon, due, check_held = clock_mono_ms() - last_held_ms >= TIMER_TICK_MS;

        if (check_held)
            last_held_ms = clock_mono_ms();
        due = timer_due(n, now + (linkdown ? n->pol.offline_warn_us : 0), &soon, now,
                        check_held);
        if (soon && (last_offline_ms == 0 ||
                     clock_mono_ms() - last_offline_ms >= TIMER_OFFLINE_RECHECK_MS)) {
            last_offline_ms = clock_mono_ms();
            due = 1;
        }
        if (due) {
            struct work wk;
            memset(&wk, 0, sizeof(wk));
            wk.type = WORK_TIMER;
            wk.linkdown = linkdown;
            if (writer_run(n, &wk) != RL_OK) {
                if (wk.rc == RL_ECLOSED)
                    break;
                log_warn("timer: %s", wk.err);
            } else if (wk.acted > 0) {
                continue; /* there may be more */
            }
            /* nothing could be done now (store full, a failed commit, a
             * warning already given): our own commit woke the change wait,
             * so sleep a tick instead of spinning */
            if (node_sleep(n, TIMER_TICK_MS) != 0)
                break;
            continue;
        }
        if (!linkdown)
            last_offline_ms = 0;
        if (node_wait_change(n, &seen, TIMER_TICK_MS) != 0)
            break;
    }
    return NULL;
}

/* timer_start - start the thread */
int
timer_start(struct node *n)
{
    if (pthread_create(&n->timer_thr, NULL, timer_main, n) != 0)
        return RL_ENOMEM;
    n->timer_running = 1;
    return RL_OK;
}

/* timer_stop - join it (node->stopping is set and broadcast by then) */
void
timer_stop(struct node *n)
{
    if (!n->timer_running)
        return;
    pthread_join(n->timer_thr, NULL);
    n->timer_running = 0;
}
