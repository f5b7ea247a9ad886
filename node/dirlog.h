/*
 * dirlog.h - the signed directory: changes signed by the national root key.
 *
 * The directory is the ordered log of its changes (proto DirChange: enrol,
 * rotate, revoke), each signed by the root key (SignedDirChange). Every
 * node holds the log in LMDB and builds its in-memory directory from it;
 * a node starts from a bootstrap file (the log up to its own enrolment,
 * made by relayctl) and receives later changes from the national node.
 *
 * The log file format is text, one change per line: the hex of the
 * SignedDirChange bytes. Lines starting with '#' are comments.
 *
 * SECURITY: nothing enters a directory without a valid root signature and
 * the next sequence number; a change that would break the tree (unknown
 * parent, a second national node, a key of the wrong size) is refused
 * before it is stored, so every node applying the same log gets the same
 * directory.
 */
#ifndef RELAY_DIRLOG_H
#define RELAY_DIRLOG_H

#include <stddef.h>
#include <stdint.h>

#include "directory.h"
#include "err.h"
#include "keys.h"
#include "relay.pb-c.h"

/* dirlog_seal - sign change c with the root key; *out (malloc) holds the
 * SignedDirChange bytes. */
int dirlog_seal(const Relay__DirChange *c, const struct keypair *root,
                uint8_t **out, size_t *len) RL_MUST_CHECK;

/* dirlog_open - verify a SignedDirChange against root_pk and decode its
 * change into *out (free with relay__dir_change__free_unpacked). On
 * failure *why says what is wrong and nothing is allocated. */
int dirlog_open(const uint8_t *buf, size_t len, const uint8_t root_pk[32],
                Relay__DirChange **out, const char **why) RL_MUST_CHECK;

/* dirlog_verify - the same, for an already decoded SignedDirChange (the
 * `directory` kind of a message). */
int dirlog_verify(const Relay__SignedDirChange *s, const uint8_t root_pk[32],
                  Relay__DirChange **out, const char **why) RL_MUST_CHECK;

/* dirlog_copy - a deep copy (free with dir_free). */
int dirlog_copy(const struct directory *src, struct directory *dst) RL_MUST_CHECK;

/* dirlog_apply - check change c against d (seq, tree rules) and apply it.
 * On failure d is unchanged and err names the problem ("change 7: enrol
 * 'x': parent 'y' is not in the directory"). */
int dirlog_apply(struct directory *d, const Relay__DirChange *c, char *err,
                 size_t errlen) RL_MUST_CHECK;

/* dirlog_build - a directory from n signed changes in order. On success
 * *d is complete (free with dir_free); on failure err names the change. */
int dirlog_build(const ProtobufCBinaryData *v, size_t n, const uint8_t root_pk[32],
                 struct directory *d, char *err, size_t errlen) RL_MUST_CHECK;

/* dirlog_read_file / dirlog_write_file - the hex-lines file. read: *v and
 * each v[i].data are malloc'd (dirlog_free). */
int dirlog_read_file(const char *path, ProtobufCBinaryData **v, size_t *n,
                     char *err, size_t errlen) RL_MUST_CHECK;
int dirlog_write_file(const char *path, const ProtobufCBinaryData *v, size_t n)
    RL_MUST_CHECK;
void dirlog_free(ProtobufCBinaryData *v, size_t n);

/* dirlog_from_dir - the changes that enrol every node of d (an INI
 * topology), parents before children, numbered 1..n and signed by root. */
int dirlog_from_dir(const struct directory *d, const struct keypair *root,
                    int64_t at_us, ProtobufCBinaryData **out, size_t *n) RL_MUST_CHECK;

/* dirlog_entry_of - a DirEntry describing directory node e (for enrolment
 * from an INI topology); strings point into e. */
void dirlog_entry_of(const struct dir_node *e, Relay__DirEntry *out);

#endif
