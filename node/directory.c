/*
 * directory.c - load the directory file and walk the tree.
 *
 * DIAGNOSTICS: unknown keys, bad tiers, bad keys, missing parents, a second
 * national node, parent cycles and the tree rules (dir_rule_check: a parent
 * that cannot have children, a `city` that is not a city, one key for two
 * nodes) are reported with file, line and key.
 */
#include "directory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ini_lines.h"
#include "keys.h"

static const char *sector_names[] = {
    "none", "defense", "ict", "energy", "transport", "finance",
    "disaster_relief", "health", "public_safety", "government"};
#define SECTOR_N (sizeof(sector_names) / sizeof(sector_names[0]))

/* Where each key of one node was given; 0 where it was not. */
struct dir_lines {
    int first; /* the node's first key */
    int tier, parent, city, sector, key, role, contact;
};

struct dir_load {
    struct directory *d;
    struct ini_lines il;
    const char *path;
    char *err;
    size_t errlen, used;
    int nerr;
    size_t cap;
    struct dir_lines *lines; /* one per node */
};

/* dir_sector_name - enum to text */
const char *
dir_sector_name(int sector)
{
    if (sector < 0 || (size_t)sector >= SECTOR_N)
        return "none";
    return sector_names[sector];
}

/* dir_sector_parse - text to enum, -1 if unknown */
int
dir_sector_parse(const char *s)
{
    for (size_t i = 0; i < SECTOR_N; i++)
        if (strcmp(s, sector_names[i]) == 0)
            return (int)i;
    return -1;
}

static const char *const role_names[] = {"none", "homeland", "nsc", "ci-group"};

/* dir_role_name - enum dir_role to text */
const char *
dir_role_name(int role)
{
    if (role < 0 || role > DIR_ROLE_CI_GROUP)
        return "none";
    return role_names[role];
}

/* dir_role_parse - text to enum dir_role; DIR_ROLE_NONE if unknown */
int
dir_role_parse(const char *s)
{
    for (int i = 1; i <= DIR_ROLE_CI_GROUP; i++)
        if (strcmp(s, role_names[i]) == 0)
            return i;
    return DIR_ROLE_NONE;
}

/* dir_office - the office node with role (and sector, for a ci-group), or NULL */
const struct dir_node *
dir_office(const struct directory *d, int role, int sector)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->nodes[i].role == role &&
            (role != DIR_ROLE_CI_GROUP || d->nodes[i].sector == sector))
            return &d->nodes[i];
    return NULL;
}

/* dir_error - record a problem */
static void
dir_error(struct dir_load *L, int line, const char *sec, const char *key,
          const char *msg)
{
    int n;

    if (line > 0)
        n = snprintf(L->err + L->used, L->errlen - L->used,
                     "%s:%d: [%s] key '%s': %s\n", L->path, line, sec, key, msg);
    else
        n = snprintf(L->err + L->used, L->errlen - L->used,
                     "%s: [%s] key '%s': %s\n", L->path, sec, key, msg);

    if (n > 0 && L->used + (size_t)n < L->errlen)
        L->used += (size_t)n;
    L->nerr++;
}

/* dir_entry - the entry for section, appended if new */
static struct dir_node *
dir_entry(struct dir_load *L, const char *section)
{
    struct directory *d = L->d;

    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->nodes[i].id, section) == 0)
            return &d->nodes[i];
    if (d->n == L->cap) {
        size_t cap = L->cap ? 2 * L->cap : 16;
        struct dir_node *nn = realloc(d->nodes, cap * sizeof(*nn));
        struct dir_lines *ln = realloc(L->lines, cap * sizeof(*ln));
        if (nn) d->nodes = nn;
        if (ln) L->lines = ln;
        if (!nn || !ln)
            return NULL;
        L->cap = cap;
    }
    memset(&d->nodes[d->n], 0, sizeof(d->nodes[0]));
    snprintf(d->nodes[d->n].id, sizeof(d->nodes[0].id), "%s", section);
    d->nodes[d->n].parent_ix = -1;
    memset(&L->lines[d->n], 0, sizeof(L->lines[0]));
    L->lines[d->n].first = L->il.line;
    return &d->nodes[d->n++];
}

