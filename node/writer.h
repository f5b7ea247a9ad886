/*
 * writer.h - the one thread that writes the store, in grouped commits.
 *
 * Threads that received something (a link batch, an operator's message, an
 * acknowledgement from a neighbour) put a work on the queue and wait. The
 * writer takes every work queued so far, applies them all in one write
 * transaction, commits (fsync), and only then marks them done: a caller
 * acknowledges to its own peer after writer_run returned RL_OK, never
 * before. Grouping is what makes durable hops cheap: one fsync covers
 * everything that arrived while the previous commit was running.
 */
#ifndef RELAY_WRITER_H
#define RELAY_WRITER_H

#include <pthread.h>
#include <stddef.h>

#include "envelope.h"
#include "store.h"

struct node;
struct writer;

struct work_item {
    struct env_msg m;   /* decoded envelope; owned by the work's creator */
    int refused;        /* set by the verifier: audit only, store nothing */
    char why[160];      /* refusal reason */
    int status;         /* out: RL_OK stored, RL_EDUP already stored */
};

enum work_type {
    WORK_INBOUND, /* store and route items; peer NULL: authored here */
    WORK_ACKED,   /* peer acknowledged (or refused) these outbox entries */
    WORK_TIMER,   /* fire due times up to now (node/timer.c) */
    WORK_QUARANTINE, /* move messages acked[i].id to corrupt, reason
                      * acked_why[i] (node/store_check.c) */
};

struct work {
    enum work_type type;
    const char *peer;
    struct work_item *items;
    size_t n;
    struct outbox_item *acked;
    const char **acked_why; /* NULL entry: stored by peer; else refused */
    size_t nacked;
    int linkdown;           /* WORK_TIMER: the upstream link is down (R-OFFLINE) */
    int acted;              /* out, WORK_TIMER: notices and warnings given */
    int rc;                 /* out */
    char err[200];          /* out, when rc != RL_OK */
    int done;
    pthread_cond_t *cv;     /* the waiter's, signalled when done */
    struct work *next;
};

/* writer_start - start the writer thread for n. */
int writer_start(struct node *n) RL_MUST_CHECK;
/* writer_stop - finish queued work, then stop the thread. */
void writer_stop(struct node *n);
/* writer_run - queue w and wait until it is committed or failed; returns
 * w->rc. The caller must not hold a store transaction. */
int writer_run(struct node *n, struct work *w) RL_MUST_CHECK;

#endif
