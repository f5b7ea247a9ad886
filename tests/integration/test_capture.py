#!/usr/bin/python3
"""test_capture - no field of an incident is readable on the wire.

tcpdump records every packet on the city's and the national center's link
ports while a report goes up (ag-a -> taipei -> ncert) and a review comes
down (taipei -> ag-a). The capture must hold the link traffic (the node ids,
which travel in clear) and none of the report's or the review's text, which
the nodes themselves store as sent: the positive control. The frames
themselves, read back from the capture (link_streams), are relay-link-v2
session frames (issue 9 item 3): handshakes, data frames with a session id
and a counter that no two frames of a session share, and replies; nothing
of relay-link-v1's per-request ephemeral key and random nonce.
"""
import collections
import os
import shutil
import signal
import struct
import subprocess
import time

import pb

import relaytest
from relaytest import FedTest


def pcap_tcp(path):
    """pcap_tcp - {(src port, dst port): payload bytes in sequence order} of
    the TCP segments of a tcpdump capture on lo (Ethernet link type, IPv4)"""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    link = struct.unpack(end + "I", data[20:24])[0]
    segs = collections.defaultdict(dict)
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if link == 1:  # Ethernet
            if pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif link == 113:  # Linux cooked
            ip = pkt[16:]
        else:
            ip = pkt
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        payload = tcp[(tcp[12] >> 4) * 4:]
        if payload:
            segs[(sport, dport)][seq] = payload
    return {k: b"".join(v[q] for q in sorted(v)) for k, v in segs.items()}


def sp_frames(stream):
    """sp_frames - the bodies of the SP-over-TCP messages of one direction of
    a req/rep connection (8-byte SP header, then u64 length || 4-byte
    request id || body); a message cut by the capture's end is left out"""
    out, off = [], 8 if stream[:4] == b"\x00SP\x00" else 0
    while off + 8 <= len(stream):
        n = struct.unpack(">Q", stream[off:off + 8])[0]
        if off + 8 + n > len(stream):
            break
        out.append(stream[off + 12:off + 8 + n])
        off += 8 + n
    return out


def link_streams(path, port):
    """link_streams - [(requests, replies)] per connection to a parent's
    link port: the SealedFrame bytes each way"""
    tcp = pcap_tcp(path)
    return [(sp_frames(up), sp_frames(tcp.get((dport, sport), b"")))
            for (sport, dport), up in tcp.items() if dport == port]


def frame_kind(frame):
    """frame_kind - handshake, answer, data, reply or refusal, by the fields
    a relay-link-v2 SealedFrame carries; None for anything else"""
    f = pb.decode(frame)
    kinds = {frozenset({1, 2, 4}): "handshake", frozenset({2, 4, 6}): "answer",
             frozenset({1, 4, 6, 7}): "data", frozenset({4}): "reply",
             frozenset({5}): "refusal"}
    return kinds.get(frozenset(f)), f


class CaptureTools(FedTest):
    """CaptureTools - tcpdump on the loopback for a test (no tests here)"""

    def start_tcpdump(self, path, ports):
        """start_tcpdump - capture on lo until stop_tcpdump; waits until it listens"""
        tcpdump = shutil.which("tcpdump") or ("/usr/bin/tcpdump" if os.path.exists(
            "/usr/bin/tcpdump") else None)
        if tcpdump is None:
            self.fail("tcpdump is not installed: tools/setup.sh installs it "
                      "(apt-get install tcpdump); this test needs it and is not skipped")
        errpath = path + ".stderr"
        err = open(errpath, "w")
        # -Z root: Debian's tcpdump would otherwise write the file as user
        # tcpdump, who cannot enter the test's 0700 folder
        proc = subprocess.Popen(
            [tcpdump, "-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root", "-w", path,
             " or ".join("tcp port %d" % p for p in ports)],
            stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        end = time.monotonic() + 10
        while True:
            with open(errpath) as f:
                text = f.read()
            if "listening on" in text:
                return proc
            if proc.poll() is not None or time.monotonic() > end:
                self.stop_tcpdump(proc)
                self.fail("tcpdump did not start capturing: %s" % text.strip())
            time.sleep(0.02)

    @staticmethod
    def stop_tcpdump(proc):
        """stop_tcpdump - SIGINT (flushes the file), then reap; kill if stuck"""
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Capture(CaptureTools):

    def test_incident_text_never_on_the_wire(self):
        """a report up and a review down: node ids on the wire, no incident text"""
        marker = "MARKER-" + os.urandom(8).hex()
        review_marker = "REVIEW-" + os.urandom(8).hex()
        title = "Capture title %s" % marker
        facts = "Capture facts %s: ransomware on the billing server" % marker
        basis = "Capture basis %s: confirmed by the city" % review_marker
        pcap = os.path.join(self.tmp, "links.pcap")
        ports = [self.fed.nodes["taipei"]["port"], self.fed.nodes["ncert"]["port"]]
        proc = self.start_tcpdump(pcap, ports)
        try:
            iid = self.report("ag-a", title=title, facts=facts)
            self.wait("ncert", iid)
            self.wait("taipei", iid)
            rv = self.fed.ctl("taipei", "review", iid, "--level", "1", "--confirm",
                              "--basis", basis)
            self.wait("ag-a", rv["id"])
            self.wait("ncert", rv["id"])
            self.wait_quiet()
        finally:
            self.stop_tcpdump(proc)
        with open(pcap, "rb") as f:
            wire = f.read()

        # the capture saw the links: frames from both children, of some size
        self.assertGreater(len(wire), 2048, "the capture is (nearly) empty")
        self.assertIn(b"ag-a", wire, "ag-a's requests to taipei are in the capture")
        self.assertIn(b"taipei", wire, "taipei's requests to ncert are in the capture")
        # and nothing of the incident or the review
        for secret in (marker, review_marker, title, facts, basis,
                       "ransomware on the billing server", "confirmed by the city"):
            with self.subTest(secret):
                self.assertNotIn(secret.encode(), wire)

        # the frames are relay-link-v2 session frames: each request a handshake
        # or a data frame of a session, whose counters never repeat (they are
        # the nonces); no ephemeral key or random nonce per request
        seen, kinds = set(), collections.Counter()
        for port in ports:
            for requests, replies in link_streams(pcap, port):
                for frame in requests + replies:
                    kind, f = frame_kind(frame)
                    self.assertIsNotNone(kind, "not a v2 frame: fields %s" % sorted(f))
                    kinds[kind] += 1
                    if kind == "data":
                        self.assertEqual(len(f[6][0]), 12)
                        key = (f[6][0], f[7][0])
                        self.assertNotIn(key, seen, "a counter of a session repeats")
                        seen.add(key)
        self.assertGreater(kinds["data"], 4, kinds)
        self.assertGreater(kinds["reply"], 4, kinds)

        # positive control: the stores hold exactly this text, so it was sent
        at_ncert = b"".join(self.stored_messages("ncert").values())
        self.assertIn(marker.encode(), at_ncert)
        self.assertIn(title.encode(), at_ncert)
        self.assertIn(review_marker.encode(), at_ncert)
        at_agency = b"".join(self.stored_messages("ag-a").values())
        self.assertIn(review_marker.encode(), at_agency)
        self.assertIn(basis.encode(), at_agency)


if __name__ == "__main__":
    relaytest.run()
