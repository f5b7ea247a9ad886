#!/usr/bin/python3
"""test_policy - the rules of RULES.md on a running federation, on the controlled clock.

Every node runs "clock = manual:T0" and the tests move all clocks together
(relayctl clock advance), so deadlines of hours and days pass in
milliseconds. Waits are on acknowledgements and empty outboxes; where a node
must notice that a due time passed, the test waits for the notice itself.
"""
import json
import subprocess
import time

import relaytest
from relaytest import FedTest

T0 = "2026-11-21T08:00:00+08:00"          # 00:00 UTC, a Saturday in Taipei
AWARE = "2026-11-21T07:50:00+08:00"       # ten minutes before T0

TOPO = {
    "ncert": {"tier": "national", "contact": "N-CERT duty desk +886-2-0000-0001"},
    "homeland": {"tier": "office", "parent": "ncert", "role": "homeland"},
    "nsc": {"tier": "office", "parent": "ncert", "role": "nsc"},
    "ci-energy": {"tier": "office", "parent": "ncert", "role": "ci-group", "sector": "energy"},
    "taipei": {"tier": "city", "parent": "ncert",
               "contact": "Taipei DoIT security window +886-2-0000-0003"},
    "moe": {"tier": "ministry", "parent": "ncert"},
    "moea": {"tier": "ministry", "parent": "ncert"},
    "tp-health": {"tier": "agency", "parent": "taipei", "city": "taipei", "sector": "health"},
    "tp-transport": {"tier": "agency", "parent": "taipei", "city": "taipei",
                     "sector": "transport"},
    "tp-water": {"tier": "agency", "parent": "taipei", "city": "taipei"},
    "tp-school": {"tier": "agency", "parent": "moe", "city": "taipei"},
    "power-co": {"tier": "agency", "parent": "moea", "sector": "energy"},
}


