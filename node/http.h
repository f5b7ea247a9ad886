/*
 * http.h - the HTTP transport of the operator API (issue 10 item 1): the
 * Unix socket (api_socket, always on, admin by file permissions) and the
 * optional TCP listener (http_listen, TLS with tls_cert/tls_key), both
 * served by libmicrohttpd and both handing each request to api_dispatch.
 */
#ifndef RELAY_HTTP_H
#define RELAY_HTTP_H

#include "err.h"

struct node;

/* http_start - listen on n->cfg.api_socket and, if set, n->cfg.http_listen.
 * RL_OK; else RL_ECONFIG (a TLS file unreadable or refused, the socket path
 * unusable or answered by another live node) or RL_EIO (cannot bind or
 * start), with the reason logged and nothing left listening. */
int http_start(struct node *n) RL_MUST_CHECK;

/* http_stop - stop both listeners, wait for requests in progress, remove
 * the socket file. Safe when http_start failed or never ran. */
void http_stop(struct node *n);

#endif
