"""test_api.py - issue 10: the operator API over real HTTP.

Every endpoint's happy path and each error code over the Unix socket (which
acts as admin), then accounts, roles, sessions, CSRF, the login rate limit
and the audit entries of logins and writes over the TCP listener. Replies
are checked for the one error shape {"error": {"code", "message", "field"}}.
"""
import http.client
import json
import os
import re
import unittest

import pb
import relaytest
from federation import free_port

DOCS = os.path.join(relaytest.ROOT, "docs", "api.md")
CODES = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 429: "rate_limited",
         503: "unavailable"}


def documented():
    """documented - (method, path) of every row of docs/api.md's table"""
    rows = []
    with open(DOCS) as f:
        for line in f:
            m = re.match(r"\| (GET|POST|PUT|DELETE) \| (/\S*) \|", line)
            if m:
                rows.append((m.group(1), m.group(2)))
    return rows


class Web:
    """Web - a browser-like client of one node's TCP listener: keeps the
    session cookie and the CSRF token"""

    def __init__(self, port):
        self.port, self.cookie, self.csrf = port, None, None

    def call(self, method, path, body=None, headers=None, csrf=True):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if body is not None:
            h["Content-Type"] = "application/json"
        if self.cookie:
            h["Cookie"] = self.cookie
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        try:
            c.request(method, path, None if body is None else json.dumps(body), h)
            r = c.getresponse()
            data = r.read()
            self.last = r
            ctype = r.getheader("Content-Type", "")
            return r.status, json.loads(data) if ctype.startswith("application/json") else data
        finally:
            c.close()

    def login(self, name, password):
        st, rep = self.call("POST", "/api/v1/login", {"name": name, "password": password})
        if st == 200:
            cookie = self.last.getheader("Set-Cookie")
            self.cookie = cookie.split(";")[0]
            self.set_cookie = cookie
            self.csrf = rep["csrf"]
        return st, rep


