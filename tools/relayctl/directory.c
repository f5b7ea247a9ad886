/*
 * directory.c - keys and the root-signed directory: keygen, dir-init (sign
 * a whole topology offline), enrol, rotate and revoke (sign the next change
 * here with the root key and submit it to the national node), and dir list.
 *
 * DIAGNOSTICS: a key that does not load, a topology that does not parse or
 * a change that cannot be signed exits 1 with the reason; a bad option is a
 * usage error (exit 2).
 *
 * SECURITY: the root key is read here and never sent: the node gets only
 * the signed change. keygen writes a 0600 key file and never overwrites one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "directory.h"
#include "dirlog.h"
#include "err.h"
#include "keys.h"
#include "relayctl.h"

/* req_keygen - make a key file, or print the public key of one; no request */
int
req_keygen(struct args *a, struct ctl_req *q)
{
    const char *path = a->pos[0], *why = NULL;
    char hex[2 * KEYS_PK_LEN + 1];
    struct keypair *kp = NULL;
    int rc;

    (void)q;
    a->rc = 1;
    if (keys_init() != RL_OK)
        fprintf(stderr, "relayctl: keygen: cannot initialise libsodium\n");
    else if (flag(a, "public") && (rc = keys_load(path, &kp, &why)) != RL_OK)
        fprintf(stderr, "relayctl: keygen: %s: %s\n", path,
                why ? why : rl_strerror(rc));
    else if (!kp && (rc = keys_generate(&kp)) != RL_OK)
        fprintf(stderr, "relayctl: keygen: %s\n", rl_strerror(rc));
    else if (!flag(a, "public") && (errno = 0, keys_save(kp, path) != RL_OK))
        fprintf(stderr, "relayctl: keygen: %s: %s\n", path,
                errno == EEXIST ? "exists; refusing to overwrite"
                                : strerror(errno ? errno : EIO));
    else {
        keys_hex(kp->pk, KEYS_PK_LEN, hex);
        printf(G.json ? "{\n  \"ok\": true,\n  \"public_key\": \"%s\"\n}\n"
                      : "%s\n",
               hex);
        a->rc = 0;
    }
    keys_free(kp);
    return -1;
}

/* root_load - the root key file named by --root; NULL after a message */
static struct keypair *
root_load(struct args *a)
{
    struct keypair *kp = NULL;
    const char *why = NULL;
    int rc;

    if (keys_init() != RL_OK || (rc = keys_load(opt(a, "root"), &kp, &why)) != RL_OK) {
        fprintf(stderr, "relayctl: %s: --root %s: %s\n", a->cmd->name, opt(a, "root"),
                why ? why : "cannot load the key");
        a->rc = 1;
        return NULL;
    }
    return kp;
}

/* req_dir_init - offline: sign a whole INI topology as the first changes */
int
req_dir_init(struct args *a, struct ctl_req *q)
{
    static char err[8192];
    struct directory d;
    struct keypair *root;
    ProtobufCBinaryData *v;
    size_t n;
    int64_t at = clock_now_us();

    (void)q;
    a->rc = 1;
    if (opt(a, "at") && clock_parse_iso(opt(a, "at"), &at) != 0)
        return fail_usage(a, "--at '%s' is not an ISO 8601 time", opt(a, "at"));
    if ((root = root_load(a)) == NULL)
        return -1;
    if (dir_load(opt(a, "from"), &d, err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "%srelayctl: dir-init: %s refused\n", err, opt(a, "from"));
        keys_free(root);
        return -1;
    }
    if (dirlog_from_dir(&d, root, at, &v, &n) == RL_OK &&
        dirlog_write_file(opt(a, "out"), v, n) == RL_OK) {
        printf("%s: %zu nodes enrolled, signed by the root key\n", opt(a, "out"), n);
        a->rc = 0;
        dirlog_free(v, n);
    } else {
        fprintf(stderr, "relayctl: dir-init: cannot sign or write %s\n", opt(a, "out"));
    }
    dir_free(&d);
    keys_free(root);
    return -1;
}

/* req_dir_change - enrol, rotate or revoke: sign the next change with the
 * root key here (it never reaches a node) and submit it to the national node */
