"""relaytest.py - what the integration tests share.

FedTest starts a real federation of relay-node processes on loopback under a
fresh temporary folder for each test and stops every one of them in
tearDown, whatever happened. Waits are on acknowledgements (relayctl wait,
which the node answers after a commit), never on fixed sleeps.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "deployments"))
from federation import Federation  # noqa: E402,F401

import hashlib  # noqa: E402

import lmdb  # noqa: E402
import nacl.bindings  # noqa: E402
import nacl.exceptions  # noqa: E402
import nacl.signing  # noqa: E402

import pb  # noqa: E402

DEMO = os.path.join(ROOT, "deployments", "demo", "topology.ini")

CHAIN = {
    "ncert": {"tier": "national"},
    "taipei": {"tier": "city", "parent": "ncert"},
    "ag-a": {"tier": "agency", "parent": "taipei", "city": "taipei"},
    "ag-b": {"tier": "agency", "parent": "taipei", "city": "taipei"},
}

FORM = {
    "title": "Test incident",
    "level": 1,
    "category": "external_virus",
    "harms": [{"kind": "outage", "class": "non_core", "severity": "minor"}],
    "facts": "Malware found on one desktop.",
}


def fresh_form(**kw):
    """fresh_form - FORM with kw; on the system clock awareness defaults to a
    minute ago, so that no deadline is already past (tests on the controlled
    clock pass aware_at), to the microsecond: two default forms are never the
    same form, which a node refuses within 24 hours (issue 8 finding 7)"""
    form = dict(FORM, **kw)
    t = time.time() - 60
    form.setdefault("aware_at", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) +
                    ".%06dZ" % int((t % 1) * 1e6))
    return form


# ------------------------------------------------------- sealed link frames
# An implementation of the link sessions of node/link_seal.h (relay-link-v2)
# with python3-nacl, independent of the C code under test. SealedFrame
# {1 from, 2 eph, 3 nonce (unused), 4 box, 5 error, 6 sid, 7 counter}; the
# Ed25519 keys converted to X25519, H = BLAKE2b-256, AEAD =
# ChaCha20-Poly1305-IETF with the nonce n(c) = 4 zero bytes || c (8 bytes LE):
#   h  = H("relay-link-v2 hs" || C || P || len(from) || from)
#   k1 = H("relay-link-v2 k1" || h || e_pk || DH(e, P) || DH(C, P))
#   handshake {from, eph e_pk, box AEAD(k1, n(0), time_us, h || e_pk)}
#   k2 = H("relay-link-v2 k2" || k1 || f_pk || sid || DH(f, e) || DH(f, C))
#   answer {eph f_pk, sid, box AEAD(k2, n(0), "", h || e_pk || f_pk || sid)}
#   c2p = H("relay-link-v2 c2p" || k2), p2c = H("relay-link-v2 p2c" || k2)
#   data {from, sid, counter c, box AEAD(c2p, n(c), req, "relay-link-v2 req" || sid || from)}
#   reply {box AEAD(p2c, n(c), rep, "relay-link-v2 rep" || sid)}

LINK_LABEL = b"relay-link-v2"
_last_ts = [0]


class LinkRefused(Exception):
    """LinkRefused - the parent answered with a cleartext SealedFrame.error"""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def link_hash(label, *parts):
    """link_hash - BLAKE2b-256 of LINK_LABEL + label and the parts"""
    return hashlib.blake2b(LINK_LABEL + label + b"".join(parts), digest_size=32).digest()


def link_nonce(counter):
    return b"\0" * 4 + counter.to_bytes(8, "little")


def link_h0(c_x, p_x, sender):
    return link_hash(b" hs", c_x, p_x, bytes([len(sender.encode())]), sender.encode())


def link_handshake(child_sk, parent_pk, sender, ts_us=None):
    """link_handshake - the first message of a session of sender (64-byte
    Ed25519 secret key child_sk) with the parent whose Ed25519 public key is
    parent_pk; returns (frame, state) for link_finish"""
    b = nacl.bindings
    c_x = b.crypto_sign_ed25519_pk_to_curve25519(child_sk[32:])
    c_sk = b.crypto_sign_ed25519_sk_to_curve25519(child_sk)
    p_x = b.crypto_sign_ed25519_pk_to_curve25519(parent_pk)
    e_sk = os.urandom(32)
    e_pk = b.crypto_scalarmult_base(e_sk)
    h = link_h0(c_x, p_x, sender)
    k1 = link_hash(b" k1", h, e_pk, b.crypto_scalarmult(e_sk, p_x),
                   b.crypto_scalarmult(c_sk, p_x))
    if ts_us is None:
        ts_us = max(time.time_ns() // 1000, _last_ts[0] + 1)
        _last_ts[0] = ts_us
    box = b.crypto_aead_chacha20poly1305_ietf_encrypt(
        ts_us.to_bytes(8, "little"), h + e_pk, link_nonce(0), k1)
    frame = pb.message((1, sender), (2, e_pk), (4, box))
    return frame, {"sender": sender, "c_sk": c_sk, "e_sk": e_sk, "e_pk": e_pk, "h": h,
                   "k1": k1}


class LinkSession:
    """LinkSession - the child's end of a session: seal requests, open replies"""

    def __init__(self, sender, sid, c2p, p2c):
        self.sender, self.sid, self.c2p, self.p2c = sender, sid, c2p, p2c
        self.counter = 0

    def seal(self, plaintext):
        """seal - a data frame of plaintext (a serialized LinkRequest); returns
        (frame, counter), the counter opens its reply"""
        self.counter += 1
        c = self.counter
        box = nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            plaintext, LINK_LABEL + b" req" + self.sid + self.sender.encode(),
            link_nonce(c), self.c2p)
        return pb.message((1, self.sender), (4, box), (6, self.sid), (7, c)), c

    def open(self, counter, frame):
        """open - the serialized LinkReply of the reply frame to request
        `counter`; LinkRefused for a cleartext refusal, CryptoError"""
        f = link_frame(frame)
        if set(f) - {4}:
            raise ValueError("not a sealed reply: fields %s" % sorted(f))
        return nacl.bindings.crypto_aead_chacha20poly1305_ietf_decrypt(
            f[4][0], LINK_LABEL + b" rep" + self.sid, link_nonce(counter), self.p2c)


