/*
 * dirlog.c - sign, verify, check and apply directory changes.
 *
 * DIAGNOSTICS: every refusal names the change's sequence number and what
 * is wrong with it; a file error names the file and line.
 */
#include "dirlog.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define DIRLOG_LINE_MAX 8192

/* dirlog_seal - serialize and sign */
int
dirlog_seal(const Relay__DirChange *c, const struct keypair *root, uint8_t **out,
            size_t *len)
{
    Relay__SignedDirChange s = RELAY__SIGNED_DIR_CHANGE__INIT;
    uint8_t sig[crypto_sign_BYTES];
    size_t cl = relay__dir_change__get_packed_size(c);
    uint8_t *cb = malloc(cl ? cl : 1);

    if (cb == NULL)
        return RL_ENOMEM;
    relay__dir_change__pack(c, cb);
    crypto_sign_detached(sig, NULL, cb, cl, root->sk);
    s.change.data = cb;
    s.change.len = cl;
    s.signature.data = sig;
    s.signature.len = sizeof(sig);
    *len = relay__signed_dir_change__get_packed_size(&s);
    *out = malloc(*len);
    if (*out == NULL) {
        free(cb);
        return RL_ENOMEM;
    }
    relay__signed_dir_change__pack(&s, *out);
    free(cb);
    return RL_OK;
}

/* dirlog_verify - the root signature over a decoded SignedDirChange */
int
dirlog_verify(const Relay__SignedDirChange *s, const uint8_t root_pk[32],
              Relay__DirChange **out, const char **why)
{
    *out = NULL;
    if (s->signature.len != crypto_sign_BYTES ||
        crypto_sign_verify_detached(s->signature.data, s->change.data, s->change.len,
                                    root_pk) != 0) {
        *why = "directory change not signed by the root key";
        return RL_EINVAL;
    }
    *out = relay__dir_change__unpack(NULL, s->change.len, s->change.data);
    if (*out == NULL) {
        *why = "signed directory change does not decode";
        return RL_EINVAL;
    }
    return RL_OK;
}

/* dirlog_open - decode, verify the root signature, decode the change */
int
dirlog_open(const uint8_t *buf, size_t len, const uint8_t root_pk[32],
            Relay__DirChange **out, const char **why)
{
    Relay__SignedDirChange *s = relay__signed_dir_change__unpack(NULL, len, buf);
    int rc;

    *out = NULL;
    if (s == NULL) {
        *why = "directory change does not decode";
        return RL_EINVAL;
    }
    rc = dirlog_verify(s, root_pk, out, why);
    relay__signed_dir_change__free_unpacked(s, NULL);
    return rc;
}

/* dirlog_copy - a deep copy of a directory into *dst (dir_free) */
int
dirlog_copy(const struct directory *src, struct directory *dst)
{
    *dst = *src;
    dst->ix = NULL; /* the copy is changed: it scans until dir_index_build */
    dst->ixcap = dst->ixn = 0;
    dst->cap = src->n ? src->n : 1;
    dst->nodes = malloc(dst->cap * sizeof(*dst->nodes));
    if (dst->nodes == NULL)
        return RL_ENOMEM;
    memcpy(dst->nodes, src->nodes, src->n * sizeof(*dst->nodes));
    return RL_OK;
}

/* dir_idx - index of id in d, or -1 */
static int
dir_idx(const struct directory *d, const char *id)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->nodes[i].id, id) == 0)
            return (int)i;
    return -1;
}

static void entry_set(struct dir_node *n, const Relay__DirEntry *e);

/* check_entry - the rules for an enrolled entry; the tree rules shared with
 * dir-init (dir_rule_check) write their reason into why */
