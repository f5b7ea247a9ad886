/*
 * test_account.c - operator accounts (issue 10 item 4): the four verbs,
 * account_verify/account_state/account_audit, through a running writer over
 * a fresh store, and who-did-what in the audit log (R-RECORDS).
 *
 * A minimal node: a store, the writer thread and nothing else (no links,
 * no directory): account work touches only the store. The HTTP transport
 * is not here; the verbs are called with the struct api_req it would make.
 */
#define _GNU_SOURCE /* memmem */
#include "unit_tmp.h"

#include <lmdb.h>
#include <pthread.h>
#include <sodium.h>

#include "account.h"
#include "audit.h"
#include "node.h"
#include "store.h"
#include "store_check.h"
#include "writer.h"

#define ADMIN "unix:root"
#define PW_ALICE "correct horse battery"
#define PW_NEW "a new password, longer"

struct fixture {
    struct node n;
    char dir[128];
};

/* node_up - a store in <tmp>/store and a writer over it */
static struct fixture *
node_up(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    unit_tmp_path(*state, "store", f->dir, sizeof(f->dir));
    assert_int_equal(store_open(f->dir, 1, 64, 0, &f->n.store), RL_OK);
    pthread_mutex_init(&f->n.mu, NULL);
    pthread_cond_init(&f->n.changed, NULL);
    assert_int_equal(writer_start(&f->n), RL_OK);
    return f;
}

/* node_down - stop the writer, close the store */
static void
node_down(struct fixture *f)
{
    writer_stop(&f->n);
    store_close(f->n.store);
    pthread_mutex_destroy(&f->n.mu);
    pthread_cond_destroy(&f->n.changed);
    free(f);
}

/* call - run verb as the admin on the Unix socket with args (stolen) and
 * path parameter name; *status gets the HTTP status; the reply is the
 * caller's */
static json_t *
call(struct fixture *f, api_fn verb, const char *name, json_t *args, int *status)
{
    struct api_req r;
    json_t *rep;

    memset(&r, 0, sizeof(r));
    r.n = &f->n;
    r.method = "POST";
    r.who = ADMIN;
    r.role = ROLE_ADMIN;
    r.addr = "unix";
    r.loopback = 1;
    r.param[0] = name;
    r.args = args ? args : json_object();
    r.body = r.args;
    rep = verb(&r);
    assert_non_null(rep);
    *status = r.status ? r.status : 200;
    json_decref(r.args);
    return rep;
}

/* add - POST /api/v1/operators; the status */
static int
add(struct fixture *f, const char *name, const char *role, const char *pw, json_t **out)
{
    int status;
    json_t *rep = call(f, account_add_verb, NULL,
                       json_pack("{s:s?,s:s?,s:s?}", "name", name, "role", role, "password", pw),
                       &status);

    if (out)
        *out = rep;
    else
        json_decref(rep);
    return status;
}

/* error_field - the reply's error field, or "" */
static const char *
error_field(const json_t *rep)
{
    const char *f = json_string_value(json_object_get(json_object_get(rep, "error"), "field"));

    return f ? f : "";
}

/* list - GET /api/v1/operators with args */
static json_t *
list(struct fixture *f, json_t *args)
{
    int status;
    json_t *rep = call(f, account_list_verb, NULL, args, &status);

    assert_int_equal(status, 200);
    return rep;
}

/* audit_entries - every audit entry, unpacked, in order (n of them) */
static Relay__AuditEntry **
audit_entries(struct fixture *f, size_t *n)
{
    ProtobufCBinaryData v[64];
    Relay__AuditEntry **e = calloc(64, sizeof(*e));
    struct store_txn t;
    uint64_t entries, bad;
    uint8_t hash[32];

    assert_non_null(e);
    assert_int_equal(store_begin(f->n.store, 0, &t), RL_OK);
    assert_int_equal(store_audit_verify(&t, &entries, &bad), RL_OK);
    assert_int_equal(bad, 0); /* the chain verifies */
    assert_int_equal(store_audit_range(&t, 1, 64, v, n), RL_OK);
    store_abort(&t);
    assert_int_equal(*n, entries);
    assert_int_equal(audit_chain(v, *n, hash, &bad), 0); /* relayctl audit check's walk */
    for (size_t i = 0; i < *n; i++) {
        e[i] = relay__audit_entry__unpack(NULL, v[i].len, v[i].data);
        assert_non_null(e[i]);
        if (e[i]->actor[0] == '\0') {
            /* no actor: not encoded, so such an entry's bytes are as before
             * issue 10: it still ends in its prev_hash (field 7, 32 bytes) */
            assert_true(v[i].len > 34);
            assert_int_equal(v[i].data[v[i].len - 34], 0x3a);
            assert_int_equal(v[i].data[v[i].len - 33], 32);
        }
        free(v[i].data);
    }
    return e;
}