/* dir_handler - inih callback for one key of one node */
static int
dir_handler(void *user, const char *section, const char *name,
            const char *value)
{
    struct dir_load *L = user;
    int line = L->il.line;
    struct dir_node *e;
    struct dir_lines *ln;
    int *at;

    if (strlen(section) == 0 || strlen(section) >= sizeof(e->id)) {
        dir_error(L, line, section, name, "node id must be 1..63 characters");
        return 1;
    }
    e = dir_entry(L, section);
    if (e == NULL) {
        dir_error(L, line, section, name, "out of memory");
        return 0;
    }
    ln = &L->lines[e - L->d->nodes];
    if (strcmp(name, "tier") == 0)
        at = &ln->tier;
    else if (strcmp(name, "parent") == 0)
        at = &ln->parent;
    else if (strcmp(name, "city") == 0)
        at = &ln->city;
    else if (strcmp(name, "sector") == 0)
        at = &ln->sector;
    else if (strcmp(name, "key") == 0)
        at = &ln->key;
    else if (strcmp(name, "role") == 0)
        at = &ln->role;
    else if (strcmp(name, "contact") == 0)
        at = &ln->contact;
    else
        at = NULL;
    if (at == NULL) {
        dir_error(L, line, section, name, "unknown key");
        return 1;
    }
    if (*at) {
        /* a second value would silently replace the first (a key!) */
        dir_error(L, line, section, name, "given twice");
        return 1;
    }
    *at = line;
    if (L->il.long_line == line) {
        /* inih cut the value: refuse it rather than use a part of it */
        char msg[64];
        snprintf(msg, sizeof(msg), "line longer than %d bytes", L->il.max_line);
        dir_error(L, line, section, name, msg);
        return 1;
    }
    if (strcmp(name, "tier") == 0) {
        e->tier = config_tier_parse(value);
        if (e->tier == TIER_NONE)
            dir_error(L, line, section, name, "not one of agency, city, ministry, national, office");
    } else if (strcmp(name, "parent") == 0) {
        snprintf(e->parent, sizeof(e->parent), "%s", value);
    } else if (strcmp(name, "city") == 0) {
        snprintf(e->city, sizeof(e->city), "%s", value);
    } else if (strcmp(name, "sector") == 0) {
        e->sector = dir_sector_parse(value);
        if (e->sector < 0) {
            e->sector = 0;
            dir_error(L, line, section, name, "unknown sector");
        }
    } else if (strcmp(name, "key") == 0) {
        if (keys_unhex(value, e->pk, 32) != 0)
            dir_error(L, line, section, name, "must be 64 hex digits (a public key)");
    } else if (strcmp(name, "role") == 0) {
        e->role = dir_role_parse(value);
        if (e->role == DIR_ROLE_NONE)
            dir_error(L, line, section, name, "not one of homeland, nsc, ci-group");
    } else if (strcmp(name, "contact") == 0) {
        if (strlen(value) >= sizeof(e->contact))
            dir_error(L, line, section, name, "longer than 127 characters");
        snprintf(e->contact, sizeof(e->contact), "%s", value);
    }
    return 1;
}

/* dir_hash - FNV-1a of an id */
static uint32_t
dir_hash(const char *id)
{
    uint32_t h = 2166136261u;

    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 16777619u;
    return h;
}

/* dir_index - index of id or -1: by the hash index when it covers every
 * node, else by a scan */
