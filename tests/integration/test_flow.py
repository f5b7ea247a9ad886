#!/usr/bin/python3
"""test_flow - reports up, advisories down, on the demo topology (RULES R-UP, R-ADVISORY)."""
import json

import relaytest
from relaytest import DEMO, FedTest

AGENCIES = ["tp-health", "tp-transport", "tp-school", "power-co"]


class Flow(FedTest):
    TOPOLOGY = {}

    def setUp(self):
        import configparser
        c = configparser.ConfigParser(inline_comment_prefixes=(";",))
        c.read(DEMO)
        self.TOPOLOGY = {s: dict(c[s]) for s in c.sections()}
        super().setUp()

    def test_report_from_each_kind_of_agency_arrives_once_signed(self):
        """R-UP: city-, ministry- and city-belonging ministry-reported agencies all reach N-CERT"""
        ids = {a: self.report(a, title="from " + a) for a in AGENCIES}
        for a, iid in ids.items():
            self.wait("ncert", iid)
        self.wait_quiet()
        at_nat = self.incidents("ncert")
        self.assertEqual(set(at_nat), set(ids.values()))
        for a, iid in ids.items():
            self.assertEqual(at_nat[iid]["author"], a)
        # exactly once: one "received" audit entry per report at every relay
        for node in ["ncert", "taipei", "moe", "moea"]:
            received = [m for what, m, _ in self.audit(node) if what == "received"]
            for iid in ids.values():
                self.assertLessEqual(received.count(iid), 1, node)
        rec = [m for what, m, _ in self.audit("ncert") if what == "received"]
        for iid in ids.values():
            self.assertEqual(rec.count(iid), 1)
        # the author's signature verifies at the national center, independently
        stored = self.stored_messages("ncert")
        for a, iid in ids.items():
            body = self.verify_envelope(stored[iid])
            self.assertEqual(body[2][0].decode(), a)
        # the journey: created at the agency, stored by its target, then N-CERT
        inc = self.fed.ctl("ncert", "show", ids["tp-school"])["incident"]
        self.assertEqual([h["node"] for h in inc["hops"]], ["tp-school", "moe", "ncert"])
        inc = self.fed.ctl("ncert", "show", ids["tp-health"])["incident"]
        self.assertEqual([h["node"] for h in inc["hops"]], ["tp-health", "taipei", "ncert"])
        # the agency learns of the receipts: target, national center, and the
        # city it belongs to, which gets a copy because moe is central (R-COPY3)
        hist = self.fed.ctl("tp-school", "show", ids["tp-school"])["incident"]["history"]
        self.assertEqual(sorted(e["node"] for e in hist if e["what"] == "receipt"),
                         ["moe", "ncert", "taipei"])

    def advise(self, nid, audience):
        adv = {"kind": "malware", "severity": 2, "title": "t", "text": "x", "audience": audience}
        r = self.fed.ctl(nid, "advisory", "-", stdin=json.dumps(adv))
        return r["id"], set(r["to"])

    def holders(self, mid):
        """holders - agencies that list the advisory, once the federation is quiet"""
        self.wait_quiet()
        out = set()
        for a in AGENCIES:
            if mid in {m["id"] for m in self.fed.ctl(a, "list", "--advisories")["advisories"]}:
                out.add(a)
        return out

    def test_advisory_reaches_its_audience_and_no_other(self):
        """R-ADVISORY: national to all, by sector, and a city to its own"""
        cases = [
            ("ncert", {"tiers": ["agency"]}, set(AGENCIES)),
            ("ncert", {"sector": "energy"}, {"power-co"}),
            ("taipei", {}, {"tp-health", "tp-transport"}),
            ("moe", {}, {"tp-school"}),
        ]
        for author, audience, expect in cases:
            with self.subTest(author=author, audience=audience):
                mid, to = self.advise(author, audience)
                self.assertEqual(to, expect)
                for a in expect:
                    self.wait(a, mid)
                self.assertEqual(self.holders(mid), expect)

    def test_advisory_outside_subtree_refused(self):
        """a city cannot address an advisory to another subtree; an agency cannot advise"""
        adv = {"kind": "malware", "severity": 2, "title": "t", "text": "x",
               "audience": {"scope": "moe"}}
        r = self.fed.ctl_raw("taipei", "advisory", "-", "--json", stdin=json.dumps(adv))
        self.assertEqual(r.returncode, 1)
        self.assertIn("outside this node's subtree", r.stderr + r.stdout)
        adv["audience"] = {}
        r = self.fed.ctl_raw("tp-health", "advisory", "-", stdin=json.dumps(adv))
        self.assertEqual(r.returncode, 1)
        self.assertIn("only city, ministry and national", r.stderr + r.stdout)

    def test_review_flows_down_and_up(self):
        """R-REVIEW: the reporting target's decision reaches the agency and N-CERT"""
        iid = self.report("tp-school", level=2)
        self.wait("moe", iid)
        r = self.fed.ctl_raw("taipei", "review", iid, "--level", "3", "--change", "--basis", "x")
        self.assertEqual(r.returncode, 1, "taipei does not hold this incident")
        rv = self.fed.ctl("moe", "review", iid, "--level", "3", "--change", "--basis", "sensitive data")
        for n in ["tp-school", "ncert"]:
            self.wait(n, rv["id"])
            inc = self.fed.ctl(n, "show", iid)["incident"]
            self.assertEqual((inc["state"], inc["reviewed_level"], inc["level"]), ("reviewed", 3, 3))


if __name__ == "__main__":
    relaytest.run()