static void
audit_free(Relay__AuditEntry **e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        relay__audit_entry__free_unpacked(e[i], NULL);
    free(e);
}

/* file_has - the bytes of s occur in file path */
static int
file_has(const char *path, const char *s)
{
    FILE *fp = fopen(path, "rb");
    size_t len = strlen(s), got, cap = 1 << 20, used = 0;
    char *buf = malloc(cap);
    int found;

    assert_non_null(fp);
    assert_non_null(buf);
    while ((got = fread(buf + used, 1, cap - used, fp)) > 0) {
        used += got;
        if (used == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(fp);
    found = memmem(buf, used, s, len) != NULL;
    free(buf);
    return found;
}

/* test_lifecycle - add, verify, wrong password, passwd, disable, list, and
 * the audit entries of all that, each naming the admin who did it */
static void
test_lifecycle(void **state)
{
    struct fixture *f = node_up(state);
    enum api_role role;
    const char *why = NULL;
    json_t *rep, *ops;
    int status;
    size_t n;
    char path[160];

    assert_int_equal(add(f, "alice", "reviewer", PW_ALICE, &rep), 200);
    assert_string_equal(json_string_value(json_object_get(rep, "role")), "reviewer");
    json_decref(rep);
    assert_int_equal(add(f, "bob.ops-2", "viewer", "0123456789", NULL), 200);

    assert_int_equal(account_verify(&f->n, "alice", PW_ALICE, &role, &why), RL_OK);
    assert_int_equal(role, ROLE_REVIEWER);
    assert_int_equal(account_verify(&f->n, "alice", "correct horse batterY", &role, &why),
                     RL_EPERM);
    assert_string_equal(why, "wrong password");
    assert_int_equal(role, ROLE_NONE);
    assert_int_equal(account_verify(&f->n, "carol", PW_ALICE, &role, &why), RL_EPERM);
    assert_string_equal(why, "no such account");
    assert_int_equal(account_state(&f->n, "alice", &role), RL_OK);
    assert_int_equal(role, ROLE_REVIEWER);
    assert_int_equal(account_state(&f->n, "carol", &role), RL_ENOTFOUND);

    /* a new password: the old one stops working */
    rep = call(f, account_passwd_verb, "alice", json_pack("{s:s}", "password", PW_NEW), &status);
    assert_int_equal(status, 200);
    json_decref(rep);
    assert_int_equal(account_verify(&f->n, "alice", PW_ALICE, &role, &why), RL_EPERM);
    assert_int_equal(account_verify(&f->n, "alice", PW_NEW, &role, &why), RL_OK);

    /* disabled: even the right password is refused, and the state says so */
    rep = call(f, account_disable_verb, "alice", NULL, &status);
    assert_int_equal(status, 200);
    json_decref(rep);
    assert_int_equal(account_verify(&f->n, "alice", PW_NEW, &role, &why), RL_EPERM);
    assert_string_equal(why, "account disabled");
    assert_int_equal(account_state(&f->n, "alice", &role), RL_EPERM);
    assert_int_equal(account_verify(&f->n, "bob.ops-2", "0123456789", &role, &why), RL_OK);
    assert_int_equal(role, ROLE_VIEWER);

    /* unknown names: 404, nothing written */
    rep = call(f, account_passwd_verb, "carol", json_pack("{s:s}", "password", PW_NEW), &status);
    assert_int_equal(status, 404);
    json_decref(rep);
    rep = call(f, account_disable_verb, "carol", NULL, &status);
    assert_int_equal(status, 404);
    json_decref(rep);

    /* the list: every field, no hash; pages */
    rep = list(f, NULL);
    ops = json_object_get(rep, "operators");
    assert_int_equal(json_array_size(ops), 2);
    json_t *a = json_array_get(ops, 0);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "alice");
    assert_string_equal(json_string_value(json_object_get(a, "role")), "reviewer");
    assert_true(json_is_true(json_object_get(a, "disabled")));
    assert_string_equal(json_string_value(json_object_get(a, "changed_by")), ADMIN);
    assert_non_null(json_string_value(json_object_get(a, "created")));
    assert_non_null(json_string_value(json_object_get(a, "changed")));
    assert_int_equal(json_object_size(a), 6); /* name role disabled created changed changed_by */
    assert_true(json_is_false(json_object_get(json_array_get(ops, 1), "disabled")));
    assert_true(json_is_null(json_object_get(rep, "next")));
    json_decref(rep);
    rep = list(f, json_pack("{s:i}", "limit", 1));
    assert_int_equal(json_array_size(json_object_get(rep, "operators")), 1);
    assert_string_equal(json_string_value(json_object_get(rep, "next")), "alice");
    json_decref(rep);
    rep = list(f, json_pack("{s:s,s:s}", "limit", "1", "cursor", "alice"));
    ops = json_object_get(rep, "operators");
    assert_int_equal(json_array_size(ops), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ops, 0), "name")),
                        "bob.ops-2");
    assert_true(json_is_null(json_object_get(rep, "next")));
    json_decref(rep);

    /* logins through account_audit name their operator, and their peer */
    assert_int_equal(account_audit(&f->n, "login", "bob.ops-2", "127.0.0.1", NULL), RL_OK);
    assert_int_equal(account_audit(&f->n, "login-failed", "alice", "127.0.0.2",
                                   "account disabled"), RL_OK);

    Relay__AuditEntry **e = audit_entries(f, &n);
    static const struct {
        const char *what, *actor, *peer, *detail;
    } want[] = {
        {"operator-added", ADMIN, "unix", "operator alice, role reviewer"},
        {"operator-added", ADMIN, "unix", "operator bob.ops-2, role viewer"},
        {"operator-password", ADMIN, "unix", "operator alice, role reviewer"},
        {"operator-disabled", ADMIN, "unix", "operator alice, role reviewer"},
        {"login", "bob.ops-2", "127.0.0.1", ""},
        {"login-failed", "alice", "127.0.0.2", "account disabled"},
    };
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(e[i]->what, want[i].what);
        assert_string_equal(e[i]->actor, want[i].actor);
        assert_string_equal(e[i]->peer, want[i].peer);
        assert_string_equal(e[i]->detail, want[i].detail);
    }
    audit_free(e, n);

    /* the stored hash is argon2id; no password is anywhere in the file */
    Relay__OperatorRecord *r;
    struct store_txn t;
    assert_int_equal(store_begin(f->n.store, 0, &t), RL_OK);
    assert_int_equal(store_operator_get(&t, "alice", &r), RL_OK);
    store_abort(&t);
    assert_memory_equal(r->pwhash, "$argon2id$", 10);
    assert_int_equal(crypto_pwhash_str_verify(r->pwhash, PW_NEW, strlen(PW_NEW)), 0);
    assert_string_equal(r->changed_by, ADMIN);
    relay__operator_record__free_unpacked(r, NULL);
    node_down(f);
    snprintf(path, sizeof(path), "%s/store/data.mdb", ((struct unit_tmp *)*state)->dir);
    assert_true(file_has(path, "$argon2id$"));
    assert_false(file_has(path, PW_ALICE));
    assert_false(file_has(path, PW_NEW));
    assert_false(file_has(path, "0123456789"));
}

