/*
 * operator.c - relayctl operator: the accounts of the node's TCP listener
 * (issue 10 item 4): add NAME --role ROLE, passwd NAME, disable NAME, list.
 *
 * A password is the first line of stdin, or, on a terminal, typed twice
 * without echo. It goes to the node in the JSON body over the Unix socket;
 * the node keeps only its argon2id hash.
 *
 * DIAGNOSTICS: an unknown role is a usage error (exit 2); an empty, too
 * long or mistyped password exits 2 before anything is sent; the node's
 * refusals (409: the account exists, 404: no such account) exit 1.
 *
 * SECURITY: the password lives in sodium_malloc memory, wiped when freed;
 * the request text holding it is wiped by client.c. Echo is restored even
 * when reading fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "api.h"
#include "relayctl.h"

#define PASSWORD_MAX 1024 /* bytes of a password, without its newline */
#define OPERATOR_USAGE "give add NAME --role ROLE, passwd NAME, disable NAME, or list"

/* read_line - one line of fp into buf (len bytes) without its newline; 0,
 * or -1 at end of input or for a line too long */
static int
read_line(FILE *fp, char *buf, size_t len)
{
    size_t n;

    if (fgets(buf, (int)len, fp) == NULL)
        return -1;
    n = strcspn(buf, "\r\n");
    if (buf[n] == '\0' && n == len - 1 && !feof(fp))
        return -1; /* no newline within the buffer */
    buf[n] = '\0';
    return 0;
}

/* prompt_line - on the terminal: prompt, then a line read without echo */
static int
prompt_line(const char *prompt, char *buf, size_t len)
{
    struct termios old, quiet;
    int rc, echo_off;

    fprintf(stderr, "%s", prompt);
    fflush(stderr);
    echo_off = tcgetattr(STDIN_FILENO, &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    rc = read_line(stdin, buf, len);
    if (echo_off)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fprintf(stderr, "\n");
    return rc;
}

/* read_password - NAME's new password into pw (PASSWORD_MAX + 2 bytes):
 * stdin's first line, or typed twice on a terminal; 0, or -1 after a
 * message */
static int
read_password(const char *name, char *pw)
{
    char prompt[200], *again;
    int rc = 0;

    if (!isatty(STDIN_FILENO)) {
        if (read_line(stdin, pw, PASSWORD_MAX + 2) != 0) {
            fprintf(stderr, "relayctl: %s: no password on stdin's first line (or longer "
                            "than %d bytes)\n", G.verb, PASSWORD_MAX);
            return -1;
        }
    } else {
        if ((again = sodium_malloc(PASSWORD_MAX + 2)) == NULL)
            return -1;
        snprintf(prompt, sizeof(prompt), "password for %s: ", name);
        if (prompt_line(prompt, pw, PASSWORD_MAX + 2) != 0 ||
            prompt_line("again: ", again, PASSWORD_MAX + 2) != 0) {
            fprintf(stderr, "relayctl: %s: no password read\n", G.verb);
            rc = -1;
        } else if (strcmp(pw, again) != 0) {
            fprintf(stderr, "relayctl: %s: the passwords differ\n", G.verb);
            rc = -1;
        }
        sodium_free(again);
        if (rc != 0)
            return rc;
    }
    if (pw[0] == '\0') {
        fprintf(stderr, "relayctl: %s: the password is empty\n", G.verb);
        return -1;
    }
    if (strlen(pw) > PASSWORD_MAX) {
        fprintf(stderr, "relayctl: %s: the password is longer than %d bytes\n", G.verb,
                PASSWORD_MAX);
        return -1;
    }
    return 0;
}

/* operator_body - the JSON body with the password read for name, and the
 * role for add; NULL after a message */
static json_t *
operator_body(const char *name, const char *role)
{
    json_t *body = NULL;
    char *pw;

    if (sodium_init() < 0 || (pw = sodium_malloc(PASSWORD_MAX + 2)) == NULL) {
        fprintf(stderr, "relayctl: %s: cannot start libsodium\n", G.verb);
        return NULL;
    }
    if (read_password(name, pw) == 0)
        body = role ? json_pack("{s:s, s:s, s:s}", "name", name, "role", role, "password", pw)
                    : json_pack("{s:s}", "password", pw);
    sodium_free(pw);
    return body;
}

/* req_operator - add, passwd, disable or list the node's accounts */
int
req_operator(struct args *a, struct ctl_req *q)
{
    static char verb[64];
    const char *sub = a->pos[0], *name = a->npos > 1 ? a->pos[1] : NULL;
    json_t *body;

    snprintf(verb, sizeof(verb), "operator %s", sub);
    G.verb = verb;
    if (strcmp(sub, "list") == 0 && a->npos == 1 && !opt(a, "role"))
        return ctl_set(q, "GET", NULL, 0, "/api/v1/operators");
    if (name == NULL || (strcmp(sub, "add") != 0 && opt(a, "role")))
        return fail_usage(a, OPERATOR_USAGE);
    if (strcmp(sub, "add") == 0 && api_role_parse(opt(a, "role")) == ROLE_NONE)
        return fail_usage(a, "--role must be viewer, reporter, reviewer or admin");
    a->rc = 2;
    if (strcmp(sub, "add") == 0)
        return (body = operator_body(name, opt(a, "role"))) == NULL
                   ? -1
                   : ctl_set(q, "POST", body, 1, "/api/v1/operators");
    if (strcmp(sub, "passwd") == 0)
        return (body = operator_body(name, NULL)) == NULL
                   ? -1
                   : ctl_set(q, "POST", body, 1, "/api/v1/operators/%s/password",
                             ctl_esc(name));
    if (strcmp(sub, "disable") == 0)
        return ctl_set(q, "POST", json_object(), 1, "/api/v1/operators/%s/disable",
                       ctl_esc(name));
    return fail_usage(a, OPERATOR_USAGE);
}

/* show_operator - what changed, or one line per account */
int
show_operator(struct args *a, const json_t *rep)
{
    const char *sub = a->pos[0];
    json_t *all = json_object_get(rep, "operators"), *v;
    size_t i;

    if (strcmp(sub, "add") == 0)
        printf("operator %s added, role %s\n", term_safe(a->pos[1]), opt(a, "role"));
    else if (strcmp(sub, "passwd") == 0)
        printf("password of operator %s changed\n", term_safe(a->pos[1]));
    else if (strcmp(sub, "disable") == 0)
        printf("operator %s disabled; its sessions are ended\n", term_safe(a->pos[1]));
    else if (json_array_size(all) == 0)
        printf("no operators\n");
    else
        json_array_foreach(all, i, v)
        {
            printf("%-20s %-9s %s\n", jget(v, "name"), jget(v, "role"),
                   json_is_true(json_object_get(v, "disabled")) ? "disabled" : "enabled");
        }
    return 0;
}
