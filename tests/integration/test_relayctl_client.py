#!/usr/bin/python3
"""test_relayctl_client - relayctl speaks the node's HTTP API (issue 10 item 3).

A fake node (Python's http.server on a Unix socket) answers canned JSON and
records each request. The tests assert what relayctl sends for every verb
(method, path, query, headers, body: docs/api.md), its exit codes (0; 1 on an
error body, with "relayctl: VERB: MESSAGE"; 2 when nothing listens or the
reply is not JSON), the retry of a write with the same Idempotency-Key after
a dropped connection, and `operator add` reading the password from stdin.
No relay-node runs: these hold before the node's HTTP side is merged.
"""
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(os.environ.get("RELAY_BUILD", os.path.join(ROOT, "build")))
CTL = os.path.join(BUILD, "tools", "relayctl", "relayctl")
KEY_RE = re.compile(r"^[0-9a-f]{32}$")
ID = "ab" * 16


class FakeNode:
    """FakeNode - an HTTP server on a Unix socket: replies[(method, path)] or
    {"ok": true}; drop > 0 closes that many connections without a reply"""

    def __init__(self, sock):
        self.requests = []
        self.replies = {}
        self.drop = 0
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def address_string(self):
                return "unix"

            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                fake.requests.append({
                    "method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(raw) if raw else None})
                if fake.drop > 0:
                    fake.drop -= 1
                    self.close_connection = True
                    return  # the connection closes with nothing sent
                status, body = fake.replies.get(
                    (self.command, self.path),
                    fake.replies.get((self.command, self.path.split("?")[0]), (200, {"ok": True})))
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = answer

        self.server = socketserver.UnixStreamServer(sock, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class RelayctlClientTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rc.")
        self.sock = os.path.join(self.tmp, "n.sock")
        self.node = FakeNode(self.sock)

    def tearDown(self):
        self.node.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ctl(self, *args, stdin="", sock=None):
        return subprocess.run([CTL, "-s", sock or self.sock, "-t", "5000"] + list(args),
                              input=stdin, capture_output=True, text=True, timeout=60)

    def one(self, *args, stdin=""):
        """one - run relayctl; it must succeed having sent exactly one request"""
        self.node.requests.clear()
        r = self.ctl(*args, stdin=stdin)
        self.assertEqual(r.returncode, 0, (args, r.stderr))
        self.assertEqual(len(self.node.requests), 1, (args, self.node.requests))
        return self.node.requests[0], r

    def test_every_verb_maps_to_its_endpoint(self):
        """issue 10 item 3: each verb sends its docs/api.md method, path and body;
        writes carry a fresh 16-byte Idempotency-Key, reads none"""
        form = {"title": "t", "level": 1}
        cases = [
            # (args, stdin, method, path, body (None: not checked), writes)
            (["report", "-"], json.dumps(form), "POST", "/api/v1/reports", form, True),
            (["report", "-", "--again"], json.dumps(form), "POST", "/api/v1/reports?again=1",
             form, True),
            (["advisory", "-"], json.dumps(form), "POST", "/api/v1/advisories", form, True),
            (["update", ID, "--team-formed", "--text", "hi"], "", "POST",
             "/api/v1/incidents/%s/updates" % ID,
             {"incident": ID, "team_formed": True, "damage_controlled": False,
              "recovered": False, "text": "hi", "subjects_notified": False}, True),
            (["request-level", ID, "3", "--reason", "r"], "", "POST",
             "/api/v1/incidents/%s/level-requests" % ID,
             {"incident": ID, "level": 3, "reason": "r"}, True),
            (["review", ID, "--level", "2", "--confirm", "--basis", "b"], "", "POST",
             "/api/v1/incidents/%s/reviews" % ID,
             {"incident": ID, "verdict": "confirm", "level": 2, "basis": "b",
              "closure": False, "follow_up": ""}, True),
            (["close", ID, "-"], "{}", "POST", "/api/v1/incidents/%s/closure" % ID,
             {"incident": ID}, True),
            (["withdraw", ID, "--reason", "r"], "", "POST",
             "/api/v1/incidents/%s/withdrawal" % ID, {"incident": ID, "reason": "r"}, True),
            (["support", ID, "--text", "t"], "", "POST", "/api/v1/incidents/%s/support" % ID,
             {"incident": ID, "text": "t"}, True),
            (["list"], "", "GET", "/api/v1/incidents", None, False),
            (["list", "--overdue", "--limit", "5", "--cursor", "a/b c"], "", "GET",
             "/api/v1/incidents?filter=overdue&limit=5&cursor=a%2Fb%20c", None, False),
            (["list", "--queue"], "", "GET", "/api/v1/incidents?filter=queue", None, False),
            (["list", "--advisories"], "", "GET", "/api/v1/advisories", None, False),
            (["list", "--drills"], "", "GET", "/api/v1/drills", None, False),
            (["show", ID], "", "GET", "/api/v1/messages/" + ID, None, False),
            (["status"], "", "GET", "/api/v1/status", None, False),
            (["wait", ID, "--timeout", "50"], "", "GET",
             "/api/v1/messages/%s/wait?timeout_ms=50" % ID, None, False),
            (["wait", "--outbox-empty"], "", "GET", "/api/v1/outbox/wait?timeout_ms=10000",
             None, False),
            (["clock", "set", "2026-01-01T00:00:00Z"], "", "POST", "/api/v1/clock",
             {"set": "2026-01-01T00:00:00Z"}, False),
            (["clock", "advance", "1h30m"], "", "POST", "/api/v1/clock", {"advance_s": 5400},
             False),
            (["audit", "verify"], "", "GET", "/api/v1/audit/verify", None, False),
            (["audit", "head", "ag-a"], "", "GET", "/api/v1/audit/heads/ag-a", None, False),
            (["dir", "list"], "", "GET", "/api/v1/directory", None, False),
            (["held"], "", "GET", "/api/v1/held", None, False),
            (["release", ID, "--peer", "ncert"], "", "POST", "/api/v1/held/%s/release" % ID,
             {"peer": "ncert"}, True),
            (["drop", ID, "--reason", "r"], "", "POST", "/api/v1/held/%s/drop" % ID,
             {"reason": "r"}, True),
            (["store", "check"], "", "POST", "/api/v1/store/check", {}, True),
            (["drill", "start"], "", "POST", "/api/v1/drills", {}, True),
            (["drill", "record", ID], "", "GET", "/api/v1/drills/" + ID, None, False),
            (["operator", "list"], "", "GET", "/api/v1/operators", None, False),
            (["operator", "disable", "bob"], "", "POST", "/api/v1/operators/bob/disable", {},
             True),
        ]
        self.node.replies[("GET", "/api/v1/audit/verify")] = (200, {"ok": True, "intact": True,
                                                                    "entries": 3})
        keys = set()
        for args, stdin, method, path, body, writes in cases:
            with self.subTest(args=args):
                req, _ = self.one(*args, stdin=stdin)
                self.assertEqual((req["method"], req["path"]), (method, path))
                if body is not None:
                    self.assertEqual(req["body"], body)
                key = req["headers"].get("idempotency-key")
                if writes:
                    self.assertRegex(key or "", KEY_RE)
                    self.assertNotIn(key, keys)  # fresh for every run
                    keys.add(key)
                else:
                    self.assertIsNone(key)
                if method == "POST":
                    self.assertEqual(req["headers"].get("content-type"), "application/json")

    def test_text_and_json_output(self):
        """issue 10 item 3: a reply prints as today's text, and with --json as the body"""
        st = {"ok": True, "node": "ag-a", "tier": "agency", "clock": "system",
              "now": "2026-01-01T00:00:00Z", "counts": {"messages": 2}, "links": []}
        self.node.replies[("GET", "/api/v1/status")] = (200, st)
        _, r = self.one("status")
        self.assertIn("node    ag-a\ntier    agency", r.stdout)
        self.assertIn("links: none", r.stdout)
        _, r = self.one("status", "--json")
        self.assertEqual(json.loads(r.stdout), st)
        self.node.replies[("POST", "/api/v1/reports")] = (
            200, {"ok": True, "id": "11" * 16, "incident": ID, "to": ["taipei", "ncert"]})
        _, r = self.one("report", "-", "--no-wait", stdin="{}")
        self.assertEqual(r.stdout, "incident %s filed, to taipei, ncert\n" % ID)
        # issue 12 item 2: without --no-wait it asks the incident for the
        # target's receipt and says when, in Taipei time
        self.node.replies[("GET", "/api/v1/incidents/" + ID)] = (200, {"ok": True, "incident": {
            "id": ID, "target": "taipei", "history": [
                {"at": "2026-01-01T00:00:01Z", "node": "taipei", "what": "receipt", "msg": "11" * 16}]}})
        self.node.requests.clear()
        r = self.ctl("report", "-", stdin="{}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "incident %s filed, to taipei, ncert\n"
                         "received by taipei at 2026-01-01 08:00:01 Asia/Taipei\n" % ID)
        self.assertEqual([q["method"] + " " + q["path"] for q in self.node.requests],
                         ["POST /api/v1/reports", "GET /api/v1/incidents/" + ID])

    def test_error_body_exits_1_with_its_message(self):
        """issue 10 item 3: {"error": {...}} prints relayctl: VERB: MESSAGE and exits 1;
        --json still prints the body"""
        err = {"error": {"code": "not_found", "message": "no message " + ID, "field": "id"}}
        self.node.replies[("GET", "/api/v1/messages/" + ID)] = (404, err)
        r = self.ctl("show", ID)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr, "relayctl: show: no message %s\n" % ID)
        r = self.ctl("--json", "show", ID)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(json.loads(r.stdout), err)
        self.node.replies[("POST", "/api/v1/operators")] = (
            409, {"error": {"code": "conflict", "message": "operator bob exists", "field": "name"}})
        r = self.ctl("operator", "add", "bob", "--role", "viewer", stdin="pw\n")
        self.assertEqual((r.returncode, r.stderr), (1, "relayctl: operator add: operator bob exists\n"))

    def test_unreachable_or_garbage_exits_2(self):
        """issue 10 item 3: nothing listening, or a reply that is not JSON: exit 2 with a
        message naming the socket; a read is not retried"""
        gone = os.path.join(self.tmp, "gone.sock")
        r = self.ctl("status", sock=gone)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot reach node at %s" % gone, r.stderr)
        self.assertNotIn("retrying", r.stderr)
        r = self.ctl("status", sock="ipc://" + gone)
        self.assertEqual(r.returncode, 2)
        self.assertIn("the nng control socket is gone", r.stderr)
        r = self.ctl("status", sock="/tmp/" + "x" * 120)
        self.assertEqual(r.returncode, 2)
        self.assertIn("API socket path too long (125 bytes, limit 107)", r.stderr)
        self.node.replies[("GET", "/api/v1/status")] = (200, b"<html>hello</html>")
        r = self.ctl("status")
        self.assertEqual(r.returncode, 2)
        self.assertIn("node at %s sent an invalid reply (HTTP 200)" % self.sock, r.stderr)
        self.node.replies[("GET", "/api/v1/status")] = (502, {"ok": True})
        r = self.ctl("status")
        self.assertEqual(r.returncode, 2)
        self.assertIn("HTTP 502", r.stderr)
        self.node.requests.clear()
        self.node.drop = 1
        r = self.ctl("status")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no reply from node at %s" % self.sock, r.stderr)
        self.assertEqual(len(self.node.requests), 1)

    def test_write_retried_with_the_same_key(self):
        """issue 10 item 3 (issue 8 finding 7): a write whose connection drops before the
        reply is sent again with the same Idempotency-Key, and says so"""
        self.node.drop = 2
        self.node.replies[("POST", "/api/v1/held/%s/release" % ID)] = (
            200, {"ok": True, "released": 1})
        r = self.ctl("release", ID)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "%s released: queued again (1)\n" % ID)
        self.assertIn("no reply from node at %s" % self.sock, r.stderr)
        self.assertIn("retrying (attempt 2 of 5, the same request id", r.stderr)
        self.assertIn("the node answered attempt 3", r.stderr)
        keys = [q["headers"].get("idempotency-key") for q in self.node.requests]
        self.assertEqual(len(keys), 3)
        self.assertRegex(keys[0], KEY_RE)
        self.assertEqual(len(set(keys)), 1)

    def test_operator_password_from_stdin(self):
        """issue 10 item 3: operator add and passwd read the password from stdin's first
        line; an empty one or a bad role sends nothing"""
        req, r = self.one("operator", "add", "alice", "--role", "reviewer",
                          stdin="s3cret pass\nignored\n")
        self.assertEqual((req["method"], req["path"]), ("POST", "/api/v1/operators"))
        self.assertEqual(req["body"], {"name": "alice", "role": "reviewer",
                                       "password": "s3cret pass"})
        self.assertRegex(req["headers"]["idempotency-key"], KEY_RE)
        self.assertEqual(r.stdout, "operator alice added, role reviewer\n")
        self.assertNotIn("s3cret", r.stdout + r.stderr)
        req, r = self.one("operator", "passwd", "alice", stdin="n3w")
        self.assertEqual((req["path"], req["body"]),
                         ("/api/v1/operators/alice/password", {"password": "n3w"}))
        self.node.requests.clear()
        for args, stdin, says in [
                (["operator", "add", "bob", "--role", "viewer"], "\n", "the password is empty"),
                (["operator", "add", "bob", "--role", "viewer"], "", "no password on stdin"),
                (["operator", "add", "bob", "--role", "root"], "pw\n", "--role must be viewer"),
                (["operator", "add", "bob"], "pw\n", "usage: relayctl operator")]:
            r = self.ctl(*args, stdin=stdin)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(says, r.stderr)
        self.assertEqual(self.node.requests, [])

    def test_config_names_the_socket(self):
        """issue 10 item 3: -c CONFIG takes [node] api_socket; a config with only the old
        control key says the control socket is gone"""
        conf = os.path.join(self.tmp, "n.conf")
        with open(conf, "w") as f:
            f.write("[node]\nid = ag-a\napi_socket = %s\n" % self.sock)
        r = subprocess.run([CTL, "-c", conf, "status"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.node.requests[-1]["path"], "/api/v1/status")
        with open(conf, "w") as f:
            f.write("[node]\nid = ag-a\ncontrol = ipc:///tmp/x.ctl\n")
        r = subprocess.run([CTL, "-c", conf, "status"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s: no 'api_socket' in [node]" % conf, r.stderr)
        self.assertIn("the 'control' socket is gone", r.stderr)

    def test_help(self):
        """issue 10 item 3: --help, help and VERB --help print usage and exit 0"""
        for args, says in [(["--help"], "verbs:"), (["help"], "verbs:"),
                           (["status", "--help"], "usage: relayctl status\n"),
                           (["help", "operator"], "usage: relayctl operator (add NAME")]:
            r = subprocess.run([CTL] + args, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, (args, r.stderr))
            self.assertIn(says, r.stdout)

    def test_list_all_follows_the_cursor(self):
        """issue 10 item 3: list --all asks for each next page with its cursor"""
        page = {"ok": True, "incidents": [], "counts": {"real": 0, "drill": 0}, "total": 0}
        self.node.replies[("GET", "/api/v1/incidents")] = (200, dict(page, next="c 2"))
        self.node.replies[("GET", "/api/v1/incidents?cursor=c%202")] = (200, dict(page, next=None))
        r = self.ctl("list", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([q["path"] for q in self.node.requests],
                         ["/api/v1/incidents", "/api/v1/incidents?cursor=c%202"])

    def test_enrol_signs_here_and_posts_the_change(self):
        """issue 10 item 3: enrol reads the directory sequence (GET /api/v1/status) and
        posts the root-signed change (a write) to /api/v1/directory/changes"""
        root = os.path.join(self.tmp, "root.key")
        subprocess.run([CTL, "keygen", root], check=True, capture_output=True)
        self.node.replies[("GET", "/api/v1/status")] = (200, {"ok": True, "directory_seq": 4})
        self.node.replies[("POST", "/api/v1/directory/changes")] = (200, {"ok": True, "seq": 5})
        r = self.ctl("enrol", "--root", root, "--id", "ag-new", "--tier", "agency",
                     "--parent", "taipei", "--key", "cd" * 32)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("directory change 5 applied", r.stdout)
        st, ch = self.node.requests
        self.assertEqual((st["method"], st["path"]), ("GET", "/api/v1/status"))
        self.assertEqual((ch["method"], ch["path"]), ("POST", "/api/v1/directory/changes"))
        self.assertRegex(ch["body"]["change"], r"^([0-9a-f]{2})+$")
        self.assertNotIn(open(root).read().split()[-1], ch["body"]["change"])  # no secret
        self.assertRegex(ch["headers"]["idempotency-key"], KEY_RE)

    def test_audit_export_pages(self):
        """issue 10 item 3: audit export reads GET /api/v1/audit/entries page by page"""
        self.node.replies[("GET", "/api/v1/audit/entries?from=1")] = (
            200, {"ok": True, "head": "aa", "seq": 3, "entries": ["01", "02"]})
        self.node.replies[("GET", "/api/v1/audit/entries?from=3")] = (
            200, {"ok": True, "head": "aa", "seq": 3, "entries": ["03"]})
        out = os.path.join(self.tmp, "audit.txt")
        r = self.ctl("audit", "export", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), "head aa\nentry 01\nentry 02\nentry 03\n")
        self.assertEqual([q["path"] for q in self.node.requests],
                         ["/api/v1/audit/entries?from=1", "/api/v1/audit/entries?from=3"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