static int
dir_index(const struct directory *d, const char *id)
{
    if (d->ix != NULL && d->ixn == d->n) {
        for (size_t s = dir_hash(id) & (d->ixcap - 1); d->ix[s]; s = (s + 1) & (d->ixcap - 1))
            if (strcmp(d->nodes[d->ix[s] - 1].id, id) == 0)
                return (int)d->ix[s] - 1;
        return -1;
    }
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->nodes[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* dir_index_build - open addressing, at most half full */
int
dir_index_build(struct directory *d)
{
    size_t cap = 16;
    uint32_t *ix;

    while (cap < 2 * d->n)
        cap *= 2;
    if (d->n >= UINT32_MAX || (ix = calloc(cap, sizeof(*ix))) == NULL)
        return RL_ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        size_t s = dir_hash(d->nodes[i].id) & (cap - 1);
        while (ix[s] && strcmp(d->nodes[ix[s] - 1].id, d->nodes[i].id) != 0)
            s = (s + 1) & (cap - 1);
        if (!ix[s]) /* a repeated id keeps its first entry, as the scan did */
            ix[s] = (uint32_t)(i + 1);
    }
    free(d->ix);
    d->ix = ix;
    d->ixcap = cap;
    d->ixn = d->n;
    return RL_OK;
}

/* dir_load - read, then check the tree */
int
dir_load(const char *path, struct directory *d, char *err, size_t errlen)
{
    struct dir_load L;
    int rc;

    memset(d, 0, sizeof(*d));
    memset(&L, 0, sizeof(L));
    d->root = -1;
    L.d = d;
    L.path = path;
    L.err = err;
    L.errlen = errlen;
    err[0] = '\0';
    rc = ini_lines_parse(path, &L.il, dir_handler, &L);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot open: %s\n", path, strerror(errno));
        free(d->nodes);
        d->nodes = NULL;
        return RL_ECONFIG;
    }
    if (rc > 0 && L.nerr == 0)
        dir_error(&L, rc, "-", "-", "syntax error");
    for (size_t i = 0; i < d->n; i++) {
        struct dir_node *e = &d->nodes[i];
        const struct dir_lines *ln = &L.lines[i];
        int line = ln->first;
        /* a bad tier or key was reported where it was given */
        if (!ln->tier)
            dir_error(&L, line, e->id, "tier", "missing");
        if (!ln->key)
            dir_error(&L, line, e->id, "key", "missing");
        if (e->tier == TIER_NATIONAL) {
            if (d->root >= 0)
                dir_error(&L, ln->tier, e->id, "tier", "a second national node");
            d->root = (int)i;
            if (e->parent[0])
                dir_error(&L, ln->parent, e->id, "parent", "the national node has no parent");
            continue;
        }
        if (e->tier == TIER_NONE)
            continue;
        if (!e->parent[0]) {
            dir_error(&L, line, e->id, "parent", "missing");
            continue;
        }
        e->parent_ix = dir_index(d, e->parent);
        if (e->parent_ix < 0)
            dir_error(&L, ln->parent, e->id, "parent", "names no node of this directory");
        if (e->city[0] && dir_index(d, e->city) < 0)
            dir_error(&L, ln->city, e->id, "city", "names no node of this directory");
        if (e->role != DIR_ROLE_NONE && e->tier != TIER_OFFICE)
            dir_error(&L, ln->role, e->id, "role", "only office nodes have a role");
        if (e->role == DIR_ROLE_CI_GROUP && e->sector == 0)
            dir_error(&L, ln->role, e->id, "role", "a ci-group needs its sector");
    }
    for (size_t i = 0; i < d->n; i++) {
        char why[200];
        const char *field = dir_rule_check(d, i, &d->nodes[i], why, sizeof(why));
        if (field)
            dir_error(&L, strcmp(field, "parent") == 0 ? L.lines[i].parent
                          : strcmp(field, "city") == 0 ? L.lines[i].city
                                                       : L.lines[i].key,
                      d->nodes[i].id, field, why);
    }
    if (d->root < 0 && d->n > 0)
        dir_error(&L, 0, "-", "tier", "no national node");
    for (size_t i = 0; i < d->n && L.nerr == 0; i++) {
        int p = (int)i;
        for (size_t steps = 0; p >= 0; steps++, p = d->nodes[p].parent_ix)
            if (steps > d->n) {
                dir_error(&L, L.lines[i].parent, d->nodes[i].id, "parent", "parent chain loops");
                break;
            }
    }
    free(L.lines);
    if (L.nerr) {
        free(d->nodes);
        memset(d, 0, sizeof(*d));
        return RL_ECONFIG;
    }
    (void)dir_index_build(d); /* without it, lookups scan */
    return RL_OK;
}