/* test_duplicate - a second add of a name is 409 and changes nothing */
static void
test_duplicate(void **state)
{
    struct fixture *f = node_up(state);
    enum api_role role;
    Relay__AuditEntry **e;
    const char *why;
    json_t *rep;
    size_t n;

    assert_int_equal(add(f, "alice", "admin", PW_ALICE, NULL), 200);
    assert_int_equal(add(f, "alice", "viewer", PW_NEW, &rep), 409);
    assert_string_equal(error_field(rep), "name");
    json_decref(rep);
    assert_int_equal(account_verify(&f->n, "alice", PW_ALICE, &role, &why), RL_OK);
    assert_int_equal(role, ROLE_ADMIN);
    e = audit_entries(f, &n); /* the chain verifies */
    audit_free(e, n);
    assert_int_equal(n, 1); /* only the first add */
    node_down(f);
}

/* Refused adds: each names its field, and nothing is stored. */
static const struct bad_add {
    const char *label, *name, *role, *pw;
    const char *field;
} bad_adds[] = {
    {"no name", NULL, "admin", PW_ALICE, "name"},
    {"empty name", "", "admin", PW_ALICE, "name"},
    {"upper case", "Alice", "admin", PW_ALICE, "name"},
    {"starts with a digit", "1alice", "admin", PW_ALICE, "name"},
    {"starts with a dot", ".alice", "admin", PW_ALICE, "name"},
    {"space", "al ice", "admin", PW_ALICE, "name"},
    {"slash", "al/ice", "admin", PW_ALICE, "name"},
    {"33 characters", "abcdefghijabcdefghijabcdefghijabc", "admin", PW_ALICE, "name"},
    {"no role", "alice", NULL, PW_ALICE, "role"},
    {"unknown role", "alice", "root", PW_ALICE, "role"},
    {"role none", "alice", "none", PW_ALICE, "role"},
    {"role in capitals", "alice", "Admin", PW_ALICE, "role"},
    {"no password", "alice", "admin", NULL, "password"},
    {"9 bytes", "alice", "admin", "123456789", "password"},
};

