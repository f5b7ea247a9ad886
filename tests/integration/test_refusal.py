#!/usr/bin/python3
"""test_refusal - hostile input is refused with its reason and changes nothing stored.

A fake child speaks the link protocol to the city with nngcat; its frames are
built by pb.py (not by the C code under test), signed with python3-nacl and
sealed in a session made by relaytest.link_handshake, an independent
python3-nacl implementation of node/link_seal.h, which also opens the
replies. Envelope
refusals travel inside properly sealed frames; frames that are not sealed,
sealed with the wrong key, or from a node that is not a child are refused
before anything in them is looked at, with one cleartext answer that names no
node (issue 8 finding 9); the reason is in the parent's log only.
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


class LinkTest(FedTest):
    """LinkTest - a fake child on the link: helpers only (test_attack uses them too)"""

    def send_raw(self, frame, to="taipei", src=None):
        """send_raw - one frame to a parent's listener (from the loopback
        address src, when given); the raw reply frame"""
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(frame)
        try:
            r = subprocess.run(["nngcat", "--req", "--dial",
                                "tcp://%s127.0.0.1:%d" % (src + ";" if src else "",
                                                         self.fed.nodes[to]["port"]),
                                "--raw", "--file", f.name, "--recv-timeout", "10"],
                               capture_output=True, check=True, timeout=20)
        finally:
            os.unlink(f.name)
        return r.stdout

    def session(self, sender="ag-a", to="taipei", key=None, sealed_for=None, src=None):
        """session - a link session of sender (with key, by default the
        sender's own secret key) made with a handshake for sealed_for (by
        default the receiver) sent to `to` (from src); one per test and
        (sender, to, key, sealed_for), so that a test holds at most one of the
        sender's two sessions at its parent; LinkRefused"""
        key = key if key is not None else self.secret_key(sender)
        cache = self.__dict__.setdefault("_sessions", {})
        name = (sender, to, key, sealed_for)
        if name not in cache:
            frame, hs = relaytest.link_handshake(key, self.public_key(sealed_for or to),
                                                 sender)
            cache[name] = relaytest.link_finish(hs, self.send_raw(frame, to, src))
        return cache[name]

    def send(self, request, sender="ag-a", to="taipei", key=None, sealed_for=None,
             src=None):
        """send - seal a LinkRequest in sender's session, send it to `to`
        (from src); the decoded LinkReply, or LinkRefused"""
        s = self.session(sender, to, key, sealed_for, src)
        frame, counter = s.seal(request)
        return pb.decode(s.open(counter, self.send_raw(frame, to, src)))

    def refused(self, frame, to="taipei", src=None):
        """refused - send a raw frame that must get a cleartext refusal; its reason"""
        f = pb.decode(self.send_raw(frame, to, src))
        self.assertEqual(set(f), {5}, "a refusal carries only its reason, in clear")
        return f[5][0].decode()

    def refused_quietly(self, frame, logged, to="taipei", src="127.0.0.1"):
        """refused_quietly - frame gets the one fixed cleartext refusal, which
        names no node (issue 8 finding 9), while `to` logs the reason
        `logged` with the address src (once a second per address at most:
        tests give each case its own loopback address)"""
        reason = self.refused(frame, to, src)
        self.assertEqual(reason, "not authenticated")
        for nid in self.fed.nodes:
            self.assertNotIn(nid, reason)
        self.assertIn("addr=%s link frame refused: %s" % (src, logged), self.log(to))

    def push(self, sender, envelopes, **kw):
        return self.send(pb.message((1, 1), (2, sender), (3, envelopes)), sender, **kw)

    def agency_key(self, nid):
        return nacl.signing.SigningKey(self.secret_key(nid)[:32])

    def assert_unchanged(self, before, node="taipei"):
        self.assertEqual(self.dump(node, *STATE_DBS), before)


