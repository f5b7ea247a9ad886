/*
 * ini_lines.h - libinih with line numbers.
 *
 * Debian's libinih is built without INI_HANDLER_LINENO, so the handler does
 * not learn the line. We feed inih through our own reader, which counts the
 * lines it hands out; inih calls the handler right after reading the line
 * that holds the key, so the count is that key's line.
 */
#ifndef RELAY_INI_LINES_H
#define RELAY_INI_LINES_H

#include <stdio.h>

struct ini_lines {
    FILE *fp;
    int line;
};

typedef int (*ini_lines_handler)(void *user, const char *section,
                                 const char *name, const char *value);

/* ini_lines_parse - parse path; *line_out tracks the current line for the
 * handler. Returns 0, -1 if the file cannot be opened, or the line of the
 * first syntax error or handler refusal. */
int ini_lines_parse(const char *path, struct ini_lines *il,
                    ini_lines_handler h, void *user);

#endif
