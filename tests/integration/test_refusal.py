#!/usr/bin/python3
"""test_refusal - hostile input is refused with its reason and changes nothing stored.

A fake child speaks the link protocol to the city with nngcat; its frames are
built by pb.py (not by the C code under test) and signed with python3-nacl.
"""
import os
import subprocess
import tempfile
import time

import nacl.signing

import pb
import relaytest
from relaytest import FedTest

STATE_DBS = ("messages", "seen", "incidents", "outbox", "advisories")


def body(mid, author, to, created_us=None, title="injected"):
    """body - a Body carrying a minimal valid IncidentReport"""
    report = pb.message((1, 1700000000000000), (2, 1700000000000000), (3, 1), (4, 5),
                        (5, pb.message((1, 3), (2, 1), (3, 1))), (6, "facts"), (14, title))
    return pb.message((1, mid), (2, author), (3, created_us or int(time.time() * 1e6)),
                      (4, to), (10, report))


def envelope(b, key):
    return pb.message((1, b), (2, key.sign(b).signature))


class Refusal(FedTest):

    def send(self, frame, to="taipei"):
        """send - one LinkRequest to a parent's listener; the decoded LinkReply"""
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(frame)
        try:
            r = subprocess.run(["nngcat", "--req", "--dial",
                                "tcp://127.0.0.1:%d" % self.fed.nodes[to]["port"],
                                "--raw", "--file", f.name, "--recv-timeout", "10"],
                               capture_output=True, check=True, timeout=20)
        finally:
            os.unlink(f.name)
        return pb.decode(r.stdout)

    def push(self, sender, envelopes):
        return self.send(pb.message((1, 1), (2, sender), (3, envelopes)))

    def agency_key(self, nid):
        with open(self.fed.nodes[nid]["key"]) as f:
            sk = bytes.fromhex(f.read().split()[1])
        return nacl.signing.SigningKey(sk[:32])

    def assert_unchanged(self, before, node="taipei"):
        self.assertEqual(self.dump(node, *STATE_DBS), before)

    def test_forged_unknown_truncated_oversized_refused(self):
        """each bad envelope gets its own refusal reason; the store stays byte-identical"""
        self.report("ag-a")  # some real traffic first, so the store is not empty
        self.wait_quiet()
        before = self.dump("taipei", *STATE_DBS)
        real = self.agency_key("ag-a")
        forger = nacl.signing.SigningKey.generate()
        good = envelope(body(os.urandom(16), "ag-a", ["taipei", "ncert"]), real)
        cases = [
            ("forged signature", envelope(body(os.urandom(16), "ag-a", ["ncert"]), forger),
             "bad signature"),
            ("unknown author", envelope(body(os.urandom(16), "mallory", ["ncert"]), forger),
             "unknown author 'mallory'"),
            ("truncated protobuf", good[:len(good) - 7], "truncated or malformed"),
            ("not protobuf", b"\xff\xff\xff\xff", "truncated or malformed"),
            ("oversized", envelope(body(os.urandom(16), "ag-a", ["ncert"], title="x" * 70000), real),
             "larger than max_message_bytes"),
        ]
        for name, env, reason in cases:
            with self.subTest(name):
                rep = self.push("ag-a", [env])
                self.assertNotIn(1, rep, "nothing may be reported stored")
                refusal = pb.decode(rep[2][0])
                self.assertIn(reason, refusal[3][0].decode())
                self.assert_unchanged(before)
                self.assertIn(reason, self.log("taipei"))

    def test_unknown_and_foreign_links_refused(self):
        """a link that claims an unknown node, or a node that is not our child"""
        self.wait_quiet()
        before = self.dump("taipei", *STATE_DBS)
        real = self.agency_key("ag-a")
        env = envelope(body(os.urandom(16), "ag-a", ["taipei", "ncert"]), real)
        rep = self.push("stranger", [env])
        self.assertIn("unknown node 'stranger'", rep[4][0].decode())
        rep = self.send(pb.message((1, 1), (2, "ag-a"), (3, [env])), to="ncert")
        self.assertIn("'ag-a' is not a child of 'ncert'", rep[4][0].decode())
        # a real message, relayed by a sibling that is not in its author's path
        rep = self.push("ag-b", [env])
        self.assertIn("outside the subtree of link 'ag-b'", pb.decode(rep[2][0])[3][0].decode())
        self.assert_unchanged(before)
        rep = self.send(b"\x0a\xff")  # not a LinkRequest at all
        self.assertIn("malformed link request", rep[4][0].decode())
        self.assert_unchanged(before)

    def test_valid_injection_is_stored_once(self):
        """the same frames path accepts a correctly signed message, and only once"""
        real = self.agency_key("ag-a")
        mid = os.urandom(16)
        env = envelope(body(mid, "ag-a", ["taipei", "ncert"]), real)
        for _ in range(3):  # replays of the same id are idempotent
            rep = self.push("ag-a", [env])
            self.assertEqual(rep[1], [mid])
        self.wait("ncert", mid.hex())
        rec = [m for what, m, _ in self.audit("taipei") if what == "received"]
        self.assertEqual(rec.count(mid.hex()), 1)
        dups = [m for what, m, _ in self.audit("taipei") if what == "duplicate"]
        self.assertEqual(dups.count(mid.hex()), 2)


class BadConfig(relaytest.unittest.TestCase):
    """bad configuration is refused with file, line and key, before anything starts"""

    def test_check_names_file_line_key(self):
        tmp = tempfile.mkdtemp(prefix="relay-test.")
        self.addCleanup(relaytest.shutil.rmtree, tmp, True)
        fed = relaytest.Federation(tmp)
        fed.init(relaytest.CHAIN)
        conf = fed.nodes["ag-a"]["config"]
        with open(conf, "a") as f:
            f.write("batch_max = lots\nbogus = 1\n")
        with open(conf) as f:
            lines = f.read().splitlines()
        r = subprocess.run([fed.node_bin, "--config", conf, "--check"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:%d: key 'batch_max': 'lots' is not an integer" % (conf, len(lines) - 1), r.stderr)
        self.assertIn("%s:%d: key 'bogus': unknown key" % (conf, len(lines)), r.stderr)
        self.assertFalse(os.path.exists(fed.nodes["ag-a"]["store"]))
        good = fed.nodes["ncert"]["config"]
        r = subprocess.run([fed.node_bin, "--config", good, "--check"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        os.chmod(fed.nodes["ncert"]["key"], 0o644)
        r = subprocess.run([fed.node_bin, "--config", good, "--check"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("readable by group or others", r.stderr)


if __name__ == "__main__":
    relaytest.run()
