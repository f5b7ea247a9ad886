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
    int transient;      /* set by the verifier with refused: the sender may
                         * try again later (freshness window, clock skew) */
    int reason;         /* with refused: enum metrics_refusal (metrics.h) */
};

enum work_type {
    WORK_INBOUND, /* store and route items; peer NULL: authored here */
    WORK_ACKED,   /* peer acknowledged (or refused) these outbox entries */
    WORK_TIMER,   /* fire due times up to now (node/timer.c), queue held
                   * messages whose retry is due (node/held.c) */
    WORK_HELD,    /* an operator releases or drops a held message */
    WORK_QUARANTINE, /* move messages acked[i].id to corrupt, reason
                      * acked_why[i] (node/store_check.c) */
    WORK_ACCOUNT, /* add an operator account, set its password or disable
                   * it, with its audit entry (node/account.c) */
    WORK_AUDIT,   /* only an audit entry: audit_what, peer, audit_detail
                   * (logins, node/account.c) */
};

struct account_change; /* node/account.h */

enum work_held_op { WORK_HELD_RELEASE = 1, WORK_HELD_DROP };

struct work {
    enum work_type type;
    const char *peer;
    struct work_item *items;
    size_t n;
    struct outbox_item *acked;
    const char **acked_why; /* NULL entry: stored by peer; else refused */
    const int *acked_transient; /* refused entries: 1 if transient (or NULL) */
    size_t nacked;
    enum work_held_op held_op; /* WORK_HELD: what, on which message, which */
    uint8_t held_id[16];       /* peer (or every peer if peer is NULL), and */
    const char *held_reason;   /* the operator's reason for a drop */
    int linkdown;           /* WORK_TIMER: the upstream link is down (R-OFFLINE) */
    int acted;              /* out, WORK_TIMER: notices, warnings and retries;
                             * WORK_HELD: holds released or dropped */
    int rc;                 /* out */
    char err[200];          /* out, when rc != RL_OK */
    /* who asked (issue 10, R-RECORDS): the operator's name, or NULL for
     * link and timer work. Every audit entry the work makes names it. */
    const char *actor;
    const struct account_change *account; /* WORK_ACCOUNT: what to change */
    const char *audit_what;   /* WORK_AUDIT: the entry's what, e.g. "login" */
    const char *audit_detail; /* WORK_AUDIT: its detail (or NULL) */
    /* WORK_INBOUND from an operator (node/control.c, issue 8 finding 7):
     * recorded in the same transaction as the items, so that no crash
     * separates the work from its answer. When request is already
     * stored, or form was filed in the last WRITER_FORM_US (and not
     * again), nothing of the work is stored and rc is RL_EDUP with prior
     * (malloc'd, the caller frees) or prior_at/prior_incident set. */
    const uint8_t *request;     /* 16-byte request key, or NULL */
    const char *answer;         /* the answer to keep for request */
    const uint8_t *form;        /* 16-byte hash of a report form, or NULL */
    const uint8_t *incident;    /* the incident form files */
    int again;                  /* file form even if filed recently */
    char *prior;                /* out: the first answer to request */
    int64_t prior_at;           /* out: when form was filed before */
    uint8_t prior_incident[16]; /* out: as which incident */
    int done;
    pthread_cond_t *cv;     /* the waiter's, signalled when done */
    struct work *next;
};

#define WRITER_FORM_US (INT64_C(24) * 3600 * 1000000)     /* same form: refused for */
#define WRITER_REQUEST_US (INT64_C(7) * 86400 * 1000000) /* first answers kept for */

/* writer_start - start the writer thread for n. */
int writer_start(struct node *n) RL_MUST_CHECK;
/* writer_stop - finish queued work, then stop the thread. */
void writer_stop(struct node *n);
/* writer_submit - queue w and return at once; cv (the caller's, initialized,
 * alive until writer_wait returns) is signalled when w is done. RL_ECLOSED
 * (w done already) when the writer is stopping. */
int writer_submit(struct node *n, struct work *w, pthread_cond_t *cv) RL_MUST_CHECK;
/* writer_wait - wait until submitted work w is done; returns w->rc. */
int writer_wait(struct node *n, struct work *w) RL_MUST_CHECK;
/* writer_run - queue w and wait until it is committed or failed; returns
 * w->rc. The caller must not hold a store transaction. */
int writer_run(struct node *n, struct work *w) RL_MUST_CHECK;

#endif
