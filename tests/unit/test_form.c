/*
 * test_form.c - the operator's JSON forms: reading, refusing, rendering.
 *
 * Every valid case is read, packed, unpacked, rendered and read back from
 * its own rendering, and must give the same bytes. Every invalid case must
 * fail with RL_EINVAL, leave the body without a kind and name the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "envelope.h"
#include "form.h"

#define NOW_US INT64_C(1714527000000000) /* 2024-05-01T01:30:00Z */
#define INC "\"incident\": \"00112233445566778899aabbccddeeff\""

static const char report_json[] =
    "{\"title\": \"Web defacement\","
    " \"aware_at\": \"2024-05-01T09:00:00+08:00\","
    " \"reported_at\": \"2024-05-01T09:20:00.123456+08:00\","
    " \"level\": 2, \"category\": \"external_intrusion\","
    " \"harms\": [{\"kind\": \"tamper\", \"class\": \"core\","
    "   \"severity\": \"minor\"},"
    "  {\"kind\": \"leak\", \"class\": \"official_secret\","
    "   \"severity\": \"severe\"}],"
    " \"facts\": \"Home page replaced; 公告 page too.\","
    " \"scope\": \"public web site\","
    " \"damage\": {\"operational_impact\": \"site down\", \"delay\": \"2h\"},"
    " \"support_requested\": \"forensics\", \"measures_taken\": \"offline\","
    " \"affected_agencies\": [\"ag-taipei-b\", \"ag-taipei-c\"],"
    " \"ci_sector\": \"disaster_relief\", \"personal_data\": true,"
    " \"drill\": true}";

/* A report with only the required fields. */
#define MIN_REPORT(extra)                                                      \
    "{\"title\": \"t\", \"aware_at\": \"2024-05-01T09:00:00+08:00\","          \
    " \"level\": 1, \"category\": \"internal_mistake\","                       \
    " \"harms\": [{\"kind\": \"outage\", \"class\": \"non_core\","             \
    " \"severity\": \"minor\"}], \"facts\": \"f\"" extra "}"

struct good_case {
    const char *name;
    const char *verb;
    const char *json;
    Relay__Body__KindCase kind;
};

struct bad_case {
    const char *name;
    const char *verb;
    const char *json;
    const char *err; /* the whole message expected */
};

static const struct good_case good_cases[] = {
    {"report, full", "report", report_json, RELAY__BODY__KIND_REPORT},
    {"report, required fields only", "report", MIN_REPORT(""),
     RELAY__BODY__KIND_REPORT},
    {"update", "update", "{" INC ", \"team_formed\": true, \"text\": \"ok\"}",
     RELAY__BODY__KIND_UPDATE},
    {"request-level", "request-level",
     "{" INC ", \"level\": 3, \"reason\": \"secrets involved\"}",
     RELAY__BODY__KIND_LEVEL_REQUEST},
    {"review", "review",
     "{" INC ", \"verdict\": \"change\", \"level\": 3, \"basis\": \"b\","
     " \"closure\": true, \"follow_up\": \"audit\"}",
     RELAY__BODY__KIND_REVIEW},
    {"close", "close",
     "{" INC ", \"event_at\": \"2024-04-30T23:00:00Z\","
     " \"source_ips\": [\"203.0.113.7\"], \"target_ips\": [\"10.0.0.1\","
     " \"2001:db8::1\"], \"attack_method\": \"sqli\","
     " \"root_cause\": \"unpatched CMS\", \"improve_long\": \"WAF\"}",
     RELAY__BODY__KIND_CLOSURE},
    {"withdraw", "withdraw", "{" INC ", \"reason\": \"filed twice\"}",
     RELAY__BODY__KIND_WITHDRAWAL},
    {"advisory", "advisory",
     "{\"kind\": \"vulnerability\", \"severity\": 4, \"title\": \"CVE\","
     " \"text\": \"patch now\", \"audience\": {\"scope\": \"taipei\","
     " \"tiers\": [\"agency\", \"city\"], \"sector\": \"energy\"}}",
     RELAY__BODY__KIND_ADVISORY},
    {"advisory, no audience", "advisory",
     "{\"kind\": \"other_technical\", \"severity\": 1, \"title\": \"t\","
     " \"text\": \"x\"}",
     RELAY__BODY__KIND_ADVISORY},
};

