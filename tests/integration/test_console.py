"""test_console.py - issue 11: what the console needs from the node.

The console's files are served from the binary on the HTTP listener with a
strict Content-Security-Policy, and nothing else is (no path reaches the
file system). Advisories are acknowledged by their recipients when stored
and again when an operator marks them read, and their author lists, for
each recipient, when it was delivered and read. Drill notices are listed
where they must be answered, with their clock and answer. An incident not
yet received by its target carries the R-OFFLINE phone script's facts, and
links say since when they are down. (The console itself is tested in the
browser: tests/browser/.)
"""
import http.client
import json
import os
import re
import unittest

import pb
import relaytest
from federation import free_port

CSP_PARTS = ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'")


def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


class ConsoleFilesTest(relaytest.FedTest):
    TOPOLOGY = {"ncert": {"tier": "national"}}

    def prepare(self):
        self.port = free_port()
        self.fed.write_config("ncert", dict(self.SETTINGS, http_listen="127.0.0.1:%d" % self.port))

    def test_files_and_policy(self):
        """issue 11: the console is served without a session, from the
        binary, each file with its type and the strict CSP; the API still
        asks for a session"""
        st, h, body = get(self.port, "/")
        self.assertEqual(st, 302)
        self.assertEqual(h["location"], "/console/")
        st, h, page = get(self.port, "/console/")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertIn(b'src="/console/app.js"', page)
        self.assertNotIn(b"<script>", page, "no inline script in the page")
        for name, ctype in (("app.js", "text/javascript"), ("lib.js", "text/javascript"),
                            ("style.css", "text/css"), ("i18n.js", "text/javascript")):
            st, h, body = get(self.port, "/console/" + name)
            self.assertEqual(st, 200, name)
            self.assertTrue(h["content-type"].startswith(ctype), (name, h["content-type"]))
            self.assertGreater(len(body), 100)
        for path in ("/console/", "/console/app.js", "/api/v1/status", "/nope"):
            st, h, body = get(self.port, path)
            for part in CSP_PARTS:
                self.assertIn(part, h.get("content-security-policy", ""), path)
            self.assertEqual(h.get("x-frame-options"), "DENY", path)
            self.assertEqual(h.get("x-content-type-options"), "nosniff", path)
        st, h, body = get(self.port, "/api/v1/status")
        self.assertEqual(st, 401)

    def test_every_file_served_as_written_and_safe(self):
        """issue 11: every file of node/console/ is served byte for byte (the
        build embeds them all), and none of them turns data into HTML or code:
        no innerHTML, outerHTML, insertAdjacentHTML, document.write, eval or
        Function, no inline script or handler attribute in the page"""
        folder = os.path.join(relaytest.ROOT, "node", "console")
        names = sorted(f for f in os.listdir(folder) if re.search(r"\.(html|js|css|svg)$", f))
        self.assertIn("index.html", names)
        sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|"
                           r"new\s+Function|setTimeout\s*\(\s*['\"]|srcdoc")
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                src = f.read()
            st, h, body = get(self.port, "/console/" + name)
            self.assertEqual((st, body), (200, src), name)
            code = "\n".join(l for l in src.decode().splitlines() if not l.strip().startswith("//"))
            self.assertIsNone(sinks.search(code), "%s: %s" % (name, sinks.search(code)))
            if name.endswith(".html"):
                self.assertIsNone(re.search(r"<script(?![^>]*\bsrc=)", code), name)
                self.assertIsNone(re.search(r"\son[a-z]+\s*=", code), name)
                self.assertIsNone(re.search(r"\sstyle\s*=", code), name)

    def test_nothing_else_is_served(self):
        """issue 11 SECURITY: only the embedded files answer; a path that
        would leave the folder, an unknown name or a subfolder is 404, and
        nothing of the file system is read"""
        for path in ("/console/nope.js", "/console/../../etc/passwd", "/console/%2e%2e/relay.proto",
                     "/console/..%2fCMakeLists.txt", "/console/embed.cmake", "/console/x/app.js",
                     "/console/app.js%00.png", "/console/.", "/console/.."):
            st, h, body = get(self.port, path)
            self.assertEqual(st, 404, path)
            self.assertNotIn(b"root:", body)
            self.assertEqual(json.loads(body)["error"]["code"], "not_found", path)


