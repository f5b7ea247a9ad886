#!/usr/bin/python3
"""test_store - the store is checked before it is trusted; one node per store
(issue 8 findings 2, 3, 5 and parts of 9).

Each case damages or misuses a stopped node's store, then starts relay-node on
it as an operator would, and checks that it is refused with a clear message,
exit status 1, no signal, and no file changed."""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time

import relaytest
from relaytest import FedTest

TOPO = {
    "ncert": {"tier": "national"},
    "taipei": {"tier": "city", "parent": "ncert"},
    "ag-a": {"tier": "agency", "parent": "taipei", "city": "taipei"},
}


def tree_digest(path):
    """tree_digest - {name: sha256} of every file in a store folder"""
    out = {}
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


class Store(FedTest):
    TOPOLOGY = TOPO

    def run_node(self, nid, *extra, conf=None, timeout=10):
        """run_node - relay-node on nid's config in the foreground; must exit"""
        return subprocess.run([self.fed.node_bin, "--config", conf or self.fed.nodes[nid]["config"]]
                              + list(extra), capture_output=True, text=True, timeout=timeout)

    def assert_refused(self, nid, says, *extra):
        """assert_refused - a start is refused: exit 1, no signal, message, nothing changed"""
        store = self.fed.nodes[nid]["store"]
        before = tree_digest(store) if os.path.isdir(store) else None
        r = self.run_node(nid, *extra)
        self.assertEqual(r.returncode, 1, r.stderr)  # a SIGBUS would be -7
        self.assertIn("relay-node: %s: " % store, r.stderr)
        self.assertRegex(r.stderr, says)
        if before is not None:
            after = tree_digest(store)
            for lock in ("relay.lock", "lock.mdb"):  # locks, not data
                after.pop(lock, None)
                before.pop(lock, None)
            self.assertEqual(before, after)
        return r

    def fill(self, n, prefix="r"):
        """fill - n reports at ag-a; their incident ids"""
        return [self.report("ag-a", title="%s-%03d" % (prefix, i)) for i in range(n)]

    def test_damaged_data_file_is_refused(self):
        """issue 8 finding 3: data.mdb truncated to 8 KB, 50% or 90%, zero-length,
        or with a changed magic is refused naming the sizes, exit 1, no SIGBUS,
        no file changed; the whole file starts again"""
        ids = self.fill(30)
        self.wait("ncert", ids[-1])
        self.fed.stop("ag-a")
        mdb = os.path.join(self.fed.nodes["ag-a"]["store"], "data.mdb")
        keep = mdb + ".keep"
        shutil.copyfile(mdb, keep)
        size = os.path.getsize(keep)
        cases = [("8k", 8192, r"is 8192 bytes, but LMDB's meta page .* counts \d+ pages of 4096 bytes"),
                 ("50%", size // 2 // 4096 * 4096, r"\(truncated\)"),
                 ("90%", size * 9 // 10, r"\(truncated\)"),
                 ("zero", 0, r"is empty \(0 bytes\)")]
        for name, cut, says in cases:
            with self.subTest(name):
                shutil.copyfile(keep, mdb)
                os.truncate(mdb, cut)
                self.assert_refused("ag-a", says)
        with self.subTest("magic"):
            shutil.copyfile(keep, mdb)
            with open(mdb, "r+b") as f:
                f.seek(16)
                f.write(b"\0\0\0\0")
            self.assert_refused("ag-a", r"not an LMDB file")
        shutil.copyfile(keep, mdb)
        os.unlink(keep)
        self.fed.start("ag-a")
        self.assertEqual(set(self.incidents("ag-a")), set(ids))

    def test_missing_empty_and_foreign_stores_are_refused(self):
        """issue 8 finding 2: a missing store, one without its node record (an
        empty LMDB), another node's store: each refused, never started as a new
        node; --init on an existing store is refused too"""
        self.fed.stop("ag-a", "taipei")
        store = self.fed.nodes["ag-a"]["store"]
        os.rename(store, store + ".away")
        self.assert_refused("ag-a", r"no store here \(missing folder\).*--init")
        os.makedirs(store)
        self.assert_refused("ag-a", r"no data.mdb in the store folder \(missing store\)")
        relaytest.lmdb.open(store, max_dbs=4).close()  # an empty LMDB environment
        self.assert_refused("ag-a", r"no node record \(empty")
        shutil.rmtree(store)
        # an LMDB that holds databases this node cannot open (another version,
        # another program): never taken for empty, not even by --init
        e = relaytest.lmdb.open(store, max_dbs=4)
        with e.begin(write=True) as t:
            t.put(b"k", b"v", db=e.open_db(b"other", txn=t))
        e.close()
        for extra in ((), ("--init",)):
            self.assert_refused("ag-a", r"cannot be opened with this node's databases", *extra)
        shutil.rmtree(store)
        shutil.copytree(self.fed.nodes["taipei"]["store"], store,
                        ignore=shutil.ignore_patterns("relay.lock"))
        self.assert_refused("ag-a", r"a foreign store: it belongs to node 'taipei', not 'ag-a'")
        shutil.rmtree(store)
        os.rename(store + ".away", store)
        self.assert_refused("ag-a", r"--init refused: the store already holds node ag-a's data",
                            "--init")
        self.fed.start("ag-a", "taipei")

    def test_second_start_is_refused_and_the_first_keeps_answering(self):
        """issue 8 finding 5: a second start on one config says already running
        (pid N) and the first one's API socket still answers; a second
        config on the same store is refused by the same lock"""
        pid = self.fed.procs["ag-a"].pid
        r = self.run_node("ag-a")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("relay-node: %s: already running (pid %d)" % (self.fed.nodes["ag-a"]["store"], pid),
                      r.stderr)
        self.assertEqual(self.fed.ctl("ag-a", "status")["node"], "ag-a")
        other = os.path.join(self.tmp, "ag-a-2.conf")
        with open(self.fed.nodes["ag-a"]["config"]) as f:
            text = f.read().replace("ag-a.sock", "ag-a-2.sock")
        with open(other, "w") as f:
            f.write(text)
        r = self.run_node("ag-a", conf=other)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("already running (pid %d)" % pid, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "ag-a-2.sock")))
        self.assertEqual(self.fed.ctl("ag-a", "status")["node"], "ag-a")
        self.wait("ncert", self.report("ag-a"))

    def flip_in_file(self, mdb, needle):
        """flip_in_file - change one byte of every copy of needle in the file"""
        with open(mdb, "r+b") as f:
            data = f.read()
            at = data.find(needle)
            self.assertGreater(at, 0, needle)
            while at >= 0:
                f.seek(at + len(needle) - 1)
                f.write(bytes([data[at + len(needle) - 1] ^ 0x01]))
                at = data.find(needle, at + 1)

    def test_bit_flips_are_found_and_messages_quarantined(self):
        """issue 8 finding 3: bit flips in the data pages of a store with 200
        incidents and queued reports: reads of damaged records fail, `store
        check` names each with db and key, damaged messages move to corrupt
        with their outbox entries, and a re-signed forgery is caught by its
        signature"""
        self.fed.stop("taipei")  # everything stays queued at the agency
        ids = self.fill(200, prefix="bitrot")
        st = self.fed.ctl("ag-a", "status")
        self.assertEqual(st["counts"]["incidents"], 200)
        outbox = st["counts"]["outbox"]
        self.fed.stop("ag-a")
        store = self.fed.nodes["ag-a"]["store"]
        mdb = os.path.join(store, "data.mdb")
        damaged = [ids[17], ids[101], ids[188]]
        for i in (17, 101, 188):
            self.flip_in_file(mdb, b"bitrot-%03d" % i)
        # a forgery: the facts of report 50 changed and the record's tag
        # recomputed, as someone with the file and the code could
        e = relaytest.lmdb.open(store, max_dbs=32)
        with e.begin(write=True) as t:
            db = e.open_db(b"messages", txn=t, create=False)
            key = bytes.fromhex(ids[50])
            v = bytes(t.get(key, db=db))[:-16]
            at = v.find(b"Malware found")
            v = v[:at] + b"N" + v[at + 1:]
            t.put(key, v + hashlib.blake2b(key + v, digest_size=16).digest(), db=db)
        e.close()
        self.fed.start("ag-a")
        r = self.fed.ctl_raw("ag-a", "show", damaged[0])
        self.assertNotEqual(r.returncode, 0, r.stdout)
        r = self.fed.ctl_raw("ag-a", "store", "check")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        for iid in damaged:
            self.assertIn("damaged: db incidents key %s: checksum does not match" % iid, r.stdout)
        # the forgery's tag is whole: only its signature tells
        self.assertIn("damaged: db messages key %s: bad signature" % ids[50], r.stdout)
        self.assertIn("4 damaged record(s)", r.stderr)  # 3 incidents, 1 message
        # the sender found the changed messages first when it read its outbox,
        # or the check did: either way they are in corrupt, with a reason
        r = self.fed.ctl_raw("ag-a", "store", "check", "--json")
        self.assertEqual(r.returncode, 1)  # the incidents are still damaged
        r = relaytest.json.loads(r.stdout)
        corrupt = {c["key"]: c["reason"] for c in r["corrupt"]}
        self.assertEqual(set(corrupt), set(damaged) | {ids[50]})
        for iid in damaged:
            self.assertIn("checksum does not match", corrupt[iid])
        self.assertIn("bad signature", corrupt[ids[50]])
        self.assertEqual({d["db"] for d in r["damaged"]}, {"incidents"})
        st = self.fed.ctl("ag-a", "status")
        self.assertEqual(st["counts"]["corrupt"], 4)
        self.assertEqual(st["counts"]["outbox"], outbox - 4)
        self.assertEqual([w for w, _, _ in self.audit("ag-a")].count("quarantined"), 4)
        self.assertEqual(self.fed.ctl("ag-a", "audit", "verify")["intact"], True)

    def test_whole_message_of_unknown_author_is_reported_not_moved(self):
        """review of issue 8 finding 3: a stored message that is whole but that
        the directory in force cannot vouch for (here: an author it does not
        know) is named by `store check` and stays where it is: that is no
        damage at rest, and moving it would stop it and its outbox entry"""
        import nacl.signing
        from test_refusal import body, envelope
        self.fed.stop("ag-a")
        store = self.fed.nodes["ag-a"]["store"]
        mid = os.urandom(16)
        v = envelope(body(mid, "ghost", ["taipei"]), nacl.signing.SigningKey.generate())
        e = relaytest.lmdb.open(store, max_dbs=32)
        with e.begin(write=True) as t:
            t.put(mid, v + hashlib.blake2b(mid + v, digest_size=16).digest(),
                  db=e.open_db(b"messages", txn=t, create=False))
        e.close()
        self.fed.start("ag-a")
        r = self.fed.ctl_raw("ag-a", "store", "check", "--json")
        rep = relaytest.json.loads(r.stdout)
        found = [d for d in rep["damaged"] if d["key"] == mid.hex()]
        self.assertEqual(len(found), 1, rep)
        self.assertIn("author not in the directory", found[0]["reason"])
        self.assertFalse(found[0].get("moved"), found[0])
        self.assertEqual(rep["corrupt"], [])
        self.assertEqual(self.fed.ctl("ag-a", "status")["counts"]["corrupt"], 0)
        e = relaytest.lmdb.open(store, max_dbs=32, readonly=True, lock=False)
        with e.begin() as t:
            self.assertIsNotNone(t.get(mid, db=e.open_db(b"messages", txn=t, create=False)))
        e.close()

    def test_damaged_message_in_outbox_does_not_stall_the_link(self):
        """issue 8 finding 3: a queued report whose bytes changed at rest is
        found when the sender reads it, moved to corrupt with its outbox entry
        and audited; the reports behind it still reach N-CERT"""
        self.fed.stop("taipei")
        ids = self.fill(20, prefix="rot")
        self.fed.stop("ag-a")
        self.flip_in_file(os.path.join(self.fed.nodes["ag-a"]["store"], "data.mdb"), b"rot-003")
        self.fed.start("ag-a", "taipei")
        self.fed.ctl("ncert", "wait", ids[-1], "--timeout", "20000")
        self.wait_quiet()
        st = self.fed.ctl("ag-a", "status")
        self.assertEqual((st["counts"]["corrupt"], st["counts"]["outbox"]), (1, 0))
        got = set(self.incidents("ncert"))
        self.assertEqual(got & set(ids), set(ids) - {ids[3]})
        self.assertRegex(self.log("ag-a"), r"msg=%s moved to corrupt: checksum does not match" % ids[3])
        self.assertIn(("quarantined", ids[3], ""), self.audit("ag-a"))

    def test_damaged_incident_refuses_only_what_needs_it(self):
        """issue 8 finding 3: an update for an incident whose record is damaged
        at the city is refused there with the reason (the writer does not fail
        the whole group), and other reports in the same traffic still pass"""
        iid = self.report("ag-a", title="ruined-title")
        self.wait_quiet()
        self.fed.stop("taipei")
        self.flip_in_file(os.path.join(self.fed.nodes["taipei"]["store"], "data.mdb"),
                          b"ruined-title")
        self.fed.start("taipei")
        self.fed.wait_links()
        self.fed.ctl("ag-a", "update", iid, "--team-formed")
        later = self.report("ag-a", title="after the damage")
        self.fed.ctl("ncert", "wait", later, "--timeout", "20000")
        self.assertIn("refused: a record it needs is damaged at this node", self.log("taipei"))
        self.assertRegex(self.log("taipei"), r"damaged record: db incidents key %s" % iid)

    def test_audit_verify_counts(self):
        """issue 8 finding 3: audit verify names the first broken entry, the
        intact ones before it and the total ("broken at entry 28 (of 27)")"""
        self.wait("ncert", self.report("ag-a"))
        self.wait_quiet()  # receipts home: nothing more arrives at ag-a
        self.fed.stop("ag-a", "taipei")
        before = self.audit("ag-a")
        total = len(before)
        e = relaytest.lmdb.open(self.fed.nodes["ag-a"]["store"], max_dbs=32)
        with e.begin(write=True) as t:
            db = e.open_db(b"audit", txn=t, create=False)
            key = (total).to_bytes(8, "big")  # the last entry
            v = bytearray(t.get(key, db=db))
            v[-40] ^= 1
            t.put(key, bytes(v), db=db)
        e.close()
        self.fed.start("ag-a")
        r = self.fed.ctl_raw("ag-a", "audit", "verify")
        self.assertEqual(r.returncode, 1)
        m = re.search(r"broken at entry (\d+): (\d+) entries intact before it, (\d+) in all", r.stderr)
        self.assertIsNotNone(m, r.stderr)
        bad, intact, alln = map(int, m.groups())
        self.assertEqual((bad, intact, alln), (total, total - 1, total))  # the last one

    def test_check_refuses_what_a_start_would(self):
        """issue 8 finding 9: --check names the store (missing, a file, already
        running), and upstream and listen URLs of the wrong scheme,
        with file:line: key"""
        conf = self.fed.nodes["ag-a"]["config"]
        r = self.run_node("ag-a", "--check")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"%s:\d+: key 'store': .*already running \(pid %d\)" % (
            re.escape(conf), self.fed.procs["ag-a"].pid))
        with open(conf) as f:
            lines = f.read().splitlines()
        bad = os.path.join(self.tmp, "bad.conf")

        def with_line(key, value):
            out = [l if not l.startswith(key + " = ") else "%s = %s" % (key, value) for l in lines]
            with open(bad, "w") as f:
                f.write("\n".join(out) + "\n")
            return [i + 1 for i, l in enumerate(out) if l.startswith(key + " = ")][0]

        # (the row for 'control' went with the nng control socket, issue 10:
        # api_socket's checks are config.c's, tested with it)
        for key, value, says in [("upstream", "http://127.0.0.1:1", "must be a tcp:// URL")]:
            line = with_line(key, value)
            r = self.run_node("ag-a", "--check", conf=bad)
            self.assertEqual(r.returncode, 1)
            self.assertIn("%s:%d: key '%s': %s" % (bad, line, key, says), r.stderr)
        line = with_line("store", os.path.join(self.tmp, "a-file"))
        open(os.path.join(self.tmp, "a-file"), "w").close()
        r = self.run_node("ag-a", "--check", conf=bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:%d: key 'store': %s: not a folder" % (bad, line, os.path.join(self.tmp, "a-file")),
                      r.stderr)
        line = with_line("store", os.path.join(self.tmp, "nothing-here"))
        r = self.run_node("ag-a", "--check", conf=bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing folder", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "nothing-here")))
        self.fed.stop("ag-a")
        r = self.run_node("ag-a", "--check")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bootstrap_directory_is_verified_at_every_start(self):
        """issue 8 finding 9: a directory.log that does not verify is refused
        even when the store exists; one that verifies but differs from the
        stored log is named with the first differing change"""
        self.fed.stop("ag-a")
        boot = os.path.join(self.tmp, "directory.log")
        with open(boot) as f:
            text = f.read()
        mine = os.path.join(self.tmp, "ag-a.dir")
        lines = text.split("\n")
        first = [i for i, l in enumerate(lines) if l and not l.startswith("#")][0]
        pos = len(lines[first]) - 3  # one hex digit of the first change's signature
        lines[first] = lines[first][:pos] + ("0" if lines[first][pos] != "0" else "1") + \
            lines[first][pos + 1:]
        with open(mine, "w") as f:
            f.write("\n".join(lines))
        conf = self.fed.nodes["ag-a"]["config"]
        with open(conf) as f:
            ctext = f.read()
        with open(conf, "w") as f:
            f.write(ctext.replace(boot, mine))
        r = self.run_node("ag-a")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("directory refused", r.stderr)
        # a valid directory that differs: signed anew from a changed topology
        ini = os.path.join(self.tmp, "directory.ini")
        with open(ini) as f:
            itext = f.read()
        with open(os.path.join(self.tmp, "other.ini"), "w") as f:
            f.write(itext.replace("[ag-a]\n", "[ag-a]\ncontact = call me\n"))
        other = os.path.join(self.tmp, "other.log")
        subprocess.run([self.fed.ctl_bin, "dir-init", "--root", self.fed.root_key, "--from",
                        os.path.join(self.tmp, "other.ini"), "--out", other],
                       check=True, capture_output=True)
        with open(conf, "w") as f:
            f.write(ctext.replace(boot, other))
        self.fed.start("ag-a")
        self.assertRegex(self.log("ag-a"), r"directory: %s differs from the stored directory "
                         r"at change \d+" % re.escape(other))

    def test_full_disk_is_named(self):
        """issue 8 finding 9: a full disk was logged as "Input/output error"; the
        refusal and the log now say disk full. The store is put on a 2 MiB
        tmpfs (skipped where mount is not allowed)."""
        small = relaytest.tempfile.mkdtemp(prefix="relay-enospc.")
        self.addCleanup(os.rmdir, small)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a tmpfs here")
        self.addCleanup(subprocess.run, ["umount", small], check=True)
        self.fed.stop("ag-a", "taipei")
        store = os.path.join(small, "ag-a.db")
        shutil.copytree(self.fed.nodes["ag-a"]["store"], store,
                        ignore=shutil.ignore_patterns("relay.lock"))
        conf = self.fed.nodes["ag-a"]["config"]
        with open(conf) as f:
            text = f.read().replace(self.fed.nodes["ag-a"]["store"], store)
        with open(conf, "w") as f:
            f.write(text + "map_mb = 1\nmap_max_mb = 64\n")
        self.fed.nodes["ag-a"]["store"] = store
        self.fed.start("ag-a")
        err = None
        for i in range(200):
            r = self.fed.ctl_raw("ag-a", "report", "-", stdin=relaytest.json.dumps(
                relaytest.fresh_form(title="big %d" % i, facts="f" * 8000, scope="s" * 8000)))
            if r.returncode != 0:
                err = r.stderr + r.stdout
                break
        self.assertIsNotNone(err, "a 2 MiB disk never filled")
        self.assertIn("disk full (No space left on device)", err)
        self.assertIn("disk full (No space left on device)", self.log("ag-a"))
        self.assertNotIn("Input/output error", self.log("ag-a"))

    def test_sighup_stops_cleanly(self):
        """issue 8 finding 9: SIGHUP is handled like SIGTERM, with a stopping line"""
        p = self.fed.procs["ag-a"]
        os.kill(p.pid, signal.SIGHUP)
        self.assertEqual(p.wait(10), 0)
        self.fed.procs.pop("ag-a")
        log = self.log("ag-a")
        self.assertIn("stopping on SIGHUP", log)
        self.assertTrue(log.rstrip().endswith("stopped"), log[-300:])


if __name__ == "__main__":
    relaytest.run()