static const struct bad_case bad_cases[] = {
    {"report: missing facts", "report",
     "{\"title\": \"t\", \"aware_at\": \"2024-05-01T09:00:00+08:00\","
     " \"level\": 1, \"category\": \"internal_mistake\", \"harms\": "
     "[{\"kind\": \"leak\","
     " \"class\": \"core\", \"severity\": \"minor\"}]}",
     "field 'facts': required"},
    {"report: empty facts", "report", MIN_REPORT(", \"facts\": \"\""),
     "field 'facts': must not be empty"},
    {"report: level 5", "report", MIN_REPORT(", \"level\": 5"),
     "field 'level': must be an integer 1..4"},
    {"report: level as a string", "report", MIN_REPORT(", \"level\": \"2\""),
     "field 'level': must be an integer 1..4"},
    {"report: bad harm kind", "report",
     MIN_REPORT(", \"harms\": [{\"kind\": \"leak\", \"class\": \"core\","
                " \"severity\": \"minor\"}, {\"kind\": \"fire\","
                " \"class\": \"core\", \"severity\": \"minor\"}]"),
     "field 'harms[1].kind': must be one of leak, tamper, outage"},
    {"report: bad harm severity", "report",
     MIN_REPORT(", \"harms\": [{\"kind\": \"leak\", \"class\": \"core\","
                " \"severity\": \"SEVERE\"}]"),
     "field 'harms[0].severity': must be one of minor, severe"},
    {"report: unknown field in a harm", "report",
     MIN_REPORT(", \"harms\": [{\"kind\": \"leak\", \"class\": \"core\","
                " \"severity\": \"minor\", \"when\": 1}]"),
     "unknown field 'harms[0].when'"},
    {"report: unknown field", "report", MIN_REPORT(", \"foo\": 1"),
     "unknown field 'foo'"},
    {"report: reported_at before aware_at", "report",
     MIN_REPORT(", \"reported_at\": \"2024-05-01T00:59:59Z\""),
     "field 'reported_at': must not be before aware_at"},
    {"report: aware_at after now", "report",
     MIN_REPORT(", \"aware_at\": \"2030-01-01T00:00:00Z\""),
     "field 'aware_at': must not be in the future"},
    /* issue 8 finding 6: author-supplied times are bounded */
    {"report: both times in 2999", "report",
     MIN_REPORT(", \"aware_at\": \"2999-01-01T00:00:00Z\","
                " \"reported_at\": \"2999-01-01T00:00:00Z\""),
     "field 'aware_at': must not be in the future (more than 300 s ahead)"},
    {"report: reported_at 301 s ahead", "report",
     MIN_REPORT(", \"reported_at\": \"2024-05-01T01:35:01Z\""),
     "field 'reported_at': must not be in the future (more than 300 s ahead)"},
    {"report: aware_at at the epoch", "report",
     MIN_REPORT(", \"aware_at\": \"1970-01-01T00:00:00Z\""),
     "field 'aware_at': must not be before 2000-01-01T00:00:00Z"},
    {"report: year 0000", "report",
     MIN_REPORT(", \"aware_at\": \"0000-01-01T00:00:00Z\""),
     "field 'aware_at': must not be before 2000-01-01T00:00:00Z"},
    {"report: both times in 1999", "report",
     MIN_REPORT(", \"aware_at\": \"1999-12-31T23:59:59Z\","
                " \"reported_at\": \"1999-12-31T23:59:59Z\""),
     "field 'aware_at': must not be before 2000-01-01T00:00:00Z"},
    {"close: event_at in 2999", "close",
     "{" INC ", \"root_cause\": \"r\", \"event_at\": \"2999-01-01T00:00:00Z\"}",
     "field 'event_at': must not be in the future (more than 300 s ahead)"},
    {"close: event_at in 1999", "close",
     "{" INC ", \"root_cause\": \"r\", \"event_at\": \"1999-06-01T00:00:00Z\"}",
     "field 'event_at': must not be before 2000-01-01T00:00:00Z"},
    {"report: aware_at without a zone", "report",
     MIN_REPORT(", \"aware_at\": \"2024-05-01T09:00:00\""),
     "field 'aware_at': must be an ISO 8601 time with a zone, e.g. "
     "2024-05-01T09:30:00+08:00"},
    {"report: empty harms", "report", MIN_REPORT(", \"harms\": []"),
     "field 'harms': must not be empty"},
    {"report: bad sector", "report", MIN_REPORT(", \"ci_sector\": \"water\""),
     "field 'ci_sector': must be one of none, defense, ict, energy, "
     "transport, finance, disaster_relief, health, public_safety, "
     "government"},
    {"report: unspecified category", "report",
     MIN_REPORT(", \"category\": \"category_unspecified\""),
     "field 'category': must be one of internal_malicious, "
     "internal_mistake, internal_equipment, external_virus, "
     "external_intrusion, natural_typhoon, natural_flood, "
     "natural_earthquake, emergency_fire, emergency_explosion, "
     "emergency_nuclear, emergency_epidemic"},
    {"report: title not a string", "report", MIN_REPORT(", \"title\": 7"),
     "field 'title': must be a string"},
    {"report: NUL in a string", "report",
     MIN_REPORT(", \"scope\": \"a\\u0000b\""),
     "field 'scope': must not contain NUL characters"},
    {"report: damage not an object", "report", MIN_REPORT(", \"damage\": []"),
     "field 'damage': must be an object"},
    {"report: unknown damage field", "report",
     MIN_REPORT(", \"damage\": {\"cost\": \"x\"}"),
     "unknown field 'damage.cost'"},
    {"report: drill not a bool", "report", MIN_REPORT(", \"drill\": 1"),
     "field 'drill': must be true or false"},
    {"report: node id too long", "report",
     MIN_REPORT(
         ", \"affected_agencies\": [\"a\", "
         "\"0123456789012345678901234567890123456789012345678901234567890"
         "123\"]"),
     "field 'affected_agencies[1]': must be a node id of at most 63 bytes"},
    {"report: agency twice", "report",
     MIN_REPORT(", \"affected_agencies\": [\"a\", \"a\"]"),
     "field 'affected_agencies[1]': listed twice"},
    {"report: args not an object", "report", "[1, 2]",
     "the arguments of 'report' must be an object"},
    {"unknown verb", "escalate", "{}",
     "unknown verb 'escalate': use report, update, request-level, review, "
     "close, withdraw or advisory"},
    {"update: bad incident id", "update",
     "{\"incident\": \"00112233\", \"recovered\": true}",
     "field 'incident': must be 32 hex digits (a message id)"},
    {"update: says nothing", "update", "{" INC ", \"recovered\": false}",
     "field 'text': required unless team_formed, damage_controlled, "
     "recovered or subjects_notified is true"},
    {"request-level: missing reason", "request-level",
     "{" INC ", \"level\": 4}", "field 'reason': required"},
    {"review: bad verdict", "review",
     "{" INC ", \"verdict\": \"maybe\", \"level\": 2, \"basis\": \"b\"}",
     "field 'verdict': must be one of confirm, change"},
    {"close: missing root cause", "close",
     "{" INC ", \"source_ips\": [\"1.2.3.4\"]}",
     "field 'root_cause': required"},
    {"close: ip not a string", "close",
     "{" INC ", \"target_ips\": [\"1.2.3.4\", 5], \"root_cause\": \"r\"}",
     "field 'target_ips[1]': must be a string"},
    {"withdraw: missing incident", "withdraw", "{\"reason\": \"r\"}",
     "field 'incident': required"},
    {"advisory: severity 0", "advisory",
     "{\"kind\": \"malware\", \"severity\": 0, \"title\": \"t\","
     " \"text\": \"x\"}",
     "field 'severity': must be an integer 1..4"},
    {"advisory: bad tier", "advisory",
     "{\"kind\": \"malware\", \"severity\": 2, \"title\": \"t\","
     " \"text\": \"x\", \"audience\": {\"tiers\": [\"agency\", \"county\"]}}",
     "field 'audience.tiers[1]': must be one of agency, city, ministry, "
     "national, office"},
};

