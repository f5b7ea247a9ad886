/*
 * store_check.h - `relayctl store check`: scan the whole store, report what
 * is damaged, move damaged messages to the corrupt queue.
 */
#ifndef RELAY_STORE_CHECK_H
#define RELAY_STORE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct node;

/* One damaged record: where it is and why it is refused. */
struct store_finding {
    char db[16];
    char key[81];     /* hex, or the audit seq in decimal */
    char reason[200];
    int moved;        /* a message moved to corrupt by this check */
    int keep;         /* whole, but the directory in force cannot vouch for
                       * it: reported, not moved */
};

struct store_check_report {
    struct store_finding *found; /* malloc; n of them */
    size_t n, cap;
    uint64_t messages, incidents, drills, outbox, dues, audit;   /* records read */
    struct store_finding *corrupt; /* what the corrupt queue holds (db, key, reason) */
    size_t ncorrupt, capcorrupt;
};

/*
 * store_check_run - read every record of n's store: each message's tag,
 * decoding, id and author signature against the directory key valid at its
 * creation; the tags of incidents and drills; the audit chain; outbox and
 * dues entries that point at missing messages or incidents; LMDB's record
 * counts against the records read. Damaged messages are then moved to
 * corrupt through the writer (store_quarantine). On RL_OK *r holds the
 * findings (store_check_free), also when there are none; on failure *r is
 * empty.
 */
int store_check_run(struct node *n, struct store_check_report *r) RL_MUST_CHECK;
/* store_check_run_as - store_check_run for an operator: the audit entries
 * of the messages it moves name actor (issue 10, R-RECORDS). It also
 * reports damaged accounts (db operators), which are never moved. */
int store_check_run_as(struct node *n, const char *actor,
                       struct store_check_report *r) RL_MUST_CHECK;
void store_check_free(struct store_check_report *r);

/* store_check_quarantine - move k messages ids[i] to corrupt with reason
 * why[i], in one commit of the writer (store_quarantine). The caller holds
 * no store transaction; ids and why stay the caller's. */
int store_check_quarantine(struct node *n, const uint8_t (*ids)[16], const char **why,
                           size_t k) RL_MUST_CHECK;

#endif
