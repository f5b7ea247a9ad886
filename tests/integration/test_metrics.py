#!/usr/bin/python3
"""test_metrics - GET /metrics, /healthz and /readyz of real nodes over the
API's Unix socket (issue 10 items 5 and 6).

A chain ncert <- taipei <- ag-a, ag-b. A report filed at ag-a raises
taipei's stored counter and shows as an open incident; forged messages
pushed on ag-a's link raise the refused counter under their reasons; the
real output passes `promtool check metrics` (from tools/setup.sh: this
test fails, it does not skip, when promtool is missing). With ncert
stopped, taipei's /readyz answers 503 naming the parent while /healthz
stays 200, and what taipei then stores for ncert shows as outbox depth.

It needs the HTTP transport (node/http.c, issue 10 item 1): until that is
in the tree the class is skipped with that reason.
"""
import http.client
import os
import re
import socket
import subprocess
import unittest

import relaytest
from test_refusal import LinkTest, body, envelope

HTTP_C = os.path.join(relaytest.ROOT, "node", "http.c")
BUILD = os.environ.get("RELAY_BUILD", os.path.join(relaytest.ROOT, "build"))
PROMTOOL = (os.environ.get("RELAY_PROMTOOL") or
            os.path.join(BUILD, "promtool", "usr", "bin", "promtool"))
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


class UnixHTTPConnection(http.client.HTTPConnection):
    """UnixHTTPConnection - http.client over an AF_UNIX stream socket"""

    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def parse(text):
    """parse - {(name, ((label, value), ...)): float} of a 0.0.4 text"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m is None:
            raise ValueError("not a sample line: %r" % line)
        labels = tuple(sorted((k, v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
                              for k, v in LABEL.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def key(name, **labels):
    return (name, tuple(sorted(labels.items())))


@unittest.skipUnless(os.path.exists(HTTP_C),
                     "awaits the HTTP transport (node/http.c, issue 10 item 1)")
class Metrics(LinkTest):
    TOPOLOGY = {k: relaytest.CHAIN[k] for k in ("ncert", "taipei", "ag-a", "ag-b")}

    def prepare(self):
        """prepare - every node serves the API on a Unix socket in the data
        folder (api_socket), unless federation.py set one already"""
        for nid, n in self.fed.nodes.items():
            with open(n["config"]) as f:
                conf = f.read()
            if not re.search(r"^api_socket\s*=", conf, re.M):
                with open(n["config"], "a") as f:
                    f.write("api_socket = %s\n" % os.path.join(self.fed.dir, nid + ".sock"))

    def socket_path(self, nid):
        with open(self.fed.nodes[nid]["config"]) as f:
            return re.search(r"^api_socket\s*=\s*(\S+)", f.read(), re.M).group(1)

    def get(self, nid, path):
        """get - GET path on nid's Unix socket: (status, content type, body)"""
        c = UnixHTTPConnection(self.socket_path(nid))
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.getheader("Content-Type", ""), r.read().decode()
        finally:
            c.close()

    def scrape(self, nid):
        """scrape - nid's /metrics, checked by promtool; (text, parsed)"""
        status, ctype, text = self.get(nid, "/metrics")
        self.assertEqual(status, 200, text)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        return text, parse(text)

    def promtool(self, text):
        self.assertTrue(os.access(PROMTOOL, os.X_OK),
                        PROMTOOL + " is missing: tools/setup.sh unpacks it")
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, text=True,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_metrics_follow_traffic(self):
        """issue 10 item 5: stored and refused counters, links, open incidents,
        and output that promtool accepts"""
        _, m0 = self.scrape("taipei")
        self.assertEqual(m0[key("relay_link_up", peer="ncert", direction="up")], 1)
        self.assertEqual(m0[key("relay_link_up", peer="ag-a", direction="down")], 1)
        self.assertEqual(len([k for k in m0 if k[0] == "relay_build_info"]), 1)
        iid = self.report("ag-a", level=3)
        self.wait("ncert", iid)
        self.wait_quiet()
        _, m1 = self.scrape("taipei")
        stored = key("relay_messages_stored_total")
        self.assertGreater(m1[stored], m0[stored])
        self.assertEqual(m1[key("relay_link_outbox_messages", peer="ncert", direction="up")], 0)
        self.assertIn(key("relay_link_last_ack_age_seconds", peer="ncert", direction="up"), m1)
        self.assertGreater(m1[key("relay_store_commit_seconds_count")], 0)
        self.assertGreater(m1[key("relay_signature_verify_seconds_count")], 0)
        # the incident figures come from a scan kept for about a second
        self.until(lambda: self.scrape("taipei")[1][key("relay_incidents_open", level="3")] == 1,
                   "taipei's open level 3 incident")

        # forged messages on ag-a's link: refused, counted by reason
        real = self.agency_key("ag-a")
        self.push("ag-a", [envelope(body(os.urandom(16), "ag-b", ["taipei", "ncert"]), real),
                           envelope(body(os.urandom(16), "nobody", ["taipei"]), real),
                           b"\x0a\x03abc"])
        text, m2 = self.scrape("taipei")
        for reason in ("signature", "unknown_sender", "malformed"):
            k = key("relay_messages_refused_total", reason=reason)
            self.assertEqual(m2[k] - m1[k], 1, reason)
        self.assertEqual(m2[stored], m1[stored])
        self.promtool(text)

    def test_health_and_readiness(self):
        """issue 10 item 6: /healthz and /readyz, and /readyz 503 naming the
        parent when it is stopped; what waits for it shows as outbox depth"""
        for nid in ("ncert", "taipei", "ag-a"):
            status, _, b = self.get(nid, "/healthz")
            self.assertEqual(status, 200, nid + b)
            status, _, b = self.get(nid, "/readyz")
            self.assertEqual(status, 200, nid + b)
        self.fed.stop("ncert")
        got = self.until(lambda: (lambda r: r if r[0] == 503 else None)(self.get("taipei", "/readyz")),
                         "taipei's /readyz to answer 503")
        self.assertIn("parent 'ncert' not connected", got[2])
        self.assertIn('"unavailable"', got[2])
        status, _, b = self.get("taipei", "/healthz")
        self.assertEqual(status, 200, b)
        status, _, b = self.get("ag-a", "/readyz")
        self.assertEqual(status, 200, b)
        iid = self.report("ag-a")
        self.wait("taipei", iid)
        text, m = self.scrape("taipei")
        self.assertEqual(m[key("relay_link_up", peer="ncert", direction="up")], 0)
        self.assertGreaterEqual(m[key("relay_link_outbox_messages", peer="ncert",
                                      direction="up")], 1)
        self.promtool(text)


if __name__ == "__main__":
    relaytest.run()
