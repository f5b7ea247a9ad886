/*
 * console.h - the web console's files, compiled into relay-node (issue 11).
 *
 * The console is plain HTML, CSS and JavaScript in node/console/; the
 * build embeds every file there (node/console/embed.cmake), so the console
 * is installed with the binary and always matches its API. The node serves
 * them on its HTTP listeners at /console/NAME, without a session (the
 * sign-in page must load); everything they show comes from the API, which
 * asks for a session.
 * SECURITY: only the embedded files are served, looked up by exact name:
 * no file system path is ever built from a request. Every reply of the
 * HTTP transport carries the console's Content-Security-Policy (no inline
 * script, no framing; node/http.c).
 */
#ifndef RELAY_CONSOLE_H
#define RELAY_CONSOLE_H

#include <stddef.h>

#include "api.h"

struct console_file {
    const char *name;          /* "app.js" */
    const char *type;          /* its Content-Type */
    const unsigned char *data; /* len bytes and a NUL */
    size_t len;
};

/* The embedded files (generated: console_files.c), sorted by name. */
extern const struct console_file console_files[];
extern const size_t console_nfiles;

/* console_find - the file called name, or NULL. */
const struct console_file *console_find(const char *name);

/* console_file_verb - GET /console/{file}: the file, or 404. */
json_t *console_file_verb(struct api_req *r);

/* console_index_verb - GET /console/: the page (index.html). */
json_t *console_index_verb(struct api_req *r);

/* console_root_verb - GET /: a redirect to /console/. */
json_t *console_root_verb(struct api_req *r);

#endif
