/*
 * policy_file.h - load a policy file (the one I/O step policy/ leaves out).
 */
#ifndef RELAY_POLICY_FILE_H
#define RELAY_POLICY_FILE_H

#include <stddef.h>

#include "err.h"
#include "policy.h"

/* policy_file_load - parse path, or the built-in default when path is NULL
 * or empty. On success fills *p and writes where it came from into source
 * ("policy/default.policy (built-in)" or the path). On failure returns
 * RL_ECONFIG with "path:line N: reason" in err; *p is undefined. */
int policy_file_load(const char *path, struct policy *p, char *source,
                     size_t srclen, char *err, size_t errlen) RL_MUST_CHECK;

#endif