#define NGOOD (sizeof(good_cases) / sizeof(good_cases[0]))
#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static const uint8_t msg_id[ENV_ID_LEN] = {1, 2,  3,  4,  5,  6,  7,  8,
                                           9, 10, 11, 12, 13, 14, 15, 16};
static char *msg_to[] = {"taipei", "national"};

/* load - parse a case's JSON text */
static json_t *
load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &jerr);

    if (j == NULL)
        fail_msg("bad test JSON at %d: %s", jerr.position, jerr.text);
    return j;
}

/* envelope_fields - what form_to_body leaves to the caller */
static void
envelope_fields(Relay__Body *b)
{
    b->id.data = (uint8_t *)msg_id;
    b->id.len = sizeof(msg_id);
    b->author = "ag-taipei-a";
    b->created_us = NOW_US;
    b->n_to = 2;
    b->to = msg_to;
}

/* pack - serialise a body (malloc) */
static uint8_t *
pack(const Relay__Body *b, size_t *len)
{
    uint8_t *buf;

    *len = relay__body__get_packed_size(b);
    buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(relay__body__pack(b, buf), *len);
    return buf;
}

/* run_good - read, pack, unpack, render and read back one valid case */
static void
run_good(void **state)
{
    const struct good_case *c = *state;
    Relay__Body b1 = RELAY__BODY__INIT, b2 = RELAY__BODY__INIT, *u;
    json_t *args = load(c->json), *out;
    const char *verb;
    uint8_t *p1, *p2;
    size_t l1, l2;
    char err[512];

    assert_int_equal(form_to_body(c->verb, args, NOW_US, &b1, err, sizeof(err)),
                     RL_OK);
    assert_int_equal(b1.kind_case, c->kind);
    envelope_fields(&b1);
    p1 = pack(&b1, &l1);

    u = relay__body__unpack(NULL, l1, p1);
    assert_non_null(u);
    out = form_body_json(u);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "kind")),
                        env_kind_name(c->kind));
    verb = json_string_value(json_object_get(out, "verb"));
    assert_non_null(verb);
    assert_string_equal(verb, c->verb);
    assert_string_equal(json_string_value(json_object_get(out, "id")),
                        "0102030405060708090a0b0c0d0e0f10");
    assert_string_equal(json_string_value(json_object_get(out, "author")),
                        "ag-taipei-a");
    assert_string_equal(json_string_value(json_object_get(out, "created")),
                        "2024-05-01T01:30:00.000000Z");
    assert_int_equal(json_array_size(json_object_get(out, "to")), 2);

    assert_int_equal(form_to_body(verb,
                                  json_object_get(out, env_kind_name(c->kind)),
                                  NOW_US + 1, &b2, err, sizeof(err)),
                     RL_OK);
    envelope_fields(&b2);
    p2 = pack(&b2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(p1, p2, l1);

    free(p1);
    free(p2);
    form_body_clear(&b1);
    form_body_clear(&b2);
    assert_int_equal(b1.kind_case, RELAY__BODY__KIND__NOT_SET);
    relay__body__free_unpacked(u, NULL);
    json_decref(out);
    json_decref(args);
}

