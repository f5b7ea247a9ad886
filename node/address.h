/*
 * address.h - the destinations of a message filed here (node/address.c).
 */
#ifndef RELAY_ADDRESS_H
#define RELAY_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

#include "relay.pb-c.h"

struct node;

/* The destinations of a message being filed: a heap list that grows with
 * the audience, so that none is ever left out (issue 9 item 2). The ids
 * point into the directory; free v only. */
struct address_list {
    char **v;
    size_t n, cap;
    int nomem; /* a push failed: the message is refused, not truncated */
};

/* address_push - append id; address_add - append id once, never self. */
void address_push(struct address_list *to, const char *id);
void address_add(struct address_list *to, const char *id, const char *self);

/* address_message - fill to with b's destinations and, when b concerns an
 * incident, iid with its id (*has_iid). NULL when this node may send b;
 * else why not, with *status the HTTP status (403, 404, 409, 400, 503). */
const char *address_message(struct node *n, Relay__Body *b, struct address_list *to,
                            uint8_t iid[16], int *has_iid, int *status);

#endif
