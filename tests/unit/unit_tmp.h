/*
 * unit_tmp.h - a fresh temporary directory for every unit test.
 *
 * unit_tmp_setup and unit_tmp_teardown are cmocka setup/teardown functions:
 * setup wraps the case's initial state in a struct unit_tmp together with a
 * new directory made by mkdtemp under /tmp; teardown removes the directory
 * with everything in it and frees the wrapper. Header-only so that each test
 * stays one file, as relay_unit_test builds it.
 */
#ifndef RELAY_UNIT_TMP_H
#define RELAY_UNIT_TMP_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct unit_tmp {
    const void *c; /* the table row, or NULL for a fixed test */
    char dir[64];  /* /tmp/relay-unit-XXXXXX */
};

/* unit_tmp_rm - remove path and, for a directory, everything below it */
static inline int
unit_tmp_rm(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    char *sub;
    int rc = 0;

    if (lstat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        sub = malloc(strlen(path) + strlen(de->d_name) + 2);
        if (sub == NULL) {
            rc = -1;
            continue;
        }
        sprintf(sub, "%s/%s", path, de->d_name);
        if (unit_tmp_rm(sub) != 0)
            rc = -1;
        free(sub);
    }
    closedir(d);
    return rmdir(path) == 0 ? rc : -1;
}

/* unit_tmp_setup - cmocka setup: make the directory */
static inline int
unit_tmp_setup(void **state)
{
    struct unit_tmp *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return -1;
    t->c = *state;
    strcpy(t->dir, "/tmp/relay-unit-XXXXXX");
    if (mkdtemp(t->dir) == NULL) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

/* unit_tmp_teardown - cmocka teardown: remove the directory */
static inline int
unit_tmp_teardown(void **state)
{
    struct unit_tmp *t = *state;
    int rc = unit_tmp_rm(t->dir);

    free(t);
    return rc;
}

/* unit_tmp_path - dir/name into out, which must hold it */
static inline void
unit_tmp_path(const struct unit_tmp *t, const char *name, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%s", t->dir, name);

    assert_true(n > 0 && (size_t)n < len);
}

/* unit_tmp_write - create dir/name holding text; its path into out */
static inline void
unit_tmp_write(const struct unit_tmp *t, const char *name, const char *text,
               char *out, size_t len)
{
    FILE *fp;

    unit_tmp_path(t, name, out, len);
    fp = fopen(out, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

#define UNIT_TMP_TEST(f)                                                       \
    cmocka_unit_test_setup_teardown(f, unit_tmp_setup, unit_tmp_teardown)

#endif
