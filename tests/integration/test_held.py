#!/usr/bin/python3
"""test_held - a message the next hop refuses is held with its reason, never
dropped; clocks that disagree are shown, and told before filing.

Issue 8 finding 1: the landed main deleted an outbox entry its parent
refused and only audited it; with a clock off, every report said "filed",
status said "outbox: 0", and none ever reached the city. Each test here
fails on that main: the refused messages vanished from the outbox and no
`held` verb, hold, skew or warning existed.
"""
import json
import os
import time

import relaytest
from relaytest import FedTest

HOUR = 3600


def iso(t):
    """iso - seconds since the epoch as the ISO form nodes take"""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class HeldTest(FedTest):
    SETTINGS = dict(FedTest.SETTINGS, held_retry_min_ms=100, held_retry_max_ms=400)

    # ----------------------------------------------------------- helpers
    def restart(self, nid, **settings):
        """restart - stop nid and start it again with extra config settings"""
        self.fed.stop(nid)
        self.fed.write_config(nid, dict(self.SETTINGS, **settings))
        self.fed.start(nid)

    def status(self, nid):
        return self.fed.ctl(nid, "status")

    def link(self, nid, peer):
        return [l for l in self.status(nid)["links"] if l["peer"] == peer][0]

    def held(self, nid):
        return self.fed.ctl(nid, "held")["held"]

    def history(self, nid, iid):
        return self.fed.ctl(nid, "show", iid)["incident"]["history"]

    def due(self, nid, iid, name):
        for d in self.fed.ctl(nid, "show", iid)["incident"]["dues"]:
            if d["deadline"] == name:
                return d
        return None

    # ------------------------------------------------------------- tests
    def test_city_clock_behind_holds_then_delivers(self):
        """finding 1: the city's clock 3 hours behind. Filed while the link is
        down (the skew is not known yet): the city refuses each report as
        created in the future; the agency holds all 5 (outbox 0, held 5),
        shows the skew and the refusal on the incident, and R-REPORT is not
        met. Once the city's clock is set right, the holds are retried by
        themselves and all 5 arrive, once each."""
        self.fed.stop("ag-a")
        self.restart("taipei", clock="manual:" + iso(time.time() - 3 * HOUR))
        self.fed.stop("taipei")
        self.fed.start("ag-a")
        ids = [self.report("ag-a", title="skew %d" % i) for i in range(5)]
        self.fed.start("taipei")
        self.until(lambda: len(self.held("ag-a")) == 5, "5 holds at ag-a")

        held = self.held("ag-a")
        self.assertEqual({h["id"] for h in held}, set(ids))
        for h in held:
            self.assertEqual(h["peer"], "taipei")
            self.assertTrue(h["transient"], h)
            self.assertIn("future", h["reason"])
        up = self.link("ag-a", "taipei")
        self.assertEqual(up["outbox"], 0)
        self.assertEqual(up["held"], 5)
        self.assertEqual(self.status("ag-a")["counts"]["held"], 5)
        # the parent's clock is 3 h behind: skew about -3 h, with a warning
        self.assertLess(abs(up["clock_skew_ms"] + 3 * HOUR * 1000), 60 * 1000, up)
        self.assertIn("3 h", up["clock_warning"])
        self.assertIn("ahead of", up["clock_warning"])
        ev = [e for e in self.history("ag-a", ids[0]) if e["what"] == "refused by taipei"]
        self.assertTrue(ev and "future" in ev[0]["detail"], self.history("ag-a", ids[0]))
        self.assertNotIn(self.due("ag-a", ids[0], "report")["state"], ("met", "met late"))
        self.assertEqual(len([i for i in self.fed.ctl("taipei", "list")["incidents"]
                              if i["id"] in ids]), 0)
        log = self.log("ag-a")
        self.assertIn("held: refused by taipei", log)
        self.assertIn("clock skew", log)
        text = self.fed.ctl_raw("ag-a", "held").stdout
        self.assertIn("retry", text)
        self.assertIn("future", text)

        # the city's clock is set right: every hold is retried and delivered
        self.fed.ctl("taipei", "clock", "set", iso(time.time()))
        for mid in ids:
            self.wait("taipei", mid)
            self.wait("ncert", mid)
        self.until(lambda: self.held("ag-a") == [], "holds to end")
        self.until(lambda: self.due("ag-a", ids[0], "report")["state"] in ("met", "met late"),
                   "R-REPORT met by the city's receipt")
        self.wait_quiet()
        got = [a for a in self.audit("ncert") if a[0] == "received" and a[1] in ids]
        self.assertEqual(sorted(a[1] for a in got), sorted(ids))  # once each

    def test_clock_skew_told_before_filing(self):
        """finding 1 / "clock skew is visible": with the link up, an agency
        whose clock is 8 days behind, or 10 minutes ahead of, its parent's
        is refused at filing with a sentence naming the clock, and nothing
        is stored; 2 minutes off files with a warning; set right, it files
        without one, and the log says the skew is back within bounds."""
        before = self.status("ag-a")["counts"]["incidents"]

        def refused(words, offset):
            r = self.fed.ctl_raw("ag-a", "report", "-",
                                 stdin=json.dumps(relaytest.fresh_form(
                                     aware_at=iso(time.time() + offset - 60))))
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("not filed", r.stdout + r.stderr)
            self.assertIn(words, r.stdout + r.stderr)
            self.assertIn("taipei", r.stdout + r.stderr)
            self.assertEqual(self.status("ag-a")["counts"]["incidents"], before)

        def skew_near(ms):
            return lambda: abs(self.link("ag-a", "taipei").get("clock_skew_ms", 1e15) - ms) < 30000

        self.restart("ag-a", clock="manual:" + iso(time.time() - 8 * 24 * HOUR))
        self.fed.wait_links()
        self.until(skew_near(8 * 24 * HOUR * 1000), "the skew to be measured")
        refused("too old", -8 * 24 * HOUR)
        self.assertIn("clock skew", self.log("ag-a"))
        self.assertIn("8 d", self.link("ag-a", "taipei")["clock_warning"])
        self.assertIn("WARNING", self.fed.ctl_raw("ag-a", "status").stdout)

        # the clock set right while the parent is away: the old comparison
        # no longer stands in the way of filing
        self.fed.stop("taipei")
        self.until(lambda: not self.link("ag-a", "taipei")["connected"], "the link down")
        self.fed.ctl("ag-a", "clock", "set", iso(time.time() - 3600))
        rep = self.fed.ctl("ag-a", "report", "-", stdin=json.dumps(relaytest.fresh_form(
            aware_at=iso(time.time() - 4000))))
        self.assertNotIn("warning", rep)
        self.fed.start("taipei")
        self.fed.wait_links()

        self.fed.ctl("ag-a", "clock", "set", iso(time.time() - 120))
        self.until(skew_near(120000), "the skew to follow the clock")
        r = self.fed.ctl_raw("ag-a", "report", "-",
                             stdin=json.dumps(relaytest.fresh_form(
                                 aware_at=iso(time.time() - 600))))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("warning", r.stderr)
        self.assertIn("2 min", r.stderr)
        self.assertIn("behind", r.stderr)

        self.fed.ctl("ag-a", "clock", "set", iso(time.time()))
        self.until(lambda: "clock_warning" not in self.link("ag-a", "taipei"),
                   "the warning to clear")
        rep = self.fed.ctl("ag-a", "report", "-", stdin=json.dumps(relaytest.fresh_form()))
        self.assertNotIn("warning", rep)
        self.until(lambda: "clock skew back within" in self.log("ag-a"), "the log line")

        before = self.status("ag-a")["counts"]["incidents"]
        self.restart("ag-a", clock="manual:" + iso(time.time() + 600))
        self.fed.wait_links()
        self.until(skew_near(-600000), "the skew to be measured")
        refused("in the future", 600)

    def test_permanent_refusal_waits_for_operator(self):
        """finding 1: a refusal that time does not mend (the next hop takes
        smaller messages) is held at the city until an operator acts:
        `held` shows it, `release` before the cause is fixed is refused
        again, `release` after it delivers, and `drop --reason` is the only
        way to give one up: audited, the message still stored."""
        self.restart("ncert", max_message_bytes=2048)
        big = self.report("ag-a", facts="x" * 3000)
        self.until(lambda: self.held("taipei"), "a hold at the city")
        h = self.held("taipei")[0]
        self.assertEqual((h["id"], h["peer"], h["transient"]), (big, "ncert", False))
        self.assertEqual(h["state"], "waiting for operator")
        self.assertEqual(self.link("taipei", "ncert")["held"], 1)
        self.assertEqual(self.fed.ctl("taipei", "held")["total"], 1)
        self.assertIn(big, self.stored_messages("taipei"))
        self.assertIn(("held", big, "ncert"), self.audit("taipei"))
        ev = [e for e in self.history("taipei", big) if e["what"] == "refused by ncert"]
        self.assertTrue(ev, self.history("taipei", big))
        self.assertIn("held: refused by ncert", self.log("taipei"))

        # a release while the cause is still there: refused again, still held
        self.assertEqual(self.fed.ctl("taipei", "release", big)["released"], 1)
        self.until(lambda: [x for x in self.held("taipei") if x["attempts"] == 2],
                   "the second refusal")

        # the cause mended: release delivers it; a retry of that release
        # (its reply lost) gets the first answer, not "nothing held"
        self.restart("ncert")
        self.fed.wait_links()
        self.until(lambda: [x for x in self.held("taipei") if x["state"] != "queued again"],
                   "the hold waiting again")
        path, key = "/api/v1/held/%s/release" % big, {"Idempotency-Key": os.urandom(16).hex()}
        status, first = self.api("taipei", "POST", path, {}, key)
        self.assertEqual((status, first.get("released")), (200, 1), first)
        status, again = self.api("taipei", "POST", path, {}, key)
        self.assertTrue(status == 200 and again["ok"] and again["replayed"], again)
        self.assertEqual(again["released"], 1)
        self.wait("ncert", big)
        self.until(lambda: self.held("taipei") == [], "the hold to end")

        # another one is given up: only with a reason, audited, kept in store
        self.restart("ncert", max_message_bytes=2048)
        self.fed.wait_links()
        other = self.report("ag-a", facts="y" * 3000)
        self.until(lambda: self.held("taipei"), "a second hold")
        r = self.fed.ctl_raw("taipei", "drop", other)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("--reason", r.stderr)
        r = self.fed.ctl_raw("taipei", "drop", "00" * 16, "--reason", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no message with that id is held", r.stdout + r.stderr)
        self.assertEqual(self.fed.ctl("taipei", "drop", other, "--reason",
                                      "filed again by phone")["dropped"], 1)
        self.assertEqual(self.held("taipei"), [])
        self.assertIn(("dropped", other, "ncert"), self.audit("taipei"))
        self.assertIn(other, self.stored_messages("taipei"))
        ev = [e for e in self.history("taipei", other) if e["what"] == "dropped"]
        self.assertTrue(ev and "filed again by phone" in ev[0]["detail"])
        # and why it was held: the refusal the operator gave up on
        self.assertIn("(held: ", ev[0]["detail"])
        self.assertIn("max_message_bytes", ev[0]["detail"])

    def test_child_refusal_is_held_at_parent(self):
        """finding 1, downward: a child that refuses a message on its poll
        (here: too large for it) no longer acknowledges it away; the parent
        holds it for that child with the child's reason."""
        self.restart("ag-b", max_message_bytes=2048)
        self.fed.wait_links()
        adv = {"kind": "malware", "severity": 2, "title": "Patch now", "text": "z" * 3000,
               "audience": {"scope": "ag-b"}}
        r = self.fed.ctl_raw("taipei", "advisory", "-", stdin=json.dumps(adv))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.until(lambda: [h for h in self.held("taipei") if h["peer"] == "ag-b"],
                   "a hold for ag-b at the city")
        h = [h for h in self.held("taipei") if h["peer"] == "ag-b"][0]
        self.assertFalse(h["transient"])
        self.assertEqual(self.link("taipei", "ag-b")["outbox"], 0)
        self.assertEqual(self.link("taipei", "ag-b")["held"], 1)


if __name__ == "__main__":
    relaytest.run()