static const char *
check_entry(const struct directory *d, const Relay__DirEntry *e, char *why,
            size_t whylen)
{
    struct dir_node tmp;
    int tier = (int)e->tier;

    if (e->id[0] == '\0' || strlen(e->id) >= sizeof(d->nodes[0].id))
        return "node id must be 1..63 characters";
    if (e->key.len != 32)
        return "key must be a 32-byte Ed25519 public key";
    if (tier < TIER_AGENCY || tier > TIER_OFFICE)
        return "tier must be agency, city, ministry, national or office";
    if (strlen(e->contact) >= sizeof(d->nodes[0].contact))
        return "contact longer than 127 characters";
    if (e->sector < 0 || e->sector > 9)
        return "unknown sector";
    if (e->role[0] && dir_role_parse(e->role) == DIR_ROLE_NONE)
        return "role must be homeland, nsc or ci-group";
    if (e->role[0] && tier != TIER_OFFICE)
        return "only office nodes have a role";
    if (tier == TIER_NATIONAL) {
        if (e->parent[0])
            return "the national node has no parent";
        if (d->root >= 0 && strcmp(d->nodes[d->root].id, e->id) != 0)
            return "a second national node";
        memset(&tmp, 0, sizeof(tmp));
        entry_set(&tmp, e);
        return dir_rule_check(d, d->n, &tmp, why, whylen) ? why : NULL;
    }
    if (e->parent[0] == '\0')
        return "parent missing";
    if (dir_idx(d, e->parent) < 0)
        return "parent is not in the directory";
    if (strcmp(e->parent, e->id) == 0)
        return "a node cannot be its own parent";
    if (e->city[0] && dir_idx(d, e->city) < 0)
        return "city is not in the directory";
    memset(&tmp, 0, sizeof(tmp));
    entry_set(&tmp, e);
    if (dir_rule_check(d, d->n, &tmp, why, whylen) != NULL)
        return why;
    return NULL;
}

/* entry_set - copy a DirEntry into a directory node (not its key history) */
static void
entry_set(struct dir_node *n, const Relay__DirEntry *e)
{
    snprintf(n->id, sizeof(n->id), "%s", e->id);
    n->tier = e->tier;
    snprintf(n->parent, sizeof(n->parent), "%s", e->parent);
    snprintf(n->city, sizeof(n->city), "%s", e->city);
    n->sector = e->sector;
    n->role = e->role[0] ? dir_role_parse(e->role) : DIR_ROLE_NONE;
    snprintf(n->contact, sizeof(n->contact), "%s", e->contact);
    memcpy(n->pk, e->key.data, 32);
    n->key_from_us = 0;
    n->valid_from_us = e->valid_from_us;
    n->valid_until_us = e->valid_until_us;
}

/* relink - parent indexes and the root, after any change */
static void
relink(struct directory *d)
{
    d->root = -1;
    for (size_t i = 0; i < d->n; i++) {
        d->nodes[i].parent_ix = d->nodes[i].parent[0] ? dir_idx(d, d->nodes[i].parent) : -1;
        if (d->nodes[i].tier == TIER_NATIONAL)
            d->root = (int)i;
    }
}