class ApiTest(relaytest.FedTest):
    """The Unix socket: every endpoint, every error code"""

    def call(self, nid, method, path, body=None, headers=None):
        return self.api(nid, method, path, body, headers)

    def assertError(self, got, status, field=None, text=None):
        """assertError - the reply is the one error shape with status"""
        st, rep = got
        self.assertEqual(st, status, rep)
        self.assertEqual(set(rep), {"error"}, rep)
        self.assertEqual(set(rep["error"]), {"code", "message", "field"}, rep)
        self.assertEqual(rep["error"]["code"], CODES[status])
        self.assertEqual(rep["error"]["field"], field, rep)
        if text:
            self.assertIn(text, rep["error"]["message"])
        return rep["error"]["message"]

    def ok(self, nid, method, path, body=None, headers=None):
        st, rep = self.call(nid, method, path, body, headers)
        self.assertEqual(st, 200, "%s %s: %s" % (method, path, rep))
        return rep

    def test_docs_and_table_agree(self):
        """issue 10 item 2: docs/api.md documents every endpoint of the table, and
        every documented endpoint is routed"""
        table = {(e["method"], e["path"]) for e in self.ok("taipei", "GET", "/api/v1")["endpoints"]}
        for extra in (("GET", "/metrics"), ("GET", "/healthz"), ("GET", "/readyz")):
            self.assertIn(extra, table)
        self.assertEqual(table, set(documented()))

    def test_every_endpoint_happy_path(self):
        """issue 10 item 2: every verb of relayctl has an endpoint with JSON in and
        out, through real HTTP on the Unix socket"""
        iid = self.ok("ag-a", "POST", "/api/v1/reports", relaytest.fresh_form())["incident"]
        self.ok("taipei", "GET", "/api/v1/messages/%s/wait?timeout_ms=20000" % iid)
        st = self.ok("ag-a", "GET", "/api/v1/status")
        self.assertEqual(st["node"], "ag-a")
        page = self.ok("taipei", "GET", "/api/v1/incidents?limit=1")
        self.assertEqual([i["id"] for i in page["incidents"]], [iid])
        inc = self.ok("taipei", "GET", "/api/v1/incidents/" + iid)["incident"]
        self.assertEqual(inc["author"], "ag-a")
        self.assertEqual(self.ok("taipei", "GET", "/api/v1/messages/" + iid)["incident"]["id"], iid)
        # each kind of message of an incident, by the node allowed to send it
        upd = self.ok("ag-a", "POST", "/api/v1/incidents/%s/updates" % iid,
                      {"team_formed": True, "text": "team formed"})
        self.assertEqual(upd["incident"], iid)
        self.ok("ag-a", "POST", "/api/v1/incidents/%s/level-requests" % iid,
                {"level": 2, "reason": "more hosts"})
        self.ok("taipei", "GET", "/api/v1/messages/%s/wait?timeout_ms=20000" % upd["id"])
        self.ok("taipei", "POST", "/api/v1/incidents/%s/reviews" % iid,
                {"verdict": "change", "level": 2, "basis": "two hosts"})
        self.ok("ncert", "GET", "/api/v1/messages/%s/wait?timeout_ms=20000" % iid)
        self.ok("ncert", "POST", "/api/v1/incidents/%s/support" % iid, {"text": "team on site"})
        self.ok("ag-a", "POST", "/api/v1/incidents/%s/closure" % iid, {"root_cause": "phishing"})
        other = self.ok("ag-a", "POST", "/api/v1/reports", relaytest.fresh_form(title="dup"))
        self.ok("ag-a", "POST", "/api/v1/incidents/%s/withdrawal" % other["incident"],
                {"reason": "filed in error"})
        adv = self.ok("taipei", "POST", "/api/v1/advisories",
                      {"kind": "malware", "severity": 2, "title": "t", "text": "x"})
        self.assertEqual(sorted(adv["to"]), ["ag-a", "ag-b"])
        self.ok("ag-b", "GET", "/api/v1/messages/%s/wait?timeout_ms=20000" % adv["id"])
        self.assertEqual([a["id"] for a in self.ok("ag-b", "GET", "/api/v1/advisories")["advisories"]],
                         [adv["id"]])
        plan = self.ok("ag-a", "POST", "/api/v1/advise", relaytest.fresh_form(level=3))
        self.assertIn("taipei", plan["report_to"])
        self.assertIn("report", plan["dues"])
        drill = self.ok("taipei", "POST", "/api/v1/drills")
        rec = self.ok("taipei", "GET", "/api/v1/drills/" + drill["drill"])["drill"]
        self.assertEqual(rec["id"], drill["drill"])
        self.assertEqual(len(self.ok("taipei", "GET", "/api/v1/drills")["drills"]), 1)
        self.assertEqual(self.ok("taipei", "GET", "/api/v1/held")["held"], [])
        self.ok("ag-a", "GET", "/api/v1/outbox/wait?timeout_ms=20000")
        self.assertTrue(self.ok("ag-a", "GET", "/api/v1/audit/verify")["intact"])
        ent = self.ok("ag-a", "GET", "/api/v1/audit/entries?from=1")
        self.assertEqual(len(ent["entries"]), ent["seq"])
        self.ok("taipei", "GET", "/api/v1/audit/heads/ag-a")
        seen = self.ok("taipei", "POST", "/api/v1/seen", {"ids": [iid, "00" * 16]})
        self.assertEqual(seen["missing"], ["00" * 16])
        self.assertIn("ag-a", [n["id"] for n in self.ok("ag-a", "GET", "/api/v1/directory")["nodes"]])
        self.assertTrue(self.ok("ncert", "GET", "/api/v1/directory/export")["changes"])
        self.assertTrue(self.ok("ag-a", "POST", "/api/v1/store/check")["intact"])

    def test_pages_and_etag(self):
        """issue 10 item 2: lists page with limit and cursor; incident views carry an
        ETag, and If-None-Match with it gets 304 until the incident changes"""
        ids = {self.report("ag-a") for _ in range(3)}
        got, cursor = [], ""
        while True:
            page = self.ok("ag-a", "GET", "/api/v1/incidents?limit=2" + cursor)
            self.assertLessEqual(len(page["incidents"]), 2)
            got += [i["id"] for i in page["incidents"]]
            if not page["next"]:
                break
            cursor = "&cursor=" + page["next"]
        self.assertEqual(sorted(got), sorted(ids))
        iid = sorted(ids)[0]
        st, _, hdr = self.api_full("ag-a", "GET", "/api/v1/incidents/" + iid)
        self.assertEqual(st, 200)
        etag = hdr["etag"]
        st, _, _ = self.api_full("ag-a", "GET", "/api/v1/incidents/" + iid,
                                 headers={"If-None-Match": etag})
        self.assertEqual(st, 304)
        self.ok("ag-a", "POST", "/api/v1/incidents/%s/updates" % iid, {"recovered": True})
        st, _, hdr = self.api_full("ag-a", "GET", "/api/v1/incidents/" + iid,
                                   headers={"If-None-Match": etag})
        self.assertEqual(st, 200)
        self.assertNotEqual(hdr["etag"], etag)

    def test_error_codes(self):
        """issue 10 item 2: each error code in the one shape, naming the field"""
        iid = self.report("ag-a")
        self.assertError(self.call("ag-a", "GET", "/api/v1/incidents?limit=0"), 400, "limit")
        self.assertError(self.call("ag-a", "POST", "/api/v1/reports", dict(relaytest.fresh_form(), level=9)),
                         400, "level")
        self.assertError(self.call("ag-a", "GET", "/api/v1/incidents/" + "ab" * 16), 404, "id")
        self.assertError(self.call("ag-a", "GET", "/api/v1/nothing"), 404, None, "no such endpoint")
        self.assertError(self.call("ag-a", "DELETE", "/api/v1/status"), 405)
        # the tier rules: only the agency that filed it updates its incident
        self.assertError(self.call("ag-b", "POST", "/api/v1/incidents/%s/updates" % iid,
                                   {"recovered": True}), 404)  # ag-b never heard of it
        self.wait("taipei", iid)
        self.assertError(self.call("taipei", "POST", "/api/v1/incidents/%s/updates" % iid,
                                   {"recovered": True}), 403, None, "only the agency")
        form = relaytest.fresh_form()
        self.ok("ag-a", "POST", "/api/v1/reports", form)
        self.assertError(self.call("ag-a", "POST", "/api/v1/reports", form), 409, None,
                         "same form")
        self.ok("ag-a", "POST", "/api/v1/reports?again=1", form)
        big = dict(relaytest.fresh_form(), facts="x" * (600 * 1024))
        self.assertError(self.call("ag-a", "POST", "/api/v1/reports", big), 413)
        self.assertError(self.call("ag-a", "GET", "/api/v1/messages/%s/wait?timeout_ms=10" % ("00" * 16)),
                         503, None, "timed out")
        # and nothing of that was stored
        self.assertEqual(len(self.incidents("ag-a")), 3)

    def test_idempotency_key(self):
        """issue 10 item 3: a write with an Idempotency-Key is done once; the same
        key on another path is another request"""
        key = {"Idempotency-Key": "0123456789abcdef"}
        form = relaytest.fresh_form()
        first = self.ok("ag-a", "POST", "/api/v1/reports", form, key)
        again = self.ok("ag-a", "POST", "/api/v1/reports", form, key)
        self.assertTrue(again["replayed"])
        self.assertEqual(again["incident"], first["incident"])
        self.assertEqual(len(self.incidents("ag-a")), 1)
        self.assertError(self.call("ag-a", "POST", "/api/v1/reports", form, {"Idempotency-Key": "no"}),
                         400, "Idempotency-Key")
        upd = self.ok("ag-a", "POST", "/api/v1/incidents/%s/updates" % first["incident"],
                      {"text": "x"}, key)
        self.assertNotIn("replayed", upd)