/* run_bad - one invalid case: refused, named, nothing left behind */
static void
run_bad(void **state)
{
    const struct bad_case *c = *state;
    Relay__Body b = RELAY__BODY__INIT;
    json_t *args = load(c->json);
    char err[512];

    assert_int_equal(form_to_body(c->verb, args, NOW_US, &b, err, sizeof(err)),
                     RL_EINVAL);
    assert_string_equal(err, c->err);
    assert_int_equal(b.kind_case, RELAY__BODY__KIND__NOT_SET);
    assert_null(b.report);
    assert_false(b.drill);
    json_decref(args);
}

/* test_report_fields - the full report lands in the right fields */
static void
test_report_fields(void **state)
{
    Relay__Body b = RELAY__BODY__INIT;
    json_t *args = load(report_json);
    Relay__IncidentReport *r;
    int64_t aware;
    char err[256];

    assert_int_equal(form_to_body("report", args, NOW_US, &b, err, sizeof(err)),
                     RL_OK);
    r = b.report;
    assert_true(b.drill);
    assert_int_equal(clock_parse_iso("2024-05-01T01:00:00Z", &aware), 0);
    assert_true(r->aware_us == aware);
    assert_true(r->reported_us == aware + INT64_C(1200123456));
    assert_int_equal(r->claimed_level, 2);
    assert_int_equal(r->category, RELAY__CATEGORY__EXTERNAL_INTRUSION);
    assert_int_equal(r->n_harms, 2);
    assert_int_equal(r->harms[1]->kind, RELAY__HARM_KIND__LEAK);
    assert_int_equal(r->harms[1]->class_, RELAY__INFO_CLASS__OFFICIAL_SECRET);
    assert_int_equal(r->harms[1]->severity, RELAY__SEVERITY__SEVERE);
    assert_non_null(r->damage);
    assert_string_equal(r->damage->delay, "2h");
    assert_string_equal(r->damage->equipment_damage, "");
    assert_int_equal(r->n_affected_agencies, 2);
    assert_string_equal(r->affected_agencies[1], "ag-taipei-c");
    assert_int_equal(r->ci_sector, RELAY__SECTOR__DISASTER_RELIEF);
    assert_true(r->personal_data);
    form_body_clear(&b);
    json_decref(args);
}

