/*
 * policy_parse.c - a policy file's text into struct policy.
 *
 * The format is written down at the top of policy/default.policy: lines
 * of "[section]" and "key = value", '#' or ';' starting a comment anywhere
 * on a line, blank lines ignored, LF or CRLF line ends. Every section and
 * every key of the table below is required, exactly once; there are no
 * defaults, so a policy file always says the whole regime.
 *
 * DIAGNOSTICS: the first problem ends the parse, and its description goes
 * into the caller's buffer: "line N: ..." for a bad line (a control
 * character or NUL byte, a line over POL_LINE_MAX characters, a line that
 * is neither a section header nor "key = value", an unknown or repeated
 * section, a key outside any section, an unknown or repeated key, an
 * empty value, or a value that does not fit its key), and, once the whole
 * text is read, "missing section [s]" or "missing [s] key" for the first
 * required thing, in the order of the table below, that never appeared.
 *
 * SECURITY: the text is untrusted (an operator's file, or an argument of
 * relayctl). It need not be NUL-terminated: every read is bounded by len.
 * Numbers saturate before they can overflow and are range-checked before
 * use. Quoted values in messages are cut to 40 bytes. No allocation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "policy_private.h"

enum sec {
    SEC_REGIME,
    SEC_LEVELS,
    SEC_DEADLINES,
    SEC_ESCALATION,
    SEC_PRIORITY,
    SEC_DRILL,
    SEC_OFFLINE,
    SEC_N
};

static const char *const sec_names[SEC_N] = {
    "regime",   "levels", "deadlines", "escalation",
    "priority", "drill",  "offline",
};

/* Relay__InfoClass and Relay__HarmKind values (policy.h), for the
 * [levels] keys "<class>.<harm>". */
enum {
    C_NON_CORE = 1,
    C_CORE,
    C_OFFICIAL_SECRET,
    C_SENSITIVE,
    C_CI_CORE,
    C_STATE_SECRET
};
enum { H_LEAK = 1, H_TAMPER, H_OUTAGE };

/* Relay__Sector names; index = enum value. */
static const char *const sector_names[POL_SECTORS] = {
    "none",    "defense",         "ict",    "energy",        "transport",
    "finance", "disaster_relief", "health", "public_safety", "government",
};

#define SHOW_MAX 40 /* bytes of a bad value quoted in a message */

/* A piece of the text: not NUL-terminated. */
struct tok {
    const char *s;
    size_t n;
};

/* printf arguments for "%.*s" of a token, cut to SHOW_MAX */
#define SHOW(t) (int)((t).n > SHOW_MAX ? SHOW_MAX : (t).n), (t).s

#define NKEYS_MAX 48 /* room in parser.key_line; checked against the table */

struct parser {
    struct policy *p;
    char *err;
    size_t errlen;
    int line;                /* current line, 1-based; 0 after the text */
    int sec;                 /* enum sec; -1 before the first header */
    int sec_line[SEC_N];     /* line of each section's header; 0: not seen */
    int key_line[NKEYS_MAX]; /* line of each key of key_table; 0: not seen */
};

/* perr - write "line N: <message>" (or just the message after the text)
 * into the caller's buffer; always -1 */
