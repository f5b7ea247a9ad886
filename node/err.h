/*
 * err.h - the project's one error convention.
 *
 * Every module returns RL_OK (0) or a negative rl_err. Foreign codes (MDB_*,
 * NNG_*, errno, libsodium's -1) are translated at the module boundary and
 * never leak out of it.
 */
#ifndef RELAY_ERR_H
#define RELAY_ERR_H

typedef enum rl_err {
    RL_OK = 0,
    RL_ENOMEM = -1,      /* allocation failed */
    RL_EINVAL = -2,      /* malformed input */
    RL_ESIG = -3,        /* signature does not verify */
    RL_EUNKNOWN = -4,    /* unknown node */
    RL_ETOOBIG = -5,     /* message larger than the configured limit */
    RL_EIO = -6,         /* read, write, fsync or commit failed */
    RL_EFULL = -7,       /* store reached its size limit */
    RL_ENOTFOUND = -8,   /* no such record */
    RL_EDUP = -9,        /* already stored */
    RL_EPERM = -10,      /* not allowed for this node or tier */
    RL_ECONFIG = -11,    /* configuration is invalid */
    RL_ECLOSED = -12,    /* shutting down */
    RL_ETIMEDOUT = -13,  /* gave up waiting */
    RL_ELINK = -14,      /* link failure, retry later */
    RL_ECORRUPT = -15,   /* stored record or file damaged (checksum, size) */
    RL_ENOSPC = -16,     /* disk full (ENOSPC, EDQUOT) */
} rl_err;

/* rl_strerror - a static, human-readable text for an error code. */
const char *rl_strerror(int err);

#define RL_MUST_CHECK __attribute__((warn_unused_result))

#endif