/* dirlog_apply - one change, checked */
int
dirlog_apply(struct directory *d, const Relay__DirChange *c, char *err, size_t errlen)
{
    const char *why = NULL, *who = "";
    char rule[200];
    int i;

    if (c->seq != d->seq + 1) {
        snprintf(err, errlen, "change %llu: out of order (the directory is at change %llu)",
                 (unsigned long long)c->seq, (unsigned long long)d->seq);
        return RL_EINVAL;
    }
    switch (c->change_case) {
    case RELAY__DIR_CHANGE__CHANGE_ENROL: {
        struct dir_node *nn;
        who = c->enrol->id;
        if (dir_idx(d, c->enrol->id) >= 0) {
            why = "already enrolled (rotate its key, or revoke it)";
            break;
        }
        if ((why = check_entry(d, c->enrol, rule, sizeof(rule))) != NULL)
            break;
        if (d->n >= d->cap) { /* cap 0: not known (dir_load), grow */
            /* doubling: one entry at a time moved the whole directory per
             * enrolment, 7 GB of copies for 4,200 entries under ASan */
            size_t cap = d->n < 8 ? 16 : 2 * d->n;
            nn = realloc(d->nodes, cap * sizeof(*nn));
            if (nn == NULL) {
                snprintf(err, errlen, "out of memory");
                return RL_ENOMEM;
            }
            d->nodes = nn;
            d->cap = cap;
        }
        memset(&d->nodes[d->n], 0, sizeof(d->nodes[0]));
        entry_set(&d->nodes[d->n], c->enrol);
        d->n++;
        break;
    }
    case RELAY__DIR_CHANGE__CHANGE_ROTATE: {
        struct dir_node *n;
        who = c->rotate->id;
        if ((i = dir_idx(d, c->rotate->id)) < 0) {
            why = "not in the directory";
            break;
        }
        n = &d->nodes[i];
        if (n->revoked_us) {
            why = "revoked: enrol a new node instead";
            break;
        }
        if (c->rotate->key.len != 32 || memcmp(c->rotate->key.data, n->pk, 32) == 0) {
            why = "a rotation needs a new 32-byte key";
            break;
        }
        if (c->at_us <= n->key_from_us) {
            why = "a rotation takes effect after the current key's start";
            break;
        }
        {
            struct dir_node tmp = *n;
            memcpy(tmp.pk, c->rotate->key.data, 32);
            if (dir_rule_check(d, d->n, &tmp, rule, sizeof(rule)) != NULL) {
                why = rule;
                break;
            }
        }
        if (n->n_old == DIR_OLD_KEYS) { /* forget the oldest */
            memmove(&n->old[0], &n->old[1], (DIR_OLD_KEYS - 1) * sizeof(n->old[0]));
            n->n_old--;
        }
        memcpy(n->old[n->n_old].pk, n->pk, 32);
        n->old[n->n_old].from_us = n->key_from_us;
        n->old[n->n_old].until_us = c->at_us;
        n->n_old++;
        memcpy(n->pk, c->rotate->key.data, 32);
        n->key_from_us = c->at_us;
        break;
    }
    case RELAY__DIR_CHANGE__CHANGE_REVOKE:
        who = c->revoke;
        if ((i = dir_idx(d, c->revoke)) < 0)
            why = "not in the directory";
        else if (d->nodes[i].revoked_us)
            why = "already revoked";
        else
            d->nodes[i].revoked_us = c->at_us;
        break;
    default:
        why = "empty change";
        break;
    }
    if (why) {
        snprintf(err, errlen, "change %llu: %s '%s': %s", (unsigned long long)c->seq,
                 c->change_case == RELAY__DIR_CHANGE__CHANGE_ENROL    ? "enrol"
                 : c->change_case == RELAY__DIR_CHANGE__CHANGE_ROTATE ? "rotate"
                                                                      : "revoke",
                 who, why);
        return RL_EINVAL;
    }
    d->seq = c->seq;
    relink(d);
    return RL_OK;
}

/* dirlog_build - every change in order */
int
dirlog_build(const ProtobufCBinaryData *v, size_t n, const uint8_t root_pk[32],
             struct directory *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->root = -1;
    for (size_t i = 0; i < n; i++) {
        Relay__DirChange *c;
        const char *why;
        int rc = dirlog_open(v[i].data, v[i].len, root_pk, &c, &why);
        if (rc != RL_OK) {
            snprintf(err, errlen, "directory line %zu: %s", i + 1, why);
            dir_free(d);
            return rc;
        }
        rc = dirlog_apply(d, c, err, errlen);
        relay__dir_change__free_unpacked(c, NULL);
        if (rc != RL_OK) {
            dir_free(d);
            return rc;
        }
    }
    if (d->root < 0) {
        snprintf(err, errlen, "the directory has no national node");
        dir_free(d);
        return RL_ECONFIG;
    }
    (void)dir_index_build(d); /* without it, lookups scan */
    return RL_OK;
}

/* dirlog_free - release what dirlog_read_file returned */
void
dirlog_free(ProtobufCBinaryData *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].data);
    free(v);
}

