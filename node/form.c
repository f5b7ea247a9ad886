/*
 * form.c - the operator's JSON forms to message kinds, and messages to JSON.
 *
 * form_to_body reads one JSON object per verb into the matching kind of
 * Relay__Body, field by field in a fixed order; form_body_json and
 * form_incident_json render stored messages and records with the same names.
 * Enum names come from the generated descriptors (lower-cased), sectors from
 * the directory and tiers from the configuration, so one spelling is used
 * everywhere.
 *
 * DIAGNOSTICS: the first problem is reported and reading stops: an unknown
 * field (checked before any value), a missing required field, a wrong JSON
 * type, a value out of range, a string too long, not UTF-8 or holding NUL.
 * Fields are named by path: "harms[1].severity", "damage.delay",
 * "audience.tiers[0]". A failed read frees what it built.
 *
 * SECURITY: what form_to_body builds is signed by this node and read by every
 * node on its way, so nothing is copied unchecked: every string is bounded
 * (FORM_STR_MAX, node ids FORM_NODE_MAX), UTF-8 and NUL-free, levels are
 * 1..4 and enums are named values other than the unspecified zero. Rendering
 * trusts the stored message no more: unknown enum values render as
 * "unknown_<n>", ids of odd size as plain hex, invalid UTF-8 as '?'.
 */
#include "form.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "directory.h"
#include "envelope.h"
#include "keys.h"
#include "plan.h"

/* Flags for string fields. */
#define RD_REQ 1u    /* must be present and not empty */
#define RD_NODE 2u   /* a node id: at most FORM_NODE_MAX bytes */
#define RD_FULL 4u   /* list items: must not be empty */
#define RD_UNIQUE 8u /* list items: no item twice */

/* One JSON object being read, and how its fields are named in errors. */
struct rd {
    json_t *o;
    const char *prefix; /* "" at the top, "harms[1]." inside */
    char *err;
    size_t errlen;
};

/* The verbs and the kinds they build. */
static const struct {
    const char *verb;
    Relay__Body__KindCase kind;
} verbs[] = {
    {"report", RELAY__BODY__KIND_REPORT},
    {"update", RELAY__BODY__KIND_UPDATE},
    {"request-level", RELAY__BODY__KIND_LEVEL_REQUEST},
    {"review", RELAY__BODY__KIND_REVIEW},
    {"close", RELAY__BODY__KIND_CLOSURE},
    {"withdraw", RELAY__BODY__KIND_WITHDRAWAL},
    {"advisory", RELAY__BODY__KIND_ADVISORY},
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

/* ------------------------------------------------------------ reading */

/* utf8_seq - length of the valid UTF-8 sequence at p (n bytes left), or 0 */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
    size_t len;
    uint32_t c;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
        c = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        c = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        c = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
        return 0;
    if (len == 4 && (c < 0x10000 || c > 0x10ffff))
        return 0;
    return len;
}

/* utf8_valid - 1 if the n bytes at s are UTF-8 */
static int
utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;

    while (i < n) {
        if ((k = utf8_seq(p + i, n - i)) == 0)
            return 0;
        i += k;
    }
    return 1;
}

