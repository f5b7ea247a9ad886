/*
 * fuzz_config.c - libFuzzer target: the two INI loaders, config_load (the
 * node's config file) and dir_load (the directory file).
 *
 * Both read a path, so the input is written to one file per process (a
 * memfd, opened as /proc/self/fd/N; a file under /tmp named with the pid
 * where memfd_create is missing) and both loaders read it. The error
 * buffer is malloc'd at one of a few sizes chosen by the input, so that a
 * write past a short buffer is caught. A directory that loads is walked:
 * every node is found, and next hops and subtrees are asked for between
 * nodes (a loop in the tree would hang here, and libFuzzer reports it).
 */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "directory.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_fd = -1;
static char fuzz_path[64];

/* unlink_path - remove the /tmp fallback file at exit */
static void
unlink_path(void)
{
    unlink(fuzz_path);
}

/* open_file - the one file this process writes inputs to */
static void
open_file(void)
{
    fuzz_fd = memfd_create("relay-fuzz-config", 0);
    if (fuzz_fd >= 0) {
        snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
        if (access(fuzz_path, R_OK) == 0)
            return;
        close(fuzz_fd);
    }
    snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/relay-fuzz-config.%ld", (long)getpid());
    fuzz_fd = open(fuzz_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fuzz_fd < 0) {
        perror(fuzz_path);
        abort();
    }
    atexit(unlink_path);
}

/* put_input - the file holds exactly the input */
static void
put_input(const uint8_t *data, size_t size)
{
    size_t done = 0;

    if (ftruncate(fuzz_fd, 0) != 0)
        abort();
    while (done < size) {
        ssize_t w = pwrite(fuzz_fd, data + done, size - done, (off_t)done);

        if (w <= 0)
            abort();
        done += (size_t)w;
    }
}

/* err_ok - the loader left a NUL-terminated message in err */
static int
err_ok(const char *err, size_t errlen)
{
    return memchr(err, '\0', errlen) != NULL;
}

/* walk - ask the tree questions between up to 24 nodes */
static void
walk(const struct directory *d)
{
    size_t n = d->n < 24 ? d->n : 24;

    FUZZ_CHECK(d->n == 0 || (d->root >= 0 && (size_t)d->root < d->n),
               "a loaded directory has its national node");
    if (d->n > 0)
        FUZZ_CHECK(strcmp(dir_national(d), d->nodes[d->root].id) == 0,
                   "dir_national is the root");
    for (size_t i = 0; i < d->n; i++) {
        FUZZ_CHECK(dir_find(d, d->nodes[i].id) != NULL, "every node is found");
        FUZZ_CHECK(d->nodes[i].parent_ix < (int)d->n, "parent index in range");
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const char *a = d->nodes[i].id, *b = d->nodes[j].id;
            const char *hop = dir_next_hop(d, a, b);

            if (i != j && strcmp(a, b) != 0)
                FUZZ_CHECK(hop != NULL, "every node is reachable from every other");
            if (hop != NULL)
                FUZZ_CHECK(dir_find(d, hop) != NULL, "a next hop is a node");
            (void)dir_in_subtree(d, a, b);
        }
    (void)dir_next_hop(d, "no-such-node", d->n ? d->nodes[0].id : "x");
    for (int role = 0; role <= DIR_ROLE_CI_GROUP + 1; role++)
        for (int sector = -1; sector <= 10; sector++)
            (void)dir_office(d, role, sector);
}

/* LLVMFuzzerTestOneInput - one file, read as a config and as a directory */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t errlens[4] = {1, 40, 300, 8192};
    size_t errlen = errlens[fuzz_hash(data, size) & 3];
    char *err = malloc(errlen);
    struct directory d;
    struct config c;

    FUZZ_CHECK(err != NULL, "memory");
    if (fuzz_fd < 0)
        open_file();
    put_input(data, size);

    if (config_load(fuzz_path, &c, err, errlen) != RL_OK)
        FUZZ_CHECK(err_ok(err, errlen) && (errlen == 1 || err[0] != '\0'),
                   "a refused config says why");
    else
        FUZZ_CHECK(c.id[0] != '\0' && c.tier != TIER_NONE, "a loaded config has an id and a tier");

    if (dir_load(fuzz_path, &d, err, errlen) == RL_OK) {
        walk(&d);
        dir_free(&d);
    } else {
        FUZZ_CHECK(err_ok(err, errlen) && (errlen == 1 || err[0] != '\0'),
                   "a refused directory says why");
        FUZZ_CHECK(d.nodes == NULL && d.n == 0, "a refused directory holds nothing");
    }
    free(err);
    return 0;
}