/* test_times_bounds - issue 8 finding 6: the edges of the allowed times,
 * the node's own allowance, and a received message judged against its
 * creation time */
static void
test_times_bounds(void **state)
{
    Relay__Body b = RELAY__BODY__INIT;
    json_t *args = load(MIN_REPORT(", \"reported_at\": \"2024-05-01T01:35:00Z\""));
    char err[256];

    (void)state;
    /* exactly now + 300 s passes; with a 60 s allowance it does not */
    assert_int_equal(form_to_body("report", args, NOW_US, &b, err, sizeof(err)), RL_OK);
    form_body_clear(&b);
    assert_int_equal(form_to_body_within("report", args, NOW_US, INT64_C(60000000), &b,
                                         err, sizeof(err)),
                     RL_EINVAL);
    assert_string_equal(err, "field 'reported_at': must not be in the future (more than 60 s ahead)");
    assert_int_equal(b.kind_case, RELAY__BODY__KIND__NOT_SET);
    json_decref(args);

    /* 2000-01-01T00:00:00Z itself is allowed */
    args = load(MIN_REPORT(", \"aware_at\": \"2000-01-01T00:00:00Z\""));
    assert_int_equal(form_to_body("report", args, NOW_US, &b, err, sizeof(err)), RL_OK);
    /* a relay judges against the creation time, not its own clock */
    b.report->reported_us = NOW_US + INT64_C(400000000);
    assert_int_equal(form_times_check(&b, NOW_US, FORM_FUTURE_US, err, sizeof(err)), RL_EINVAL);
    assert_string_equal(err, "field 'reported_at': must not be in the future (more than 300 s ahead)");
    assert_int_equal(form_times_check(&b, NOW_US + INT64_C(100000000), FORM_FUTURE_US, err,
                                      sizeof(err)),
                     RL_OK);
    b.report->aware_us = b.report->reported_us + 1;
    assert_int_equal(form_times_check(&b, NOW_US + INT64_C(100000000), FORM_FUTURE_US, err,
                                      sizeof(err)),
                     RL_EINVAL);
    assert_string_equal(err, "field 'reported_at': must not be before aware_at");
    form_body_clear(&b);
    json_decref(args);
}

/* test_report_default_time - reported_at defaults to now */
static void
test_report_default_time(void **state)
{
    Relay__Body b = RELAY__BODY__INIT;
    json_t *args = load(MIN_REPORT(""));
    char err[256];

    assert_int_equal(form_to_body("report", args, NOW_US, &b, err, sizeof(err)),
                     RL_OK);
    assert_true(b.report->reported_us == NOW_US);
    assert_null(b.report->damage);
    assert_false(b.drill);
    form_body_clear(&b);
    json_decref(args);
}