/* dirlog_read_file - hex lines */
int
dirlog_read_file(const char *path, ProtobufCBinaryData **v, size_t *n, char *err,
                 size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line;
    size_t cap = 0;
    int lineno = 0;

    *v = NULL;
    *n = 0;
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return RL_ECONFIG;
    }
    if ((line = malloc(DIRLOG_LINE_MAX)) == NULL) {
        fclose(f);
        return RL_ENOMEM;
    }
    while (fgets(line, DIRLOG_LINE_MAX, f) != NULL) {
        size_t l = strcspn(line, "\r\n"), bl;
        lineno++;
        if (line[l] == '\0' && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno,
                     DIRLOG_LINE_MAX - 2);
            goto fail;
        }
        line[l] = '\0';
        if (l == 0 || line[0] == '#')
            continue;
        bl = l / 2;
        if (l % 2 || *n == SIZE_MAX) {
            snprintf(err, errlen, "%s:%d: not a hex line", path, lineno);
            goto fail;
        }
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            ProtobufCBinaryData *nv = realloc(*v, nc * sizeof(*nv));
            if (nv == NULL)
                goto oom;
            *v = nv;
            cap = nc;
        }
        (*v)[*n].data = malloc(bl ? bl : 1);
        (*v)[*n].len = bl;
        if ((*v)[*n].data == NULL)
            goto oom;
        (*n)++;
        if (keys_unhex(line, (*v)[*n - 1].data, bl) != 0) {
            snprintf(err, errlen, "%s:%d: not a hex line", path, lineno);
            goto fail;
        }
    }
    free(line);
    fclose(f);
    return RL_OK;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
fail:
    free(line);
    fclose(f);
    dirlog_free(*v, *n);
    *v = NULL;
    *n = 0;
    return RL_ECONFIG;
}

/* dirlog_write_file - hex lines, written to a temporary name then renamed */
int
dirlog_write_file(const char *path, const ProtobufCBinaryData *v, size_t n)
{
    char tmp[4096], *hex;
    FILE *f;
    int ok = 1;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((f = fopen(tmp, "w")) == NULL)
        return RL_EIO;
    fprintf(f, "# signed directory: one root-signed change per line (relayctl)\n");
    for (size_t i = 0; i < n && ok; i++) {
        if ((hex = malloc(2 * v[i].len + 1)) == NULL) {
            ok = 0;
            break;
        }
        keys_hex(v[i].data, v[i].len, hex);
        ok = fprintf(f, "%s\n", hex) > 0;
        free(hex);
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        ok = 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return RL_EIO;
    }
    return RL_OK;
}

/* dirlog_entry_of - a DirEntry from a directory node */
void
dirlog_entry_of(const struct dir_node *e, Relay__DirEntry *out)
{
    relay__dir_entry__init(out);
    out->id = (char *)e->id;
    out->tier = (Relay__Tier)e->tier;
    out->parent = (char *)e->parent;
    out->city = (char *)e->city;
    out->sector = (Relay__Sector)e->sector;
    out->role = (char *)(e->role ? dir_role_name(e->role) : "");
    out->contact = (char *)e->contact;
    out->key.data = (uint8_t *)e->pk;
    out->key.len = 32;
    out->valid_from_us = e->valid_from_us;
    out->valid_until_us = e->valid_until_us;
}

/* dirlog_from_dir - enrol every node of d (parents first) as changes 1..n */
int
dirlog_from_dir(const struct directory *d, const struct keypair *root, int64_t at_us,
                ProtobufCBinaryData **out, size_t *n)
{
    ProtobufCBinaryData *v = calloc(d->n + 1, sizeof(*v));
    char *done = calloc(d->n + 1, 1);
    size_t k = 0;
    int rc = RL_OK;

    *out = NULL;
    *n = 0;
    if (v == NULL || done == NULL) {
        free(v);
        free(done);
        return RL_ENOMEM;
    }
    for (size_t pass = 0; pass < d->n && k < d->n && rc == RL_OK; pass++)
        for (size_t i = 0; i < d->n && rc == RL_OK; i++) {
            const struct dir_node *e = &d->nodes[i];
            Relay__DirChange c = RELAY__DIR_CHANGE__INIT;
            Relay__DirEntry de;
            if (done[i] || (e->parent_ix >= 0 && !done[e->parent_ix]))
                continue;
            dirlog_entry_of(e, &de);
            c.seq = k + 1;
            c.at_us = at_us;
            c.change_case = RELAY__DIR_CHANGE__CHANGE_ENROL;
            c.enrol = &de;
            rc = dirlog_seal(&c, root, &v[k].data, &v[k].len);
            if (rc == RL_OK) {
                done[i] = 1;
                k++;
            }
        }
    free(done);
    if (rc != RL_OK || k != d->n) {
        dirlog_free(v, k);
        return rc != RL_OK ? rc : RL_EINVAL;
    }
    *out = v;
    *n = k;
    return RL_OK;
}