/* test_bad_add - one row of bad_adds */
static void
test_bad_add(void **state)
{
    const struct bad_add *c = ((struct unit_tmp *)*state)->c;
    struct fixture *f = node_up(state);
    Relay__AuditEntry **e;
    json_t *rep, *ops;
    size_t n;

    (void)c->label;
    assert_int_equal(add(f, c->name, c->role, c->pw, &rep), 400);
    assert_string_equal(error_field(rep), c->field);
    json_decref(rep);
    rep = list(f, NULL);
    ops = json_object_get(rep, "operators");
    assert_int_equal(json_array_size(ops), 0);
    json_decref(rep);
    e = audit_entries(f, &n); /* the chain verifies */
    audit_free(e, n);
    assert_int_equal(n, 0);
    node_down(f);
}

/* test_bad_password - passwords a JSON body can carry but we refuse: too
 * long, a NUL inside, not a string; a 32-character name is fine */
static void
test_bad_password(void **state)
{
    struct fixture *f = node_up(state);
    char *big = malloc(1026);
    json_t *rep;
    int status;

    assert_non_null(big);
    memset(big, 'x', 1025);
    big[1025] = '\0';
    assert_int_equal(add(f, "alice", "admin", big, &rep), 400);
    assert_string_equal(error_field(rep), "password");
    json_decref(rep);
    big[1024] = '\0'; /* 1024 bytes: the most allowed */
    assert_int_equal(add(f, "abcdefghijabcdefghijabcdefghijab", "admin", big, NULL), 200);
    free(big);
    rep = call(f, account_add_verb, NULL,
               json_pack("{s:s,s:s,s:s#}", "name", "bob", "role", "admin", "password",
                         "0123456789\0abc", (size_t)14), &status);
    assert_int_equal(status, 400);
    assert_string_equal(error_field(rep), "password");
    json_decref(rep);
    rep = call(f, account_add_verb, NULL,
               json_pack("{s:s,s:s,s:i}", "name", "bob", "role", "admin", "password", 1234567890),
               &status);
    assert_int_equal(status, 400);
    json_decref(rep);
    rep = call(f, account_passwd_verb, "abcdefghijabcdefghijabcdefghijab",
               json_pack("{s:s}", "password", "short"), &status);
    assert_int_equal(status, 400);
    assert_string_equal(error_field(rep), "password");
    json_decref(rep);
    node_down(f);
}

/* test_wipe - the request's copy of the password is zeroed by the verb */
static void
test_wipe(void **state)
{
    struct fixture *f = node_up(state);
    struct api_req r;
    json_t *rep, *pw;

    memset(&r, 0, sizeof(r));
    r.n = &f->n;
    r.who = ADMIN;
    r.role = ROLE_ADMIN;
    r.addr = "unix";
    r.args = json_pack("{s:s,s:s,s:s}", "name", "alice", "role", "admin", "password", PW_ALICE);
    r.body = r.args;
    pw = json_object_get(r.args, "password");
    rep = account_add_verb(&r);
    assert_int_equal(r.status, 0);
    assert_int_equal(json_string_length(pw), strlen(PW_ALICE));
    for (size_t i = 0; i < strlen(PW_ALICE); i++)
        assert_int_equal(json_string_value(pw)[i], 0);
    json_decref(rep);
    json_decref(r.args);
    node_down(f);
}

/* test_actor_other_work - the writer names the actor on the entries of
 * any work, not only accounts' (here a store check's move of a message to
 * corrupt, as an operator's `store check` makes it), and clears it between
 * the works of one group: a work without one (link work) carries none */
