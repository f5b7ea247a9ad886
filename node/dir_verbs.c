/*
 * dir_verbs.c - the directory as an operator sees and changes it (issue 10:
 * from control.c). A change is signed by the national root key offline
 * (relayctl enrol, rotate, revoke); the national node checks it against the
 * directory in force and carries it to every node (node/dirlog.c).
 *
 * DIAGNOSTICS: a change that does not verify is 403 naming why; one that
 * does not apply (unknown node, duplicate id) is 409 naming why.
 */
#include "dir_verbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control.h"
#include "dirlog.h"
#include "envelope.h"
#include "keys.h"
#include "node.h"
#include "writer.h"

/* dir_change_verb - national only: a root-signed change (hex) from relayctl,
 * checked against the directory in force, then carried to every node */
json_t *
dir_change_verb(struct api_req *r)
{
    struct node *n = r->n;
    const char *hex = api_str(r, "change");
    Relay__SignedDirChange *sc = NULL;
    Relay__DirChange *c = NULL;
    Relay__Body b = RELAY__BODY__INIT;
    struct directory trial;
    struct work_item it;
    uint8_t *raw = NULL, id[ENV_ID_LEN];
    char err[300], ihex[ENV_ID_HEX];
    const char *why;
    size_t rawlen;
    json_t *rep;
    int rc;

    if (n->cfg.tier != TIER_NATIONAL)
        return api_error(r, 403, NULL, "directory: changes are submitted at the national node");
    if (hex == NULL || strlen(hex) % 2 || strlen(hex) / 2 > 16384 ||
        (raw = malloc(strlen(hex) / 2 + 1)) == NULL ||
        keys_unhex(hex, raw, rawlen = strlen(hex) / 2) != 0) {
        free(raw);
        return api_error(r, 400, "change", "directory: \"change\" must be the hex of a signed change");
    }
    sc = relay__signed_dir_change__unpack(NULL, rawlen, raw);
    free(raw);
    if (sc == NULL)
        return api_error(r, 400, "change", "directory: the change does not decode");
    if (dirlog_verify(sc, n->cfg.root_key, &c, &why) != RL_OK) {
        relay__signed_dir_change__free_unpacked(sc, NULL);
        return api_error(r, 403, "change", "directory: %s", why);
    }
    rc = dirlog_copy(node_dir(n), &trial);
    if (rc == RL_OK) {
        rc = dirlog_apply(&trial, c, err, sizeof(err));
        dir_free(&trial);
    } else {
        snprintf(err, sizeof(err), "out of memory");
    }
    if (rc != RL_OK) {
        relay__dir_change__free_unpacked(c, NULL);
        relay__signed_dir_change__free_unpacked(sc, NULL);
        return api_error(r, 409, "change", "directory: %s", err);
    }
    env_id_new(id);
    b.id.data = id;
    b.id.len = sizeof(id);
    b.author = (char *)n->self->id;
    b.created_us = clock_now_us();
    b.kind_case = RELAY__BODY__KIND_DIRECTORY;
    b.directory = sc;
    memset(&it, 0, sizeof(it));
    rc = env_seal_open(&b, n->kp, SIZE_MAX, &it.m, &why);
    relay__signed_dir_change__free_unpacked(sc, NULL);
    if (rc != RL_OK) {
        relay__dir_change__free_unpacked(c, NULL);
        return api_error(r, 503, NULL, "directory: %s", why ? why : rl_strerror(rc));
    }
    rep = api_ok();
    env_id_hex(id, ihex);
    json_object_set_new(rep, "id", json_string(ihex));
    json_object_set_new(rep, "seq", json_integer((json_int_t)c->seq));
    relay__dir_change__free_unpacked(c, NULL);
    return control_commit_item(r, &it, rep, "directory");
}

/* dir_export_verb - the signed log, for a joining node's bootstrap file */
json_t *
dir_export_verb(struct api_req *r)
{
    struct node *n = r->n;
    ProtobufCBinaryData *v;
    struct store_txn t;
    size_t cnt;
    json_t *arr, *rep;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    if (store_dirlog_all(&t, &v, &cnt) != RL_OK) {
        store_abort(&t);
        return api_error(r, 503, NULL, "cannot read the directory");
    }
    store_abort(&t);
    arr = json_array();
    for (size_t i = 0; i < cnt; i++) {
        char *hex = malloc(2 * v[i].len + 1);
        if (hex) {
            keys_hex(v[i].data, v[i].len, hex);
            json_array_append_new(arr, json_string(hex));
            free(hex);
        }
        free(v[i].data);
    }
    free(v);
    rep = api_ok();
    json_object_set_new(rep, "changes", arr);
    return rep;
}

/* dir_list_verb - the directory in force */
json_t *
dir_list_verb(struct api_req *r)
{
    const struct directory *d = node_dir(r->n);
    json_t *arr = json_array(), *rep;
    char hex[65];

    for (size_t i = 0; i < d->n; i++) {
        const struct dir_node *e = &d->nodes[i];
        json_t *o;
        keys_hex(e->pk, 32, hex);
        o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:i}", "id", e->id, "tier",
                      config_tier_name(e->tier), "parent", e->parent, "city", e->city,
                      "sector", dir_sector_name(e->sector), "key", hex, "key_from",
                      e->key_from_us ? api_time(e->key_from_us) : json_null(), "revoked",
                      e->revoked_us ? api_time(e->revoked_us) : json_null(), "old_keys",
                      e->n_old);
        /* for the console's directory view (issue 11): the office role,
         * the contact (R-OFFLINE, R-ESC-CISO) and the entry's validity */
        json_object_set_new(o, "role", json_string(dir_role_name(e->role)));
        json_object_set_new(o, "contact", json_string(e->contact));
        json_object_set_new(o, "valid_from", e->valid_from_us ? api_time(e->valid_from_us) : json_null());
        json_object_set_new(o, "valid_until", e->valid_until_us ? api_time(e->valid_until_us) : json_null());
        json_array_append_new(arr, o);
    }
    rep = api_ok();
    json_object_set_new(rep, "seq", json_integer((json_int_t)d->seq));
    json_object_set_new(rep, "nodes", arr);
    return rep;
}

