/*
 * form.h - the operator's JSON forms to message kinds, and messages to JSON.
 *
 * One form per verb (report, update, request-level, review, close, withdraw,
 * advisory). Reading is strict: unknown fields, wrong types, values out of
 * range and missing required fields are errors that name the field by its
 * path ("harms[1].severity"). Rendering uses the same field names, times in
 * ISO 8601 UTC, ids in hex and enums in lower-case snake_case, so that the
 * kind object of a rendered body fed back to form_to_body gives the same
 * bytes.
 */
#ifndef RELAY_FORM_H
#define RELAY_FORM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "relay.pb-c.h"

#define FORM_STR_MAX 8192 /* bytes in any string field */
#define FORM_NODE_MAX 63  /* bytes in a node id */

/*
 * form_to_body - build the kind of body from the operator's JSON args for
 * verb, one of "report", "update", "request-level", "review", "close",
 * "withdraw", "advisory". body must hold no kind yet (RELAY__BODY__INIT);
 * args is only read (the caller keeps its reference).
 *
 * On success sets body->kind_case and the kind pointer; everything under the
 * kind is malloc'd, so form_body_clear(body) frees it, and so does
 * relay__body__free_unpacked for a body that is itself wholly malloc'd. For
 * "report" also sets body->drill from "drill". now_us is the default for
 * "reported_at". id, author, created_us and to are left alone.
 *
 * On failure returns RL_EINVAL (RL_ENOMEM when out of memory), writes one
 * line naming the problem into err (errlen bytes, may be 0), e.g.
 *   "field 'harms[1].severity': must be one of minor, severe"
 *   "field 'level': must be an integer 1..4"
 *   "unknown field 'foo'"
 *   "field 'facts': required"
 * and leaves body without a kind and body->drill unchanged.
 */
int form_to_body(const char *verb, json_t *args, int64_t now_us,
                 Relay__Body *body, char *err, size_t errlen) RL_MUST_CHECK;

/*
 * Times (issue 8 finding 6). Every time field of every form (report:
 * aware_at, reported_at; closure: event_at) lies in [FORM_TIME_MIN_US,
 * now + the skew allowance], and a report's aware_at <= reported_at. A
 * refusal names the field, e.g.
 *   "field 'reported_at': must not be in the future (more than 300 s ahead)"
 *   "field 'aware_at': must not be before 2000-01-01T00:00:00Z"
 * form_to_body allows FORM_FUTURE_US; form_to_body_within takes the node's
 * allowance (config max_future_s). Ownership as for form_to_body.
 */
#define FORM_TIME_MIN_US INT64_C(946684800000000) /* 2000-01-01T00:00:00Z */
#define FORM_FUTURE_US INT64_C(300000000)         /* max_future_s's default */
int form_to_body_within(const char *verb, json_t *args, int64_t now_us,
                        int64_t future_us, Relay__Body *body, char *err,
                        size_t errlen) RL_MUST_CHECK;

/* form_times_check - the rules above for a built body b, against ref_us
 * (now for an operator's form; the message's creation time for one that
 * arrived from another node). RL_OK, or RL_EINVAL with the field in err.
 * Reads b only. */
int form_times_check(const Relay__Body *b, int64_t ref_us, int64_t future_us,
                     char *err, size_t errlen) RL_MUST_CHECK;

/* form_body_clear - free the kind part of a body built by form_to_body (or
 * unpacked) and reset kind_case; the rest of body is untouched. Safe on a
 * body without a kind. */
void form_body_clear(Relay__Body *body);

/*
 * form_body_json - a new JSON object describing a whole message:
 *   {"id": hex, "author", "created": ISO, "to": [...], "drill": bool,
 *    "kind": env_kind_name(), "verb": the form_to_body verb (for the seven
 *    kinds that have one), "<kind>": {the kind's fields, as in the forms}}.
 * The caller owns the result (json_decref); NULL when out of memory.
 */
json_t *form_body_json(const Relay__Body *body);

/*
 * form_incident_json - a new JSON object describing an incident record:
 *   {"id", "author", "state", "claimed_level", "reviewed_level",
 *    "requested_level", "level" (reviewed if nonzero, else claimed), "drill",
 *    "team_formed", "damage_controlled", "recovered", "have_report",
 *    "history": [{"at": ISO, "node", "what", "msg": hex (omitted when
 *    empty), "detail"}]}.
 * The caller owns the result (json_decref); NULL when out of memory.
 */
json_t *form_incident_json(const Relay__IncidentRecord *r);

#endif
