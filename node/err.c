/*
 * err.c - texts for rl_err codes.
 */
#include "err.h"

/* rl_strerror - map an rl_err to a static string */
const char *
rl_strerror(int err)
{
    switch (err) {
    case RL_OK: return "ok";
    case RL_ENOMEM: return "out of memory";
    case RL_EINVAL: return "malformed input";
    case RL_ESIG: return "bad signature";
    case RL_EUNKNOWN: return "unknown node";
    case RL_ETOOBIG: return "message too large";
    case RL_EIO: return "i/o error";
    case RL_EFULL: return "store full";
    case RL_ENOTFOUND: return "not found";
    case RL_EDUP: return "already stored";
    case RL_EPERM: return "not permitted";
    case RL_ECONFIG: return "invalid configuration";
    case RL_ECLOSED: return "shutting down";
    case RL_ETIMEDOUT: return "timed out";
    case RL_ELINK: return "link failure";
    case RL_ECORRUPT: return "damaged record";
    case RL_ENOSPC: return "disk full (No space left on device)";
    }
    return "unknown error";
}
