#!/usr/bin/python3
"""test_directory - the root-signed directory: enrol, rotate, revoke (issue "Trust", item 1, 3).

The federation starts from a directory signed by a root key that only the
test (the national operator's relayctl) holds. Changes are signed by relayctl,
submitted at N-CERT, and must reach every node in order.
"""
import os
import subprocess
import time

import relaytest
from relaytest import FedTest


class Directory(FedTest):

    def change(self, verb, *args):
        """change - sign a directory change with the root key and submit it at N-CERT"""
        return self.fed.ctl("ncert", verb, "--root", self.fed.root_key, *args)

    def seq_everywhere(self, seq, timeout=15.0):
        """seq_everywhere - until every running node applied change seq"""
        end = time.monotonic() + timeout
        for nid in self.fed.nodes:
            if not self.fed.running(nid):
                continue
            while self.fed.ctl(nid, "status")["directory_seq"] < seq:
                if time.monotonic() > end:
                    self.fail("%s did not reach directory change %d" % (nid, seq))
                time.sleep(0.05)

    def join(self, nid, key, pub, boot):
        """join - a new agency under taipei: its own config, the bootstrap file,
        the parent's address; started"""
        n = dict(self.fed.nodes["ag-a"])
        n.pop("initialized", None)  # a new node: its first start is --init
        n.update(key=key, pub=pub, port=0,
                 config=os.path.join(self.tmp, nid + ".conf"),
                 api_socket=self.fed.sock_path(nid),
                 log=os.path.join(self.tmp, nid + ".log"),
                 store=os.path.join(self.tmp, nid + ".db"))
        self.fed.nodes[nid] = n
        self.fed.write_config(nid, self.SETTINGS)
        with open(n["config"]) as f:
            text = f.read().replace(os.path.join(self.tmp, "directory.log"), boot)
        with open(n["config"], "w") as f:
            f.write(text)
        self.fed.start(nid)

    def test_entry_not_yet_valid(self):
        """an entry valid only from tomorrow signs nothing today"""
        key, pub = self.keygen("ag-later.key")
        boot = os.path.join(self.tmp, "ag-later.dir")
        tomorrow = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
        self.change("enrol", "--id", "ag-later", "--tier", "agency", "--parent", "taipei",
                    "--key", pub, "--valid-from", tomorrow, "--out", boot)
        self.seq_everywhere(5)
        # the directory reply says so (the console's directory view, issue 11)
        entry = {e["id"]: e for e in self.fed.ctl("ncert", "dir", "list")["nodes"]}["ag-later"]
        self.assertEqual(entry["valid_from"][:19], tomorrow[:19])
        self.assertIsNone(entry["valid_until"])
        self.assertEqual((entry["role"], entry["contact"]), ("none", ""))
        self.join("ag-later", key, pub, boot)
        r = self.fed.ctl_raw("ag-later", "report", "-", stdin=relaytest.json.dumps(
            relaytest.fresh_form(title="too early")))
        self.assertEqual(r.returncode, 1)
        self.assertIn("validity period", r.stderr)

    def keygen(self, name):
        path = os.path.join(self.tmp, name)
        return path, subprocess.run([self.fed.ctl_bin, "keygen", path], check=True,
                                    capture_output=True, text=True).stdout.strip()

    def test_enrol_a_new_node_which_joins_with_its_entry_and_parent_address(self):
        """enrol: a new agency needs its key pair, the signed directory up to its
        entry and its parent's address; its reports then reach N-CERT"""
        start = self.fed.ctl("ncert", "status")["directory_seq"]
        self.assertEqual(start, 4)
        key, pub = self.keygen("ag-new.key")
        boot = os.path.join(self.tmp, "ag-new.dir")
        r = self.change("enrol", "--id", "ag-new", "--tier", "agency", "--parent", "taipei",
                        "--city", "taipei", "--key", pub, "--out", boot)
        self.assertEqual(r["seq"], 5)
        self.seq_everywhere(5)
        self.join("ag-new", key, pub, boot)
        self.fed.wait_links()
        iid = self.report("ag-new", title="first report of a new agency")
        self.wait("ncert", iid)
        self.assertEqual(self.fed.ctl("ncert", "show", iid)["incident"]["author"], "ag-new")
        listed = {e["id"] for e in self.fed.ctl("ag-new", "dir", "list")["nodes"]}
        self.assertEqual(listed, {"ncert", "taipei", "ag-a", "ag-b", "ag-new"})

    def test_rotate_then_old_key_signs_nothing_new(self):
        """rotate: after the rotation the node runs on its new key; the old key's
        node is told it cannot sign, and earlier messages still verify"""
        before = self.report("ag-a", title="signed with the first key")
        self.wait("ncert", before)
        key, pub = self.keygen("ag-a.new.key")
        self.change("rotate", "--id", "ag-a", "--key", pub)
        self.seq_everywhere(5)
        r = self.fed.ctl_raw("ag-a", "report", "-", stdin=relaytest.json.dumps(
            relaytest.fresh_form(title="old key")))
        self.assertEqual(r.returncode, 1)
        self.assertIn("key is not valid in the directory now", r.stderr)
        self.fed.stop("ag-a")
        with open(self.fed.nodes["ag-a"]["config"]) as f:
            text = f.read().replace(self.fed.nodes["ag-a"]["key"], key)
        with open(self.fed.nodes["ag-a"]["config"], "w") as f:
            f.write(text)
        self.fed.start("ag-a")
        self.fed.wait_links()
        after = self.report("ag-a", title="signed with the new key")
        self.wait("ncert", after)
        nodes = {e["id"]: e for e in self.fed.ctl("ncert", "dir", "list")["nodes"]}
        self.assertEqual(nodes["ag-a"]["key"], pub)
        self.assertEqual(nodes["ag-a"]["old_keys"], 1)
        # the first report still verifies at N-CERT against the old key
        self.verify_envelope_with(self.stored_messages("ncert")[before],
                                  self.fed.nodes["ag-a"]["pub"])

    def verify_envelope_with(self, envelope, pub):
        import nacl.signing
        f = relaytest.pb.decode(envelope)
        nacl.signing.VerifyKey(bytes.fromhex(pub)).verify(f[1][0], f[2][0])

    def test_revoked_node_is_refused(self):
        """revoke: messages signed by a revoked key after the revocation are
        refused at the first node, with the reason, and not stored"""
        self.change("revoke", "--id", "ag-b")
        self.seq_everywhere(5)
        listed = {e["id"]: e for e in self.fed.ctl("taipei", "dir", "list")["nodes"]}
        self.assertIsNotNone(listed["ag-b"]["revoked"])
        r = self.fed.ctl_raw("ag-b", "report", "-", stdin=relaytest.json.dumps(
            relaytest.fresh_form(title="from a revoked node")))
        self.assertEqual(r.returncode, 1)
        self.assertIn("revoked", r.stderr)

    def test_change_not_signed_by_the_root_is_refused(self):
        """a directory change signed by another key is refused at N-CERT, and the
        directory stays as it was"""
        fake, _ = self.keygen("not-root.key")
        _, pub = self.keygen("x.key")
        r = self.fed.ctl_raw("ncert", "enrol", "--root", fake, "--id", "intruder", "--tier",
                             "agency", "--parent", "taipei", "--key", pub)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not signed by the root key", r.stderr)
        self.assertEqual(self.fed.ctl("ncert", "status")["directory_seq"], 4)
        # a well-signed but broken change is refused too, naming the problem
        r = self.fed.ctl_raw("ncert", "enrol", "--root", self.fed.root_key, "--id", "orphan",
                             "--tier", "agency", "--parent", "nowhere", "--key", pub)
        self.assertEqual(r.returncode, 1)
        self.assertIn("parent is not in the directory", r.stderr)

    def test_group_readable_key_refused(self):
        """keys at rest: a node refuses to start when its key file is readable by
        group or others, and says why"""
        self.fed.stop("ag-a")
        os.chmod(self.fed.nodes["ag-a"]["key"], 0o640)
        r = subprocess.run([self.fed.node_bin, "--config", self.fed.nodes["ag-a"]["config"]],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("readable by group or others", r.stderr)
        os.chmod(self.fed.nodes["ag-a"]["key"], 0o600)
        self.fed.start("ag-a")

    def test_directory_survives_restart(self):
        """the directory is kept in LMDB: a restarted node keeps later changes"""
        _, pub = self.keygen("ag-c.key")
        self.change("enrol", "--id", "ag-c", "--tier", "agency", "--parent", "taipei",
                    "--key", pub)
        self.seq_everywhere(5)
        self.fed.stop("taipei")
        self.fed.start("taipei")
        self.assertEqual(self.fed.ctl("taipei", "status")["directory_seq"], 5)


if __name__ == "__main__":
    relaytest.run()
