/*
 * audit.c - relayctl audit: verify the node's chain, export it to a file,
 * check a child's export at its parent, or show the head a child signed.
 *
 * An export is "head <hex>" (the node's signed audit head) then one
 * "entry <hex>" line per entry, read from GET /api/v1/audit/entries in
 * pages. A check, run at the parent, opens the head with the child's key
 * from the directory in force there, recomputes the chain, compares it with
 * the head the child signed on its link, and asks (POST /api/v1/seen)
 * whether every message logged as forwarded here was stored here.
 *
 * DIAGNOSTICS: exit 1 when the log is broken, the head does not open,
 * entries are missing or a forwarded message never arrived; each said on
 * stderr as "relayctl: audit check: ...".
 *
 * SECURITY: the export file is created, never overwritten; the check
 * trusts only the directory's key for the child, never the file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "keys.h"
#include "relayctl.h"

/* audit_export - the node's signed head and every entry, into a file:
 * "head <hex>" then one "entry <hex>" per line */
static int
audit_export(struct args *a, const char *path)
{
    json_int_t from = 1, total;
    json_t *rep, *e;
    FILE *f;
    size_t i;
    int rc;

    if ((f = fopen(path, "wx")) == NULL) {
        fprintf(stderr, "relayctl: audit export: %s: %s\n", path,
                errno == EEXIST ? "exists; refusing to overwrite" : strerror(errno));
        return 1;
    }
    for (;;) {
        if ((rc = ctl_fetch(a, &rep, "GET", NULL, "/api/v1/audit/entries?from=%lld",
                            (long long)from)) != 0) {
            fclose(f);
            return rc;
        }
        if (from == 1)
            fprintf(f, "head %s\n", jget(rep, "head"));
        total = json_integer_value(json_object_get(rep, "seq"));
        json_array_foreach(json_object_get(rep, "entries"), i, e)
        {
            if (from <= total)
                fprintf(f, "entry %s\n", json_string_value(e));
            from++;
        }
        i = json_array_size(json_object_get(rep, "entries"));
        json_decref(rep);
        if (i == 0 || from > total)
            break;
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "relayctl: audit export: %s: write failed\n", path);
        return 1;
    }
    printf("%s: signed head and %lld entries\n", path, (long long)(from - 1));
    return 0;
}

/* hex_blob - decode a hex string into a malloc'd buffer */
static int
hex_blob(const char *hex, ProtobufCBinaryData *out)
{
    size_t l = strlen(hex);

    out->len = l / 2;
    out->data = NULL;
    if (l % 2 || (out->data = malloc(out->len + 1)) == NULL)
        return -1;
    if (keys_unhex(hex, out->data, out->len) != 0) {
        free(out->data);
        out->data = NULL;
        return -1;
    }
    return 0;
}

/* audit_check - at a parent: a child's exported log is intact, signed by
 * the child, and every message it logged as forwarded here arrived here */