/* test_string_limits - 8192 bytes pass, 8193 do not; small err buffers */
static void
test_string_limits(void **state)
{
    Relay__Body b = RELAY__BODY__INIT;
    json_t *args = load(MIN_REPORT(""));
    char *big = malloc(FORM_STR_MAX + 2), err[256], tiny[8];

    assert_non_null(big);
    memset(big, 'a', FORM_STR_MAX + 1);
    big[FORM_STR_MAX + 1] = '\0';
    json_object_set_new(args, "scope", json_string(big));
    assert_int_equal(form_to_body("report", args, NOW_US, &b, err, sizeof(err)),
                     RL_EINVAL);
    assert_string_equal(err, "field 'scope': must be at most 8192 bytes");
    assert_int_equal(
        form_to_body("report", args, NOW_US, &b, tiny, sizeof(tiny)),
        RL_EINVAL);
    assert_string_equal(tiny, "field '");
    assert_int_equal(form_to_body("report", args, NOW_US, &b, NULL, 0),
                     RL_EINVAL);

    big[FORM_STR_MAX] = '\0';
    json_object_set_new(args, "scope", json_string(big));
    assert_int_equal(form_to_body("report", args, NOW_US, &b, err, sizeof(err)),
                     RL_OK);
    assert_int_equal(strlen(b.report->scope), FORM_STR_MAX);
    form_body_clear(&b);

    /* strings made without jansson's UTF-8 check are still checked */
    json_object_set_new(args, "scope", json_string_nocheck("\xc3\x28"));
    assert_int_equal(form_to_body("report", args, NOW_US, &b, err, sizeof(err)),
                     RL_EINVAL);
    assert_string_equal(err, "field 'scope': must be valid UTF-8");
    assert_int_equal(b.kind_case, RELAY__BODY__KIND__NOT_SET);
    free(big);
    json_decref(args);
}

/* test_body_json_other_kinds - notices and acks render; no verb for them */
static void
test_body_json_other_kinds(void **state)
{
    Relay__Body b = RELAY__BODY__INIT;
    Relay__Notice n = RELAY__NOTICE__INIT;
    Relay__Acknowledgement a = RELAY__ACKNOWLEDGEMENT__INIT;
    ProtobufCBinaryData ids[2] = {{ENV_ID_LEN, (uint8_t *)msg_id},
                                  {3, (uint8_t *)msg_id}};
    json_t *j, *k;

    envelope_fields(&b);
    n.kind = RELAY__NOTICE_KIND__OVERDUE;
    n.incident.data = (uint8_t *)msg_id;
    n.incident.len = ENV_ID_LEN;
    n.deadline = "review";
    n.due_us = NOW_US;
    b.kind_case = RELAY__BODY__KIND_NOTICE;
    b.notice = &n;
    j = form_body_json(&b);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "kind")),
                        "notice");
    assert_null(json_object_get(j, "verb"));
    k = json_object_get(j, "notice");
    assert_string_equal(json_string_value(json_object_get(k, "kind")),
                        "overdue");
    assert_string_equal(json_string_value(json_object_get(k, "due")),
                        "2024-05-01T01:30:00.000000Z");
    json_decref(j);

    a.n_ids = 2;
    a.ids = ids;
    b.kind_case = RELAY__BODY__KIND_ACK;
    b.ack = &a;
    j = form_body_json(&b);
    assert_non_null(j);
    k = json_object_get(json_object_get(j, "ack"), "ids");
    assert_int_equal(json_array_size(k), 2);
    assert_string_equal(json_string_value(json_array_get(k, 1)), "010203");
    json_decref(j);
}

