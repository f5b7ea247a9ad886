#!/usr/bin/python3
"""test_wire - our wire format is real protobuf and real Ed25519.

A report is taken from the national center's LMDB with python3-lmdb, decoded
by protoc --decode against proto/relay.proto (Google's decoder, not ours),
and its author signature is verified with python3-nacl.
"""
import os
import subprocess

import nacl.exceptions
import nacl.signing

import pb
import relaytest
from relaytest import ROOT, FedTest

PROTO_DIR = os.path.join(ROOT, "proto")


def protoc_decode(kind, data):
    r = subprocess.run(["protoc", "--decode=relay." + kind, "-I", PROTO_DIR,
                        os.path.join(PROTO_DIR, "relay.proto")],
                       input=data, capture_output=True, check=True)
    return r.stdout.decode()


class Wire(FedTest):

    def test_stored_report_decodes_with_protoc_and_verifies_with_nacl(self):
        iid = self.report("ag-a", title="wire check", facts="marker-7f3a")
        self.wait("ncert", iid)
        env = self.stored_messages("ncert")[iid]
        text = protoc_decode("Envelope", env)
        self.assertIn('node: "taipei"', text)   # relay hops, outside the signature
        self.assertIn('node: "ncert"', text)
        fields = pb.decode(env)
        body, sig = fields[1][0], fields[2][0]
        text = protoc_decode("Body", body)
        self.assertIn('author: "ag-a"', text)
        self.assertIn('title: "wire check"', text)
        self.assertIn('facts: "marker-7f3a"', text)
        self.assertIn('to: "taipei"', text)
        self.assertIn("category: EXTERNAL_VIRUS", text)
        key = nacl.signing.VerifyKey(bytes.fromhex(self.fed.nodes["ag-a"]["pub"]))
        key.verify(body, sig)
        tampered = bytearray(body)
        tampered[-1] ^= 1
        with self.assertRaises(nacl.exceptions.BadSignatureError):
            key.verify(bytes(tampered), sig)

    def test_receipt_is_a_signed_acknowledgement(self):
        iid = self.report("ag-b")
        self.wait("ncert", iid)
        self.wait_quiet()
        msgs = self.stored_messages("ag-b")
        acks = []
        for mid, env in msgs.items():
            f = pb.decode(env)
            b = pb.decode(f[1][0])
            if 18 in b:
                acks.append(b[2][0].decode())
                nacl.signing.VerifyKey(bytes.fromhex(self.fed.nodes[b[2][0].decode()]["pub"])).verify(f[1][0], f[2][0])
                self.assertIn("ack {", protoc_decode("Body", f[1][0]))
        self.assertEqual(sorted(acks), ["ncert", "taipei"])


class MapFull(FedTest):
    """the store grows its map, and at its limit refuses new work without damage"""

    def setUp(self):
        relaytest.FedTest.setUp(self)
        self.fed.stop("ag-a")

    def restart_agency(self, **settings):
        self.fed.write_config("ag-a", dict(self.SETTINGS, **settings))
        self.fed.start("ag-a")
        self.fed.wait_links()

    def big(self, i):
        return dict(title="big %d" % i, facts="f" * 8000, scope="s" * 8000, measures_taken="m" * 8000)

    def test_map_grows(self):
        self.restart_agency(map_mb=1, map_max_mb=64)
        ids = [self.report("ag-a", **self.big(i)) for i in range(120)]
        self.assertIn("map grown", self.log("ag-a"))
        self.wait_quiet(60000)
        self.assertEqual(set(self.incidents("ncert")) & set(ids), set(ids))

    def test_map_full_refuses_and_keeps_what_it_acknowledged(self):
        self.fed.stop("taipei")  # nothing drains: the agency must hold everything
        self.restart_agency(map_mb=1, map_max_mb=1)
        acked, err = [], None
        for i in range(200):
            r = self.fed.ctl_raw("ag-a", "report", "-", "--json",
                                 stdin=relaytest.json.dumps(relaytest.fresh_form(**self.big(i))))
            if r.returncode != 0:
                err = r.stderr + r.stdout
                break
            acked.append(relaytest.json.loads(r.stdout)["incident"])
        self.assertIsNotNone(err, "a 1 MiB store never filled")
        self.assertIn("store full", err)
        self.assertIn("map_max_mb", err)
        self.assertGreater(len(acked), 5)
        self.assertEqual(set(self.incidents("ag-a")), set(acked))
        # restart: still opens, still holds everything it acknowledged
        self.fed.stop("ag-a")
        self.fed.start("ag-a")
        self.assertEqual(set(self.incidents("ag-a")), set(acked))
        self.assertTrue(self.fed.ctl("ag-a", "audit", "verify")["intact"])
        # the parent returns: the agency's backlog drains upward ...
        self.fed.start("taipei")
        self.fed.wait_links()
        self.fed.ctl("ncert", "wait", acked[-1], "--timeout", "30000")
        self.assertEqual(set(self.incidents("ncert")) & set(acked), set(acked))
        # ... but it keeps its records, so receipts wait at the city until the
        # operator raises map_max_mb; then they arrive and all is quiet
        self.fed.stop("ag-a")
        self.restart_agency(map_mb=1, map_max_mb=16)
        self.wait_quiet(60000)
        hist = self.fed.ctl("ag-a", "show", acked[0])["incident"]["history"]
        self.assertIn("ncert", [e["node"] for e in hist if e["what"] == "receipt"])


if __name__ == "__main__":
    relaytest.run()
