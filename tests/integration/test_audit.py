#!/usr/bin/python3
"""test_audit - tamper-evident audit logs, checked by the parent (issue "Trust", item 5)."""
import os
import shutil
import subprocess

import relaytest
from relaytest import FedTest


class Audit(FedTest):

    def export(self, nid, name):
        path = os.path.join(self.tmp, name)
        r = self.fed.ctl_raw(nid, "audit", "export", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        return path

    def check(self, parent, child, path):
        return self.fed.ctl_raw(parent, "audit", "check", child, path)

    def test_parent_checks_child_log(self):
        """the city checks ag-a's signed head and chain, and holds every message
        ag-a logged as forwarded to it"""
        ids = [self.report("ag-a", title="r%d" % i) for i in range(3)]
        for i in ids:
            self.wait("taipei", i)
        self.wait_quiet()
        path = self.export("ag-a", "ag-a.audit")
        r = self.check("taipei", "ag-a", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("audit log intact", r.stdout)
        self.assertIn("3 messages logged as forwarded to taipei: 3 received here, 0 missing",
                      r.stdout)
        self.assertIn("consistent with the head it signed on its link", r.stdout)
        # the head is signed by ag-a: checked as another node's, it fails
        r = self.check("taipei", "ag-b", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not signed by the node's directory key", r.stderr)

    def test_edited_export_is_detected(self):
        """one changed byte in an exported entry breaks the chain at that entry"""
        self.report("ag-a")
        self.wait_quiet()
        path = self.export("ag-a", "ag-a.audit")
        with open(path) as f:
            lines = f.read().split("\n")
        # entry 2 is line 3; flip one hex digit in its middle
        e = lines[2]
        mid = len(e) // 2 + 3
        lines[2] = e[:mid] + ("0" if e[mid] != "0" else "1") + e[mid + 1:]
        with open(path, "w") as f:
            f.write("\n".join(lines))
        r = self.check("taipei", "ag-a", path)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"broken at entry [23]\b")

    def held_head_seq(self, parent, child):
        """held_head_seq - entries in the head the child last signed on its link"""
        r = self.fed.ctl(parent, "audit", "head", child)
        if not r["head"]:
            return 0
        signed = relaytest.pb.decode(bytes.fromhex(r["head"]))
        return relaytest.pb.decode(signed[1][0])[2][0]

    def test_export_cut_short_is_caught(self):
        """a child cannot hide entries: an export cut before the head it already
        signed on its link is refused, even with a correct signature"""
        import hashlib
        import nacl.signing
        ids = [self.report("ag-a", title="r%d" % i) for i in range(2)]
        for i in ids:
            self.wait("taipei", i)
        self.wait_quiet()
        path = self.export("ag-a", "ag-a.audit")
        with open(path) as f:
            lines = [l for l in f.read().split("\n") if l]
        entries = [bytes.fromhex(l[6:]) for l in lines if l.startswith("entry ")]
        self.until_seq("taipei", "ag-a", len(entries))
        keep = entries[:2]
        h = bytes(32)
        for e in keep:
            h = hashlib.blake2b(h + e, digest_size=32).digest()
        import time
        head = relaytest.pb.message((1, "ag-a"), (2, len(keep)), (3, h),
                                    (4, int(time.time() * 1e6) + 60000000))
        key = nacl.signing.SigningKey(self.secret_key("ag-a")[:32])
        signed = relaytest.pb.message((1, head), (2, key.sign(head).signature))
        with open(path, "w") as f:
            f.write("head %s\n" % signed.hex() + "".join("entry %s\n" % e.hex() for e in keep))
        r = self.check("taipei", "ag-a", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("before the head ag-a signed on its link", r.stderr)

    def until_seq(self, parent, child, seq):
        import time
        end = time.monotonic() + 15
        while self.held_head_seq(parent, child) < seq:
            self.assertLess(time.monotonic(), end, "no audit head of %d entries held" % seq)
            time.sleep(0.05)

    def test_lost_messages_are_found(self):
        """a city that lost its store: the check names every message ag-a forwarded
        to it that it does not hold"""
        ids = [self.report("ag-a", title="r%d" % i) for i in range(2)]
        for i in ids:
            self.wait("taipei", i)
        self.wait_quiet()
        path = self.export("ag-a", "ag-a.audit")
        self.fed.stop("taipei")
        shutil.rmtree(self.fed.nodes["taipei"]["store"])
        self.fed.start("taipei", init=True)  # a lost store: its operator starts anew
        r = self.check("taipei", "ag-a", path)
        self.assertEqual(r.returncode, 1)
        for i in ids:
            self.assertIn(i, r.stderr)
        self.assertIn("2 missing", r.stdout)

    def test_byte_changed_in_lmdb_is_named(self):
        """changing one byte of an audit entry inside the LMDB file: audit verify
        names the first broken entry"""
        self.report("ag-a")
        self.wait_quiet()
        before = self.audit("ag-a")
        self.fed.stop("ag-a")
        mdb = os.path.join(self.fed.nodes["ag-a"]["store"], "data.mdb")
        # one byte per copy: LMDB keeps older copies of pages, and only the
        # live one counts; change the 'f' of every "forwarded" found
        with open(mdb, "r+b") as f:
            data = f.read()
            at = data.find(b"forwarded")
            self.assertGreater(at, 0)
            while at >= 0:
                f.seek(at)
                f.write(b"g")
                at = data.find(b"forwarded", at + 1)
        self.fed.start("ag-a")
        r = self.fed.ctl_raw("ag-a", "audit", "verify")
        self.assertEqual(r.returncode, 1)
        import re
        m = re.search(r"broken at entry (\d+)", r.stderr)
        self.assertIsNotNone(m, r.stderr)
        seq = int(m.group(1))
        self.assertEqual(seq, [w for w, _, _ in before].index("forwarded") + 1)


if __name__ == "__main__":
    relaytest.run()
