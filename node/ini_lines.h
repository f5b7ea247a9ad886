/*
 * ini_lines.h - libinih with line numbers.
 *
 * Debian's libinih is built without INI_HANDLER_LINENO, so the handler does
 * not learn the line. We feed inih through our own reader, which counts the
 * lines it hands out; inih calls the handler right after reading the line
 * that holds the key, so the count is that key's line.
 *
 * inih reads into a fixed buffer (INI_MAX_LINE, 200 bytes in Debian's
 * build). A longer line is cut there: the reader drops the rest of it, so
 * that the tail is not parsed as a line of its own and the count stays
 * right, and records the line in long_line for the handler to refuse.
 */
#ifndef RELAY_INI_LINES_H
#define RELAY_INI_LINES_H

#include <stdio.h>

struct ini_lines {
    FILE *fp;
    int line;
    int long_line; /* line cut at max_line bytes (the rest is dropped), or 0 */
    int max_line;  /* the longest line inih can hold */
};

typedef int (*ini_lines_handler)(void *user, const char *section,
                                 const char *name, const char *value);

/* ini_lines_parse - parse path; *line_out tracks the current line for the
 * handler. Returns 0, -1 if the file cannot be opened, or the line of the
 * first syntax error or handler refusal. */
int ini_lines_parse(const char *path, struct ini_lines *il,
                    ini_lines_handler h, void *user);

#endif
