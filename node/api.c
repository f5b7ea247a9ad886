/*
 * api.c - what every verb of the operator API shares: roles, the error
 * shape, arguments, and matching a path against the table's templates.
 *
 * DIAGNOSTICS: every error reply names its field when one is at fault.
 */
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envelope.h"

static const char *const role_names[] = {"none", "viewer", "reporter", "reviewer", "admin"};

/* api_role_name - the role's name */
const char *
api_role_name(enum api_role r)
{
    return (unsigned)r < sizeof(role_names) / sizeof(role_names[0]) ? role_names[r] : "none";
}

/* api_role_parse - a role's name to the role; ROLE_NONE if unknown */
enum api_role
api_role_parse(const char *s)
{
    for (int i = ROLE_VIEWER; s && i <= ROLE_ADMIN; i++)
        if (strcmp(s, role_names[i]) == 0)
            return (enum api_role)i;
    return ROLE_NONE;
}

/* api_status_code - the error code word of an HTTP status */
static const char *
api_status_code(int status)
{
    switch (status) {
    case 400: return "invalid";
    case 401: return "unauthenticated";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "too_large";
    case 429: return "rate_limited";
    case 503: return "unavailable";
    default: return "internal";
    }
}

/* api_error - {"error":{code,message,field}} with r->status set */
json_t *
api_error(struct api_req *r, int status, const char *field, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->status = status;
    return json_pack("{s:{s:s,s:s,s:s?}}", "error", "code", api_status_code(status), "message",
                     msg, "field", field);
}

/* api_ok - {"ok": true} */
json_t *
api_ok(void)
{
    return json_pack("{s:b}", "ok", 1);
}

/* api_str - args[key] as a string, or NULL */
const char *
api_str(struct api_req *r, const char *key)
{
    return json_string_value(json_object_get(r->args, key));
}

/* api_int - args[key] as an integer within [min, max] */
int
api_int(struct api_req *r, const char *key, long long def, long long min, long long max,
        long long *out, json_t **err)
{
    json_t *v = json_object_get(r->args, key);
    long long x;

    if (v == NULL || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        x = strtoll(s, &end, 10);
        if (*s == '\0' || *end != '\0' || errno != 0)
            goto bad;
    } else {
        goto bad;
    }
    if (x < min || x > max)
        goto bad;
    *out = x;
    return 0;
bad:
    *err = api_error(r, 400, key, "%s: must be an integer from %lld to %lld", key, min, max);
    return -1;
}

/* api_time - an ISO 8601 UTC time, or null for 0 */
json_t *
api_time(int64_t us)
{
    char buf[40];

    if (us == 0)
        return json_null();
    clock_format_iso(us, buf, sizeof(buf));
    return json_string(buf);
}

/* api_id - args[key] as a 16-byte id (32 hex digits); 0 or -1 */
int
api_id(struct api_req *r, const char *key, uint8_t id[16])
{
    const char *s = api_str(r, key);

    return s && env_id_parse(s, id) == 0 ? 0 : -1;
}
