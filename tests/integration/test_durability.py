#!/usr/bin/python3
"""test_durability - link loss, restarts and SIGKILL lose nothing and duplicate nothing."""
import json
import random
import threading
import time

import relaytest
from relaytest import FedTest


class Durability(FedTest):

    def received_once(self, node, ids):
        """received_once - each id has exactly one 'received' audit entry at node"""
        rec = [m for what, m, _ in self.audit(node) if what == "received"]
        dup = {m for m in rec if rec.count(m) > 1}
        self.assertEqual(dup, set(), "stored twice at %s" % node)
        self.assertTrue(set(ids) <= set(rec), "missing at %s" % node)

    def test_parent_down_then_back(self):
        """the city stops, agencies keep filing, the city returns: all arrive once"""
        self.fed.stop("taipei")
        ids = [self.report(a, title="%s %d" % (a, i)) for i in range(15) for a in ("ag-a", "ag-b")]
        st = self.fed.ctl("ag-a", "status")
        up = [l for l in st["links"] if l["direction"] == "up"][0]
        self.assertFalse(up["connected"])
        self.assertEqual(up["outbox"], 15)  # waiting on disk, not lost
        self.fed.start("taipei")
        for iid in ids:
            self.wait("ncert", iid)
        self.wait_quiet()
        self.assertEqual(set(self.incidents("ncert")), set(ids))
        self.received_once("ncert", ids)
        self.received_once("taipei", ids)
        for a in ("ag-a", "ag-b"):
            st = self.fed.ctl(a, "status")
            self.assertEqual(st["links"][0]["outbox"], 0)
            self.assertIsNotNone(st["links"][0]["last_ack"])

    def test_national_down_backlog_flows_in_batches(self):
        """a backlog of 300 at the city drains after N-CERT returns"""
        self.fed.stop("ncert")
        ids = []
        for i in range(150):
            for a in ("ag-a", "ag-b"):
                ids.append(self.report(a, title="b%d" % i))
        for iid in ids[-2:]:
            self.wait("taipei", iid)
        st = self.fed.ctl("taipei", "status")
        up = [l for l in st["links"] if l["direction"] == "up"][0]
        # reports plus the city's own receipts wait for the national center
        self.assertGreaterEqual(up["outbox"], 300)
        self.fed.start("ncert")
        self.wait_quiet(60000)
        self.assertEqual(set(self.incidents("ncert")), set(ids))
        self.received_once("ncert", ids)

    def test_sigkill_while_reports_flow(self):
        """SIGKILL the city, the agency and N-CERT in turn while an agency files reports"""
        acked, attempted, stop = [], [], threading.Event()

        def filer():
            i = 0
            while not stop.is_set():
                i += 1
                form = relaytest.fresh_form(title="k%d" % i)
                r = self.fed.ctl_raw("ag-a", "report", "-", "--json", stdin=json.dumps(form),
                                     timeout_ms=3000)
                attempted.append(i)
                if r.returncode == 0:
                    acked.append(json.loads(r.stdout)["incident"])
                elif not self.fed.running("ag-a"):
                    time.sleep(0.01)

        t = threading.Thread(target=filer)
        t.start()
        rnd = random.Random(7)
        try:
            for victim in ["taipei", "ag-a", "ncert", "taipei", "ag-a", "taipei"]:
                n0 = len(acked)
                while len(acked) < n0 + rnd.randint(5, 20):  # let reports flow first
                    time.sleep(0.005)
                self.fed.kill(victim)
                self.fed.start(victim)
        finally:
            stop.set()
            t.join()
        self.fed.wait_links()
        self.wait_quiet(60000)
        nat = set(self.incidents("ncert"))
        self.assertTrue(len(acked) >= 30, "too few reports filed: %d" % len(acked))
        # nothing acknowledged is lost ...
        self.assertEqual(set(acked) - nat, set())
        # ... nothing appears that was never filed, and nothing twice
        self.assertLessEqual(len(nat), len(attempted))
        self.received_once("ncert", acked)
        self.received_once("taipei", acked)
        at_agency = set(self.incidents("ag-a"))
        self.assertEqual(nat, at_agency)
        for node in ("ag-a", "taipei", "ncert"):
            r = self.fed.ctl(node, "audit", "verify")
            self.assertTrue(r["intact"], node)


if __name__ == "__main__":
    relaytest.run()