class ReceiptsTest(relaytest.FedTest):
    SETTINGS = dict(relaytest.FedTest.SETTINGS)

    ADVISORY = {"kind": "vulnerability", "severity": 3, "title": "CMS flaw",
                "text": "Patch the gallery plug-in", "audience": {"scope": "ncert", "tiers": ["agency"]}}

    def advisory_at(self, nid, aid):
        st, rep = self.api(nid, "GET", "/api/v1/advisories/" + aid)
        self.assertEqual(st, 200, rep)
        return rep

    def receipts_at(self, nid, author, aid):
        """receipts_at - the Acknowledgements signed by author naming advisory
        aid that nid stores, decoded here independently of the node
        (Envelope 1 body; Body 2 author, 18 ack; Acknowledgement 1 ids, 2 read)"""
        out = {"stored": 0, "read": 0}
        for env in self.stored_messages(nid).values():
            body = pb.decode(pb.decode(env)[1][0])
            if body.get(2, [b""])[0].decode() != author or 18 not in body:
                continue
            ack = pb.decode(body[18][0])
            if bytes.fromhex(aid) in ack.get(1, []):
                out["read" if ack.get(2, [0])[0] else "stored"] += 1
        return out

    def test_delivered_and_read(self):
        """issue 11 (R-ADVISORY): each agency acknowledges the advisory when
        stored and when marked read; the author lists both per agency, a
        second mark changes nothing, and only the node's own operators can
        mark it"""
        st, adv = self.api("ncert", "POST", "/api/v1/advisories", self.ADVISORY)
        self.assertEqual(st, 200, adv)
        aid = adv["id"]
        for a in ("ag-a", "ag-b"):
            self.wait(a, aid)

        def delivered():
            rows = {r["node"]: r for r in self.advisory_at("ncert", aid)["recipients"]}
            return all(rows[a]["delivered_at"] for a in ("ag-a", "ag-b")) and rows
        rows = self.until(delivered, "both agencies' receipts at ncert")
        self.assertEqual(sorted(rows), ["ag-a", "ag-b"])
        self.assertIsNone(rows["ag-a"]["read_at"])
        lst = self.api("ncert", "GET", "/api/v1/advisories")[1]["advisories"]
        mine = [x for x in lst if x["id"] == aid][0]
        self.assertEqual((mine["recipients"], mine["delivered"], mine["read"]), (2, 2, 0))

        at_agency = self.api("ag-a", "GET", "/api/v1/advisories")[1]["advisories"][0]
        self.assertIsNotNone(at_agency["received_at"])
        self.assertIsNone(at_agency["read_at"])
        st, rd = self.api("ag-a", "POST", "/api/v1/advisories/%s/read" % aid, {})
        self.assertEqual(st, 200, rd)
        self.assertIsNotNone(rd["read_at"])
        self.assertEqual(self.advisory_at("ag-a", aid)["read_at"], rd["read_at"])
        st, again = self.api("ag-a", "POST", "/api/v1/advisories/%s/read" % aid, {})
        self.assertEqual((st, again["read_at"], again.get("already")), (200, rd["read_at"], True))

        def read():
            rows = {r["node"]: r for r in self.advisory_at("ncert", aid)["recipients"]}
            return rows["ag-a"]["read_at"] and rows
        rows = self.until(read, "ag-a's read receipt at ncert")
        self.assertEqual(rows["ag-a"]["read_at"], rd["read_at"])
        self.assertIsNone(rows["ag-b"]["read_at"], "ag-b did not read it")
        mine = [x for x in self.api("ncert", "GET", "/api/v1/advisories")[1]["advisories"]
                if x["id"] == aid][0]
        self.assertEqual((mine["delivered"], mine["read"]), (2, 1))
        # one signed read receipt reached ncert, however often it was marked
        self.assertEqual(self.receipts_at("ncert", "ag-a", aid), {"stored": 1, "read": 1})
        self.assertEqual(self.receipts_at("ncert", "ag-b", aid), {"stored": 1, "read": 0})

        st, err = self.api("ncert", "POST", "/api/v1/advisories/%s/read" % aid, {})
        self.assertEqual(st, 409, err)
        st, err = self.api("ag-a", "POST", "/api/v1/advisories/%s/read" % ("0" * 32), {})
        self.assertEqual(st, 404, err)
        st, err = self.api("ag-a", "POST", "/api/v1/advisories/xyz/read", {})
        self.assertEqual((st, err["error"]["field"]), (400, "id"))
        iid = self.report("ag-a")
        st, err = self.api("ag-a", "POST", "/api/v1/advisories/%s/read" % iid, {})
        self.assertEqual(st, 404, err)

    def test_drill_notices_listed(self):
        """issue 11 (R-DRILL): a drill notice is listed at the agency with
        its one-hour clock, and shows when the drill report answered it"""
        st, d = self.api("taipei", "POST", "/api/v1/drills", {})
        self.assertEqual(st, 200, d)
        sc = d["scenarios"][0]
        self.wait(sc["agency"], sc["notice"])
        st, rep = self.api(sc["agency"], "GET", "/api/v1/drill-notices")
        self.assertEqual(st, 200, rep)
        got = {x["id"]: x for x in rep["notices"]}
        self.assertIn(sc["notice"], got)
        n = got[sc["notice"]]
        self.assertEqual(n["author"], "taipei")
        self.assertIsNotNone(n["received_at"])
        self.assertIsNone(n["answered_at"])
        self.assertGreater(n["due"], n["created"])
        iid = self.report(sc["agency"], drill=True, drill_of=sc["notice"], level=sc["level"])
        st, rep = self.api(sc["agency"], "GET", "/api/v1/drill-notices")
        n = {x["id"]: x for x in rep["notices"]}[sc["notice"]]
        self.assertIsNotNone(n["answered_at"])
        st, inc = self.api(sc["agency"], "GET", "/api/v1/incidents/" + iid)
        self.assertEqual(inc["incident"]["drill_of"], sc["notice"])


