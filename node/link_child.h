/*
 * link_child.h - what a child's request means at its parent (link_child.c),
 * for the parent's server (link_down.c). Private to the node.
 */
#ifndef RELAY_LINK_CHILD_H
#define RELAY_LINK_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "relay.pb-c.h"

struct node;

/* link_child_peer - link_seal_peer_fn: the key valid now of our child
 * `from`; RL_EUNKNOWN or RL_EPERM with the reason in why otherwise. */
int link_child_peer(void *arg, const char *from, uint8_t pk[KEYS_PK_LEN], char *why,
                    size_t whylen);

/* link_child_request - one opened request from a child: its
 * acknowledgements and its pushes are committed (through the writer) and
 * rep says what is stored and refused; *ixp is the child's directory index,
 * or -1 when the whole request was refused (the reason in err, rep->retry
 * set when it may succeed later). Polls are the caller's. */
void link_child_request(struct node *n, const Relay__LinkRequest *req,
                        Relay__LinkReply *rep, long *ixp, char *err, size_t errlen);

#endif
