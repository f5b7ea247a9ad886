/*
 * fuzz_link.c - libFuzzer target: the link frames and the store records.
 *
 * The first byte chooses the message, the rest is its encoding:
 *   0 LinkRequest (child to parent; each pushed envelope is opened too),
 *   1 LinkReply (parent to child; each delivered envelope is opened too),
 *   2 IncidentRecord (also rendered with form_incident_json),
 *   3 AuditEntry, 4 DrillRecord (store records, read back from LMDB).
 *   5 SealedFrame, 6 DirChange, 7 SignedDirChange (when proto/relay.proto
 *     has them: the sealed link frame and the root-signed directory change).
 * A decoded message is packed again, and the packing must decode and pack
 * to the same bytes (what the store relies on when it rewrites a record),
 * except for a message that kept an unknown field numbered 0: libprotobuf-c
 * accepts one written with an over-long tag (0x80 0x00) and packs it back
 * as the one-byte tag 0x00, which it then refuses. Records are written by
 * the node itself, so that matters only for envelopes (fuzz_envelope.c).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "form.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* open_all - env_open every envelope of a batch, as the link workers do */
static void
open_all(size_t n, const ProtobufCBinaryData *envs)
{
    for (size_t i = 0; i < n; i++) {
        struct env_msg m;
        const char *why = NULL;

        if (env_open(envs[i].data, envs[i].len, 65536, &m, &why) == RL_OK)
            env_msg_free(&m);
        else
            FUZZ_CHECK(why != NULL, "a refused envelope names why");
    }
}

/* has_tag0 - msg or a message inside it kept an unknown field number 0 */
static int
has_tag0(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;

    for (unsigned i = 0; i < msg->n_unknown_fields; i++)
        if (msg->unknown_fields[i].tag == 0)
            return 1;
    for (unsigned f = 0; f < d->n_fields; f++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[f];
        const char *at = (const char *)msg + fd->offset;

        if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)msg + fd->quantifier_offset);
            ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)at;

            for (size_t k = 0; k < n; k++)
                if (v[k] != NULL && has_tag0(v[k]))
                    return 1;
            continue;
        }
        if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const char *)msg + fd->quantifier_offset) != fd->id)
            continue;
        if (*(ProtobufCMessage *const *)at != NULL &&
            has_tag0(*(ProtobufCMessage *const *)at))
            return 1;
    }
    return 0;
}

/* repack - pack msg, decode the packing, pack it again: same bytes */
static void
repack(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    size_t len = protobuf_c_message_get_packed_size(msg), len2;
    uint8_t *buf = malloc(len ? len : 1), *buf2;
    ProtobufCMessage *again;

    FUZZ_CHECK(buf != NULL, "memory");
    FUZZ_CHECK(protobuf_c_message_pack(msg, buf) == len, "pack writes its size");
    again = protobuf_c_message_unpack(desc, NULL, len, buf);
    if (again == NULL && has_tag0(msg)) {
        free(buf);
        return;
    }
    FUZZ_CHECK(again != NULL, "a packed message decodes");
    len2 = protobuf_c_message_get_packed_size(again);
    buf2 = malloc(len2 ? len2 : 1);
    FUZZ_CHECK(buf2 != NULL, "memory");
    FUZZ_CHECK(protobuf_c_message_pack(again, buf2) == len2, "pack writes its size");
    FUZZ_CHECK(len2 == len && (len == 0 || memcmp(buf, buf2, len) == 0),
               "decode and pack is stable");
    protobuf_c_message_free_unpacked(again, NULL);
    free(buf2);
    free(buf);
}

/* LLVMFuzzerTestOneInput - one frame or record */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data + 1;
    size_t n;

    if (size < 1)
        return 0;
    n = size - 1;
    switch (data[0] % 8) {
    case 0: {
        Relay__LinkRequest *r = relay__link_request__unpack(NULL, n, p);

        if (r == NULL)
            return 0;
        open_all(r->n_push, r->push);
        repack(&r->base);
        relay__link_request__free_unpacked(r, NULL);
        break;
    }
    case 1: {
        Relay__LinkReply *r = relay__link_reply__unpack(NULL, n, p);

        if (r == NULL)
            return 0;
        open_all(r->n_deliver, r->deliver);
        repack(&r->base);
        relay__link_reply__free_unpacked(r, NULL);
        break;
    }
    case 2: {
        Relay__IncidentRecord *r = relay__incident_record__unpack(NULL, n, p);
        json_t *j;

        if (r == NULL)
            return 0;
        j = form_incident_json(r);
        if (j != NULL) {
            char *s = json_dumps(j, JSON_COMPACT);

            FUZZ_CHECK(s != NULL, "a rendered record serialises");
            free(s);
            json_decref(j);
        }
        repack(&r->base);
        relay__incident_record__free_unpacked(r, NULL);
        break;
    }
    case 3: {
        Relay__AuditEntry *r = relay__audit_entry__unpack(NULL, n, p);

        if (r == NULL)
            return 0;
        repack(&r->base);
        relay__audit_entry__free_unpacked(r, NULL);
        break;
    }
    case 4: {
        Relay__DrillRecord *r = relay__drill_record__unpack(NULL, n, p);

        if (r == NULL)
            return 0;
        repack(&r->base);
        relay__drill_record__free_unpacked(r, NULL);
        break;
    }
#ifdef RELAY__SEALED_FRAME__INIT
    case 5: {
        Relay__SealedFrame *r = relay__sealed_frame__unpack(NULL, n, p);

        if (r == NULL)
            return 0;
        repack(&r->base);
        relay__sealed_frame__free_unpacked(r, NULL);
        break;
    }
#endif
#ifdef RELAY__DIR_CHANGE__INIT
    case 6: {
        Relay__DirChange *r = relay__dir_change__unpack(NULL, n, p);

        if (r == NULL)
            return 0;
        repack(&r->base);
        relay__dir_change__free_unpacked(r, NULL);
        break;
    }
#endif
#ifdef RELAY__SIGNED_DIR_CHANGE__INIT
    case 7: {
        Relay__SignedDirChange *r = relay__signed_dir_change__unpack(NULL, n, p);

        if (r == NULL)
            return 0;
        repack(&r->base);
        relay__signed_dir_change__free_unpacked(r, NULL);
        break;
    }
#endif
    default:
        break;
    }
    return 0;
}
