/*
 * ini_lines.c - a line-counting reader for libinih.
 */
#include "ini_lines.h"

#include <ini.h>

/* ini_lines_read - fgets that counts lines */
static char *
ini_lines_read(char *str, int num, void *stream)
{
    struct ini_lines *il = stream;
    char *s = fgets(str, num, il->fp);

    if (s != NULL)
        il->line++;
    return s;
}

/* ini_lines_parse - run inih over a file with line tracking */
int
ini_lines_parse(const char *path, struct ini_lines *il, ini_lines_handler h,
                void *user)
{
    int rc;

    il->line = 0;
    il->fp = fopen(path, "r");
    if (il->fp == NULL)
        return -1;
    rc = ini_parse_stream(ini_lines_read, il, h, user);
    fclose(il->fp);
    il->fp = NULL;
    return rc;
}