static int
audit_check(struct args *a, const char *child, const char *path)
{
    static char line[70000];
    ProtobufCBinaryData head = {0, NULL}, *v = NULL;
    Relay__AuditHead *h = NULL;
    json_t *rep, *st, *e, *ids = json_array();
    const char *why, *self;
    uint8_t pk[32], hash[32];
    size_t n = 0, cap = 0, i, fwd = 0, missing = 0;
    uint64_t bad;
    int rc = 1, found = 0;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "relayctl: audit check: %s: %s\n", path, strerror(errno));
        json_decref(ids);
        return 1;
    }
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "head ", 5) == 0 && head.data == NULL) {
            if (hex_blob(line + 5, &head) != 0)
                break;
        } else if (strncmp(line, "entry ", 6) == 0) {
            if (n == cap) {
                ProtobufCBinaryData *nv = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v));
                if (nv == NULL)
                    break;
                v = nv;
            }
            if (hex_blob(line + 6, &v[n]) != 0)
                break;
            n++;
        }
    }
    fclose(f);
    /* the child's key from the directory in force at this node */
    if ((rc = ctl_fetch(a, &rep, "GET", NULL, "/api/v1/directory")) != 0)
        goto out;
    json_array_foreach(json_object_get(rep, "nodes"), i, e)
    {
        if (strcmp(jget(e, "id"), child) == 0 && keys_unhex(jget(e, "key"), pk, 32) == 0)
            found = 1;
    }
    json_decref(rep);
    rc = 1;
    if (!found) {
        fprintf(stderr, "relayctl: audit check: '%s' is not in the directory\n", child);
        goto out;
    }
    if (head.data == NULL || audit_head_open(head.data, head.len, pk, &h, &why) != 0) {
        fprintf(stderr, "relayctl: audit check: %s\n",
                head.data ? why : "the file has no signed head");
        goto out;
    }
    if (strcmp(h->node, child) != 0) {
        fprintf(stderr, "relayctl: audit check: the head is %s's, not %s's\n", h->node, child);
        goto out;
    }
    if (audit_chain(v, n < h->seq ? n : (size_t)h->seq, hash, &bad) != 0) {
        fprintf(stderr, "relayctl: audit check: %s's audit log is broken at entry %llu\n",
                child, (unsigned long long)bad);
        goto out;
    }
    if (n < h->seq || memcmp(hash, h->hash.data, 32) != 0) {
        fprintf(stderr, "relayctl: audit check: the entries do not end in the signed head "
                        "(%zu entries, head at %llu)\n", n, (unsigned long long)h->seq);
        goto out;
    }
    /* the head the child signed on its link to this node, if it has polled */
    if ((rc = ctl_fetch(a, &rep, "GET", NULL, "/api/v1/audit/heads/%s",
                        ctl_esc(child))) != 0)
        goto out;
    rc = 1;
    if (json_is_string(json_object_get(rep, "head"))) {
        ProtobufCBinaryData lb = {0, NULL};
        Relay__AuditHead *lh = NULL;
        uint8_t lhash[32];
        int fine = 0;

        if (hex_blob(jget(rep, "head"), &lb) != 0 ||
            audit_head_open(lb.data, lb.len, pk, &lh, &why) != RL_OK)
            fprintf(stderr, "relayctl: audit check: the head held for %s does not open\n", child);
        else if (lh->seq > n && lh->at_us <= h->at_us)
            fprintf(stderr, "relayctl: audit check: the export ends at entry %zu, before the "
                            "head %s signed on its link earlier (%llu entries): entries are "
                            "missing from the export\n", n, child, (unsigned long long)lh->seq);
        else if (lh->seq > n)
            fprintf(stderr, "relayctl: audit check: %s has logged more since this export "
                            "(%llu entries now): export again\n", child,
                    (unsigned long long)lh->seq);
        else if (audit_chain(v, (size_t)lh->seq, lhash, &bad) != 0 ||
                 memcmp(lhash, lh->hash.data, 32) != 0)
            fprintf(stderr, "relayctl: audit check: the export differs from what %s signed on "
                            "its link (its first %llu entries)\n", child,
                    (unsigned long long)lh->seq);
        else {
            printf("%s: consistent with the head it signed on its link (%llu entries)\n",
                   child, (unsigned long long)lh->seq);
            fine = 1;
        }
        if (lh)
            relay__audit_head__free_unpacked(lh, NULL);
        free(lb.data);
        if (!fine) {
            json_decref(rep);
            goto out;
        }
    }
    json_decref(rep);
    if ((rc = ctl_fetch(a, &st, "GET", NULL, "/api/v1/status")) != 0)
        goto out;
    self = jget(st, "node");
    for (i = 0; i < (size_t)h->seq; i++) {
        Relay__AuditEntry *en = relay__audit_entry__unpack(NULL, v[i].len, v[i].data);
        if (en && strcmp(en->what, "forwarded") == 0 && strcmp(en->peer, self) == 0 &&
            en->msg.len == 16) {
            char hx[33];
            keys_hex(en->msg.data, 16, hx);
            json_array_append_new(ids, json_string(hx));
            fwd++;
        }
        if (en)
            relay__audit_entry__free_unpacked(en, NULL);
        if (json_array_size(ids) == 4096 || (i + 1 == (size_t)h->seq && json_array_size(ids))) {
            if ((rc = ctl_fetch(a, &rep, "POST", json_pack("{s:O}", "ids", ids),
                                "/api/v1/seen")) != 0) {
                json_decref(st);
                goto out;
            }
            size_t j;
            json_array_foreach(json_object_get(rep, "missing"), j, e)
            {
                fprintf(stderr, "relayctl: audit check: %s logged %s as forwarded to %s, "
                                "which never stored it\n", child, json_string_value(e), self);
                missing++;
            }
            json_decref(rep);
            json_array_clear(ids);
        }
    }
    printf("%s: audit log intact, %llu entries, head signed at %s\n", child,
           (unsigned long long)h->seq, "its directory key");
    printf("%zu messages logged as forwarded to %s: %zu received here, %zu missing\n", fwd,
           self, fwd - missing, missing);
    json_decref(st);
    rc = missing ? 1 : 0;
out:
    if (h)
        relay__audit_head__free_unpacked(h, NULL);
    free(head.data);
    for (i = 0; i < n; i++)
        free(v[i].data);
    free(v);
    json_decref(ids);
    return rc;
}

/* req_audit - verify the audit log's hash chain; export it; check a child's */
int
req_audit(struct args *a, struct ctl_req *q)
{
    if (strcmp(a->pos[0], "export") == 0 && a->npos == 2) {
        a->rc = audit_export(a, a->pos[1]);
        return -1;
    }
    if (strcmp(a->pos[0], "check") == 0 && a->npos == 3) {
        a->rc = audit_check(a, a->pos[1], a->pos[2]);
        return -1;
    }
    if (strcmp(a->pos[0], "head") == 0 && a->npos == 2) {
        G.verb = "audit head";
        return ctl_set(q, "GET", NULL, 0, "/api/v1/audit/heads/%s", ctl_esc(a->pos[1]));
    }
    if (strcmp(a->pos[0], "verify") != 0 || a->npos != 1)
        return fail_usage(a, "give verify, export FILE, check CHILD FILE, or head CHILD");
    G.verb = "audit verify";
    return ctl_set(q, "GET", NULL, 0, "/api/v1/audit/verify");
}

