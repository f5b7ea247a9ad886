/*
 * keys.c - key generation, key files, hex.
 *
 * SECURITY: secret keys never leave sodium_malloc memory except to be written
 * to a 0600 file opened with O_EXCL; the read buffer is wiped after parsing.
 */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYS_TAG "relay-ed25519-secret "

/* keys_init - libsodium must be initialised before any other call */
int
keys_init(void)
{
    return sodium_init() < 0 ? RL_EIO : RL_OK;
}

/* keys_alloc - an empty key pair with guarded secret memory */
static struct keypair *
keys_alloc(void)
{
    struct keypair *kp = calloc(1, sizeof(*kp));

    if (kp == NULL)
        return NULL;
    kp->sk = sodium_malloc(KEYS_SK_LEN);
    if (kp->sk == NULL) {
        free(kp);
        return NULL;
    }
    return kp;
}

/* keys_generate - fresh Ed25519 key pair */
int
keys_generate(struct keypair **out)
{
    struct keypair *kp = keys_alloc();

    if (kp == NULL)
        return RL_ENOMEM;
    crypto_sign_keypair(kp->pk, kp->sk);
    *out = kp;
    return RL_OK;
}

/* keys_free - wipe and release */
void
keys_free(struct keypair *kp)
{
    if (kp == NULL)
        return;
    sodium_free(kp->sk); /* sodium_free wipes before unmapping */
    free(kp);
}

/* keys_hex - encode bytes as lower-case hex */
void
keys_hex(const uint8_t *in, size_t len, char *out)
{
    sodium_bin2hex(out, 2 * len + 1, in, len);
}

/* keys_unhex - decode exactly len bytes */
int
keys_unhex(const char *hex, uint8_t *out, size_t len)
{
    size_t got = 0;
    const char *end = NULL;

    if (strlen(hex) != 2 * len)
        return -1;
    if (sodium_hex2bin(out, len, hex, 2 * len, NULL, &got, &end) != 0 ||
        got != len || *end != '\0')
        return -1;
    return 0;
}

/* keys_save - write a new 0600 secret key file */
int
keys_save(const struct keypair *kp, const char *path)
{
    char *line = sodium_malloc(sizeof(KEYS_TAG) + 2 * KEYS_SK_LEN + 2);
    size_t n;
    int fd, rc = RL_OK;

    if (line == NULL)
        return RL_ENOMEM;
    strcpy(line, KEYS_TAG);
    keys_hex(kp->sk, KEYS_SK_LEN, line + strlen(KEYS_TAG));
    strcat(line, "\n");
    n = strlen(line);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_free(line);
        return RL_EIO;
    }
    if (write(fd, line, n) != (ssize_t)n || fsync(fd) != 0)
        rc = RL_EIO;
    if (close(fd) != 0)
        rc = RL_EIO;
    sodium_free(line);
    return rc;
}

/* keys_load - read and check a secret key file */
int
keys_load(const char *path, struct keypair **out, const char **why)
{
    struct stat st;
    struct keypair *kp;
    char *buf;
    ssize_t n;
    int fd, rc = RL_EINVAL;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return RL_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *why = "not a regular file";
        return RL_EINVAL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        *why = "readable by group or others (chmod 600 it)";
        return RL_EPERM;
    }
    buf = sodium_malloc(256);
    if (buf == NULL) {
        close(fd);
        return RL_ENOMEM;
    }
    n = read(fd, buf, 255);
    close(fd);
    if (n < 0) {
        sodium_free(buf);
        *why = "read failed";
        return RL_EIO;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    *why = "not a relay secret key file";
    if (strncmp(buf, KEYS_TAG, strlen(KEYS_TAG)) != 0)
        goto out;
    kp = keys_alloc();
    if (kp == NULL) {
        rc = RL_ENOMEM;
        goto out;
    }
    if (keys_unhex(buf + strlen(KEYS_TAG), kp->sk, KEYS_SK_LEN) != 0 ||
        crypto_sign_ed25519_sk_to_pk(kp->pk, kp->sk) != 0) {
        keys_free(kp);
        goto out;
    }
    *out = kp;
    *why = NULL;
    rc = RL_OK;
out:
    sodium_free(buf);
    return rc;
}