/* dir_free - release */
void
dir_free(struct directory *d)
{
    free(d->ix);
    free(d->nodes);
    memset(d, 0, sizeof(*d));
}

/* dir_find - lookup by id */
const struct dir_node *
dir_find(const struct directory *d, const char *id)
{
    int i = dir_index(d, id);

    return i < 0 ? NULL : &d->nodes[i];
}

/* dir_in_subtree - is id at or below root */
int
dir_in_subtree(const struct directory *d, const char *root, const char *id)
{
    int r = dir_index(d, root), i = dir_index(d, id);

    for (; i >= 0; i = d->nodes[i].parent_ix)
        if (i == r)
            return 1;
    return 0;
}

/* dir_next_hop - neighbour of self on the tree path to dest */
const char *
dir_next_hop(const struct directory *d, const char *self, const char *dest)
{
    int h = dir_next_hop_ix(d, self, dest);

    return h < 0 ? NULL : d->nodes[h].id;
}

/* dir_next_hop_ix - the same, as an index */
int
dir_next_hop_ix(const struct directory *d, const char *self, const char *dest)
{
    int s = dir_index(d, self), i = dir_index(d, dest);

    if (s < 0 || i < 0 || s == i)
        return -1;
    for (int c = i; c >= 0; c = d->nodes[c].parent_ix)
        if (d->nodes[c].parent_ix == s)
            return c;
    return d->nodes[s].parent_ix;
}

/* dir_key_at - the key valid at a message's creation time */
int
dir_key_at(const struct dir_node *e, int64_t at_us, const uint8_t **pk,
           const char **why)
{
    if (e->revoked_us && at_us >= e->revoked_us) {
        *why = "signed by a revoked key (created after its revocation)";
        return -1;
    }
    if ((e->valid_from_us && at_us < e->valid_from_us) ||
        (e->valid_until_us && at_us >= e->valid_until_us)) {
        *why = "created outside the validity period of the author's directory entry";
        return -1;
    }
    if (at_us >= e->key_from_us) {
        *pk = e->pk;
        return 0;
    }
    for (int i = e->n_old - 1; i >= 0; i--)
        if (at_us >= e->old[i].from_us && at_us < e->old[i].until_us) {
            *pk = e->old[i].pk;
            return 0;
        }
    *why = "no key of the author was valid when the message was created";
    return -1;
}

/* dir_national - the root */
const char *
dir_national(const struct directory *d)
{
    return d->root < 0 ? NULL : d->nodes[d->root].id;
}

/* dir_rule_check - the tree rules, wherever an entry comes from */
const char *
dir_rule_check(const struct directory *d, size_t upto, const struct dir_node *e,
               char *why, size_t whylen)
{
    const struct dir_node *p, *c;

    if (e->tier != TIER_NATIONAL && e->parent[0] &&
        (p = dir_find(d, e->parent)) != NULL &&
        p->tier != TIER_CITY && p->tier != TIER_MINISTRY && p->tier != TIER_NATIONAL) {
        snprintf(why, whylen,
                 "[%s] is %s %s; a parent must be a city, ministry or national node",
                 p->id, p->tier == TIER_AGENCY ? "an" : "a", config_tier_name(p->tier));
        return "parent";
    }
    if (e->city[0] && (c = dir_find(d, e->city)) != NULL && c->tier != TIER_CITY) {
        snprintf(why, whylen, "[%s] is %s %s, not a city", c->id,
                 c->tier == TIER_AGENCY || c->tier == TIER_OFFICE ? "an" : "a",
                 config_tier_name(c->tier));
        return "city";
    }
    for (size_t i = 0; i < upto && i < d->n; i++) {
        const struct dir_node *o = &d->nodes[i];
        int same = strcmp(o->id, e->id) != 0 && memcmp(o->pk, e->pk, 32) == 0;
        for (int k = 0; !same && strcmp(o->id, e->id) != 0 && k < o->n_old; k++)
            same = memcmp(o->old[k].pk, e->pk, 32) == 0;
        if (same) {
            snprintf(why, whylen, "the same key as [%s]: every node has its own key",
                     o->id);
            return "key";
        }
    }
    return NULL;
}
