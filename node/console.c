/*
 * console.c - serve the console's embedded files (issue 11).
 *
 * A request names a file; the name is looked up in the table that the
 * build generated from node/console/ (console_files.c). Nothing else is
 * read: a name with a slash, a dot-dot or any other unknown name is 404.
 * DIAGNOSTICS: none; a missing file is the client's 404.
 */
#include "console.h"

#include <stdlib.h>
#include <string.h>

/* console_find - the file called name, or NULL */
const struct console_file *
console_find(const char *name)
{
    for (size_t i = 0; i < console_nfiles; i++)
        if (strcmp(console_files[i].name, name) == 0)
            return &console_files[i];
    return NULL;
}

/* console_send - f as r's reply: a copy of its bytes (the transport frees
 * r->text) with its type */
static json_t *
console_send(struct api_req *r, const struct console_file *f)
{
    r->text = malloc(f->len + 1);
    if (r->text == NULL)
        return api_error(r, 503, NULL, "out of memory");
    memcpy(r->text, f->data, f->len + 1);
    r->content_type = f->type;
    return NULL;
}

/* console_file_verb - GET /console/{file} */
json_t *
console_file_verb(struct api_req *r)
{
    const struct console_file *f = console_find(r->param[0]);

    if (f == NULL)
        return api_error(r, 404, NULL, "no console file '%.60s'", r->param[0]);
    return console_send(r, f);
}

/* console_index_verb - GET /console/ */
json_t *
console_index_verb(struct api_req *r)
{
    const struct console_file *f = console_find("index.html");

    if (f == NULL)
        return api_error(r, 404, NULL, "this build has no console");
    return console_send(r, f);
}

/* console_root_verb - GET /: the console's address */
json_t *
console_root_verb(struct api_req *r)
{
    r->status = 302;
    r->location = "/console/";
    r->text = strdup("see /console/\n");
    if (r->text == NULL)
        return api_error(r, 503, NULL, "out of memory");
    return NULL;
}
