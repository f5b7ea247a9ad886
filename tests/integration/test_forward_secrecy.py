#!/usr/bin/python3
"""test_forward_secrecy - old traffic stays closed (issue 9 item 3).

tcpdump records ag-a's link to taipei from ag-a's start (so the capture holds
its handshake) while a report goes up. Then the session ends: taipei restarts
(its sessions are gone) and ag-a's connection drops (its session is wiped).
With BOTH key files, ag-a's and taipei's, an attacker computes every DH term
of the recorded handshake but the ephemeral-ephemeral one: the handshake's
own payload opens (the positive control: the keys and the derivation are
right), but neither its answer nor any recorded data frame or reply opens,
whatever the attacker puts in place of DH(f, e). Under relay-link-v1 the
parent's key alone opened every recorded frame: shown on a v1 frame sealed
here, and the v1 derivation applied to the recorded frames opens nothing.
"""
import hashlib
import os

import nacl.bindings
import nacl.exceptions

import pb
import relaytest
from test_capture import CaptureTools, frame_kind, link_streams

B = nacl.bindings


def opens(box, ad, nonce, key, xchacha=False):
    """opens - does box open under key (ChaCha20-Poly1305-IETF, or XChaCha)"""
    try:
        if xchacha:
            B.crypto_aead_xchacha20poly1305_ietf_decrypt(box, ad, nonce, key)
        else:
            B.crypto_aead_chacha20poly1305_ietf_decrypt(box, ad, nonce, key)
        return True
    except nacl.exceptions.CryptoError:
        return False


def v1_key(p_sk, eph, c_x, p_x):
    """v1_key - relay-link-v1's request key, from the parent's key alone"""
    s1 = B.crypto_scalarmult(p_sk, eph)
    s2 = B.crypto_scalarmult(p_sk, c_x)
    return hashlib.blake2b(b"relay-link-v1" + s1 + s2 + eph + c_x + p_x,
                           digest_size=32).digest()


class ForwardSecrecy(CaptureTools):

    def test_old_traffic_stays_closed(self):
        """both key files, after the session ended, open no recorded frame"""
        marker = "FS-MARKER-" + os.urandom(8).hex()
        pcap = os.path.join(self.tmp, "fs.pcap")
        port = self.fed.nodes["taipei"]["port"]
        proc = self.start_tcpdump(pcap, [port])
        try:
            self.fed.stop("ag-a")
            self.fed.start("ag-a")
            self.fed.wait_links()
            iid = self.report("ag-a", title="FS title " + marker, facts="FS facts " + marker)
            self.wait("ncert", iid)
            self.wait_quiet()
        finally:
            self.stop_tcpdump(proc)
        # the session ends: the parent forgets it, the child wipes it
        self.fed.stop("taipei")
        self.fed.start("taipei")
        self.fed.wait_links()
        self.assertIn(marker.encode(), b"".join(self.stored_messages("taipei").values()))
        with open(pcap, "rb") as f:
            self.assertNotIn(marker.encode(), f.read())

        # everything an attacker holding both key files can compute
        c_ed, p_ed = self.secret_key("ag-a"), self.secret_key("taipei")
        c_sk = B.crypto_sign_ed25519_sk_to_curve25519(c_ed)
        p_sk = B.crypto_sign_ed25519_sk_to_curve25519(p_ed)
        c_x = B.crypto_sign_ed25519_pk_to_curve25519(c_ed[32:])
        p_x = B.crypto_sign_ed25519_pk_to_curve25519(p_ed[32:])
        h = relaytest.link_h0(c_x, p_x, "ag-a")

        handshakes, data, replies = [], [], []
        for requests, answers in link_streams(pcap, port):
            for req, rep in zip(requests, answers):
                kind, f = frame_kind(req)
                rkind, rf = frame_kind(rep)
                if kind == "handshake" and f[1][0] == b"ag-a" and rkind == "answer":
                    handshakes.append((f, rf))
                elif kind == "data" and f[1][0] == b"ag-a":
                    data.append(f)
                    if rkind == "reply":
                        replies.append((f, rf))
        self.assertTrue(handshakes, "the capture holds ag-a's handshake")
        self.assertGreater(len(data), 2, "the capture holds ag-a's data frames")
        self.assertTrue(replies, "the capture holds taipei's replies")
        print("recorded: %d handshakes, %d data frames, %d replies of ag-a" % (
            len(handshakes), len(data), len(replies)))

        opened = 0
        for hs, ans in handshakes:
            e_pk, f_pk, sid = hs[2][0], ans[2][0], ans[6][0]
            es = B.crypto_scalarmult(p_sk, e_pk)
            ss = B.crypto_scalarmult(p_sk, c_x)
            se = B.crypto_scalarmult(c_sk, f_pk)
            k1 = relaytest.link_hash(b" k1", h, e_pk, es, ss)
            # positive control: the handshake's payload (a time) opens
            self.assertTrue(opens(hs[4][0], h + e_pk, relaytest.link_nonce(0), k1))
            # every stand-in for the ee term the attacker can compute
            guesses = [es, ss, se, B.crypto_scalarmult(c_sk, e_pk),
                       B.crypto_scalarmult(p_sk, f_pk), b"\0" * 32]
            for ee in guesses:
                k2 = relaytest.link_hash(b" k2", k1, f_pk, sid, ee, se)
                self.assertFalse(opens(ans[4][0], h + e_pk + f_pk + sid,
                                       relaytest.link_nonce(0), k2))
                c2p, p2c = relaytest.link_hash(b" c2p", k2), relaytest.link_hash(b" p2c", k2)
                for f in data:
                    self.assertFalse(opens(f[4][0], b"relay-link-v2 req" + f[6][0] + b"ag-a",
                                           relaytest.link_nonce(f[7][0]), c2p))
                for f, r in replies:
                    self.assertFalse(opens(r[4][0], b"relay-link-v2 rep" + f[6][0],
                                           relaytest.link_nonce(f[7][0]), p2c))
                opened += 1
            # relay-link-v1's derivation, with the parent's key, from this
            # handshake's ephemeral key: opens nothing either
            k = v1_key(p_sk, e_pk, c_x, p_x)
            for f in data:
                self.assertFalse(opens(f[4][0], b"relay-link-v2 req" + f[6][0] + b"ag-a",
                                       relaytest.link_nonce(f[7][0]), k))
        self.assertEqual(opened, len(handshakes) * 6)
        # no v2 frame carries what v1 keyed each request with (eph, nonce)
        for f in data:
            self.assertNotIn(2, f)
            self.assertNotIn(3, f)

        # under v1, the parent's key alone opened a recorded request
        e_sk = os.urandom(32)
        e_pk = B.crypto_scalarmult_base(e_sk)
        k_child = hashlib.blake2b(
            b"relay-link-v1" + B.crypto_scalarmult(e_sk, p_x) + B.crypto_scalarmult(c_sk, p_x) +
            e_pk + c_x + p_x, digest_size=32).digest()
        nonce = os.urandom(24)
        box = B.crypto_aead_xchacha20poly1305_ietf_encrypt(
            marker.encode(), b"relay-link-v1 reqag-a", nonce, k_child)
        v1_frame = pb.decode(pb.message((1, "ag-a"), (2, e_pk), (3, nonce), (4, box)))
        self.assertTrue(opens(v1_frame[4][0], b"relay-link-v1 reqag-a", v1_frame[3][0],
                              v1_key(p_sk, v1_frame[2][0], c_x, p_x), xchacha=True))


if __name__ == "__main__":
    relaytest.run()
