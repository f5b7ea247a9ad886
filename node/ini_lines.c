/*
 * ini_lines.c - a line-counting reader for libinih.
 */
#include "ini_lines.h"

#include <ini.h>
#include <string.h>

/* ini_lines_read - fgets that counts lines and drops what does not fit */
static char *
ini_lines_read(char *str, int num, void *stream)
{
    struct ini_lines *il = stream;
    char *s = fgets(str, num, il->fp);
    size_t n;
    int ch;

    if (s == NULL)
        return NULL;
    il->line++;
    il->max_line = num - 1;
    n = strlen(s);
    if (n == 0 || s[n - 1] == '\n')
        return s;
    /* no newline: end of file, or the line is longer than the buffer */
    ch = fgetc(il->fp);
    if (ch == EOF || ch == '\n')
        return s;
    il->long_line = il->line;
    while ((ch = fgetc(il->fp)) != EOF && ch != '\n')
        ;
    return s;
}

/* ini_lines_parse - run inih over a file with line tracking */
int
ini_lines_parse(const char *path, struct ini_lines *il, ini_lines_handler h,
                void *user)
{
    int rc;

    il->line = 0;
    il->long_line = 0;
    il->max_line = 0;
    il->fp = fopen(path, "r");
    if (il->fp == NULL)
        return -1;
    rc = ini_parse_stream(ini_lines_read, il, h, user);
    fclose(il->fp);
    il->fp = NULL;
    return rc;
}
