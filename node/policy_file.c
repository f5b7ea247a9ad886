/*
 * policy_file.c - read a policy file and hand its text to policy_parse.
 *
 * DIAGNOSTICS: "file: cannot open: reason", "file: larger than 1 MiB",
 * and policy_parse's "line N: reason" prefixed with the file name.
 */
#include "policy_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_FILE_MAX (1 << 20)

/* policy_file_load - built-in default, or parse path */
int
policy_file_load(const char *path, struct policy *p, char *source,
                 size_t srclen, char *err, size_t errlen)
{
    char why[256];
    FILE *f;
    char *text;
    size_t len;

    if (path == NULL || path[0] == '\0') {
        const char *t = policy_builtin_default();
        if (policy_parse(t, strlen(t), p, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "built-in policy: %s", why);
            return RL_ECONFIG;
        }
        snprintf(source, srclen, "policy/default.policy (built-in)");
        return RL_OK;
    }
    if ((f = fopen(path, "rb")) == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return RL_ECONFIG;
    }
    text = malloc(POLICY_FILE_MAX + 1);
    if (text == NULL) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return RL_ENOMEM;
    }
    len = fread(text, 1, POLICY_FILE_MAX + 1, f);
    if (ferror(f) || len > POLICY_FILE_MAX) {
        snprintf(err, errlen, "%s: %s", path,
                 ferror(f) ? "read error" : "larger than 1 MiB");
        fclose(f);
        free(text);
        return RL_ECONFIG;
    }
    fclose(f);
    if (policy_parse(text, len, p, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s:%s", path, why);
        free(text);
        return RL_ECONFIG;
    }
    free(text);
    snprintf(source, srclen, "%s", path);
    return RL_OK;
}