class Refusal(LinkTest):

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
            ("oversized", envelope(body(os.urandom(16), "ag-a", ["ncert"], title="x" * 300000), real),
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
        stranger = nacl.signing.SigningKey.generate()
        request = pb.message((1, 1), (2, "stranger"), (3, [env]))
        self.refused_quietly(relaytest.link_handshake(
            bytes(stranger) + bytes(stranger.verify_key), self.public_key("taipei"),
            "stranger")[0], "request refused: unknown node 'stranger'",
            src="127.0.0.2")
        self.refused_quietly(relaytest.link_handshake(
            self.secret_key("ag-a"), self.public_key("ncert"), "ag-a")[0],
            "request refused: 'ag-a' is not a child of 'ncert'", to="ncert",
            src="127.0.0.3")
        # a real message, relayed by a sibling that is not in its author's path
        rep = self.push("ag-b", [env])
        self.assertIn("outside the subtree of link 'ag-b'", pb.decode(rep[2][0])[3][0].decode())
        self.assert_unchanged(before)
        # not a SealedFrame at all
        self.refused_quietly(b"\x0a\xff", "malformed link frame: not a decodable SealedFrame",
                             src="127.0.0.4")
        self.assert_unchanged(before)

    def test_unsealed_and_missealed_frames_refused(self):
        """frames that are not sealed by the claimed child for this parent are
        refused with their reason before anything in them is looked at"""
        self.report("ag-a")
        self.wait_quiet()
        before = self.dump("taipei", *STATE_DBS)
        before_ncert = self.dump("ncert", *STATE_DBS)
        mid = os.urandom(16)
        env = envelope(body(mid, "ag-a", ["taipei", "ncert"]), self.agency_key("ag-a"))
        request = pb.message((1, 1), (2, "ag-a"), (3, [env]))
        forger = nacl.signing.SigningKey.generate()
        sealed_good, _ = relaytest.link_handshake(
            self.secret_key("ag-a"), self.public_key("taipei"), "ag-a")
        tampered = bytearray(sealed_good)
        tampered[-5] ^= 0x01  # inside the box's tag
        cases = [
            # an unsealed LinkRequest, as a node before link sealing sent it
            ("unsealed LinkRequest", request,
             "peer=? addr=127.0.0.10 link frame refused: "
             "malformed link frame: not a decodable SealedFrame"),
            ("unsealed LinkRequest without version", pb.message((2, "ag-a"), (3, [env])),
             "peer=? addr=127.0.0.11 link frame refused: "
             "malformed link frame: sender id is empty"),
            # claims a real child, sealed with another child's key, or a forger's
            ("sealed with a sibling's key", relaytest.link_handshake(
                self.secret_key("ag-b"), self.public_key("taipei"), "ag-a")[0],
             "peer=ag-a addr=127.0.0.12 link frame refused: "
             "frame does not authenticate: box does not open with the keys of 'ag-a'"),
            ("sealed with a forger's key", relaytest.link_handshake(
                bytes(forger) + bytes(forger.verify_key), self.public_key("taipei"),
                "ag-a")[0],
             "peer=ag-a addr=127.0.0.13 link frame refused: "
             "frame does not authenticate: box does not open with the keys of 'ag-a'"),
            # the right child, sealed for another parent
            ("sealed for another parent", relaytest.link_handshake(
                self.secret_key("ag-a"), self.public_key("ncert"), "ag-a")[0],
             "peer=ag-a addr=127.0.0.14 link frame refused: "
             "frame does not authenticate: box does not open"),
            ("altered on the way", bytes(tampered),
             "peer=ag-a addr=127.0.0.15 link frame refused: "
             "frame does not authenticate: box does not open"),
            # a node that is in the directory, properly sealed, but not a child
            ("not a child", relaytest.link_handshake(
                self.secret_key("ncert"), self.public_key("taipei"), "ncert")[0],
             "peer=ncert addr=127.0.0.16 link frame refused: "
             "request refused: 'ncert' is not a child of 'taipei'"),
        ]
        for i, (name, frame, logged) in enumerate(cases):
            with self.subTest(name):
                src = "127.0.0.%d" % (10 + i)
                # the answer is the same for each; the log keeps the reason
                self.refused_quietly(frame, logged.split(" link frame refused: ")[1], src=src)
                self.assert_unchanged(before)
                self.assertIn(logged, self.log("taipei"))
        # nothing reached the writer: no audit entry, and nothing went on to ncert
        self.assertNotIn(mid.hex(), [m for _, m, _ in self.audit("taipei")])
        self.assert_unchanged(before_ncert, node="ncert")
        # the very same request, properly sealed, is stored: the refusals were the seal's
        rep = self.send(request)
        self.assertEqual(rep[1], [mid])

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
        # before the first start there is no store: --check --init checks a first start
        r = subprocess.run([fed.node_bin, "--config", good, "--check", "--init"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        os.chmod(fed.nodes["ncert"]["key"], 0o644)
        r = subprocess.run([fed.node_bin, "--config", good, "--check", "--init"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("readable by group or others", r.stderr)


if __name__ == "__main__":
    relaytest.run()
