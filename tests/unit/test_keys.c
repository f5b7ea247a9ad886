/*
 * test_keys.c - key files at rest (issue "Trust", item 6).
 *
 * A key file is created 0600 and never overwritten; a key file readable or
 * writable by group or others is refused with the reason, whatever its
 * content; a damaged file is refused; a saved key loads back to the same
 * pair. (That keys_free wipes: it is sodium_free, which zeroes before
 * unmapping; a freed key cannot be read back in a test without undefined
 * behaviour, so that part rests on libsodium's contract.)
 */
#include "unit_tmp.h"

#include <fcntl.h>

#include "keys.h"

struct mode_case {
    const char *name;
    mode_t mode;
    int ok;
};

static const struct mode_case mode_cases[] = {
    {"0600 loads", 0600, 1},
    {"0400 loads", 0400, 1},
    {"0640 group-readable refused", 0640, 0},
    {"0604 other-readable refused", 0604, 0},
    {"0620 group-writable refused", 0620, 0},
    {"0644 refused", 0644, 0},
    {"0610 group-executable refused", 0610, 0},
};
#define NMODE (sizeof(mode_cases) / sizeof(mode_cases[0]))

/* saved - a fresh key pair saved under the case's directory */
static struct keypair *
saved(const struct unit_tmp *t, const char *name, char *path, size_t len)
{
    struct keypair *kp;

    assert_int_equal(keys_generate(&kp), RL_OK);
    unit_tmp_path(t, name, path, len);
    assert_int_equal(keys_save(kp, path), RL_OK);
    return kp;
}

/* run_mode - the file's mode decides, not its content */
static void
run_mode(void **state)
{
    struct unit_tmp *t = *state;
    const struct mode_case *c = t->c;
    struct keypair *kp = NULL, *back = NULL;
    const char *why = NULL;
    char path[256];

    kp = saved(t, "node.key", path, sizeof(path));
    assert_int_equal(chmod(path, c->mode), 0);
    if (c->ok) {
        assert_int_equal(keys_load(path, &back, &why), RL_OK);
        assert_memory_equal(back->pk, kp->pk, KEYS_PK_LEN);
        assert_memory_equal(back->sk, kp->sk, KEYS_SK_LEN);
    } else {
        assert_int_equal(keys_load(path, &back, &why), RL_EPERM);
        assert_null(back);
        assert_non_null(strstr(why, "readable by group or others"));
    }
    keys_free(back);
    keys_free(kp);
}

/* test_created_0600 - keys_save's file mode, whatever the umask */
static void
test_created_0600(void **state)
{
    struct unit_tmp *t = *state;
    struct keypair *kp;
    struct stat st;
    char path[256];
    mode_t old = umask(0);

    kp = saved(t, "a.key", path, sizeof(path));
    umask(old);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    keys_free(kp);
}

/* test_never_overwritten - a second save to the same path fails, the file stays */
static void
test_never_overwritten(void **state)
{
    struct unit_tmp *t = *state;
    struct keypair *kp, *other, *back;
    const char *why;
    char path[256];

    kp = saved(t, "a.key", path, sizeof(path));
    assert_int_equal(keys_generate(&other), RL_OK);
    assert_int_not_equal(keys_save(other, path), RL_OK);
    assert_int_equal(keys_load(path, &back, &why), RL_OK);
    assert_memory_equal(back->pk, kp->pk, KEYS_PK_LEN);
    keys_free(back);
    keys_free(other);
    keys_free(kp);
}

/* test_damaged_refused - a file that is not a key file */
static void
test_damaged_refused(void **state)
{
    static const char *const texts[] = {
        "", "relay-ed25519-secret \n", "relay-ed25519-secret zz\n",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\n",
    };
    struct unit_tmp *t = *state;
    struct keypair *back = NULL;
    const char *why;
    char path[256];

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "bad%zu.key", i);
        unit_tmp_write(t, name, texts[i], path, sizeof(path));
        assert_int_equal(chmod(path, 0600), 0);
        assert_int_not_equal(keys_load(path, &back, &why), RL_OK);
        assert_null(back);
        assert_non_null(why);
    }
}

int
main(void)
{
    struct CMUnitTest tests[NMODE + 3];
    size_t n = 0;

    assert_int_equal(keys_init(), RL_OK);
    for (size_t i = 0; i < NMODE; i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
            run_mode, unit_tmp_setup, unit_tmp_teardown);
        tests[n].name = mode_cases[i].name;
        tests[n].initial_state = (void *)&mode_cases[i];
        n++;
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_created_0600, unit_tmp_setup, unit_tmp_teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_never_overwritten, unit_tmp_setup, unit_tmp_teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_damaged_refused, unit_tmp_setup, unit_tmp_teardown);
    return _cmocka_run_group_tests("keys", tests, n, NULL, NULL);
}