static int perr(struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int
perr(struct parser *ps, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (ps->err == NULL || ps->errlen == 0)
        return -1;
    ps->err[0] = '\0';
    if (ps->line > 0)
        n = snprintf(ps->err, ps->errlen, "line %d: ", ps->line);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* is_blank - space or tab */
static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* is_digit - '0'..'9', without locale */
static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* trim - t without leading and trailing blanks */
static struct tok
trim(struct tok t)
{
    while (t.n > 0 && is_blank(t.s[0])) {
        t.s++;
        t.n--;
    }
    while (t.n > 0 && is_blank(t.s[t.n - 1]))
        t.n--;
    return t;
}

/* tok_eq - whether t is exactly the string s */
static int
tok_eq(struct tok t, const char *s)
{
    return t.n == strlen(s) && memcmp(t.s, s, t.n) == 0;
}

/* split - the blank-separated words of v; stores at most max of them in
 * w[] and returns how many there are */
static size_t
split(struct tok v, struct tok *w, size_t max)
{
    size_t count = 0, i = 0;

    while (i < v.n) {
        size_t start;

        while (i < v.n && is_blank(v.s[i]))
            i++;
        if (i == v.n)
            break;
        start = i;
        while (i < v.n && !is_blank(v.s[i]))
            i++;
        if (count < max)
            w[count] = (struct tok){v.s + start, i - start};
        count++;
    }
    return count;
}

#define NUMBER_SAT 1000000000L /* get_number saturates here */

/* get_number - t as a decimal number, saturating at NUMBER_SAT; 0, or -1
 * when t is empty or has anything but digits */
static int
get_number(struct tok t, long *out)
{
    long v = 0;

    if (t.n == 0)
        return -1;
    for (size_t i = 0; i < t.n; i++) {
        if (!is_digit(t.s[i]))
            return -1;
        if (v < NUMBER_SAT)
            v = v * 10 + (t.s[i] - '0');
    }
    *out = v < NUMBER_SAT ? v : NUMBER_SAT;
    return 0;
}

/* ---- values, one setter per kind of key; arg comes from key_table ---- */

typedef int (*setter)(struct parser *ps, int arg, struct tok v);

/* int_field - the int member of the policy at byte offset off */
static int *
int_field(struct parser *ps, int off)
{
    return (int *)(void *)((char *)ps->p + off);
}

/* set_name - [regime] name: free text, 1..63 bytes */
static int
set_name(struct parser *ps, int arg, struct tok v)
{
    if (v.n >= sizeof(ps->p->name))
        return perr(ps, "name longer than %zu characters",
                    sizeof(ps->p->name) - 1);
    memcpy(ps->p->name, v.s, v.n);
    ps->p->name[v.n] = '\0';
    return 0;
}

/* set_timezone - [regime] timezone: +HH:MM or -HH:MM, at most 14:00 */
static int
set_timezone(struct parser *ps, int arg, struct tok v)
{
    const char *s = v.s;
    int hh, mm;

    if (v.n != 6 || (s[0] != '+' && s[0] != '-') || !is_digit(s[1]) ||
        !is_digit(s[2]) || s[3] != ':' || !is_digit(s[4]) || !is_digit(s[5]))
        goto bad;
    hh = (s[1] - '0') * 10 + (s[2] - '0');
    mm = (s[4] - '0') * 10 + (s[5] - '0');
    if (mm > 59 || hh * 60 + mm > 14 * 60)
        goto bad;
    ps->p->tz_offset_s = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    return 0;
bad:
    return perr(ps, "timezone '%.*s': expected +HH:MM or -HH:MM, at most 14:00",
                SHOW(v));
}

/* set_level_names - [regime] levels: four distinct names for levels 1..4 */
static int
set_level_names(struct parser *ps, int arg, struct tok v)
{
    struct tok w[POL_LEVELS];
    size_t n = split(v, w, POL_LEVELS);

    if (n != POL_LEVELS)
        return perr(ps, "levels: expected %d names, got %zu", POL_LEVELS, n);
    for (size_t i = 0; i < POL_LEVELS; i++) {
        char *name = ps->p->level_name[i + 1];

        if (w[i].n >= sizeof(ps->p->level_name[0]))
            return perr(ps, "level name '%.*s' longer than %zu characters",
                        SHOW(w[i]), sizeof(ps->p->level_name[0]) - 1);
        for (size_t j = 0; j < i; j++)
            if (w[j].n == w[i].n && memcmp(w[j].s, w[i].s, w[i].n) == 0)
                return perr(ps, "level name '%.*s' used twice", SHOW(w[i]));
        memcpy(name, w[i].s, w[i].n);
        name[w[i].n] = '\0';
    }
    return 0;
}

/* get_table_level - one entry of the level table: '-' (0) or 1..4 */
static int
get_table_level(struct parser *ps, struct tok t, unsigned char *out)
{
    long v;

    if (tok_eq(t, "-")) {
        *out = 0;
        return 0;
    }
    if (get_number(t, &v) < 0)
        return perr(ps, "level '%.*s': expected - or 1..%d", SHOW(t),
                    POL_LEVELS);
    if (v < 1 || v > POL_LEVELS)
        return perr(ps, "level '%.*s' out of range 1..%d", SHOW(t), POL_LEVELS);
    *out = (unsigned char)v;
    return 0;
}

/* set_table - [levels] <class>.<harm> = <minor> <severe> (R-LEVEL-1);
 * arg = class * POL_HARMS + harm */
static int
set_table(struct parser *ps, int arg, struct tok v)
{
    unsigned char *row = ps->p->table[arg / POL_HARMS][arg % POL_HARMS];
    struct tok w[2];
    size_t n = split(v, w, 2);

    if (n != 2)
        return perr(ps, "expected 2 levels (minor severe), got %zu", n);
    if (get_table_level(ps, w[0], &row[1]) < 0 ||
        get_table_level(ps, w[1], &row[2]) < 0)
        return -1;
    return 0;
}

/* get_span - '-', Nm, Nh, Nd or Nmo with N in 1..POL_SPAN_MAX */
static int
get_span(struct parser *ps, struct tok t, struct pol_span *out)
{
    struct tok count = {t.s, 0}, unit;
    long n;

    if (tok_eq(t, "-")) {
        *out = (struct pol_span){POL_U_NONE, 0};
        return 0;
    }
    while (count.n < t.n && is_digit(t.s[count.n]))
        count.n++;
    unit = (struct tok){t.s + count.n, t.n - count.n};
    if (tok_eq(unit, "m"))
        out->unit = POL_U_MINUTES;
    else if (tok_eq(unit, "h"))
        out->unit = POL_U_HOURS;
    else if (tok_eq(unit, "d"))
        out->unit = POL_U_DAYS;
    else if (tok_eq(unit, "mo"))
        out->unit = POL_U_MONTHS;
    else
        count.n = 0; /* no known unit: report the shape, below */
    if (get_number(count, &n) < 0)
        return perr(ps, "span '%.*s': expected -, Nm, Nh, Nd or Nmo", SHOW(t));
    if (n < 1 || n > POL_SPAN_MAX)
        return perr(ps, "span '%.*s': count out of range 1..%d", SHOW(t),
                    POL_SPAN_MAX);
    out->n = (int)n;
    return 0;
}

/* set_deadline - [deadlines] <name> = <l1> <l2> <l3> <l4> from <anchor>;
 * arg = enum pol_deadline */
static int
set_deadline(struct parser *ps, int arg, struct tok v)
{
    static const char *const anchors[] = {"aware", "report", "review"};
    struct pol_deadline_rule *rule = &ps->p->deadline[arg];
    struct tok w[POL_LEVELS + 2];
    size_t n = split(v, w, POL_LEVELS + 2);

    if (n != POL_LEVELS + 2 || !tok_eq(w[POL_LEVELS], "from"))
        return perr(ps, "expected %d spans then 'from aware|report|review'",
                    POL_LEVELS);
    for (int level = 1; level <= POL_LEVELS; level++)
        if (get_span(ps, w[level - 1], &rule->by_level[level]) < 0)
            return -1;
    for (int a = 0; a < 3; a++) {
        if (tok_eq(w[POL_LEVELS + 1], anchors[a])) {
            rule->anchor = a; /* POL_A_AWARE, POL_A_REPORT, POL_A_REVIEW */
            return 0;
        }
    }
    return perr(ps, "anchor '%.*s': expected aware, report or review",
                SHOW(w[POL_LEVELS + 1]));
}

/* set_esc_level - [escalation] *_level: 0 (never) or 1..4; arg = offset */
static int
set_esc_level(struct parser *ps, int arg, struct tok v)
{
    long n;

    if (get_number(v, &n) < 0)
        return perr(ps, "level '%.*s': expected 0..%d", SHOW(v), POL_LEVELS);
    if (n > POL_LEVELS)
        return perr(ps, "level '%.*s' out of range 0..%d", SHOW(v), POL_LEVELS);
    *int_field(ps, arg) = (int)n;
    return 0;
}

/* set_yes_no - yes (1) or no (0); arg = offset */
static int
set_yes_no(struct parser *ps, int arg, struct tok v)
{
    if (tok_eq(v, "yes"))
        *int_field(ps, arg) = 1;
    else if (tok_eq(v, "no"))
        *int_field(ps, arg) = 0;
    else
        return perr(ps, "value '%.*s': expected yes or no", SHOW(v));
    return 0;
}

/* set_sectors - [priority] sectors: ranks 0, 1, .. in order (R-PRIORITY) */
static int
set_sectors(struct parser *ps, int arg, struct tok v)
{
    unsigned char *rank = ps->p->sector_rank;
    struct tok w[16]; /* more than the 9 sectors: a 10th is always an error */
    size_t n = split(v, w, 16);

    for (int s = 0; s < POL_SECTORS; s++)
        rank[s] = POL_RANK_NONE;
    for (size_t i = 0; i < n && i < 16; i++) {
        int s = 1;

        if (tok_eq(w[i], sector_names[0]))
            return perr(ps, "sector 'none' cannot be ranked (it is last)");
        while (s < POL_SECTORS && !tok_eq(w[i], sector_names[s]))
            s++;
        if (s == POL_SECTORS)
            return perr(ps, "unknown sector '%.*s'", SHOW(w[i]));
        if (rank[s] != POL_RANK_NONE)
            return perr(ps, "sector '%.*s' listed twice", SHOW(w[i]));
        rank[s] = (unsigned char)i;
    }
    return 0;
}

/* set_fraction - [drill] fraction: N/D with 0 < N <= D <= 1000000 */
static int
set_fraction(struct parser *ps, int arg, struct tok v)
{
    const char *slash = memchr(v.s, '/', v.n);
    long num, den;

    if (slash == NULL ||
        get_number((struct tok){v.s, (size_t)(slash - v.s)}, &num) < 0 ||
        get_number((struct tok){slash + 1, v.n - (size_t)(slash - v.s) - 1},
                   &den) < 0 ||
        num > 1000000 || den > 1000000)
        return perr(ps, "fraction '%.*s': expected N/D", SHOW(v));
    if (den == 0)
        return perr(ps, "fraction '%.*s' has a zero denominator", SHOW(v));
    if (num == 0)
        return perr(ps, "fraction '%.*s' is zero", SHOW(v));
    if (num > den)
        return perr(ps, "fraction '%.*s' is greater than 1", SHOW(v));
    ps->p->drill_num = (int)num;
    ps->p->drill_den = (int)den;
    return 0;
}

/* set_scenarios - [drill] scenarios: 1..1000 */
static int
set_scenarios(struct parser *ps, int arg, struct tok v)
{
    long n;

    if (get_number(v, &n) < 0 || n < 1 || n > 1000)
        return perr(ps, "scenarios '%.*s': expected 1..1000", SHOW(v));
    ps->p->drill_scenarios = (int)n;
    return 0;
}

/* set_duration - a plain duration, Nm or Nh; arg = offset of an int64_t.
 * Days and months are calendar units and make no sense here. */
static int
set_duration(struct parser *ps, int arg, struct tok v)
{
    struct tok count = {v.s, v.n > 0 ? v.n - 1 : 0};
    int64_t unit = 0;
    long n;

    if (v.n > 0 && v.s[v.n - 1] == 'm')
        unit = POL_US_MINUTE;
    else if (v.n > 0 && v.s[v.n - 1] == 'h')
        unit = POL_US_HOUR;
    if (unit == 0 || get_number(count, &n) < 0 || n < 1 || n > POL_SPAN_MAX)
        return perr(ps, "duration '%.*s': expected Nm or Nh, N in 1..%d",
                    SHOW(v), POL_SPAN_MAX);
    *(int64_t *)(void *)((char *)ps->p + arg) = n * unit;
    return 0;
}

/* ---- the keys ---- */

struct key_row {
    int sec; /* enum sec */
    const char *key;
    setter set;
    int arg;
};

#define OFF(f) ((int)offsetof(struct policy, f))
#define CELL(cls, harm) ((cls)*POL_HARMS + (harm))

/* Every key of every section, all required. "missing ..." errors name the
 * first absent one in this order. */
static const struct key_row key_table[] = {
    {SEC_REGIME, "name", set_name, 0},
    {SEC_REGIME, "timezone", set_timezone, 0},
    {SEC_REGIME, "levels", set_level_names, 0},

    {SEC_LEVELS, "non_core.leak", set_table, CELL(C_NON_CORE, H_LEAK)},
    {SEC_LEVELS, "non_core.tamper", set_table, CELL(C_NON_CORE, H_TAMPER)},
    {SEC_LEVELS, "non_core.outage", set_table, CELL(C_NON_CORE, H_OUTAGE)},
    {SEC_LEVELS, "core.leak", set_table, CELL(C_CORE, H_LEAK)},
    {SEC_LEVELS, "core.tamper", set_table, CELL(C_CORE, H_TAMPER)},
    {SEC_LEVELS, "core.outage", set_table, CELL(C_CORE, H_OUTAGE)},
    {SEC_LEVELS, "official_secret.leak", set_table,
     CELL(C_OFFICIAL_SECRET, H_LEAK)},
    {SEC_LEVELS, "official_secret.tamper", set_table,
     CELL(C_OFFICIAL_SECRET, H_TAMPER)},
    {SEC_LEVELS, "official_secret.outage", set_table,
     CELL(C_OFFICIAL_SECRET, H_OUTAGE)},
    {SEC_LEVELS, "sensitive.leak", set_table, CELL(C_SENSITIVE, H_LEAK)},
    {SEC_LEVELS, "sensitive.tamper", set_table, CELL(C_SENSITIVE, H_TAMPER)},
    {SEC_LEVELS, "sensitive.outage", set_table, CELL(C_SENSITIVE, H_OUTAGE)},
    {SEC_LEVELS, "ci_core.leak", set_table, CELL(C_CI_CORE, H_LEAK)},
    {SEC_LEVELS, "ci_core.tamper", set_table, CELL(C_CI_CORE, H_TAMPER)},
    {SEC_LEVELS, "ci_core.outage", set_table, CELL(C_CI_CORE, H_OUTAGE)},
    {SEC_LEVELS, "state_secret.leak", set_table, CELL(C_STATE_SECRET, H_LEAK)},
    {SEC_LEVELS, "state_secret.tamper", set_table,
     CELL(C_STATE_SECRET, H_TAMPER)},
    {SEC_LEVELS, "state_secret.outage", set_table,
     CELL(C_STATE_SECRET, H_OUTAGE)},

    {SEC_DEADLINES, "report", set_deadline, POL_D_REPORT},
    {SEC_DEADLINES, "horiz", set_deadline, POL_D_HORIZ},
    {SEC_DEADLINES, "review", set_deadline, POL_D_REVIEW},
    {SEC_DEADLINES, "team", set_deadline, POL_D_TEAM},
    {SEC_DEADLINES, "control", set_deadline, POL_D_CONTROL},
    {SEC_DEADLINES, "support", set_deadline, POL_D_SUPPORT},
    {SEC_DEADLINES, "close", set_deadline, POL_D_CLOSE},
    {SEC_DEADLINES, "copy", set_deadline, POL_D_COPY},

    {SEC_ESCALATION, "ciso_level", set_esc_level, OFF(ciso_level)},
    {SEC_ESCALATION, "offices_level", set_esc_level, OFF(offices_level)},
    {SEC_ESCALATION, "ci_to_homeland", set_yes_no, OFF(ci_to_homeland)},
    {SEC_ESCALATION, "pdpa_level", set_esc_level, OFF(pdpa_level)},
    {SEC_ESCALATION, "closure_review_level", set_esc_level,
     OFF(closure_review_level)},

    {SEC_PRIORITY, "sectors", set_sectors, 0},

    {SEC_DRILL, "fraction", set_fraction, 0},
    {SEC_DRILL, "scenarios", set_scenarios, 0},
    {SEC_DRILL, "window", set_duration, OFF(drill_window_us)},

    {SEC_OFFLINE, "warn_before", set_duration, OFF(offline_warn_us)},
};
#define NKEYS (sizeof(key_table) / sizeof(key_table[0]))
_Static_assert(NKEYS <= NKEYS_MAX, "parser.key_line is too small");

/* ---- lines ---- */

/* do_header - a "[section]" line */
static int
do_header(struct parser *ps, struct tok t)
{
    struct tok name;
    int s;

    if (t.s[t.n - 1] != ']')
        return perr(ps, "expected ']' at the end of the section header");
    name = trim((struct tok){t.s + 1, t.n - 2});
    for (s = 0; s < SEC_N; s++)
        if (tok_eq(name, sec_names[s]))
            break;
    if (s == SEC_N)
        return perr(ps, "unknown section [%.*s]", SHOW(name));
    if (ps->sec_line[s] != 0)
        return perr(ps, "duplicate section [%s] (first on line %d)",
                    sec_names[s], ps->sec_line[s]);
    ps->sec_line[s] = ps->line;
    ps->sec = s;
    return 0;
}

/* do_key - a "key = value" line */
static int
do_key(struct parser *ps, struct tok t)
{
    const char *eq = memchr(t.s, '=', t.n);
    struct tok key, value;
    size_t k;

    if (eq == NULL)
        return perr(ps, "expected [section] or key = value");
    key = trim((struct tok){t.s, (size_t)(eq - t.s)});
    value = trim((struct tok){eq + 1, t.n - (size_t)(eq - t.s) - 1});
    if (key.n == 0)
        return perr(ps, "expected [section] or key = value");
    if (ps->sec < 0)
        return perr(ps, "key '%.*s' outside a section", SHOW(key));
    for (k = 0; k < NKEYS; k++)
        if (key_table[k].sec == ps->sec && tok_eq(key, key_table[k].key))
            break;
    if (k == NKEYS)
        return perr(ps, "unknown key '%.*s' in [%s]", SHOW(key),
                    sec_names[ps->sec]);
    if (ps->key_line[k] != 0)
        return perr(ps, "duplicate key '%s' in [%s] (first on line %d)",
                    key_table[k].key, sec_names[ps->sec], ps->key_line[k]);
    if (value.n == 0)
        return perr(ps, "no value for '%s'", key_table[k].key);
    ps->key_line[k] = ps->line;
    return key_table[k].set(ps, key_table[k].arg, value);
}

/* do_line - one line, without its line end */
static int
do_line(struct parser *ps, struct tok t)
{
    if (t.n > POL_LINE_MAX)
        return perr(ps, "longer than %d characters", POL_LINE_MAX);
    for (size_t i = 0; i < t.n; i++) {
        unsigned char c = (unsigned char)t.s[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return perr(ps, "control character 0x%02x", c);
    }
    for (size_t i = 0; i < t.n; i++) {
        if (t.s[i] == '#' || t.s[i] == ';') {
            t.n = i; /* the rest is a comment */
            break;
        }
    }
    t = trim(t);
    if (t.n == 0)
        return 0;
    return t.s[0] == '[' ? do_header(ps, t) : do_key(ps, t);
}

/* policy_parse - parse a policy file's text into *p */
int
policy_parse(const char *text, size_t len, struct policy *p, char *err,
             size_t errlen)
{
    struct parser ps = {.p = p, .err = err, .errlen = errlen, .sec = -1};
    size_t pos = 0;

    memset(p, 0, sizeof(*p));
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3; /* a UTF-8 byte order mark, as some editors write */
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;

        pos += n + (nl != NULL);
        ps.line++;
        if (n > 0 && start[n - 1] == '\r')
            n--; /* CRLF */
        if (do_line(&ps, (struct tok){start, n}) < 0)
            return -1;
    }

    ps.line = 0; /* what is missing has no line */
    for (size_t k = 0; k < NKEYS; k++) {
        int s = key_table[k].sec;

        if (ps.sec_line[s] == 0)
            return perr(&ps, "missing section [%s]", sec_names[s]);
        if (ps.key_line[k] == 0)
            return perr(&ps, "missing [%s] %s", sec_names[s], key_table[k].key);
    }
    return 0;
}