int
req_dir_change(struct args *a, struct ctl_req *q)
{
    Relay__DirChange c = RELAY__DIR_CHANGE__INIT;
    Relay__DirEntry e = RELAY__DIR_ENTRY__INIT;
    struct keypair *root;
    json_t *st = NULL;
    uint8_t key[32], *buf;
    char *hex;
    size_t len;
    int64_t at = clock_now_us();
    int rc;

    a->rc = 2;
    if (opt(a, "at") && clock_parse_iso(opt(a, "at"), &at) != 0)
        return fail_usage(a, "--at '%s' is not an ISO 8601 time", opt(a, "at"));
    if (strcmp(a->cmd->name, "revoke") != 0 &&
        (opt(a, "key") == NULL || keys_unhex(opt(a, "key"), key, 32) != 0))
        return fail_usage(a, "--key must be 64 hex digits (the node's public key)");
    e.id = (char *)opt(a, "id");
    e.key.data = key;
    e.key.len = 32;
    if (strcmp(a->cmd->name, "enrol") == 0) {
        int tier = config_tier_parse(opt(a, "tier"));
        int sector = opt(a, "sector") ? dir_sector_parse(opt(a, "sector")) : 0;
        if (tier == TIER_NONE)
            return fail_usage(a, "--tier must be agency, city, ministry, national or office");
        if (sector < 0)
            return fail_usage(a, "unknown --sector '%s'", opt(a, "sector"));
        e.tier = (Relay__Tier)tier;
        e.parent = (char *)(opt(a, "parent") ? opt(a, "parent") : "");
        e.city = (char *)(opt(a, "city") ? opt(a, "city") : "");
        e.sector = (Relay__Sector)sector;
        e.role = (char *)(opt(a, "role") ? opt(a, "role") : "");
        e.contact = (char *)(opt(a, "contact") ? opt(a, "contact") : "");
        if (opt(a, "valid-from") && clock_parse_iso(opt(a, "valid-from"), &e.valid_from_us) != 0)
            return fail_usage(a, "--valid-from '%s' is not an ISO 8601 time", opt(a, "valid-from"));
        if (opt(a, "valid-until") &&
            clock_parse_iso(opt(a, "valid-until"), &e.valid_until_us) != 0)
            return fail_usage(a, "--valid-until '%s' is not an ISO 8601 time",
                              opt(a, "valid-until"));
        if (e.valid_until_us && e.valid_until_us <= e.valid_from_us)
            return fail_usage(a, "--valid-until must be after --valid-from");
        c.change_case = RELAY__DIR_CHANGE__CHANGE_ENROL;
        c.enrol = &e;
    } else if (strcmp(a->cmd->name, "rotate") == 0) {
        c.change_case = RELAY__DIR_CHANGE__CHANGE_ROTATE;
        c.rotate = &e;
    } else {
        c.change_case = RELAY__DIR_CHANGE__CHANGE_REVOKE;
        c.revoke = (char *)opt(a, "id");
    }
    if ((rc = ctl_fetch(a, &st, "GET", NULL, "/api/v1/status")) != 0) {
        a->rc = rc;
        return -1;
    }
    c.seq = (uint64_t)json_integer_value(json_object_get(st, "directory_seq")) + 1;
    json_decref(st);
    c.at_us = at;
    if ((root = root_load(a)) == NULL)
        return -1;
    rc = dirlog_seal(&c, root, &buf, &len);
    keys_free(root);
    if (rc != RL_OK || (hex = malloc(2 * len + 1)) == NULL) {
        fprintf(stderr, "relayctl: %s: cannot sign the change\n", a->cmd->name);
        a->rc = 1;
        return -1;
    }
    keys_hex(buf, len, hex);
    free(buf);
    G.verb = a->cmd->name;
    rc = ctl_set(q, "POST", json_pack("{s:s}", "change", hex), 1, "/api/v1/directory/changes");
    free(hex);
    return rc;
}

/* show_dir_change - the change is in; for an enrolment, the bootstrap file */
int
show_dir_change(struct args *a, const json_t *rep)
{
    json_t *ex = NULL, *h;
    ProtobufCBinaryData *v;
    size_t i, n;
    int rc;

    if (!G.json)
        printf("directory change %s applied at the national node and sent to every node\n",
               jget(rep, "seq"));
    if (opt(a, "out") == NULL)
        return 0;
    if ((rc = ctl_fetch(a, &ex, "GET", NULL, "/api/v1/directory/export")) != 0)
        return rc;
    n = json_array_size(json_object_get(ex, "changes"));
    v = calloc(n + 1, sizeof(*v));
    rc = v ? 0 : 1;
    json_array_foreach(json_object_get(ex, "changes"), i, h)
    {
        const char *x = json_string_value(h);
        v[i].len = strlen(x) / 2;
        if ((v[i].data = malloc(v[i].len + 1)) == NULL || keys_unhex(x, v[i].data, v[i].len) != 0)
            rc = 1;
    }
    if (rc == 0 && dirlog_write_file(opt(a, "out"), v, n) != RL_OK)
        rc = 1;
    if (rc == 0 && !G.json)
        printf("%s: the signed directory up to this change, for the new node's "
               "'directory' setting\n", opt(a, "out"));
    else
        fprintf(stderr, "relayctl: %s: cannot write %s\n", a->cmd->name, opt(a, "out"));
    for (i = 0; v && i < n; i++)
        free(v[i].data);
    free(v);
    json_decref(ex);
    return rc;
}

/* req_dir - the directory in force at this node */
int
req_dir(struct args *a, struct ctl_req *q)
{
    if (strcmp(a->pos[0], "list") != 0)
        return fail_usage(a, "unknown dir command '%s'", a->pos[0]);
    return ctl_set(q, "GET", NULL, 0, "/api/v1/directory");
}

/* show_dir - one line per node */
int
show_dir(struct args *a, const json_t *rep)
{
    json_t *e;
    size_t i;

    printf("directory at change %s\n", jget(rep, "seq"));
    json_array_foreach(json_object_get(rep, "nodes"), i, e)
    {
        printf("  %-14s %-9s parent %-10s key %.16s...%s%s\n", jget(e, "id"), jget(e, "tier"),
               jget(e, "parent"), jget(e, "key"),
               json_is_string(json_object_get(e, "revoked")) ? "  REVOKED at " : "",
               json_is_string(json_object_get(e, "revoked")) ? jget(e, "revoked") : "");
    }
    return 0;
}

