"""test_receipt.py - issue 12 item 2: honest filing.

relayctl report, update and close wait a bounded time for the reporting
target's receipt. Received, they say "received by taipei at ..." in
Asia/Taipei time and exit 0. Not received, they say plainly that the
message is stored here but NOT yet received, since when the link is down,
and print the R-OFFLINE phone script (whom to call, what to say, in
Asia/Taipei time), exiting 3. --json carries the same facts; --no-wait
files as before.
"""
import calendar
import json
import re
import time

import relaytest


class Receipt(relaytest.FedTest):
    def file(self, *extra, form=None):
        return self.fed.ctl_raw("ag-a", "report", "-", *extra,
                                stdin=json.dumps(form or relaytest.fresh_form(level=2)))

    def test_received(self):
        """issue 12 item 2: with the city up, 'received by taipei at' a Taipei time"""
        r = self.file("--wait-receipt", "10")
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertRegex(r.stdout, r"incident [0-9a-f]{32} filed, to taipei")
        m = re.search(r"received by taipei at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) Asia/Taipei", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        # the time shown is Taipei's: UTC + 8 h, within the test's run
        shown = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
        self.assertLess(abs(shown - 8 * 3600 - time.time()), 120)
        self.assertNotIn("NOT YET RECEIVED", r.stdout)
        r = self.file("--wait-receipt", "10", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads(r.stdout)
        self.assertEqual(rep["received"]["by"], "taipei")
        self.assertNotIn("phone_script", rep)

    def test_not_received_says_so_and_gives_the_phone_script(self):
        """issue 12 item 2 (R-OFFLINE): with the city down, the report is
        said to be stored here but not received, with since when the link
        is down and the phone script in Taipei time; exit 3; an update of
        it says the same; --no-wait files without waiting (exit 0)"""
        self.fed.stop("taipei")
        form = relaytest.fresh_form(level=2, aware_at="2026-01-02T03:04:05Z")
        t0 = time.monotonic()
        r = self.file("--wait-receipt", "1", form=form)
        self.assertLess(time.monotonic() - t0, 10, "the wait is bounded")
        self.assertEqual(r.returncode, 3, r.stderr + r.stdout)
        out = r.stdout
        iid = re.search(r"incident ([0-9a-f]{32}) filed", out).group(1)
        self.assertIn("NOT YET RECEIVED: the report is stored here, but taipei does not have it yet.", out)
        self.assertRegex(out, r"The link to taipei has been down since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d Asia/Taipei")
        self.assertIn("R-OFFLINE: report by other means now, by phone.", out)
        self.assertIn("Call: the reporting target's designated contact", out)  # CHAIN has none
        # awareness 03:04:05 UTC is 11:04:05 in Taipei
        self.assertIn("Say:  agency ag-a, incident %s, level 2, aware since 2026-01-02 11:04:05 Asia/Taipei." % iid, out)
        self.assertRegex(out, r"The report is due at 2026-01-02 12:04:05 Asia/Taipei")
        r = self.fed.ctl_raw("ag-a", "update", iid, "--team-formed", "--wait-receipt", "1", "--json")
        self.assertEqual(r.returncode, 3, r.stderr + r.stdout)
        rep = json.loads(r.stdout)
        self.assertIsNone(rep["received"])
        self.assertEqual(rep["phone_script"]["id"], iid)
        self.assertFalse(rep["phone_script"]["link_connected"])
        r = self.fed.ctl_raw("ag-a", "update", iid, "--text", "still down")
        self.assertEqual(r.returncode, 0, r.stderr)  # --no-wait (the harness's default)
        self.assertNotIn("RECEIVED", r.stdout)
        r = self.fed.ctl_raw("ag-a", "report", "-", "--wait-receipt", "x",
                             stdin=json.dumps(relaytest.fresh_form()))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--wait-receipt: seconds from 0 to 600", r.stderr)
        # back up: the same incident's next update is received
        self.fed.start("taipei")
        self.wait("taipei", iid)
        r = self.fed.ctl_raw("ag-a", "update", iid, "--recovered", "--wait-receipt", "15")
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertRegex(r.stdout, r"received by taipei at .* Asia/Taipei")


if __name__ == "__main__":
    relaytest.run()
