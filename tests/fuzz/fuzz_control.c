/*
 * fuzz_control.c - libFuzzer target: the control socket's request decoder.
 *
 * The control socket reads one JSON request (json_loadb, flags 0, as
 * node/control.c does) and builds a message from a submit's "args" with
 * form_to_body. No node is started: the input is parsed, then every verb
 * (report, update, request-level, review, close, withdraw, advisory) is
 * tried on the object itself and on its "args", as a form.
 *
 * A form that is accepted is rendered with form_body_json, and its kind
 * object is read back with form_to_body: form.h promises the same bytes
 * (checked by packing both). A refused form must name the problem and
 * leave the body without a kind.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "form.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const verbs[] = {
    "report", "update", "request-level", "review", "close", "withdraw", "advisory",
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static const uint8_t msg_id[ENV_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8,
                                           9, 10, 11, 12, 13, 14, 15, 16};
static char *msg_to[] = {"taipei", "ncert"};

/* envelope_fields - what control.c fills in after form_to_body */
static void
envelope_fields(Relay__Body *b)
{
    b->id.data = (uint8_t *)msg_id;
    b->id.len = sizeof(msg_id);
    b->author = "ag-fuzz";
    b->created_us = FUZZ_NOW_US;
    b->n_to = 2;
    b->to = msg_to;
}

/* pack - serialise a body (malloc) */
static uint8_t *
pack(const Relay__Body *b, size_t *len)
{
    uint8_t *buf;

    *len = relay__body__get_packed_size(b);
    buf = malloc(*len ? *len : 1);
    FUZZ_CHECK(buf != NULL, "memory");
    FUZZ_CHECK(relay__body__pack(b, buf) == *len, "pack writes its size");
    return buf;
}

/* round_trip - render an accepted body and read its kind back */
static void
round_trip(const char *verb, const Relay__Body *b1)
{
    Relay__Body b2 = RELAY__BODY__INIT;
    json_t *out = form_body_json(b1), *kind;
    uint8_t *p1, *p2;
    size_t l1, l2;
    char err[512];
    char *s;

    FUZZ_CHECK(out != NULL, "an accepted form renders");
    s = json_dumps(out, JSON_COMPACT);
    FUZZ_CHECK(s != NULL, "a rendered body serialises");
    free(s);
    FUZZ_CHECK(json_is_string(json_object_get(out, "verb")) &&
                   strcmp(json_string_value(json_object_get(out, "verb")), verb) == 0,
               "the rendering names the verb");
    kind = json_object_get(out, env_kind_name(b1->kind_case));
    FUZZ_CHECK(json_is_object(kind), "the rendering holds the kind object");
    if (form_to_body(verb, kind, FUZZ_NOW_US, &b2, err, sizeof(err)) != RL_OK) {
        s = json_dumps(kind, JSON_COMPACT);
        fprintf(stderr, "rendered %s form refused: %s\nrendered form: %s\n", verb, err,
                s ? s : "?");
        free(s);
        FUZZ_CHECK(0, "a rendered form is accepted again");
    }
    envelope_fields(&b2);
    p1 = pack(b1, &l1);
    p2 = pack(&b2, &l2);
    if (l1 != l2 || memcmp(p1, p2, l1) != 0) {
        s = json_dumps(kind, JSON_COMPACT);
        fprintf(stderr, "rendered form: %s\n", s ? s : "?");
        free(s);
        FUZZ_CHECK(0, "a rendered form reads back to the same bytes");
    }
    free(p1);
    free(p2);
    form_body_clear(&b2);
    json_decref(out);
}

/* try_form - one verb on one JSON value */
static void
try_form(const char *verb, json_t *args, size_t errlen)
{
    Relay__Body b = RELAY__BODY__INIT;
    char *err = malloc(errlen);
    int rc;

    FUZZ_CHECK(err != NULL, "memory");
    rc = form_to_body(verb, args, FUZZ_NOW_US, &b, err, errlen);
    FUZZ_CHECK(memchr(err, '\0', errlen) != NULL, "err is NUL-terminated");
    if (rc != RL_OK) {
        FUZZ_CHECK(b.kind_case == RELAY__BODY__KIND__NOT_SET && b.report == NULL,
                   "a refused form leaves no kind");
        FUZZ_CHECK(rc == RL_ENOMEM || errlen == 1 || err[0] != '\0',
                   "a refused form says why");
    } else {
        FUZZ_CHECK(b.kind_case != RELAY__BODY__KIND__NOT_SET && b.report != NULL,
                   "an accepted form sets its kind");
        envelope_fields(&b);
        round_trip(verb, &b);
        form_body_clear(&b);
        FUZZ_CHECK(b.kind_case == RELAY__BODY__KIND__NOT_SET, "form_body_clear resets the kind");
    }
    free(err);
}

/* LLVMFuzzerTestOneInput - one control request */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t errlens[4] = {1, 20, 100, 512};
    size_t errlen = errlens[fuzz_hash(data, size) & 3];
    json_error_t jerr;
    json_t *req = json_loadb((const char *)data, size, 0, &jerr), *args;

    if (req == NULL)
        return 0;
    args = json_object_get(req, "args");
    for (size_t i = 0; i < NVERBS; i++) {
        try_form(verbs[i], req, errlen);
        if (args != NULL)
            try_form(verbs[i], args, errlen);
    }
    /* the verb a submit names, whatever it is */
    if (json_is_string(json_object_get(req, "kind")))
        try_form(json_string_value(json_object_get(req, "kind")),
                 args != NULL ? args : req, errlen);
    json_decref(req);
    return 0;
}