/* test_incident_json - a record with history renders every key */
static void
test_incident_json(void **state)
{
    static const char *const keys[] = {"id",
                                       "author",
                                       "state",
                                       "claimed_level",
                                       "reviewed_level",
                                       "requested_level",
                                       "level",
                                       "drill",
                                       "team_formed",
                                       "damage_controlled",
                                       "recovered",
                                       "have_report",
                                       "history",
                                       "advised_level",
                                       "below_advised",
                                       "aware_at",
                                       "reported_at",
                                       "target",
                                       "affected",
                                       "ci_sector",
                                       "personal_data",
                                       "pdpa_task_open",
                                       "national_reviewed",
                                       "escalated",
                                       "escalations_not_sent",
                                       NULL};
    Relay__IncidentRecord r = RELAY__INCIDENT_RECORD__INIT;
    Relay__Event e1 = RELAY__EVENT__INIT, e2 = RELAY__EVENT__INIT;
    Relay__Event *hist[] = {&e1, &e2};
    json_t *j, *h, *ev;

    r.id.data = (uint8_t *)msg_id;
    r.id.len = ENV_ID_LEN;
    r.author = "ag-taipei-a";
    r.state = RELAY__INCIDENT_STATE__REVIEWED;
    r.claimed_level = 2;
    r.reviewed_level = 3;
    r.team_formed = 1;
    r.have_report = 1;
    e1.at_us = NOW_US;
    e1.node = "ag-taipei-a";
    e1.what = "reported";
    e1.msg.data = (uint8_t *)msg_id;
    e1.msg.len = ENV_ID_LEN;
    e2.at_us = NOW_US + 1000000;
    e2.node = "taipei";
    e2.what = "reviewed";
    e2.detail = "level 2 -> 3";
    r.n_history = 2;
    r.history = hist;

    j = form_incident_json(&r);
    assert_non_null(j);
    for (int i = 0; keys[i] != NULL; i++)
        assert_non_null(json_object_get(j, keys[i]));
    assert_int_equal(json_object_size(j), 25);
    assert_string_equal(json_string_value(json_object_get(j, "id")),
                        "0102030405060708090a0b0c0d0e0f10");
    assert_string_equal(json_string_value(json_object_get(j, "state")),
                        "reviewed");
    assert_int_equal(json_integer_value(json_object_get(j, "level")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "claimed_level")),
                     2);
    assert_true(json_is_true(json_object_get(j, "team_formed")));
    assert_true(json_is_false(json_object_get(j, "recovered")));
    h = json_object_get(j, "history");
    assert_int_equal(json_array_size(h), 2);
    ev = json_array_get(h, 0);
    assert_string_equal(json_string_value(json_object_get(ev, "at")),
                        "2024-05-01T01:30:00.000000Z");
    assert_string_equal(json_string_value(json_object_get(ev, "what")),
                        "reported");
    assert_string_equal(json_string_value(json_object_get(ev, "msg")),
                        "0102030405060708090a0b0c0d0e0f10");
    ev = json_array_get(h, 1);
    assert_null(json_object_get(ev, "msg"));
    assert_string_equal(json_string_value(json_object_get(ev, "node")),
                        "taipei");
    assert_string_equal(json_string_value(json_object_get(ev, "detail")),
                        "level 2 -> 3");
    json_decref(j);

    /* unreviewed: level is the claimed one */
    r.reviewed_level = 0;
    r.state = RELAY__INCIDENT_STATE__REPORTED;
    j = form_incident_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "level")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "state")),
                        "reported");
    json_decref(j);
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_report_fields),
        cmocka_unit_test(test_report_default_time),
        cmocka_unit_test(test_times_bounds),
        cmocka_unit_test(test_string_limits),
        cmocka_unit_test(test_body_json_other_kinds),
        cmocka_unit_test(test_incident_json),
    };
    struct CMUnitTest tests[NGOOD + NBAD + sizeof(fixed) / sizeof(fixed[0])];
    size_t n = 0;

    for (size_t i = 0; i < NGOOD; i++)
        tests[n++] = (struct CMUnitTest){good_cases[i].name, run_good, NULL,
                                         NULL, (void *)&good_cases[i]};
    for (size_t i = 0; i < NBAD; i++)
        tests[n++] = (struct CMUnitTest){bad_cases[i].name, run_bad, NULL, NULL,
                                         (void *)&bad_cases[i]};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    return _cmocka_run_group_tests("form", tests, n, NULL, NULL);
}
