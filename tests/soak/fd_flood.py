#!/usr/bin/python3
"""fd_flood.py - soak: hostile TCP floods against a city's link listener
(issue 8 finding 4), not part of ctest.

Starts national -> city -> agency on loopback, stops the agency, and sends
the city COUNT connections of each hostile kind of
tests/integration/hostile.py, then slow senders that hold half a frame, then
'timed' peers (one frame, a pause, a burst of frames and a reset, from random
127.x.y.z addresses: the attack the nng 1.5.2 workaround can only narrow).
Prints connections/s per kind, the city's descriptors and peak RSS, and how
long the agency takes to link and report once the flood is over.

    tests/soak/fd_flood.py [--count 20000] [--threads 4] [--keep]
"""
import argparse
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "deployments"))
os.environ.setdefault("RELAY_BUILD", os.path.join(ROOT, "build"))

import hostile  # noqa: E402
from federation import Federation  # noqa: E402

TOPOLOGY = {
    "ncert": {"tier": "national"},
    "taipei": {"tier": "city", "parent": "ncert"},
    "ag-a": {"tier": "agency", "parent": "taipei", "city": "taipei"},
}
SETTINGS = {"retry_min_ms": 20, "retry_max_ms": 500, "link_timeout_ms": 3000,
            "poll_hold_ms": 500}


def timed_peer(port):
    """timed_peer - one frame, a pause across the refusal window, a burst of
    30 frames and a reset, from a random loopback address"""
    src = "127.%d.%d.%d" % (random.randrange(256), random.randrange(256),
                            random.randrange(1, 255))
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
    try:
        s.sendall(hostile.HANDSHAKE + hostile.request(0))
        time.sleep(random.uniform(0.04, 0.26))
        s.sendall(b"".join(hostile.request(i) for i in range(30)))
    except OSError:
        pass
    finally:
        s.close()


def timed_flood(port, count, threads=32):
    """timed_flood - count timed peers from `threads` threads; seconds taken"""
    def run(n):
        for _ in range(n):
            try:
                timed_peer(port)
            except OSError:
                pass
    t0 = time.monotonic()
    ts = [threading.Thread(target=run, args=(count // threads,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=20000, help="connections of each kind")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--slow", type=int, default=500, help="half-open slow senders held at once")
    ap.add_argument("--keep", action="store_true", help="keep the data folder")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="relay-soak.")
    fed = Federation(tmp)
    ok = True
    try:
        fed.init(TOPOLOGY, SETTINGS)
        fed.start()
        fed.wait_links()
        pid = fed.procs["taipei"].pid
        port = fed.nodes["taipei"]["port"]
        fed.stop("ag-a")
        base = hostile.fd_count(pid)
        print("city pid %d: %d descriptors, peak RSS %d KiB before the flood" % (
            pid, base, hostile.peak_rss_kib(pid)))
        t0 = time.monotonic()
        for kind in hostile.KINDS:
            took = hostile.flood(port, kind, a.count, threads=a.threads, deadline=600)
            fds = hostile.wait_fds(pid, base + 2, timeout=10)
            print("%-15s %6d connections in %6.1f s = %6.0f/s; descriptors after: %d" % (
                kind, a.count, took, a.count / took, fds))
            ok &= fds <= base + 2
        socks = hostile.slow_senders(port, a.slow)
        time.sleep(1)
        held = hostile.fd_count(pid)
        for s in socks:
            s.close()
        fds = hostile.wait_fds(pid, base + 2, timeout=10)
        print("%-15s %6d held open: %d descriptors while held, %d after they closed" % (
            "slow-sender", a.slow, held, fds))
        ok &= fds <= base + 2
        n = max(a.count // 10, 32)
        took = timed_flood(port, n)
        fds = hostile.wait_fds(pid, base + 2, timeout=10)
        print("%-15s %6d connections in %6.1f s = %6.0f/s; descriptors after: %d" % (
            "timed-burst", n, took, n / took, fds))
        ok &= fds <= base + 2
        flood_end = time.monotonic()
        fed.start("ag-a")
        form = {"title": "after the flood", "level": 1, "category": "external_virus",
                "harms": [{"kind": "outage", "class": "non_core", "severity": "minor"}],
                "facts": "soak", "aware_at": time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))}
        iid = fed.ctl("ag-a", "report", "-", stdin=json.dumps(form))["incident"]
        fed.ctl("taipei", "wait", iid, "--timeout", "30000")
        linked = time.monotonic() - flood_end
        print("flood of %.0f s over; the restarted agency linked and its report was "
              "stored at the city %.3f s later" % (flood_end - t0, linked))
        print("city: %d descriptors (baseline %d), peak RSS %d KiB; still running: %s" % (
            hostile.fd_count(pid), base, hostile.peak_rss_kib(pid), fed.running("taipei")))
        ok &= fed.running("taipei")
    finally:
        fed.stop()
        if a.keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