static void
test_actor_other_work(void **state)
{
    struct fixture *f = node_up(state);
    struct outbox_item item;
    struct work wq, wa, wb;
    pthread_cond_t cv[3];
    const char *why = "bad signature";
    uint8_t body[40];
    struct store_txn t;
    Relay__AuditEntry **e;
    size_t n;

    memset(&item, 0, sizeof(item));
    memset(item.id, 0x42, 16);
    memset(body, 0x17, sizeof(body));
    assert_int_equal(store_begin(f->n.store, 1, &t), RL_OK);
    assert_int_equal(store_put_message(&t, item.id, body, sizeof(body), 1), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);

    memset(&wq, 0, sizeof(wq));
    wq.type = WORK_QUARANTINE;
    wq.acked = &item;
    wq.acked_why = &why;
    wq.nacked = 1;
    wq.actor = "alice";
    memset(&wa, 0, sizeof(wa));
    wa.type = WORK_AUDIT;
    wa.audit_what = "node-note";
    memset(&wb, 0, sizeof(wb));
    wb.type = WORK_AUDIT;
    wb.audit_what = "login";
    wb.actor = "bob";
    for (int i = 0; i < 3; i++)
        pthread_cond_init(&cv[i], NULL);
    /* queued together, so that they are likely one group */
    assert_int_equal(writer_submit(&f->n, &wq, &cv[0]), RL_OK);
    assert_int_equal(writer_submit(&f->n, &wa, &cv[1]), RL_OK);
    assert_int_equal(writer_submit(&f->n, &wb, &cv[2]), RL_OK);
    assert_int_equal(writer_wait(&f->n, &wq), RL_OK);
    assert_int_equal(writer_wait(&f->n, &wa), RL_OK);
    assert_int_equal(writer_wait(&f->n, &wb), RL_OK);
    for (int i = 0; i < 3; i++)
        pthread_cond_destroy(&cv[i]);
    e = audit_entries(f, &n);
    assert_int_equal(n, 3);
    assert_string_equal(e[0]->what, "quarantined");
    assert_string_equal(e[0]->actor, "alice");
    assert_string_equal(e[1]->what, "node-note");
    assert_string_equal(e[1]->actor, "");
    assert_string_equal(e[2]->actor, "bob");
    audit_free(e, n);
    node_down(f);
}

/* test_damaged_record - a changed byte in an account is RL_ECORRUPT: the
 * account is refused, not read as something else */
static void
test_damaged_record(void **state)
{
    struct fixture *f = node_up(state);
    enum api_role role;
    const char *why;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {5, (void *)"alice"}, v;
    uint8_t changed[512];
    char dir[128];
    json_t *rep;
    int status;

    assert_int_equal(add(f, "alice", "viewer", PW_ALICE, NULL), 200);
    node_down(f);
    unit_tmp_path(*state, "store", dir, sizeof(dir));
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "operators", 0, &dbi), 0);
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    assert_true(v.mv_size < sizeof(changed));
    memcpy(changed, v.mv_data, v.mv_size);
    /* "viewer" -> "viewes": still decodes, so only the tag can tell */
    uint8_t *p = memmem(changed, v.mv_size, "viewer", 6);
    assert_non_null(p);
    p[5] = 's';
    v.mv_data = changed;
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    f = node_up(state);
    /* relayctl store check reports it (and moves nothing) */
    struct store_check_report rep_check;
    assert_int_equal(store_check_run_as(&f->n, ADMIN, &rep_check), RL_OK);
    assert_int_equal(rep_check.n, 1);
    assert_string_equal(rep_check.found[0].db, "operators");
    assert_string_equal(rep_check.found[0].key, "616c696365");
    assert_string_equal(rep_check.found[0].reason, "checksum does not match");
    assert_int_equal(rep_check.found[0].moved, 0);
    store_check_free(&rep_check);
    assert_int_equal(account_state(&f->n, "alice", &role), RL_ECORRUPT);
    assert_int_equal(account_verify(&f->n, "alice", PW_ALICE, &role, &why), RL_ECORRUPT);
    rep = call(f, account_list_verb, NULL, NULL, &status);
    assert_int_equal(status, 500);
    json_decref(rep);
    rep = call(f, account_disable_verb, "alice", NULL, &status);
    assert_int_equal(status, 500);
    json_decref(rep);
    node_down(f);
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        UNIT_TMP_TEST(test_lifecycle),    UNIT_TMP_TEST(test_duplicate),
        UNIT_TMP_TEST(test_bad_password), UNIT_TMP_TEST(test_wipe),
        UNIT_TMP_TEST(test_actor_other_work), UNIT_TMP_TEST(test_damaged_record),
    };
    enum { NBAD = sizeof(bad_adds) / sizeof(bad_adds[0]) };
    struct CMUnitTest tests[NBAD + sizeof(fixed) / sizeof(fixed[0])];
    size_t n = 0;

    if (sodium_init() < 0)
        return 1;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < NBAD; i++) {
        struct CMUnitTest c = UNIT_TMP_TEST(test_bad_add);
        c.name = bad_adds[i].label;
        c.initial_state = (void *)&bad_adds[i];
        tests[n++] = c;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
