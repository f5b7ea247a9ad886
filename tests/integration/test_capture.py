#!/usr/bin/python3
"""test_capture - no field of an incident is readable on the wire.

tcpdump records every packet on the city's and the national center's link
ports while a report goes up (ag-a -> taipei -> ncert) and a review comes
down (taipei -> ag-a). The capture must hold the link traffic (the node ids,
which travel in clear) and none of the report's or the review's text, which
the nodes themselves store as sent: the positive control.
"""
import os
import shutil
import signal
import subprocess
import time

import relaytest
from relaytest import FedTest


class Capture(FedTest):

    def start_tcpdump(self, path, ports):
        """start_tcpdump - capture on lo until stop_tcpdump; waits until it listens"""
        tcpdump = shutil.which("tcpdump") or ("/usr/bin/tcpdump" if os.path.exists(
            "/usr/bin/tcpdump") else None)
        if tcpdump is None:
            self.fail("tcpdump is not installed: tools/setup.sh installs it "
                      "(apt-get install tcpdump); this test needs it and is not skipped")
        errpath = path + ".stderr"
        err = open(errpath, "w")
        # -Z root: Debian's tcpdump would otherwise write the file as user
        # tcpdump, who cannot enter the test's 0700 folder
        proc = subprocess.Popen(
            [tcpdump, "-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root", "-w", path,
             " or ".join("tcp port %d" % p for p in ports)],
            stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        end = time.monotonic() + 10
        while True:
            with open(errpath) as f:
                text = f.read()
            if "listening on" in text:
                return proc
            if proc.poll() is not None or time.monotonic() > end:
                self.stop_tcpdump(proc)
                self.fail("tcpdump did not start capturing: %s" % text.strip())
            time.sleep(0.02)

    @staticmethod
    def stop_tcpdump(proc):
        """stop_tcpdump - SIGINT (flushes the file), then reap; kill if stuck"""
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def test_incident_text_never_on_the_wire(self):
        """a report up and a review down: node ids on the wire, no incident text"""
        marker = "MARKER-" + os.urandom(8).hex()
        review_marker = "REVIEW-" + os.urandom(8).hex()
        title = "Capture title %s" % marker
        facts = "Capture facts %s: ransomware on the billing server" % marker
        basis = "Capture basis %s: confirmed by the city" % review_marker
        pcap = os.path.join(self.tmp, "links.pcap")
        ports = [self.fed.nodes["taipei"]["port"], self.fed.nodes["ncert"]["port"]]
        proc = self.start_tcpdump(pcap, ports)
        try:
            iid = self.report("ag-a", title=title, facts=facts)
            self.wait("ncert", iid)
            self.wait("taipei", iid)
            rv = self.fed.ctl("taipei", "review", iid, "--level", "1", "--confirm",
                              "--basis", basis)
            self.wait("ag-a", rv["id"])
            self.wait("ncert", rv["id"])
            self.wait_quiet()
        finally:
            self.stop_tcpdump(proc)
        with open(pcap, "rb") as f:
            wire = f.read()

        # the capture saw the links: frames from both children, of some size
        self.assertGreater(len(wire), 2048, "the capture is (nearly) empty")
        self.assertIn(b"ag-a", wire, "ag-a's requests to taipei are in the capture")
        self.assertIn(b"taipei", wire, "taipei's requests to ncert are in the capture")
        # and nothing of the incident or the review
        for secret in (marker, review_marker, title, facts, basis,
                       "ransomware on the billing server", "confirmed by the city"):
            with self.subTest(secret):
                self.assertNotIn(secret.encode(), wire)

        # positive control: the stores hold exactly this text, so it was sent
        at_ncert = b"".join(self.stored_messages("ncert").values())
        self.assertIn(marker.encode(), at_ncert)
        self.assertIn(title.encode(), at_ncert)
        self.assertIn(review_marker.encode(), at_ncert)
        at_agency = b"".join(self.stored_messages("ag-a").values())
        self.assertIn(review_marker.encode(), at_agency)
        self.assertIn(basis.encode(), at_agency)


if __name__ == "__main__":
    relaytest.run()