class Policy(FedTest):
    TOPOLOGY = TOPO
    # the tests move each node's clock in turn, so for a moment one node is
    # hours or days ahead of another: widen the freshness window accordingly
    SETTINGS = dict(FedTest.SETTINGS, clock="manual:" + T0, max_future_s=31536000)

    # ----------------------------------------------------------- helpers
    def file(self, nid, **kw):
        kw.setdefault("aware_at", AWARE)
        return self.report(nid, **kw)

    def advance(self, duration, nodes=None):
        """advance - move the clock of every running node (or of nodes)"""
        for nid in nodes or self.fed.nodes:
            if self.fed.running(nid):
                self.fed.ctl(nid, "clock", "advance", duration)

    def set_clock(self, iso, nodes=None):
        for nid in nodes or self.fed.nodes:
            if self.fed.running(nid):
                self.fed.ctl(nid, "clock", "set", iso)

    def show(self, nid, iid):
        return self.fed.ctl(nid, "show", iid)["incident"]

    def events(self, nid, iid, what):
        return [e for e in self.show(nid, iid)["history"] if e["what"] == what]

    def due(self, nid, iid, name):
        for d in self.show(nid, iid)["dues"]:
            if d["deadline"] == name:
                return d
        return None

    def overdue_notices(self, nid, iid, rule):
        return [e for e in self.events(nid, iid, "overdue") if e["detail"].find(rule) >= 0]

    # ------------------------------------------------------------- tests
    def test_copy_to_city_before_due_and_overdue_when_city_down(self):
        """R-COPY3, R-DAYS: a ministry-reported agency's copy reaches the city in time;
        with the city down past end of day D+2 Taipei, the copy's overdue notice fires"""
        iid = self.file("tp-school", title="copy in time")
        self.wait("taipei", iid)
        self.wait_quiet()
        copy = self.due("tp-school", iid, "copy")
        self.assertEqual(copy["due"], "2026-11-23T16:00:00.000000Z")  # end of Nov 23, Taipei
        self.assertEqual(copy["state"], "met")
        self.assertEqual(self.show("taipei", iid)["author"], "tp-school")
        # updates are copied too
        self.fed.ctl("tp-school", "update", iid, "--team-formed")
        self.wait_quiet()
        self.assertIn("team formed", " ".join(e["detail"] for e in self.events("taipei", iid, "update")))

        self.fed.stop("taipei")
        late = self.file("tp-school", title="copy while the city is down")
        self.wait("ncert", late)
        self.assertEqual(self.due("tp-school", late, "copy")["state"], "open")
        self.advance("2d15h59m")  # 23:59 on Nov 23, Taipei: still in time
        self.advance("2m")        # past midnight: day D+3
        notes = self.until(lambda: self.overdue_notices("tp-school", late, "R-COPY3"),
                           "the copy's overdue notice")
        self.assertEqual(len(notes), 1)
        # the notice carries the time it fired: after the end of Nov 23
        # Taipei (16:00 UTC), not at 23:59 when the clock passed through
        self.assertGreater(notes[0]["at"], "2026-11-23T16:00:00.000000Z")
        # it went to the supervisor and the national center (not waiting for
        # quiet: N-CERT holds the city's traffic while the city is down)
        for nid in ("moe", "ncert"):
            self.until(lambda: self.overdue_notices(nid, late, "R-COPY3"), "notice at " + nid)
        self.assertEqual(self.due("tp-school", late, "copy")["state"], "overdue")
        # the city returns: the copy still arrives (late), once. Its clock
        # starts where the others are (a manual clock restarts at its config)
        now = self.fed.ctl("ncert", "status")["now"]
        self.fed.write_config("taipei", dict(self.SETTINGS, clock="manual:" + now))
        self.fed.start("taipei")
        self.wait("taipei", late)
        self.wait_quiet()
        self.assertEqual(self.due("tp-school", late, "copy")["state"], "met late")

    def test_late_supervisor_national_reviews_instead(self):
        """R-REVIEW, R-LATE-REVIEW, R-LEVEL-3: the city misses its 2 h review of a
        level 3 incident; N-CERT reviews; the city's later review does not override it"""
        iid = self.file("tp-health", level=3, title="level 3",
                        harms=[{"kind": "leak", "class": "core", "severity": "severe"}])
        self.wait_quiet()
        q = self.fed.ctl("taipei", "list", "--queue")["incidents"]
        self.assertEqual([i["id"] for i in q], [iid])
        self.assertEqual(self.fed.ctl("ncert", "list", "--queue")["incidents"], [])
        self.advance("2h1s")
        self.until(lambda: self.overdue_notices("ncert", iid, "R-REVIEW"), "review overdue")
        q = self.fed.ctl("ncert", "list", "--queue")["incidents"]
        self.assertEqual([i["id"] for i in q], [iid])
        self.assertIn("R-LATE-REVIEW", q[0]["queue"])
        self.fed.ctl("ncert", "review", iid, "--change", "--level", "4", "--basis", "CI data exposed")
        self.wait_quiet()
        self.fed.ctl("taipei", "review", iid, "--confirm", "--level", "3", "--basis", "late look")
        self.wait_quiet()
        for nid in ("tp-health", "taipei", "ncert"):
            inc = self.show(nid, iid)
            self.assertEqual(inc["reviewed_level"], 4, nid)
            self.assertTrue(inc["national_reviewed"], nid)
            self.assertIn("stands", self.events(nid, iid, "review")[-1]["detail"])
        # the overdue notice fired once and reached agency and supervisor
        self.assertEqual(len(self.overdue_notices("ncert", iid, "R-REVIEW")), 1)
        for nid in ("tp-health", "taipei"):
            self.assertEqual(len(self.overdue_notices(nid, iid, "R-REVIEW")), 1, nid)
        # only the target or N-CERT reviews
        r = self.fed.ctl_raw("moe", "review", iid, "--confirm", "--level", "3", "--basis", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such incident", r.stderr + r.stdout)

    def test_closure_review_and_support(self):
        """R-CLOSE-REVIEW, R-SUPPORT, R-LEVEL-3: a level 3 closure waits for the city's
        closure review; support is due from the first review and met by N-CERT's notice"""
        iid = self.file("tp-health", level=3, support_requested="forensics team")
        self.wait_quiet()
        self.assertIsNone(self.due("ncert", iid, "support"))  # no review yet: no anchor
        # a level change request reaches the reviewer's queue
        self.fed.ctl("tp-health", "request-level", iid, "4", "--reason", "worse than thought")
        self.wait_quiet()
        q = self.fed.ctl("taipei", "list", "--queue")["incidents"]
        self.assertIn("R-LEVEL-3", q[0]["queue"])
        self.fed.ctl("taipei", "review", iid, "--confirm", "--level", "3", "--basis", "ok")
        self.wait_quiet()
        sup = self.due("ncert", iid, "support")
        self.assertEqual((sup["due"], sup["state"]), ("2026-11-21T01:00:00.000000Z", "open"))
        r = self.fed.ctl_raw("taipei", "support", iid, "--text", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("only the national center", r.stderr)
        self.fed.ctl("ncert", "support", iid, "--text", "two analysts on site at 09:30")
        self.wait_quiet()
        self.assertEqual(self.due("ncert", iid, "support")["state"], "met")
        self.assertTrue(self.events("tp-health", iid, "support"))
        # the closure of a level 3 incident waits for the closure review
        r = self.fed.ctl_raw("taipei", "review", iid, "--confirm", "--level", "3", "--basis",
                             "x", "--closure")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no closure awaiting review", r.stderr)
        self.fed.ctl("tp-health", "close", iid, "-", stdin=json.dumps({"root_cause": "weak password"}))
        self.wait_quiet()
        for nid in ("tp-health", "taipei", "ncert"):
            self.assertEqual(self.show(nid, iid)["state"], "closing", nid)
        self.assertIn("R-CLOSE-REVIEW", self.fed.ctl("taipei", "list", "--queue")["incidents"][0]["queue"])
        self.fed.ctl("taipei", "review", iid, "--confirm", "--level", "3", "--basis", "closure ok",
                     "--closure", "--follow-up", "MFA for all staff by March")
        self.wait_quiet()
        for nid in ("tp-health", "taipei", "ncert"):
            self.assertEqual(self.show(nid, iid)["state"], "closed", nid)
        self.assertEqual(self.fed.ctl("taipei", "list", "--queue")["incidents"], [])

    def test_horizontal_notice_through_the_hierarchy(self):
        """R-HORIZ: tp-school (under moe) names tp-health (under taipei): the notice goes
        up to N-CERT and down, and is met when tp-health acknowledges it"""
        iid = self.file("tp-school", affected_agencies=["tp-health"], title="shared vendor")
        self.wait_quiet()
        got = self.events("tp-health", iid, "horizontal-notice")
        self.assertEqual(len(got), 1)
        self.assertIn("tp-school", got[0]["detail"])
        self.until(lambda: self.due("tp-school", iid, "horiz")["state"] == "met", "horiz met")
        # its path: the notice passed moe, ncert and taipei
        for nid in ("moe", "ncert", "taipei"):
            self.assertTrue(self.events(nid, iid, "horizontal-notice"), nid)
        self.assertNotIn(iid, self.incidents("tp-transport"))
        # an affected agency not in the directory is refused, naming the field
        r = self.fed.ctl_raw("tp-school", "report", "-",
                             stdin=json.dumps(relaytest.fresh_form(aware_at=AWARE,
                                                                   affected_agencies=["nobody"])))
        self.assertEqual(r.returncode, 1)
        self.assertIn("affected_agencies[0]: 'nobody' is not in the directory", r.stderr)

    def test_level4_ci_reaches_both_offices_and_drill_does_not(self):
        """R-ESC-NATIONAL, R-ESC-CI, R-ESC-CISO, R-PDPA, R-DRILL"""
        form = dict(level=4, ci_sector="energy", personal_data=True, title="grid SCADA",
                    harms=[{"kind": "outage", "class": "ci_core", "severity": "severe"}])
        real = self.file("power-co", **form)
        drill = self.file("power-co", drill=True, **form)
        self.wait_quiet()
        for office in ("homeland", "nsc"):
            held = self.incidents(office)
            self.assertIn(real, held, office)
            self.assertNotIn(drill, held, office)
            self.assertEqual(len(self.events(office, real, "escalation")), 1)
        self.assertEqual(len(self.events("moea", real, "escalation")), 1)  # the CISO
        self.assertTrue(self.show("power-co", real)["pdpa_task_open"])
        self.assertIn(real, self.incidents("ci-energy"))  # CI group: horizontal
        nat = self.show("ncert", real)
        self.assertEqual(sorted(nat["escalated"]), ["ciso", "homeland", "nsc", "pdpa"])
        self.assertEqual(nat["escalations_not_sent"], [])
        # issue 12 item 6: a drill's escalations are listed as not sent, never as sent
        nd = self.show("ncert", drill)
        self.assertEqual(nd["escalated"], [])
        self.assertEqual(sorted(e["kind"] for e in nd["escalations_not_sent"]),
                         ["ciso", "homeland", "nsc", "pdpa"])
        self.assertEqual({e["why"] for e in nd["escalations_not_sent"]}, {"a drill (R-DRILL)"})
        notes = " ".join(e["detail"] for e in self.events("ncert", drill, "escalation-note"))
        self.assertIn("drill: homeland not sent (R-DRILL)", notes)
        self.assertTrue(self.show("ncert", drill)["drill"])
        counts = self.fed.ctl("ncert", "list")["counts"]
        self.assertEqual(counts, {"real": 1, "drill": 1})
        self.assertIn("[DRILL]", self.log("ncert"))
        # closing the PDPA task
        self.fed.ctl("power-co", "update", real, "--subjects-notified")
        self.wait_quiet()
        self.assertFalse(self.show("power-co", real)["pdpa_task_open"])

    def test_level_raised_later_escalates_once(self):
        """R-ESC-NATIONAL, R-LEVEL-3: a level 2 report reviewed up to 3 escalates then, once"""
        iid = self.file("tp-health", level=2)
        self.wait_quiet()
        self.assertEqual(self.incidents("homeland"), {})
        review_before = self.due("ncert", iid, "review")["due"]
        self.fed.ctl("taipei", "review", iid, "--change", "--level", "3", "--basis", "worse")
        self.wait_quiet()
        self.fed.ctl("taipei", "review", iid, "--confirm", "--level", "3", "--basis", "again")
        self.wait_quiet()
        for office in ("homeland", "nsc"):
            self.assertEqual(len(self.events(office, iid, "escalation")), 1, office)
        # deadlines that depend on the level were recomputed (team 3 h -> 1 h)
        self.assertEqual(self.due("ncert", iid, "team")["due"], "2026-11-21T00:50:00.000000Z")
        self.assertEqual(self.due("ncert", iid, "review")["due"], review_before.replace("08:", "02:"))

    def test_overdue_fires_once_across_restart(self):
        """R-TEAM: the team notice fires once at N-CERT, and not again after a restart"""
        iid = self.file("tp-health", level=1)
        self.wait_quiet()
        self.advance("3h1s")
        self.until(lambda: self.overdue_notices("tp-health", iid, "R-TEAM"), "team overdue")
        self.wait_quiet()
        self.fed.stop("ncert")
        self.fed.start("ncert")
        # its clock restarts at T0; move it past the control deadline (72 h
        # after awareness) and wait for that notice: then the timer has run
        # since the restart with the team due time long past
        self.set_clock("2026-11-24T08:00:00+08:00", ["ncert"])
        self.until(lambda: self.overdue_notices("ncert", iid, "R-CONTROL"), "control overdue")
        self.wait_quiet()
        self.assertEqual(len(self.overdue_notices("ncert", iid, "R-TEAM")), 1)
        self.assertEqual(len(self.overdue_notices("tp-health", iid, "R-TEAM")), 1)
        self.assertEqual(len(self.overdue_notices("taipei", iid, "R-TEAM")), 1)
        listed = self.fed.ctl("tp-health", "list", "--overdue")["incidents"]
        self.assertEqual([i["id"] for i in listed], [iid])
        # met late once the team is formed; the list empties of it
        self.fed.ctl("tp-health", "update", iid, "--team-formed")
        self.wait_quiet()
        self.assertEqual(self.due("ncert", iid, "team")["state"], "met late")

    def test_priority_when_backlogged(self):
        """R-PRIORITY: with the link to N-CERT down, the city's backlog leaves by level,
        then sector (transport before health), then age"""
        self.fed.stop("ncert", "taipei")
        # one envelope per request, so that at most one (the filler) is in
        # flight while the backlog builds
        self.fed.write_config("taipei", dict(self.SETTINGS, batch_max=1))
        self.fed.start("taipei")
        self.fed.wait_links()
        filler = self.file("tp-water", level=1, title="filler")
        self.wait("taipei", filler)
        order = [("tp-health", 1, "low"), ("tp-health", 2, "mid health"),
                 ("tp-transport", 2, "mid transport"), ("tp-health", 4, "high")]
        ids = {}
        for nid, level, title in order:
            ids[title] = self.file(nid, level=level, title=title)
            self.wait("taipei", ids[title])
        self.fed.start("ncert")
        for i in ids.values():
            self.wait("ncert", i)
        got = [m for what, m, _ in self.audit("ncert") if what == "received" and m in ids.values()]
        self.assertEqual(got, [ids["high"], ids["mid transport"], ids["mid health"], ids["low"]])

    def test_offline_warning_and_backfill(self):
        """R-OFFLINE: link down and the report due within 30 min: the operator is told
        whom to phone and what to say; the relay back-fills when the link returns"""
        self.fed.stop("taipei")
        iid = self.file("tp-health", aware_at="2026-11-21T07:20:00+08:00")  # due 08:20
        warn = self.until(lambda: self.events("tp-health", iid, "offline-warning"),
                          "the R-OFFLINE warning")
        self.assertEqual(len(warn), 1)
        self.assertIn("Taipei DoIT security window +886-2-0000-0003", warn[0]["detail"])
        self.assertIn("R-OFFLINE", self.log("tp-health"))
        self.fed.start("taipei")
        self.wait("taipei", iid)
        self.wait_quiet()
        self.assertEqual(self.due("tp-health", iid, "report")["state"], "met")
        self.assertEqual(len(self.events("tp-health", iid, "offline-warning")), 1)

    def test_drill_timing_record(self):
        """R-DRILL: a supervisor drills a random third of its agencies; answers within
        1 h pass, a late closure fails; drill traffic is marked and counted apart"""
        r = self.fed.ctl("taipei", "drill", "start")
        self.assertEqual(r["agencies"], 3)
        self.assertEqual(r["drilled"], 1)             # ceil(3 / 3)
        self.assertEqual(len(r["scenarios"]), 10)      # at least 10 scenarios
        self.assertEqual(sorted({s["level"] for s in r["scenarios"]}), [1, 2, 3, 4])
        did, sc = r["drill"], r["scenarios"]
        agency = sc[0]["agency"]
        self.wait_quiet()
        # the agency answers scenario 1 in time and scenario 2 too late
        for s, late in ((sc[0], False), (sc[1], True)):
            inc = self.file(agency, drill=True, drill_of=s["notice"], level=s["level"],
                            aware_at=AWARE, title="drill %s" % s["scenario"])
            self.fed.ctl(agency, "update", inc, "--text", "response notice")
            if late:
                self.advance("61m")
            self.fed.ctl(agency, "close", inc, "-", stdin=json.dumps({"root_cause": "drill"}))
            self.wait_quiet()
        rec = self.fed.ctl("taipei", "drill", "record", did)["drill"]
        res = {s["scenario"]: s["result"] for s in rec["scenarios"]}
        self.assertEqual(res[1], "pass")
        self.assertEqual(res[2], "fail")
        self.assertEqual(rec["summary"]["pass"], 1)
        self.assertIsNotNone(rec["scenarios"][0]["received"])
        # never a real incident anywhere, never at the offices
        for nid in ("taipei", "ncert", agency):
            self.assertEqual(self.fed.ctl(nid, "list")["counts"]["real"], 0, nid)
        self.assertEqual(self.incidents("homeland"), {})
        # only the agency a notice was for may answer it
        other = [a for a in ("tp-health", "tp-transport", "tp-water") if a != agency][0]
        r = self.fed.ctl_raw(other, "report", "-", stdin=json.dumps(relaytest.fresh_form(
            aware_at=AWARE, drill=True, drill_of=sc[0]["notice"])))
        self.assertEqual(r.returncode, 1)
        self.assertIn("drill_of", r.stderr)


class PolicyFiles(FedTest):
    """Policy files: the 2002 regime loads and applies; a bad file names its line."""
    TOPOLOGY = relaytest.CHAIN
    SETTINGS = dict(FedTest.SETTINGS, clock="manual:" + T0,
                    policy=relaytest.ROOT + "/policy/regime-2002.policy")

    def test_2002_regime(self):
        """R-2002, R-LEVEL-2002: 30-minute report deadline; the node logs its policy"""
        st = self.fed.ctl("ag-a", "status")
        self.assertTrue(st["policy"].startswith("regime-2002") or "2002" in st["policy"])
        self.assertIn("regime-2002.policy", self.log("ag-a"))
        iid = self.report("ag-a", aware_at=AWARE)
        dues = {d["deadline"]: d["due"] for d in self.fed.ctl("ag-a", "show", iid)["incident"]["dues"]}
        self.assertEqual(dues["report"], "2026-11-21T00:20:00.000000Z")

    def test_bad_policy_refused_naming_the_line(self):
        """a node refuses to start on an invalid policy file and names the line"""
        bad = self.tmp + "/bad.policy"
        with open(relaytest.ROOT + "/policy/default.policy") as f:
            lines = f.read().split("\n")
        for i, l in enumerate(lines):
            if l.startswith("report"):
                lines[i] = "report = 1x 1h 1h 1h from aware"
                lineno = i + 1
                break
        with open(bad, "w") as f:
            f.write("\n".join(lines))
        conf = self.fed.nodes["ag-b"]["config"]
        with open(conf, "a") as f:
            f.write("policy = %s\n" % bad)
        # the setting given twice is itself an error; write a clean config instead
        with open(conf) as f:
            text = [t for t in f.read().split("\n") if not t.startswith("policy = ") or bad in t]
        with open(conf, "w") as f:
            f.write("\n".join(text))
        r = subprocess.run([self.fed.node_bin, "--config", conf, "--check"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:line %d:" % (bad, lineno), r.stderr)
        self.assertIn("key 'policy'", r.stderr)


class Advise(FedTest):
    """relayctl advise: the what-if, without a running node"""
    TOPOLOGY = TOPO

    def setUp(self):  # no processes: only the directory
        import tempfile
        from federation import Federation
        self.tmp = tempfile.mkdtemp(prefix="relay-test.")
        self.fed = Federation(self.tmp)
        self.fed.init(self.TOPOLOGY, self.SETTINGS)

    def test_advise_json(self):
        """R-LEVEL-2, R-COPY3, R-HORIZ, R-ESC-CI, R-DAYS: level, destinations, due times"""
        form = relaytest.fresh_form(aware_at="2026-11-21T23:40:00+08:00", level=2,
                                    ci_sector="energy", affected_agencies=["tp-health"],
                                    harms=[{"kind": "outage", "class": "ci_core",
                                            "severity": "severe"}])
        r = subprocess.run([self.fed.ctl_bin, "advise", "-", "--node", "tp-school", "--directory",
                            self.tmp + "/directory.ini", "--now", "2026-11-21T23:50:00+08:00",
                            "--json"], input=json.dumps(form), capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        a = json.loads(r.stdout)
        self.assertEqual((a["claimed_level"], a["advised_level"], a["below_advised"]), (2, 4, True))
        self.assertEqual(a["report_to"], ["moe", "ncert", "taipei"])
        self.assertEqual(a["copy_to"], "taipei")
        self.assertEqual(a["horizontal_to"], ["tp-health", "ci-energy"])
        self.assertEqual([e["to"] for e in a["escalations"]], ["homeland"])
        self.assertEqual(a["dues"]["report"], "2026-11-21T16:40:00.000000Z")
        # reported 23:50 on Nov 21 Taipei: the copy is due by the end of Nov 23
        self.assertEqual(a["dues"]["copy"], "2026-11-23T16:00:00.000000Z")
        r = subprocess.run([self.fed.ctl_bin, "advise", "-", "--node", "tp-school", "--directory",
                            self.tmp + "/directory.ini", "--now", "2026-11-22T00:05:00+08:00"],
                           input=json.dumps(dict(form, aware_at="2026-11-22T00:00:00+08:00")),
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("copy     R-COPY3   2026-11-24T16:00:00.000000Z", r.stdout)


class NoOffices(FedTest):
    """a federation without the national offices (relaytest.CHAIN)"""
    TOPOLOGY = relaytest.CHAIN

    def test_escalation_to_a_missing_office_is_not_shown_sent(self):
        """issue 12 item 6 (R-ESC-NATIONAL): with no homeland or nsc office in
        the directory, a level 3 incident's escalations to them are listed as
        not sent, with why, and logged as a warning; the CISO notice to the
        city goes and is listed as sent"""
        iid = self.report("ag-a", level=3, harms=[{"kind": "outage", "class": "core",
                                                    "severity": "severe"}])
        self.wait("ncert", iid)
        self.wait_quiet()
        nat = self.fed.ctl("ncert", "show", iid)["incident"]
        self.assertEqual(nat["escalated"], ["ciso"])
        self.assertEqual(nat["escalations_not_sent"], [
            {"kind": "homeland", "rule": "R-ESC-NATIONAL", "why": "no homeland office in the directory"},
            {"kind": "nsc", "rule": "R-ESC-NATIONAL", "why": "no nsc office in the directory"}])
        notes = " ".join(e["detail"] for e in nat["history"] if e["what"] == "escalation-note")
        self.assertIn("homeland: not sent: no homeland node in the directory", notes)
        self.assertIn("escalation not sent: no homeland node in the directory", self.log("ncert"))
        self.assertEqual([e["node"] for e in nat["history"] if e["what"] == "escalation"], ["ncert"])


if __name__ == "__main__":
    relaytest.run()