class OfflineScriptTest(relaytest.FedTest):
    def test_phone_script_until_received(self):
        """issue 11 (R-OFFLINE): while the city is unreachable, the agency's
        incident carries whom to call and what to say, and the link says
        since when it is down; once the city has the report, neither"""
        self.fed.stop("taipei")
        self.until(lambda: not [l for l in self.api("ag-a", "GET", "/api/v1/status")[1]["links"]
                                if l["connected"]], "ag-a sees its parent down")
        link = self.api("ag-a", "GET", "/api/v1/status")[1]["links"][0]
        self.assertEqual(link["peer"], "taipei")
        self.assertIsNotNone(link["down_since"])
        iid = self.report("ag-a", level=2)
        inc = self.api("ag-a", "GET", "/api/v1/incidents/" + iid)[1]["incident"]
        ps = inc["phone_script"]
        self.assertEqual((ps["target"], ps["id"], ps["agency"], ps["level"]), ("taipei", iid, "ag-a", 2))
        self.assertFalse(ps["link_connected"])
        self.assertIsNotNone(ps["link_since"])
        self.assertIsNotNone(ps["due"])
        self.assertEqual(ps["aware_at"], inc["aware_at"])
        self.fed.start("taipei")
        self.until(lambda: "phone_script" not in
                   self.api("ag-a", "GET", "/api/v1/incidents/" + iid)[1]["incident"],
                   "the city's receipt ends the phone script")
        link = self.api("ag-a", "GET", "/api/v1/status")[1]["links"][0]
        self.assertTrue(link["connected"])
        self.assertIsNone(link["down_since"])
        self.assertIsNotNone(link["last_seen"])


if __name__ == "__main__":
    relaytest.run()
