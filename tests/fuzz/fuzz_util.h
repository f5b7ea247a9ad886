/*
 * fuzz_util.h - what the fuzz targets share: a fixed clock, a key every
 * seed envelope is signed with, and a check that aborts (so that libFuzzer
 * records the input) when an invariant of the code under test breaks.
 */
#ifndef RELAY_FUZZ_UTIL_H
#define RELAY_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* 2026-11-21T00:00:00Z: "now" for forms, hops and policies. */
#define FUZZ_NOW_US INT64_C(1795219200000000)

/* The seed of the Ed25519 key the seed envelopes are signed with
 * (tests/fuzz/make_corpus.py uses the same 32 bytes, no NUL). */
#define FUZZ_KEY_SEED "relay fuzz corpus key - not real"

/* FUZZ_CHECK - abort with a message when cond is false */
#define FUZZ_CHECK(cond, what)                                                 \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,         \
                    __LINE__, what);                                           \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* fuzz_mix - splitmix64: spreads a hash of the input over many values */
static inline uint64_t
fuzz_mix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* fuzz_hash - FNV-1a of the input */
static inline uint64_t
fuzz_hash(const uint8_t *data, size_t size)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * UINT64_C(0x100000001b3);
    return h;
}

#endif
