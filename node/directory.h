/*
 * directory.h - who is who in the federation.
 *
 * The directory file is INI with one section per node:
 *
 *     [ag-taipei-a]
 *     tier   = agency
 *     parent = taipei          ; the reporting target (通報對象)
 *     city   = taipei          ; the city the agency belongs to, if any
 *     sector = government      ; CI sector, or none
 *     key    = <64 hex digits> ; Ed25519 public key
 *     contact = N-CERT duty desk +886-2-0000-0000   ; optional: the phone
 *               contact of R-OFFLINE, and the CISO of R-ESC-CISO
 *
 * Office nodes (tier office, children of the national node) carry a role:
 * homeland (Homeland Security Office), nsc (NSC ICT Security Office) or
 * ci-group (a CI security management sub-group, with its sector).
 *
 * The parent relation forms one tree rooted at the single national node.
 * Routing walks that tree: a message towards a node inside our subtree goes
 * to the child whose subtree holds it, anything else goes to our parent.
 */
#ifndef RELAY_DIRECTORY_H
#define RELAY_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum dir_role { DIR_ROLE_NONE, DIR_ROLE_HOMELAND, DIR_ROLE_NSC, DIR_ROLE_CI_GROUP };

#define DIR_OLD_KEYS 8

/* A key a node used before a rotation, and when. */
struct dir_key {
    uint8_t pk[32];
    int64_t from_us, until_us;
};

struct dir_node {
    char id[64];
    int tier;     /* enum tier */
    char parent[64];
    char city[64];
    int sector;   /* Relay__Sector */
    uint8_t pk[32];
    int parent_ix; /* index of the parent, -1 at the root */
    int role;      /* enum dir_role */
    char contact[128];
    /* from the signed directory (node/dirlog.c); all 0 for an INI file */
    int64_t key_from_us;    /* when pk took effect */
    int64_t valid_from_us, valid_until_us; /* the entry's validity, 0: open */
    int64_t revoked_us;     /* the key signs nothing from then on; 0: not revoked */
    struct dir_key old[DIR_OLD_KEYS]; /* rotated-out keys, oldest first */
    int n_old;
};

struct directory {
    struct dir_node *nodes;
    size_t n;
    size_t cap;   /* entries nodes has room for, when known (dirlog.c); else 0 */
    int root;     /* index of the national node */
    uint64_t seq; /* the last signed change applied (0 for an INI file) */
    /* dir_index_build: ids hashed to index + 1 (0: empty slot), ixcap slots,
     * covering the first ixn nodes; used only while ixn == n */
    uint32_t *ix;
    size_t ixcap, ixn;
};

/* dir_load - read and check path; errors name file, line and key. Caller
 * frees with dir_free on success; on failure nothing is allocated. */
int dir_load(const char *path, struct directory *d, char *err, size_t errlen)
    RL_MUST_CHECK;
/* dir_free - release */
void dir_free(struct directory *d);
/* dir_index_build - hash d's ids, so that every lookup by id (dir_find,
 * dir_in_subtree, dir_next_hop) costs O(1) rather than a scan of the
 * directory: a ministry routing one advisory to 4,000 children looks up
 * 4,000 ids at every node it crosses. Call after the last change to d and
 * before d is shared (lookups never write). A change that adds a node
 * leaves the index stale, and lookups scan until it is built again.
 * RL_ENOMEM leaves d scanning; d owns the index (dir_free). */
int dir_index_build(struct directory *d);
/* dir_find - the entry for id, or NULL. */
const struct dir_node *dir_find(const struct directory *d, const char *id);
/* dir_in_subtree - 1 if id is root or below it. */
int dir_in_subtree(const struct directory *d, const char *root, const char *id);
/* dir_next_hop - the neighbour of self towards dest, or NULL if dest is self,
 * unknown, or unreachable (outside the tree). */
const char *dir_next_hop(const struct directory *d, const char *self,
                         const char *dest);
/* dir_next_hop_ix - the same neighbour as an index into d->nodes, or -1. */
int dir_next_hop_ix(const struct directory *d, const char *self, const char *dest);
/* dir_key_at - the key of e that signs a message created at at_us: the
 * current key, or a rotated-out one whose period holds at_us. Returns 0 and
 * sets *pk, or -1 with the reason in *why (revoked, not yet or no longer
 * valid, no key for that time). */
int dir_key_at(const struct dir_node *e, int64_t at_us, const uint8_t **pk,
               const char **why);
/* dir_rule_check - the tree rules every entry obeys, from an INI topology
 * (dir-init) or an enrolment or rotation checked at N-CERT (dirlog.c): its
 * parent is a city, ministry or national node, its `city` is a city, and
 * none of d's first upto nodes (other than e's own id) holds or held its
 * key. NULL when e is fine; else the field at fault ("parent", "city",
 * "key") with the reason, naming the other section, in why. */
const char *dir_rule_check(const struct directory *d, size_t upto,
                           const struct dir_node *e, char *why, size_t whylen);
/* dir_national - the root's id. */
const char *dir_national(const struct directory *d);
/* dir_office - the office with role (for DIR_ROLE_CI_GROUP: of sector), or NULL. */
const struct dir_node *dir_office(const struct directory *d, int role, int sector);
/* dir_role_name / dir_role_parse - "homeland", "nsc", "ci-group"; parse
 * returns DIR_ROLE_NONE when unknown. */
const char *dir_role_name(int role);
int dir_role_parse(const char *s);
/* dir_sector_name / dir_sector_parse - Relay__Sector names ("none", "ict"...). */
const char *dir_sector_name(int sector);
int dir_sector_parse(const char *s);

#endif
