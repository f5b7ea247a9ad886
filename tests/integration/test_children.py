#!/usr/bin/python3
"""test_children - a parent serves many children without a thread each (issue 9).

Item 1: a push is taken at once however many polls are parked, even with
fewer workers than children. Item 3: parent and child agree on "connected".
Item 5: connections beyond the open-file limit are refused with a logged
reason. (Fan-out to hundreds of children in one process: test_fanout, by
relay-bench --children.)
"""
import json
import re
import time

import relaytest

N = 12
TOPOLOGY = {"ncert": {"tier": "national"},
            "taipei": {"tier": "city", "parent": "ncert"}}
for _i in range(N):
    TOPOLOGY["ag-%02d" % _i] = {"tier": "agency", "parent": "taipei", "city": "taipei"}
AGENCIES = ["ag-%02d" % i for i in range(N)]


class Children(relaytest.FedTest):
    TOPOLOGY = TOPOLOGY
    # two workers for twelve children, polls held 30 s: with a thread per
    # held poll nothing else would be served for up to 30 s
    SETTINGS = {"retry_min_ms": 20, "retry_max_ms": 500, "link_timeout_ms": 3000,
                "poll_hold_ms": 30000, "link_workers": 2,
                "link_pipeline": 1}  # the pipelined sender is exercised here

    def down_links(self):
        st = self.fed.ctl("taipei", "status")
        return {l["peer"]: l["connected"] for l in st["links"] if l["direction"] == "down"}

    def up_link(self, nid):
        st = self.fed.ctl(nid, "status")
        return [l["connected"] for l in st["links"] if l["direction"] == "up"][0]

    def parked(self):
        """parked - until every child is connected and its poll is parked at
        taipei (each child was answered once and polled again)"""
        def all_parked():
            st = self.fed.ctl("taipei", "status")
            return all(l["connected"] and l["poll_parked"]
                       for l in st["links"] if l["direction"] == "down")
        self.until(all_parked, "every child's poll parked at taipei")

    def test_push_taken_while_polls_are_parked(self):
        """issue 9 item 1: with 2 workers and 12 polls parked for 30 s, a report
        from each of three children is stored by the city within seconds"""
        self.parked()
        for nid in AGENCIES[:3]:
            t0 = time.monotonic()
            self.report(nid)
            r = self.fed.ctl_raw(nid, "wait", "--outbox-empty", "--timeout", "8000")
            self.assertEqual(r.returncode, 0, "%s: report not taken by the city: %s" % (
                nid, r.stdout + r.stderr))
            print("%s: report stored by the city in %.3f s" % (nid, time.monotonic() - t0))

    def test_advisory_reaches_every_parked_child(self):
        """issue 9 item 1: an advisory to all twelve wakes their parked polls"""
        self.parked()
        adv = {"kind": "malware", "severity": 2, "title": "t", "text": "x", "audience": {}}
        r = self.fed.ctl("taipei", "advisory", "-", stdin=json.dumps(adv))
        self.assertEqual(sorted(r["to"]), AGENCIES)
        for nid in AGENCIES:
            self.wait(nid, r["id"], timeout_ms=8000)

    def test_connected_means_the_same_on_both_ends(self):
        """issue 9 item 3: a child killed shows disconnected at the parent at once
        (not after poll_hold_ms + link_timeout_ms), a parent stopped shows
        disconnected at the child, and both agree again after restarts"""
        self.parked()
        self.fed.kill("ag-03")
        self.until(lambda: not self.down_links()["ag-03"], "taipei sees ag-03 gone",
                   timeout=5)
        self.assertTrue(all(v for k, v in self.down_links().items() if k != "ag-03"))
        self.fed.start("ag-03")
        self.until(lambda: self.down_links()["ag-03"] and self.up_link("ag-03"),
                   "both ends see ag-03 connected again")
        self.fed.stop("taipei")
        self.until(lambda: not self.up_link("ag-05"), "ag-05 sees taipei gone", timeout=5)
        self.fed.start("taipei")
        self.until(lambda: self.up_link("ag-05") and self.down_links()["ag-05"],
                   "both ends see ag-05 connected again")


class Limit(relaytest.FedTest):
    TOPOLOGY = TOPOLOGY
    SETTINGS = Children.SETTINGS

    def setUp(self):
        """the city may open few descriptors: room for a handful of children"""
        self.tmp = relaytest.tempfile.mkdtemp(prefix="relay-test.")
        self.fed = relaytest.Federation(self.tmp)
        try:
            self.fed.init(self.TOPOLOGY, self.SETTINGS)
            self.fed.wrap["taipei"] = ["prlimit", "--nofile=116:116"]
            self.fed.start()
        except BaseException:
            self.tearDown()
            raise

    def test_connections_beyond_the_limit_are_refused_and_logged(self):
        """issue 9 item 5: the parent raises its soft limit to the hard one, logs
        how many children that allows, and refuses the rest with a reason"""
        m = re.search(r"up to (\d+) child connections", self.log("taipei"))
        self.assertIsNotNone(m, "the parent says how many children it can take")
        room = int(m.group(1))
        self.assertLess(room, N, "the test needs a limit below %d children" % N)
        self.until(lambda: "connection refused: %d open, the most the open-file limit "
                   "allows" % room in self.log("taipei"), "the refusal in the log")
        st = self.fed.ctl("taipei", "status")
        up = [l["peer"] for l in st["links"] if l["direction"] == "down" and l["connected"]]
        self.assertLessEqual(len(up), room)
        with open("/proc/%d/limits" % self.fed.procs["taipei"].pid) as f:
            soft = re.search(r"Max open files\s+(\d+)\s+(\d+)", f.read())
        self.assertEqual(soft.group(1), soft.group(2), "soft limit raised to the hard one")


if __name__ == "__main__":
    relaytest.run()