def link_frame(frame):
    """link_frame - a decoded SealedFrame; LinkRefused for a cleartext refusal"""
    f = pb.decode(frame)
    if f.get(5) and not f.get(4):
        raise LinkRefused(f[5][0].decode())
    return f


def link_finish(state, frame):
    """link_finish - the parent's answer to a handshake: a LinkSession"""
    b = nacl.bindings
    f = link_frame(frame)
    if set(f) != {2, 4, 6} or len(f[2][0]) != 32 or len(f[6][0]) != 12:
        raise ValueError("not a handshake answer: fields %s" % sorted(f))
    f_pk, sid = f[2][0], f[6][0]
    k2 = link_hash(b" k2", state["k1"], f_pk, sid, b.crypto_scalarmult(state["e_sk"], f_pk),
                   b.crypto_scalarmult(state["c_sk"], f_pk))
    b.crypto_aead_chacha20poly1305_ietf_decrypt(
        f[4][0], state["h"] + state["e_pk"] + f_pk + sid, link_nonce(0), k2)
    return LinkSession(state["sender"], sid, link_hash(b" c2p", k2), link_hash(b" p2c", k2))


class FedTest(unittest.TestCase):
    TOPOLOGY = CHAIN
    SETTINGS = {"retry_min_ms": 20, "retry_max_ms": 500, "link_timeout_ms": 3000,
                "poll_hold_ms": 500}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="relay-test.")
        self.fed = Federation(self.tmp)
        try:
            self.fed.init(self.TOPOLOGY, self.SETTINGS)
            self.prepare()
            self.fed.start()
            self.fed.wait_links()
        except BaseException:
            self.tearDown()  # tearDown does not run when setUp fails
            raise

    def tearDown(self):
        try:
            self.fed.stop()
        finally:
            for nid in list(self.fed.procs):
                self.fed.procs[nid].kill()
                self.fed.procs[nid].wait()
            if os.environ.get("RELAY_KEEP"):
                print("kept " + self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def prepare(self):
        """prepare - between laying out the federation and starting it: a
        test class may change one node's config or the directory here"""

    # ----------------------------------------------------------- helpers
    def report(self, nid, **kw):
        """report - file a report at nid; returns its incident id once stored"""
        form = fresh_form(**kw)
        return self.fed.ctl(nid, "report", "-", stdin=json.dumps(form))["incident"]

    def wait(self, nid, mid, timeout_ms=20000):
        """wait - until message mid is stored at nid (over the API socket: the
        harness's waits are many, and `relayctl wait` is tested on its own)"""
        st, rep = self.api(nid, "GET", "/api/v1/messages/%s/wait?timeout_ms=%d" % (mid, timeout_ms),
                           timeout_s=timeout_ms / 1000 + 10)
        if st != 200:
            self.fail("%s: waiting for %s: %s" % (nid, mid, rep))

    def api(self, nid, method, path, body=None, headers=None, timeout_s=10):
        """api - one HTTP request to nid's API socket (so that the test chooses
        the method, path, body and headers, e.g. the Idempotency-Key):
        (status, JSON reply)"""
        return self.fed.api(nid, method, path, body, headers, timeout_s)

    def api_full(self, nid, method, path, body=None, headers=None, timeout_s=10):
        """api_full - as api, and the reply's headers (lower-case names):
        (status, JSON reply, headers)"""
        return self.fed.api_full(nid, method, path, body, headers, timeout_s)

    def until(self, cond, what, timeout=15.0):
        """until - poll a condition on node state until it holds (returns its
        value) or timeout seconds pass (fails the test naming what); for
        state that no relayctl wait covers, such as a node's timer acting
        within its 1 s tick"""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = cond()
            if v:
                return v
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    def wait_quiet(self, timeout_ms=20000):
        """wait_quiet - until every running node's outboxes are empty"""
        for nid in self.fed.nodes:
            if self.fed.running(nid):
                st, rep = self.api(nid, "GET", "/api/v1/outbox/wait?timeout_ms=%d" % timeout_ms,
                                   timeout_s=timeout_ms / 1000 + 10)
                if st != 200:
                    self.fail("%s: waiting for empty outboxes: %s" % (nid, rep))

    def incidents(self, nid):
        """incidents - every incident at nid, page by page (list is paged)"""
        out, cursor = {}, []
        while True:
            r = self.fed.ctl(nid, "list", "--limit", "1000", *cursor)
            out.update((i["id"], i) for i in r["incidents"])
            if not r.get("next"):
                return out
            cursor = ["--cursor", r["next"]]

    def env(self, nid):
        """env - a read-only python3-lmdb view of a node's store"""
        return lmdb.open(self.fed.nodes[nid]["store"], readonly=True, lock=True,
                         max_dbs=32, subdir=True)

    def stored_messages(self, nid):
        """stored_messages - {id hex: envelope bytes} read straight from LMDB;
        each value ends in its 16-byte BLAKE2b tag over key and envelope
        (node/store.h), checked here and cut off"""
        e = self.env(nid)
        try:
            with e.begin() as t:
                db = e.open_db(b"messages", txn=t, create=False)
                out = {}
                for k, v in t.cursor(db):
                    k, v = bytes(k), bytes(v)
                    tag = hashlib.blake2b(k + v[:-16], digest_size=16).digest()
                    if tag != v[-16:]:
                        raise ValueError("messages %s: tag does not match" % k.hex())
                    out[k.hex()] = v[:-16]
                return out
        finally:
            e.close()

    def audit(self, nid):
        """audit - [(what, msg id hex, peer)] from the audit log in LMDB"""
        return [(e["what"], e["msg"], e["peer"]) for e in self.audit_entries(nid)]

    def audit_entries(self, nid):
        """audit_entries - every audit entry in LMDB as a dict: what, msg (hex),
        peer, detail and actor (the operator who did it, "" for the node's own
        work; issue 10, R-RECORDS)"""
        e = self.env(nid)
        out = []
        try:
            with e.begin() as t:
                db = e.open_db(b"audit", txn=t, create=False)
                for _, v in t.cursor(db):
                    f = pb.decode(bytes(v))
                    out.append({k: f.get(n, [b""])[0].hex() if k == "msg"
                                else f.get(n, [b""])[0].decode()
                                for k, n in (("what", 3), ("msg", 4), ("peer", 5),
                                             ("detail", 6), ("actor", 8))})
        finally:
            e.close()
        return out

    def dump(self, nid, *dbs):
        """dump - mdb_dump of named databases: a byte-exact picture"""
        return {db: subprocess.run(["mdb_dump", "-s", db, self.fed.nodes[nid]["store"]],
                                   check=True, capture_output=True).stdout for db in dbs}

    def verify_envelope(self, envelope):
        """verify_envelope - python3-nacl check of an envelope's author signature"""
        f = pb.decode(envelope)
        body, sig = f[1][0], f[2][0]
        author = pb.decode(body)[2][0].decode()
        key = nacl.signing.VerifyKey(bytes.fromhex(self.fed.nodes[author]["pub"]))
        key.verify(body, sig)  # raises BadSignatureError
        return pb.decode(body)

    def log(self, nid):
        with open(self.fed.nodes[nid]["log"]) as f:
            return f.read()

    def secret_key(self, nid):
        """secret_key - the node's 64-byte Ed25519 secret key from its key file"""
        with open(self.fed.nodes[nid]["key"]) as f:
            return bytes.fromhex(f.read().split()[1])

    def public_key(self, nid):
        """public_key - the node's Ed25519 public key, as in the directory"""
        return bytes.fromhex(self.fed.nodes[nid]["pub"])


def run():
    unittest.main(verbosity=2)