class ApiTcpTest(relaytest.FedTest):
    """The TCP listener: accounts, roles, sessions, CSRF, rate limit, audit"""

    def prepare(self):
        self.port = {}
        for nid in ("ag-a", "taipei"):
            self.port[nid] = free_port()
            self.fed.write_config(nid, dict(self.SETTINGS,
                                            http_listen="127.0.0.1:%d" % self.port[nid]))

    def add(self, nid, name, role, password="correct horse battery"):
        st, rep = self.api(nid, "POST", "/api/v1/operators",
                           {"name": name, "role": role, "password": password})
        self.assertEqual(st, 200, rep)

    def web(self, nid, name=None, password="correct horse battery"):
        w = Web(self.port[nid])
        if name:
            st, rep = w.login(name, password)
            self.assertEqual(st, 200, rep)
        return w

    def audit(self, nid):
        """audit - every entry of nid's audit log, decoded: dicts of what, peer,
        detail, actor"""
        st, rep = self.api(nid, "GET", "/api/v1/audit/entries?from=1")
        self.assertEqual(st, 200)
        out = []
        for h in rep["entries"]:
            f = pb.decode(bytes.fromhex(h))
            out.append({k: f[n][0].decode() if f.get(n) else "" for k, n in
                        (("what", 3), ("peer", 5), ("detail", 6), ("actor", 8))})
        return out

    def test_session_needed(self):
        """issue 10 item 4: over TCP, no session or a forged one gets 401; after
        logout the cookie is dead"""
        w = self.web("ag-a")
        st, rep = w.call("GET", "/api/v1/status")
        self.assertEqual(st, 401)
        self.assertEqual(rep["error"]["code"], "unauthenticated")
        w.cookie = "relay_session=" + "ab" * 32
        self.assertEqual(w.call("GET", "/api/v1/status")[0], 401)
        self.add("ag-a", "vera", "viewer")
        w = self.web("ag-a", "vera")
        self.assertIn("HttpOnly", w.set_cookie)
        self.assertIn("SameSite=Strict", w.set_cookie)
        self.assertNotIn("Secure", w.set_cookie)  # plain HTTP on loopback
        self.assertEqual(w.call("GET", "/api/v1/status")[0], 200)
        self.assertEqual(w.call("POST", "/api/v1/logout")[0], 200)
        self.assertEqual(w.call("GET", "/api/v1/status")[0], 401)

    def test_roles(self):
        """issue 10 item 4: a role that lacks a right gets 403 and nothing is stored"""
        for name, role in (("vera", "viewer"), ("rita", "reporter"), ("rex", "reviewer"),
                           ("ada", "admin")):
            self.add("ag-a", name, role)
            self.add("taipei", name, role)
        vera, rita = self.web("ag-a", "vera"), self.web("ag-a", "rita")
        head = self.api("ag-a", "GET", "/api/v1/audit/verify")[1]["entries"]
        st, rep = vera.call("POST", "/api/v1/reports", relaytest.fresh_form())
        self.assertEqual(st, 403, rep)
        self.assertIn("needs the reporter role", rep["error"]["message"])
        self.assertEqual(self.incidents("ag-a"), {})
        self.assertEqual(self.api("ag-a", "GET", "/api/v1/audit/verify")[1]["entries"], head)
        st, rep = rita.call("POST", "/api/v1/reports", relaytest.fresh_form())
        self.assertEqual(st, 200, rep)
        iid = rep["incident"]
        self.wait("taipei", iid)
        # reviewing and publishing need a reviewer; accounts need an admin
        rita_t, rex_t = self.web("taipei", "rita"), self.web("taipei", "rex")
        review = {"verdict": "confirm", "level": 1, "basis": "one desktop"}
        self.assertEqual(rita_t.call("POST", "/api/v1/incidents/%s/reviews" % iid, review)[0], 403)
        self.assertEqual(rex_t.call("POST", "/api/v1/incidents/%s/reviews" % iid, review)[0], 200)
        adv = {"kind": "malware", "severity": 2, "title": "t", "text": "x"}
        self.assertEqual(rita_t.call("POST", "/api/v1/advisories", adv)[0], 403)
        self.assertEqual(rex_t.call("POST", "/api/v1/operators",
                                    {"name": "eve", "role": "admin", "password": "x" * 12})[0], 403)
        ada = self.web("ag-a", "ada")
        self.assertEqual(ada.call("POST", "/api/v1/operators",
                                  {"name": "eve", "role": "viewer", "password": "x" * 12})[0], 200)
        names = [o["name"] for o in ada.call("GET", "/api/v1/operators")[1]["operators"]]
        self.assertIn("eve", names)
        # a disabled account's session ends at once
        self.assertEqual(ada.call("POST", "/api/v1/operators/rita/disable")[0], 200)
        self.assertEqual(rita.call("GET", "/api/v1/status")[0], 401)

    def test_csrf(self):
        """issue 10 item 4: a write without the session's CSRF token is refused and
        stores nothing"""
        self.add("ag-a", "rita", "reporter")
        rita = self.web("ag-a", "rita")
        st, rep = rita.call("POST", "/api/v1/reports", relaytest.fresh_form(), csrf=False)
        self.assertEqual(st, 403, rep)
        self.assertEqual(rep["error"]["field"], "X-CSRF-Token")
        st, rep = rita.call("POST", "/api/v1/reports", relaytest.fresh_form(),
                            headers={"X-CSRF-Token": "0" * 64}, csrf=False)
        self.assertEqual(st, 403, rep)
        self.assertEqual(self.incidents("ag-a"), {})
        self.assertEqual(rita.call("POST", "/api/v1/reports", relaytest.fresh_form())[0], 200)

    def test_login_rate_limit(self):
        """issue 10 item 4: failed logins are limited per account: after five wrong
        passwords even the right one is refused (429 with Retry-After) for a while"""
        self.add("ag-a", "rita", "reporter")
        w = Web(self.port["ag-a"])
        for _ in range(5):
            st, rep = w.login("rita", "wrong password!")
            self.assertEqual(st, 401, rep)
        st, rep = w.login("rita", "correct horse battery")
        self.assertEqual(st, 429, rep)
        self.assertGreater(int(w.last.getheader("Retry-After")), 0)
        self.assertEqual(rep["error"]["code"], "rate_limited")

    def test_audit_names_who(self):
        """issue 10 item 4 (R-RECORDS): every login, failed or not, and every write
        go into the hash-chained audit log with the operator's name"""
        self.add("ag-a", "rita", "reporter")
        w = Web(self.port["ag-a"])
        self.assertEqual(w.login("rita", "not the password")[0], 401)
        self.assertEqual(w.login("rita", "correct horse battery")[0], 200)
        iid = w.call("POST", "/api/v1/reports", relaytest.fresh_form())[1]["incident"]
        entries = self.audit("ag-a")
        whats = [(e["what"], e["actor"]) for e in entries]
        self.assertIn(("login-failed", "rita"), whats)
        self.assertIn(("login", "rita"), whats)
        self.assertIn(("created", "rita"), whats)
        self.assertTrue(any(e["what"] == "operator-added" and e["actor"].startswith("unix:")
                            for e in entries), entries)
        self.assertTrue(self.api("ag-a", "GET", "/api/v1/audit/verify")[1]["intact"])
        self.assertTrue(iid)

    def test_metrics_from_loopback_without_login(self):
        """issue 10 item 5: /metrics answers loopback without a session"""
        st, body = Web(self.port["ag-a"]).call("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertIn(b"relay_build_info", body)


if __name__ == "__main__":
    unittest.main()