/* say - write a message into the caller's error buffer, return rc */
static int __attribute__((format(printf, 3, 4)))
say(const struct rd *r, int rc, const char *fmt, ...)
{
    va_list ap;

    if (r->err != NULL && r->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(r->err, r->errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* rd_fail - "field '<prefix><key>[ix]': why"; ix < 0 for no index */
static int
rd_fail(const struct rd *r, const char *key, long ix, const char *why)
{
    char name[160];

    if (ix >= 0)
        snprintf(name, sizeof(name), "%s%s[%ld]", r->prefix, key, ix);
    else
        snprintf(name, sizeof(name), "%s%s", r->prefix, key);
    return say(r, RL_EINVAL, "field '%s': %s", name, why);
}

/* rd_oom - report an allocation failure */
static int
rd_oom(const struct rd *r)
{
    return say(r, RL_ENOMEM, "out of memory");
}

/* rd_only - refuse any field of the object not listed in keys (NULL-ended) */
static int
rd_only(const struct rd *r, const char *const *keys)
{
    const char *k;
    size_t klen;
    json_t *v;

    json_object_keylen_foreach(r->o, k, klen, v)
    {
        size_t i;

        for (i = 0; keys[i] != NULL; i++)
            if (strlen(keys[i]) == klen && memcmp(keys[i], k, klen) == 0)
                break;
        if (keys[i] == NULL)
            return say(r, RL_EINVAL, "unknown field '%s%s'", r->prefix, k);
    }
    return RL_OK;
}

/* enum_lower - lower-case proto name of value in desc into buf, or NULL */
static const char *
enum_lower(const ProtobufCEnumDescriptor *desc, int value, char *buf,
           size_t len)
{
    const ProtobufCEnumValue *ev =
        protobuf_c_enum_descriptor_get_value(desc, value);
    size_t i;

    if (ev == NULL)
        return NULL;
    for (i = 0; ev->name[i] != '\0' && i + 1 < len; i++)
        buf[i] = (char)((ev->name[i] >= 'A' && ev->name[i] <= 'Z')
                            ? ev->name[i] - 'A' + 'a'
                            : ev->name[i]);
    buf[i] = '\0';
    return buf;
}

/* enum_parse - value of the lower-case name s in desc, 0 (unspecified) if
 * none; the zero value itself is never accepted */
static int
enum_parse(const ProtobufCEnumDescriptor *desc, const char *s)
{
    char name[64];

    for (unsigned i = 0; i < desc->n_values; i++) {
        int v = desc->values[i].value;

        if (v != 0 && enum_lower(desc, v, name, sizeof(name)) != NULL &&
            strcmp(name, s) == 0)
            return v;
    }
    return 0;
}

/* list_add - append ", name" (or "name" first) to the reason in buf */
static void
list_add(char *buf, size_t len, const char *name)
{
    size_t used = strlen(buf);
    const char *lead = "must be one of ";

    if (used < strlen(lead) || used + 1 >= len)
        return;
    snprintf(buf + used, len - used, "%s%s", used == strlen(lead) ? "" : ", ",
             name);
}

/* enum_reason - "must be one of a, b, c" for the named values of desc */
static void
enum_reason(const ProtobufCEnumDescriptor *desc, char *buf, size_t len)
{
    char name[64];

    snprintf(buf, len, "must be one of ");
    for (unsigned i = 0; i < desc->n_values; i++)
        if (desc->values[i].value != 0 &&
            enum_lower(desc, desc->values[i].value, name, sizeof(name)))
            list_add(buf, len, name);
}

/* chk_str - check v is an acceptable string; *s points into v */
static int
chk_str(const struct rd *r, const char *key, long ix, json_t *v, unsigned flags,
        const char **s)
{
    size_t max = (flags & RD_NODE) ? FORM_NODE_MAX : FORM_STR_MAX;
    size_t n;

    if (!json_is_string(v))
        return rd_fail(r, key, ix, "must be a string");
    *s = json_string_value(v);
    n = json_string_length(v);
    if (strlen(*s) != n)
        return rd_fail(r, key, ix, "must not contain NUL characters");
    if (n > max)
        return rd_fail(r, key, ix,
                       (flags & RD_NODE)
                           ? "must be a node id of at most 63 bytes"
                           : "must be at most 8192 bytes");
    if (!utf8_valid(*s, n))
        return rd_fail(r, key, ix, "must be valid UTF-8");
    if (n == 0 && (flags & (RD_REQ | RD_FULL)))
        return rd_fail(r, key, ix, "must not be empty");
    return RL_OK;
}

/* rd_str - copy string field key into *out (malloc); absent leaves *out */
static int
rd_str(const struct rd *r, const char *key, unsigned flags, char **out)
{
    json_t *v = json_object_get(r->o, key);
    const char *s;
    char *copy;
    int rc;

    if (v == NULL)
        return (flags & RD_REQ) ? rd_fail(r, key, -1, "required") : RL_OK;
    if ((rc = chk_str(r, key, -1, v, flags, &s)) != RL_OK)
        return rc;
    if ((copy = strdup(s)) == NULL)
        return rd_oom(r);
    *out = copy;
    return RL_OK;
}

/* rd_strs - copy an array of strings into *out, count in *n (malloc); the
 * array is in place before it is filled, so a failure leaves it freeable */
static int
rd_strs(const struct rd *r, const char *key, unsigned flags, size_t *n,
        char ***out)
{
    json_t *v = json_object_get(r->o, key), *item;
    const char *s;
    size_t i, j;
    int rc;

    if (v == NULL)
        return RL_OK;
    if (!json_is_array(v))
        return rd_fail(r, key, -1, "must be an array of strings");
    if (json_array_size(v) == 0)
        return RL_OK;
    if ((*out = calloc(json_array_size(v), sizeof(char *))) == NULL)
        return rd_oom(r);
    json_array_foreach(v, i, item)
    {
        if ((rc = chk_str(r, key, (long)i, item, flags, &s)) != RL_OK)
            return rc;
        for (j = 0; (flags & RD_UNIQUE) && j < *n; j++)
            if (strcmp((*out)[j], s) == 0)
                return rd_fail(r, key, (long)i, "listed twice");
        if (((*out)[*n] = strdup(s)) == NULL)
            return rd_oom(r);
        (*n)++;
    }
    return RL_OK;
}

/* rd_bool - read a boolean field; absent leaves *out */
static int
rd_bool(const struct rd *r, const char *key, protobuf_c_boolean *out)
{
    json_t *v = json_object_get(r->o, key);

    if (v == NULL)
        return RL_OK;
    if (!json_is_boolean(v))
        return rd_fail(r, key, -1, "must be true or false");
    *out = json_is_true(v);
    return RL_OK;
}

/* rd_level - read a required level (or advisory severity) 1..4 */
static int
rd_level(const struct rd *r, const char *key, uint32_t *out)
{
    json_t *v = json_object_get(r->o, key);
    json_int_t n;

    if (v == NULL)
        return rd_fail(r, key, -1, "required");
    n = json_is_integer(v) ? json_integer_value(v) : 0;
    if (n < 1 || n > 4)
        return rd_fail(r, key, -1, "must be an integer 1..4");
    *out = (uint32_t)n;
    return RL_OK;
}

/* rd_time - read an ISO 8601 time with a zone; *given says if present */
static int
rd_time(const struct rd *r, const char *key, int required, int64_t *out,
        int *given)
{
    json_t *v = json_object_get(r->o, key);
    const char *s;
    int rc;

    if (given != NULL)
        *given = v != NULL;
    if (v == NULL)
        return required ? rd_fail(r, key, -1, "required") : RL_OK;
    if ((rc = chk_str(r, key, -1, v, 0, &s)) != RL_OK)
        return rc;
    if (clock_parse_iso(s, out) != 0)
        return rd_fail(r, key, -1,
                       "must be an ISO 8601 time with a zone, e.g. "
                       "2024-05-01T09:30:00+08:00");
    return RL_OK;
}

/* chk_enum - value v as a named value of desc into *out */
static int
chk_enum(const struct rd *r, const char *key, long ix, json_t *v,
         const ProtobufCEnumDescriptor *desc, int *out)
{
    char why[512];
    const char *s;
    int rc;

    if ((rc = chk_str(r, key, ix, v, 0, &s)) != RL_OK)
        return rc;
    if ((*out = enum_parse(desc, s)) == 0) {
        enum_reason(desc, why, sizeof(why));
        return rd_fail(r, key, ix, why);
    }
    return RL_OK;
}

/* rd_enum - read a required enum field */
static int
rd_enum(const struct rd *r, const char *key,
        const ProtobufCEnumDescriptor *desc, int *out)
{
    json_t *v = json_object_get(r->o, key);

    if (v == NULL)
        return rd_fail(r, key, -1, "required");
    return chk_enum(r, key, -1, v, desc, out);
}

/* rd_sector - read an optional sector (dir_sector_parse names) */
static int
rd_sector(const struct rd *r, const char *key, Relay__Sector *out)
{
    json_t *v = json_object_get(r->o, key);
    char why[512];
    const char *s;
    int rc, sector;

    if (v == NULL)
        return RL_OK;
    if ((rc = chk_str(r, key, -1, v, 0, &s)) != RL_OK)
        return rc;
    if ((sector = dir_sector_parse(s)) < 0) {
        snprintf(why, sizeof(why), "must be one of ");
        for (unsigned i = 0; i < relay__sector__descriptor.n_values; i++)
            list_add(why, sizeof(why), dir_sector_name((int)i));
        return rd_fail(r, key, -1, why);
    }
    *out = (Relay__Sector)sector;
    return RL_OK;
}

/* rd_tiers - read an optional array of tier names, none twice */
static int
rd_tiers(const struct rd *r, const char *key, size_t *n, Relay__Tier **out)
{
    json_t *v = json_object_get(r->o, key), *item;
    char why[256];
    const char *s;
    size_t i, j;
    int rc, tier;

    if (v == NULL)
        return RL_OK;
    if (!json_is_array(v))
        return rd_fail(r, key, -1, "must be an array of tier names");
    if (json_array_size(v) == 0)
        return RL_OK;
    if ((*out = calloc(json_array_size(v), sizeof(Relay__Tier))) == NULL)
        return rd_oom(r);
    json_array_foreach(v, i, item)
    {
        if ((rc = chk_str(r, key, (long)i, item, 0, &s)) != RL_OK)
            return rc;
        if ((tier = config_tier_parse(s)) == TIER_NONE) {
            snprintf(why, sizeof(why), "must be one of ");
            for (int t = TIER_AGENCY; t <= TIER_OFFICE; t++)
                list_add(why, sizeof(why), config_tier_name(t));
            return rd_fail(r, key, (long)i, why);
        }
        for (j = 0; j < *n; j++)
            if ((int)(*out)[j] == tier)
                return rd_fail(r, key, (long)i, "listed twice");
        (*out)[(*n)++] = (Relay__Tier)tier;
    }
    return RL_OK;
}

/* rd_id - read a 32-hex-digit id field into *out; required or optional */
static int
rd_id(const struct rd *r, const char *key, int required, ProtobufCBinaryData *out)
{
    json_t *v = json_object_get(r->o, key);
    uint8_t id[ENV_ID_LEN];
    const char *s;
    int rc;

    if (v == NULL)
        return required ? rd_fail(r, key, -1, "required") : RL_OK;
    if ((rc = chk_str(r, key, -1, v, 0, &s)) != RL_OK)
        return rc;
    if (env_id_parse(s, id) != 0)
        return rd_fail(r, key, -1, "must be 32 hex digits (a message id)");
    if ((out->data = malloc(ENV_ID_LEN)) == NULL)
        return rd_oom(r);
    memcpy(out->data, id, ENV_ID_LEN);
    out->len = ENV_ID_LEN;
    return RL_OK;
}

/* rd_incident - read the required "incident" id */
static int
rd_incident(const struct rd *r, ProtobufCBinaryData *out)
{
    return rd_id(r, "incident", 1, out);
}

/* rd_sub - enter the object field key (index ix, or -1) as *sub */
static int
rd_sub(const struct rd *r, const char *key, long ix, json_t *v, struct rd *sub,
       char *prefix, size_t len)
{
    if (!json_is_object(v))
        return rd_fail(r, key, ix, "must be an object");
    if (ix >= 0)
        snprintf(prefix, len, "%s%s[%ld].", r->prefix, key, ix);
    else
        snprintf(prefix, len, "%s%s.", r->prefix, key);
    *sub = *r;
    sub->o = v;
    sub->prefix = prefix;
    return RL_OK;
}

/* rd_harms - read the required, non-empty "harms" array */
static int
rd_harms(const struct rd *r, Relay__IncidentReport *m)
{
    static const char *const keys[] = {"kind", "class", "severity", NULL};
    json_t *v = json_object_get(r->o, "harms"), *item;
    char prefix[160];
    struct rd sub;
    size_t i;
    int rc, kind, cls, sev;

    if (v == NULL)
        return rd_fail(r, "harms", -1, "required");
    if (!json_is_array(v))
        return rd_fail(r, "harms", -1, "must be an array of objects");
    if (json_array_size(v) == 0)
        return rd_fail(r, "harms", -1, "must not be empty");
    if ((m->harms = calloc(json_array_size(v), sizeof(Relay__Harm *))) == NULL)
        return rd_oom(r);
    json_array_foreach(v, i, item)
    {
        Relay__Harm *h;

        if ((rc = rd_sub(r, "harms", (long)i, item, &sub, prefix,
                         sizeof(prefix))) != RL_OK ||
            (rc = rd_only(&sub, keys)) != RL_OK ||
            (rc = rd_enum(&sub, "kind", &relay__harm_kind__descriptor,
                          &kind)) != RL_OK ||
            (rc = rd_enum(&sub, "class", &relay__info_class__descriptor,
                          &cls)) != RL_OK ||
            (rc = rd_enum(&sub, "severity", &relay__severity__descriptor,
                          &sev)) != RL_OK)
            return rc;
        if ((h = malloc(sizeof(*h))) == NULL)
            return rd_oom(r);
        relay__harm__init(h);
        h->kind = (Relay__HarmKind)kind;
        h->class_ = (Relay__InfoClass)cls;
        h->severity = (Relay__Severity)sev;
        m->harms[m->n_harms++] = h;
    }
    return RL_OK;
}

/* rd_damage - read the optional "damage" object */
static int
rd_damage(const struct rd *r, Relay__IncidentReport *m)
{
    static const char *const keys[] = {
        "operational_impact", "equipment_damage",   "delay", "data_damaged",
        "estimated_recovery", "backup_site_status", NULL};
    json_t *v = json_object_get(r->o, "damage");
    Relay__DamageAssessment *d;
    char prefix[160];
    struct rd sub;
    int rc;

    if (v == NULL)
        return RL_OK;
    if ((rc = rd_sub(r, "damage", -1, v, &sub, prefix, sizeof(prefix))) !=
            RL_OK ||
        (rc = rd_only(&sub, keys)) != RL_OK)
        return rc;
    if ((d = malloc(sizeof(*d))) == NULL)
        return rd_oom(r);
    relay__damage_assessment__init(d);
    m->damage = d;
    if ((rc = rd_str(&sub, "operational_impact", 0, &d->operational_impact)) ||
        (rc = rd_str(&sub, "equipment_damage", 0, &d->equipment_damage)) ||
        (rc = rd_str(&sub, "delay", 0, &d->delay)) ||
        (rc = rd_str(&sub, "data_damaged", 0, &d->data_damaged)) ||
        (rc = rd_str(&sub, "estimated_recovery", 0, &d->estimated_recovery)) ||
        (rc = rd_str(&sub, "backup_site_status", 0, &d->backup_site_status)))
        return rc;
    return RL_OK;
}

/* form_report - the report form (R-FORM, R-CATEGORY) */
static int
form_report(const struct rd *r, int64_t now_us, Relay__Body *body)
{
    static const char *const keys[] = {"title",          "aware_at",
                                       "reported_at",    "level",
                                       "category",       "harms",
                                       "facts",          "scope",
                                       "damage",         "support_requested",
                                       "measures_taken", "affected_agencies",
                                       "ci_sector",      "personal_data",
                                       "drill",          "drill_of",
                                       NULL};
    Relay__IncidentReport *m;
    protobuf_c_boolean drill = 0;
    int rc, category, given;

    if ((rc = rd_only(r, keys)) != RL_OK)
        return rc;
    if ((m = malloc(sizeof(*m))) == NULL)
        return rd_oom(r);
    relay__incident_report__init(m);
    body->report = m;
    body->kind_case = RELAY__BODY__KIND_REPORT;
    m->reported_us = now_us;
    if ((rc = rd_str(r, "title", RD_REQ, &m->title)) ||
        (rc = rd_time(r, "aware_at", 1, &m->aware_us, NULL)) ||
        (rc = rd_time(r, "reported_at", 0, &m->reported_us, &given)))
        return rc;
    if (m->reported_us < m->aware_us)
        return given ? rd_fail(r, "reported_at", -1,
                               "must not be before aware_at")
                     : rd_fail(r, "aware_at", -1, "must not be in the future");
    if ((rc = rd_level(r, "level", &m->claimed_level)) ||
        (rc =
             rd_enum(r, "category", &relay__category__descriptor, &category)) ||
        (rc = rd_harms(r, m)) || (rc = rd_str(r, "facts", RD_REQ, &m->facts)) ||
        (rc = rd_str(r, "scope", 0, &m->scope)) || (rc = rd_damage(r, m)) ||
        (rc = rd_str(r, "support_requested", 0, &m->support_requested)) ||
        (rc = rd_str(r, "measures_taken", 0, &m->measures_taken)) ||
        (rc = rd_strs(r, "affected_agencies", RD_NODE | RD_FULL | RD_UNIQUE,
                      &m->n_affected_agencies, &m->affected_agencies)) ||
        (rc = rd_sector(r, "ci_sector", &m->ci_sector)) ||
        (rc = rd_bool(r, "personal_data", &m->personal_data)) ||
        (rc = rd_bool(r, "drill", &drill)) ||
        (rc = rd_id(r, "drill_of", 0, &m->drill_of)))
        return rc;
    if (m->drill_of.len && !drill)
        return rd_fail(r, "drill_of", -1, "only a drill report answers a drill notice (set \"drill\": true)");
    m->category = (Relay__Category)category;
    body->drill = drill;
    return RL_OK;
}

/* form_update - a status update; it must say something */
static int
form_update(const struct rd *r, Relay__Body *body)
{
    static const char *const keys[] = {
        "incident",  "team_formed", "damage_controlled",
        "recovered", "text",        "subjects_notified", NULL};
    Relay__StatusUpdate *m;
    int rc;

    if ((rc = rd_only(r, keys)) != RL_OK)
        return rc;
    if ((m = malloc(sizeof(*m))) == NULL)
        return rd_oom(r);
    relay__status_update__init(m);
    body->update = m;
    body->kind_case = RELAY__BODY__KIND_UPDATE;
    if ((rc = rd_incident(r, &m->incident)) ||
        (rc = rd_bool(r, "team_formed", &m->team_formed)) ||
        (rc = rd_bool(r, "damage_controlled", &m->damage_controlled)) ||
        (rc = rd_bool(r, "recovered", &m->recovered)) ||
        (rc = rd_str(r, "text", 0, &m->text)) ||
        (rc = rd_bool(r, "subjects_notified", &m->subjects_notified)))
        return rc;
    if (!m->team_formed && !m->damage_controlled && !m->recovered &&
        !m->subjects_notified && m->text[0] == '\0')
        return rd_fail(r, "text", -1,
                       "required unless team_formed, damage_controlled, "
                       "recovered or subjects_notified is true");
    return RL_OK;
}

/* form_level_request - ask the reviewer for another level (R-LEVEL-3) */
static int
form_level_request(const struct rd *r, Relay__Body *body)
{
    static const char *const keys[] = {"incident", "level", "reason", NULL};
    Relay__LevelRequest *m;
    int rc;

    if ((rc = rd_only(r, keys)) != RL_OK)
        return rc;
    if ((m = malloc(sizeof(*m))) == NULL)
        return rd_oom(r);
    relay__level_request__init(m);
    body->level_request = m;
    body->kind_case = RELAY__BODY__KIND_LEVEL_REQUEST;
    if ((rc = rd_incident(r, &m->incident)) ||
        (rc = rd_level(r, "level", &m->level)) ||
        (rc = rd_str(r, "reason", RD_REQ, &m->reason)))
        return rc;
    return RL_OK;
}

/* form_review - a review decision (R-REVIEW, R-CLOSE-REVIEW) */
static int
form_review(const struct rd *r, Relay__Body *body)
{
    static const char *const keys[] = {
        "incident", "verdict", "level", "basis", "closure", "follow_up", NULL};
    Relay__ReviewDecision *m;
    int rc, verdict;

    if ((rc = rd_only(r, keys)) != RL_OK)
        return rc;
    if ((m = malloc(sizeof(*m))) == NULL)
        return rd_oom(r);
    relay__review_decision__init(m);
    body->review = m;
    body->kind_case = RELAY__BODY__KIND_REVIEW;
    if ((rc = rd_incident(r, &m->incident)) ||
        (rc = rd_enum(r, "verdict", &relay__verdict__descriptor, &verdict)) ||
        (rc = rd_level(r, "level", &m->level)) ||
        (rc = rd_str(r, "basis", RD_REQ, &m->basis)) ||
        (rc = rd_bool(r, "closure", &m->closure)) ||
        (rc = rd_str(r, "follow_up", 0, &m->follow_up)))
        return rc;
    m->verdict = (Relay__Verdict)verdict;
    return RL_OK;
}

/* form_closure - the closure report (R-CLOSE-FORM) */
static int
form_closure(const struct rd *r, Relay__Body *body)
{
    static const char *const keys[] = {"incident",
                                       "event_at",
                                       "source_ips",
                                       "target_ips",
                                       "attacker_location",
                                       "attack_method",
                                       "impact_analysis",
                                       "remediation",
                                       "root_cause",
                                       "improve_short",
                                       "improve_mid",
                                       "improve_long",
                                       NULL};
    Relay__ClosureReport *m;
    int rc;

    if ((rc = rd_only(r, keys)) != RL_OK)
        return rc;
    if ((m = malloc(sizeof(*m))) == NULL)
        return rd_oom(r);
    relay__closure_report__init(m);
    body->closure = m;
    body->kind_case = RELAY__BODY__KIND_CLOSURE;
    if ((rc = rd_incident(r, &m->incident)) ||
        (rc = rd_time(r, "event_at", 0, &m->event_us, NULL)) ||
        (rc = rd_strs(r, "source_ips", RD_FULL, &m->n_source_ips,
                      &m->source_ips)) ||
        (rc = rd_strs(r, "target_ips", RD_FULL, &m->n_target_ips,
                      &m->target_ips)) ||
        (rc = rd_str(r, "attacker_location", 0, &m->attacker_location)) ||
        (rc = rd_str(r, "attack_method", 0, &m->attack_method)) ||
        (rc = rd_str(r, "impact_analysis", 0, &m->impact_analysis)) ||
        (rc = rd_str(r, "remediation", 0, &m->remediation)) ||
        (rc = rd_str(r, "root_cause", RD_REQ, &m->root_cause)) ||
        (rc = rd_str(r, "improve_short", 0, &m->improve_short)) ||
        (rc = rd_str(r, "improve_mid", 0, &m->improve_mid)) ||
        (rc = rd_str(r, "improve_long", 0, &m->improve_long)))
        return rc;
    return RL_OK;
}

/* form_withdrawal - withdraw a report filed in error */
static int
form_withdrawal(const struct rd *r, Relay__Body *body)
{
    static const char *const keys[] = {"incident", "reason", NULL};
    Relay__Withdrawal *m;
    int rc;

    if ((rc = rd_only(r, keys)) != RL_OK)
        return rc;
    if ((m = malloc(sizeof(*m))) == NULL)
        return rd_oom(r);
    relay__withdrawal__init(m);
    body->withdrawal = m;
    body->kind_case = RELAY__BODY__KIND_WITHDRAWAL;
    if ((rc = rd_incident(r, &m->incident)) ||
        (rc = rd_str(r, "reason", RD_REQ, &m->reason)))
        return rc;
    return RL_OK;
}

/* rd_audience - read the optional "audience" object of an advisory */
static int
rd_audience(const struct rd *r, Relay__Advisory *m)
{
    static const char *const keys[] = {"scope", "tiers", "sector", NULL};
    json_t *v = json_object_get(r->o, "audience");
    Relay__Audience *a;
    char prefix[160];
    struct rd sub;
    int rc;

    if (v == NULL)
        return RL_OK;
    if ((rc = rd_sub(r, "audience", -1, v, &sub, prefix, sizeof(prefix))) !=
            RL_OK ||
        (rc = rd_only(&sub, keys)) != RL_OK)
        return rc;
    if ((a = malloc(sizeof(*a))) == NULL)
        return rd_oom(r);
    relay__audience__init(a);
    m->audience = a;
    if ((rc = rd_str(&sub, "scope", RD_NODE, &a->scope)) ||
        (rc = rd_tiers(&sub, "tiers", &a->n_tiers, &a->tiers)) ||
        (rc = rd_sector(&sub, "sector", &a->sector)))
        return rc;
    return RL_OK;
}

/* form_advisory - shared intelligence (R-ADVISORY) */
static int
form_advisory(const struct rd *r, Relay__Body *body)
{
    static const char *const keys[] = {"kind", "severity", "title",
                                       "text", "audience", NULL};
    Relay__Advisory *m;
    int rc, kind;

    if ((rc = rd_only(r, keys)) != RL_OK)
        return rc;
    if ((m = malloc(sizeof(*m))) == NULL)
        return rd_oom(r);
    relay__advisory__init(m);
    body->advisory = m;
    body->kind_case = RELAY__BODY__KIND_ADVISORY;
    if ((rc = rd_enum(r, "kind", &relay__intel_kind__descriptor, &kind)) ||
        (rc = rd_level(r, "severity", &m->severity)) ||
        (rc = rd_str(r, "title", RD_REQ, &m->title)) ||
        (rc = rd_str(r, "text", RD_REQ, &m->text)) || (rc = rd_audience(r, m)))
        return rc;
    m->kind = (Relay__IntelKind)kind;
    return RL_OK;
}

/* form_to_body - read the form of verb into body's kind, default skew */
int
form_to_body(const char *verb, json_t *args, int64_t now_us, Relay__Body *body,
             char *err, size_t errlen)
{
    return form_to_body_within(verb, args, now_us, FORM_FUTURE_US, body, err,
                               errlen);
}

/* form_time_bad - why t (field key) is out of [2000-01-01, ref + future], or NULL */
static const char *
form_time_bad(int64_t t, int64_t ref_us, int64_t future_us, char *why, size_t len)
{
    if (t < FORM_TIME_MIN_US)
        return "must not be before 2000-01-01T00:00:00Z";
    if (t - future_us > ref_us) { /* t >= 2000 here: no overflow, whatever ref_us */
        snprintf(why, len, "must not be in the future (more than %lld s ahead)",
                 (long long)(future_us / 1000000));
        return why;
    }
    return NULL;
}

/* form_times_check - the time fields of b's kind against ref_us */
int
form_times_check(const Relay__Body *b, int64_t ref_us, int64_t future_us, char *err,
                 size_t errlen)
{
    struct {
        const char *key;
        int64_t t;
    } f[2];
    size_t nf = 0;
    const char *bad;
    char why[80];

    if (b->kind_case == RELAY__BODY__KIND_REPORT) {
        /* aware <= reported <= ref + future, both from 2000 on */
        f[nf].key = "aware_at";
        f[nf++].t = b->report->aware_us;
        f[nf].key = "reported_at";
        f[nf++].t = b->report->reported_us;
        if (b->report->reported_us < b->report->aware_us) {
            if (err != NULL && errlen > 0)
                snprintf(err, errlen, "field 'reported_at': must not be before aware_at");
            return RL_EINVAL;
        }
    } else if (b->kind_case == RELAY__BODY__KIND_CLOSURE && b->closure->event_us != 0) {
        f[nf].key = "event_at"; /* optional: 0 is "unknown" */
        f[nf++].t = b->closure->event_us;
    }
    for (size_t i = 0; i < nf; i++) {
        if ((bad = form_time_bad(f[i].t, ref_us, future_us, why, sizeof(why))) != NULL) {
            if (err != NULL && errlen > 0)
                snprintf(err, errlen, "field '%s': %s", f[i].key, bad);
            return RL_EINVAL;
        }
    }
    return RL_OK;
}

/* form_to_body_within - read the form; times at most future_us ahead of now */
int
form_to_body_within(const char *verb, json_t *args, int64_t now_us, int64_t future_us,
                    Relay__Body *body, char *err, size_t errlen)
{
    struct rd r = {args, "", err, errlen};
    size_t i;
    int rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    for (i = 0; verb != NULL && i < NVERBS; i++)
        if (strcmp(verb, verbs[i].verb) == 0)
            break;
    if (verb == NULL || i == NVERBS)
        return say(&r, RL_EINVAL,
                   "unknown verb '%s': use report, update, request-level, "
                   "review, close, withdraw or advisory",
                   verb ? verb : "(null)");
    if (body->kind_case != RELAY__BODY__KIND__NOT_SET)
        return say(&r, RL_EINVAL, "body already holds a kind");
    if (!json_is_object(args))
        return say(&r, RL_EINVAL, "the arguments of '%s' must be an object",
                   verb);
    switch (verbs[i].kind) {
    case RELAY__BODY__KIND_REPORT:
        rc = form_report(&r, now_us, body);
        break;
    case RELAY__BODY__KIND_UPDATE:
        rc = form_update(&r, body);
        break;
    case RELAY__BODY__KIND_LEVEL_REQUEST:
        rc = form_level_request(&r, body);
        break;
    case RELAY__BODY__KIND_REVIEW:
        rc = form_review(&r, body);
        break;
    case RELAY__BODY__KIND_CLOSURE:
        rc = form_closure(&r, body);
        break;
    case RELAY__BODY__KIND_WITHDRAWAL:
        rc = form_withdrawal(&r, body);
        break;
    case RELAY__BODY__KIND_ADVISORY:
        rc = form_advisory(&r, body);
        break;
    default:
        rc = say(&r, RL_EINVAL, "verb '%s' has no form", verb);
        break;
    }
    if (rc == RL_OK)
        rc = form_times_check(body, now_us, future_us, err, errlen);
    if (rc != RL_OK)
        form_body_clear(body);
    return rc;
}

/* form_body_clear - free the kind of a body */
void
form_body_clear(Relay__Body *body)
{
    ProtobufCMessage *m = NULL;

    /* every kind begins with its ProtobufCMessage base */
    switch (body->kind_case) {
    case RELAY__BODY__KIND_REPORT:
        m = (ProtobufCMessage *)body->report;
        break;
    case RELAY__BODY__KIND_UPDATE:
        m = (ProtobufCMessage *)body->update;
        break;
    case RELAY__BODY__KIND_LEVEL_REQUEST:
        m = (ProtobufCMessage *)body->level_request;
        break;
    case RELAY__BODY__KIND_REVIEW:
        m = (ProtobufCMessage *)body->review;
        break;
    case RELAY__BODY__KIND_CLOSURE:
        m = (ProtobufCMessage *)body->closure;
        break;
    case RELAY__BODY__KIND_WITHDRAWAL:
        m = (ProtobufCMessage *)body->withdrawal;
        break;
    case RELAY__BODY__KIND_ADVISORY:
        m = (ProtobufCMessage *)body->advisory;
        break;
    case RELAY__BODY__KIND_NOTICE:
        m = (ProtobufCMessage *)body->notice;
        break;
    case RELAY__BODY__KIND_ACK:
        m = (ProtobufCMessage *)body->ack;
        break;
    case RELAY__BODY__KIND_DIRECTORY:
        m = (ProtobufCMessage *)body->directory;
        break;
    default:
        break;
    }
    protobuf_c_message_free_unpacked(m, NULL);
    body->report = NULL;
    body->kind_case = RELAY__BODY__KIND__NOT_SET;
}

/* ---------------------------------------------------------- rendering */

/* put - set o[key] = v (stolen); a failure (v NULL included) marks *bad */
static void
put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (json_object_set_new(o, key, v) != 0)
        *bad = 1;
}

/* js_str - a JSON string of s; invalid UTF-8 bytes become '?' */
static json_t *
js_str(const char *s)
{
    json_t *v;
    char *copy;
    size_t n, i, k;

    if (s == NULL)
        s = "";
    n = strlen(s);
    if (utf8_valid(s, n))
        return json_stringn_nocheck(s, n);
    if ((copy = malloc(n + 1)) == NULL)
        return NULL;
    memcpy(copy, s, n + 1);
    for (i = 0; i < n; i += k)
        if ((k = utf8_seq((unsigned char *)copy + i, n - i)) == 0) {
            copy[i] = '?';
            k = 1;
        }
    v = json_stringn_nocheck(copy, n);
    free(copy);
    return v;
}

/* js_time - an ISO 8601 UTC string of us */
static json_t *
js_time(int64_t us)
{
    char buf[40];

    clock_format_iso(us, buf, sizeof(buf));
    return json_string(buf);
}

/* js_hex - hex of b: env_id_hex for ids, plain hex for any other size */
static json_t *
js_hex(const ProtobufCBinaryData *b)
{
    char id[ENV_ID_HEX], *buf;
    json_t *v;

    if (b->len == ENV_ID_LEN) {
        env_id_hex(b->data, id);
        return json_string(id);
    }
    if ((buf = malloc(2 * b->len + 1)) == NULL)
        return NULL;
    keys_hex(b->data, b->len, buf);
    v = json_string(buf);
    free(buf);
    return v;
}

/* js_enum - lower-case name of value in desc, or "unknown_<n>" */
static json_t *
js_enum(const ProtobufCEnumDescriptor *desc, int value)
{
    char buf[64];

    if (enum_lower(desc, value, buf, sizeof(buf)) == NULL)
        snprintf(buf, sizeof(buf), "unknown_%d", value);
    return json_string(buf);
}

/* js_strs - a JSON array of n strings */
static json_t *
js_strs(size_t n, char *const *s)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, js_str(s[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

/* js_done - o, or NULL (o released) if any put failed */
static json_t *
js_done(json_t *o, int bad)
{
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* js_harms - the harms of a report */
static json_t *
js_harms(const Relay__IncidentReport *m)
{
    json_t *a = json_array(), *h;
    int bad = 0;

    for (size_t i = 0; a != NULL && i < m->n_harms && !bad; i++) {
        if ((h = json_object()) == NULL) {
            bad = 1;
            break;
        }
        put(h, "kind",
            js_enum(&relay__harm_kind__descriptor, m->harms[i]->kind), &bad);
        put(h, "class",
            js_enum(&relay__info_class__descriptor, m->harms[i]->class_), &bad);
        put(h, "severity",
            js_enum(&relay__severity__descriptor, m->harms[i]->severity), &bad);
        if (json_array_append_new(a, h) != 0)
            bad = 1;
    }
    return js_done(a, bad || a == NULL);
}

/* js_damage - the damage assessment of a report */
static json_t *
js_damage(const Relay__DamageAssessment *d)
{
    json_t *o = json_object();
    int bad = 0;

    put(o, "operational_impact", js_str(d->operational_impact), &bad);
    put(o, "equipment_damage", js_str(d->equipment_damage), &bad);
    put(o, "delay", js_str(d->delay), &bad);
    put(o, "data_damaged", js_str(d->data_damaged), &bad);
    put(o, "estimated_recovery", js_str(d->estimated_recovery), &bad);
    put(o, "backup_site_status", js_str(d->backup_site_status), &bad);
    return js_done(o, bad);
}

/* js_report - the report form; drill is the body's, so the form round-trips */
static json_t *
js_report(const Relay__IncidentReport *m, protobuf_c_boolean drill)
{
    json_t *o = json_object();
    int bad = 0;

    put(o, "title", js_str(m->title), &bad);
    put(o, "aware_at", js_time(m->aware_us), &bad);
    put(o, "reported_at", js_time(m->reported_us), &bad);
    put(o, "level", json_integer(m->claimed_level), &bad);
    put(o, "category", js_enum(&relay__category__descriptor, m->category),
        &bad);
    put(o, "harms", js_harms(m), &bad);
    put(o, "facts", js_str(m->facts), &bad);
    put(o, "scope", js_str(m->scope), &bad);
    if (m->damage != NULL)
        put(o, "damage", js_damage(m->damage), &bad);
    put(o, "support_requested", js_str(m->support_requested), &bad);
    put(o, "measures_taken", js_str(m->measures_taken), &bad);
    put(o, "affected_agencies",
        js_strs(m->n_affected_agencies, m->affected_agencies), &bad);
    put(o, "ci_sector", json_string(dir_sector_name(m->ci_sector)), &bad);
    put(o, "personal_data", json_boolean(m->personal_data), &bad);
    put(o, "drill", json_boolean(drill), &bad);
    if (m->drill_of.len)
        put(o, "drill_of", js_hex(&m->drill_of), &bad);
    return js_done(o, bad);
}

/* js_update - a status update */
static json_t *
js_update(const Relay__StatusUpdate *m)
{
    json_t *o = json_object();
    int bad = 0;

    put(o, "incident", js_hex(&m->incident), &bad);
    put(o, "team_formed", json_boolean(m->team_formed), &bad);
    put(o, "damage_controlled", json_boolean(m->damage_controlled), &bad);
    put(o, "recovered", json_boolean(m->recovered), &bad);
    put(o, "text", js_str(m->text), &bad);
    if (m->subjects_notified)
        put(o, "subjects_notified", json_boolean(1), &bad);
    return js_done(o, bad);
}

/* js_level_request - a level request */
static json_t *
js_level_request(const Relay__LevelRequest *m)
{
    json_t *o = json_object();
    int bad = 0;

    put(o, "incident", js_hex(&m->incident), &bad);
    put(o, "level", json_integer(m->level), &bad);
    put(o, "reason", js_str(m->reason), &bad);
    return js_done(o, bad);
}

/* js_review - a review decision */
static json_t *
js_review(const Relay__ReviewDecision *m)
{
    json_t *o = json_object();
    int bad = 0;

    put(o, "incident", js_hex(&m->incident), &bad);
    put(o, "verdict", js_enum(&relay__verdict__descriptor, m->verdict), &bad);
    put(o, "level", json_integer(m->level), &bad);
    put(o, "basis", js_str(m->basis), &bad);
    put(o, "closure", json_boolean(m->closure), &bad);
    put(o, "follow_up", js_str(m->follow_up), &bad);
    return js_done(o, bad);
}

/* js_closure - a closure report; event_at omitted when unknown */
static json_t *
js_closure(const Relay__ClosureReport *m)
{
    json_t *o = json_object();
    int bad = 0;

    put(o, "incident", js_hex(&m->incident), &bad);
    if (m->event_us != 0)
        put(o, "event_at", js_time(m->event_us), &bad);
    put(o, "source_ips", js_strs(m->n_source_ips, m->source_ips), &bad);
    put(o, "target_ips", js_strs(m->n_target_ips, m->target_ips), &bad);
    put(o, "attacker_location", js_str(m->attacker_location), &bad);
    put(o, "attack_method", js_str(m->attack_method), &bad);
    put(o, "impact_analysis", js_str(m->impact_analysis), &bad);
    put(o, "remediation", js_str(m->remediation), &bad);
    put(o, "root_cause", js_str(m->root_cause), &bad);
    put(o, "improve_short", js_str(m->improve_short), &bad);
    put(o, "improve_mid", js_str(m->improve_mid), &bad);
    put(o, "improve_long", js_str(m->improve_long), &bad);
    return js_done(o, bad);
}

/* js_withdrawal - a withdrawal */
static json_t *
js_withdrawal(const Relay__Withdrawal *m)
{
    json_t *o = json_object();
    int bad = 0;

    put(o, "incident", js_hex(&m->incident), &bad);
    put(o, "reason", js_str(m->reason), &bad);
    return js_done(o, bad);
}

/* js_advisory - an advisory; audience only when present */
static json_t *
js_advisory(const Relay__Advisory *m)
{
    json_t *o = json_object(), *a, *tiers;
    int bad = 0;

    put(o, "kind", js_enum(&relay__intel_kind__descriptor, m->kind), &bad);
    put(o, "severity", json_integer(m->severity), &bad);
    put(o, "title", js_str(m->title), &bad);
    put(o, "text", js_str(m->text), &bad);
    if (m->audience != NULL) {
        a = json_object();
        tiers = json_array();
        for (size_t i = 0; tiers != NULL && i < m->audience->n_tiers; i++)
            if (json_array_append_new(tiers, json_string(config_tier_name(
                                                 m->audience->tiers[i]))) != 0)
                bad = 1;
        put(a, "scope", js_str(m->audience->scope), &bad);
        put(a, "tiers", tiers, &bad);
        put(a, "sector", json_string(dir_sector_name(m->audience->sector)),
            &bad);
        put(o, "audience", a, &bad);
    }
    return js_done(o, bad);
}

/* js_notice - a notice made by a node (no form: never typed by an operator) */
static json_t *
js_notice(const Relay__Notice *m)
{
    json_t *o = json_object();
    int bad = 0;

    put(o, "kind", js_enum(&relay__notice_kind__descriptor, m->kind), &bad);
    if (m->incident.len > 0)
        put(o, "incident", js_hex(&m->incident), &bad);
    put(o, "text", js_str(m->text), &bad);
    put(o, "deadline", js_str(m->deadline), &bad);
    if (m->due_us != 0)
        put(o, "due", js_time(m->due_us), &bad);
    put(o, "rule", js_str(m->rule), &bad);
    if (m->target[0])
        put(o, "target", js_str(m->target), &bad);
    put(o, "level", json_integer(m->level), &bad);
    if (m->drill.len > 0) {
        put(o, "drill", js_hex(&m->drill), &bad);
        put(o, "scenario", json_integer(m->scenario), &bad);
    }
    return js_done(o, bad);
}

/* js_ack - an acknowledgement */
static json_t *
js_ack(const Relay__Acknowledgement *m)
{
    json_t *o = json_object(), *ids = json_array();
    int bad = 0;

    for (size_t i = 0; ids != NULL && i < m->n_ids; i++)
        if (json_array_append_new(ids, js_hex(&m->ids[i])) != 0)
            bad = 1;
    put(o, "ids", ids, &bad);
    return js_done(o, bad);
}

/* js_directory - a directory change as carried (its root signature is
 * checked by the node, not here) */
static json_t *
js_directory(const Relay__SignedDirChange *m)
{
    Relay__DirChange *c = relay__dir_change__unpack(NULL, m->change.len, m->change.data);
    json_t *o = json_object();
    int bad = 0;

    if (c == NULL) {
        put(o, "error", json_string("change does not decode"), &bad);
        return js_done(o, bad);
    }
    put(o, "seq", json_integer((json_int_t)c->seq), &bad);
    put(o, "at", js_time(c->at_us), &bad);
    switch (c->change_case) {
    case RELAY__DIR_CHANGE__CHANGE_ENROL:
        put(o, "enrol", js_str(c->enrol->id), &bad);
        break;
    case RELAY__DIR_CHANGE__CHANGE_ROTATE:
        put(o, "rotate", js_str(c->rotate->id), &bad);
        break;
    case RELAY__DIR_CHANGE__CHANGE_REVOKE:
        put(o, "revoke", js_str(c->revoke), &bad);
        break;
    default:
        break;
    }
    relay__dir_change__free_unpacked(c, NULL);
    return js_done(o, bad);
}

/* js_kind - the kind part of a body, or NULL */
static json_t *
js_kind(const Relay__Body *b)
{
    /* every kind pointer shares the union; a set case with no message
     * renders as an empty object */
    if (b->report == NULL)
        return json_object();
    switch (b->kind_case) {
    case RELAY__BODY__KIND_REPORT:
        return js_report(b->report, b->drill);
    case RELAY__BODY__KIND_UPDATE:
        return js_update(b->update);
    case RELAY__BODY__KIND_LEVEL_REQUEST:
        return js_level_request(b->level_request);
    case RELAY__BODY__KIND_REVIEW:
        return js_review(b->review);
    case RELAY__BODY__KIND_CLOSURE:
        return js_closure(b->closure);
    case RELAY__BODY__KIND_WITHDRAWAL:
        return js_withdrawal(b->withdrawal);
    case RELAY__BODY__KIND_ADVISORY:
        return js_advisory(b->advisory);
    case RELAY__BODY__KIND_NOTICE:
        return js_notice(b->notice);
    case RELAY__BODY__KIND_ACK:
        return js_ack(b->ack);
    case RELAY__BODY__KIND_DIRECTORY:
        return js_directory(b->directory);
    default:
        return NULL;
    }
}

/* form_body_json - render a whole message */
json_t *
form_body_json(const Relay__Body *body)
{
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    put(o, "id", js_hex(&body->id), &bad);
    put(o, "author", js_str(body->author), &bad);
    put(o, "created", js_time(body->created_us), &bad);
    put(o, "to", js_strs(body->n_to, body->to), &bad);
    put(o, "drill", json_boolean(body->drill), &bad);
    put(o, "kind", json_string(env_kind_name(body->kind_case)), &bad);
    for (size_t i = 0; i < NVERBS; i++)
        if (verbs[i].kind == body->kind_case)
            put(o, "verb", json_string(verbs[i].verb), &bad);
    if (body->kind_case != RELAY__BODY__KIND__NOT_SET)
        put(o, env_kind_name(body->kind_case), js_kind(body), &bad);
    return js_done(o, bad);
}

/* js_event - one entry of an incident's history */
static json_t *
js_event(const Relay__Event *e)
{
    json_t *o = json_object();
    int bad = 0;

    put(o, "at", js_time(e->at_us), &bad);
    put(o, "node", js_str(e->node), &bad);
    put(o, "what", js_str(e->what), &bad);
    if (e->msg.len > 0)
        put(o, "msg", js_hex(&e->msg), &bad);
    put(o, "detail", js_str(e->detail), &bad);
    return js_done(o, bad);
}

/* form_incident_json - render an incident record */
json_t *
form_incident_json(const Relay__IncidentRecord *r)
{
    json_t *o = json_object(), *h = json_array();
    int bad = 0;

    if (o == NULL) {
        json_decref(h);
        return NULL;
    }
    put(o, "id", js_hex(&r->id), &bad);
    put(o, "author", js_str(r->author), &bad);
    put(o, "state", js_enum(&relay__incident_state__descriptor, r->state),
        &bad);
    put(o, "claimed_level", json_integer(r->claimed_level), &bad);
    put(o, "reviewed_level", json_integer(r->reviewed_level), &bad);
    put(o, "requested_level", json_integer(r->requested_level), &bad);
    put(o, "level",
        json_integer(r->reviewed_level ? r->reviewed_level : r->claimed_level),
        &bad);
    put(o, "drill", json_boolean(r->drill), &bad);
    if (r->drill_of.len) /* R-DRILL: the drill notice this report answers */
        put(o, "drill_of", js_hex(&r->drill_of), &bad);
    put(o, "team_formed", json_boolean(r->team_formed), &bad);
    put(o, "damage_controlled", json_boolean(r->damage_controlled), &bad);
    put(o, "recovered", json_boolean(r->recovered), &bad);
    put(o, "have_report", json_boolean(r->have_report), &bad);
    /* policy (R-LEVEL-2, R-COPY3, R-HORIZ, R-ESC-*, R-PDPA) */
    put(o, "advised_level", json_integer(r->advised_level), &bad);
    put(o, "below_advised", json_boolean(r->claimed_level < r->advised_level), &bad);
    put(o, "aware_at", r->aware_us ? js_time(r->aware_us) : json_null(), &bad);
    put(o, "reported_at", r->reported_us ? js_time(r->reported_us) : json_null(), &bad);
    put(o, "target", js_str(r->target), &bad);
    if (r->city[0])
        put(o, "copy_to", js_str(r->city), &bad);
    put(o, "affected", js_strs(r->n_affected, r->affected), &bad);
    put(o, "ci_sector", json_string(dir_sector_name(r->ci_sector)), &bad);
    put(o, "personal_data", json_boolean(r->personal_data), &bad);
    put(o, "pdpa_task_open", json_boolean(r->pdpa_open), &bad);
    put(o, "national_reviewed", json_boolean(r->national_reviewed), &bad);
    {
        static const char *const esc[] = {"ciso", "homeland", "nsc", "pdpa"};
        static const char *const esc_why[] = {
            "no supervisor but the national node itself", "no homeland office in the directory",
            "no nsc office in the directory", "the author is not in the directory"};
        json_t *e = json_array();
        for (unsigned i = 0; e != NULL && i < 4; i++)
            if ((r->escalated & (1u << i)) && json_array_append_new(e, json_string(esc[i])) != 0)
                bad = 1;
        put(o, "escalated", e, &bad);
        /* required but not sent, and why (issue 12 item 6) */
        e = json_array();
        for (unsigned i = 0; e != NULL && i < 4; i++)
            if ((r->escalation_unsent & (1u << i)) &&
                json_array_append_new(
                    e, json_pack("{s:s,s:s,s:s}", "kind", esc[i], "rule",
                                 plan_esc_rule(1u << i), "why",
                                 r->drill ? "a drill (R-DRILL)" : esc_why[i])) != 0)
                bad = 1;
        put(o, "escalations_not_sent", e, &bad);
    }
    for (size_t i = 0; h != NULL && i < r->n_history; i++)
        if (json_array_append_new(h, js_event(r->history[i])) != 0)
            bad = 1;
    put(o, "history", h, &bad);
    return js_done(o, bad);
}
