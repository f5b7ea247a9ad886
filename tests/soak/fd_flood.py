#!/usr/bin/python3
"""fd_flood.py - soak: hostile TCP floods against a city's link listener
(issue 8 finding 4), and floods of its HTTP API's Unix socket (issue 10),
not part of ctest.

Starts national -> city -> agency on loopback, stops the agency, and sends
the city COUNT connections of each hostile kind of
tests/integration/hostile.py, then slow senders that hold half a frame, then
'timed' peers (one frame, a pause, a burst of frames and a reset, from random
127.x.y.z addresses: the attack the nng 1.5.2 workaround can only narrow).
Then COUNT connections of each kind of API_KINDS to the city's api_socket
(what broke nng 1.5.2's ipc listener was one connect-and-close), each kind
followed by relayctl status, and --api-idle connections that send nothing
while relayctl asks for the status (printed, not a pass condition: the node
bounds its API connections).
Prints connections/s per kind, the city's descriptors and peak RSS, and how
long the agency takes to link and report once the flood is over.

    tests/soak/fd_flood.py [--count 20000] [--threads 4] [--api-idle 200] [--keep]
"""
import argparse
import concurrent.futures
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


# what reaches the API's Unix socket: each connection sends this and closes
API_KINDS = {
    "api-close": b"",
    # the old control client: an nng SP handshake and a request frame
    "api-sp-frame": hostile.HANDSHAKE + hostile.request(0),
    # a write cut off in its body (Content-Length promises more)
    "api-half-post": b"POST /api/v1/reports HTTP/1.1\r\nHost: relay\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 65536\r\n\r\n"
                    b"{\"title\": ",
    # one header line far over any sane limit
    "api-huge-header": b"GET /api/v1/status HTTP/1.1\r\nHost: relay\r\nX-Junk: " +
                   b"a" * 200000 + b"\r\n\r\n",
}


def api_socket(fed, nid):
    """api_socket - nid's api_socket path, from its config file"""
    with open(fed.nodes[nid]["config"]) as f:
        for line in f:
            k, _, v = line.partition("=")
            if k.strip() == "api_socket":
                return v.strip()
    raise RuntimeError("%s: no api_socket in its config" % nid)


def api_connect(path):
    """api_connect - a connected AF_UNIX stream socket to path"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
    except OSError:
        s.close()
        raise
    return s


def api_flood(path, kind, count, threads=4, deadline=300.0):
    """api_flood - count connections of kind to the Unix socket path, over
    `threads` threads; seconds taken. A failed connect (backlog full) is
    tried again; a reset while sending counts as made (the node hung up)."""
    data = API_KINDS[kind]
    t0 = time.monotonic()

    def one(_):
        while time.monotonic() - t0 < deadline:
            try:
                s = api_connect(path)
            except OSError:
                time.sleep(0.001)
                continue
            try:
                s.sendall(data)
            except OSError:
                pass
            finally:
                s.close()
            return 1
        return 0

    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        made = sum(ex.map(one, range(count)))
    if made < count:
        raise RuntimeError("api flood %s: %d connections not made in %.0f s" % (
            kind, count - made, deadline))
    return time.monotonic() - t0


def api_status_s(fed, nid, timeout_ms=5000):
    """api_status_s - seconds relayctl status took at nid, or None if it
    failed"""
    t0 = time.monotonic()
    r = fed.ctl_raw(nid, "status", "--json", timeout_ms=timeout_ms)
    return time.monotonic() - t0 if r.returncode == 0 else None


def api_floods(fed, nid, pid, base, a):
    """api_floods - the API socket's floods and idle holders at nid; True
    when the descriptors came back and relayctl answered after each"""
    path, ok = api_socket(fed, nid), True
    for kind in API_KINDS:
        took = api_flood(path, kind, a.count, threads=a.threads)
        fds = hostile.wait_fds(pid, base + 2, timeout=10)
        st = api_status_s(fed, nid)
        print("%-15s %6d connections in %6.1f s = %6.0f/s; descriptors after: %d; "
              "relayctl status %s" % (kind, a.count, took, a.count / took, fds,
                                      "%.3f s" % st if st is not None else "FAILED"))
        ok &= fds <= base + 2 and st is not None
    held = []
    try:
        for _ in range(a.api_idle):
            held.append(api_connect(path))
    except OSError as e:
        print("api idle: connection %d refused: %s" % (len(held) + 1, e))
    st = api_status_s(fed, nid, timeout_ms=3000)
    fds = hostile.fd_count(pid)
    for s in held:
        s.close()
    print("%-15s %6d held open: %d descriptors while held; relayctl status meanwhile: "
          "%s (not a pass condition); %d descriptors after they closed" % (
              "api-idle", len(held), fds, "%.3f s" % st if st is not None else "no answer in 3 s",
              hostile.wait_fds(pid, base + 2, timeout=10)))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=20000, help="connections of each kind")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--slow", type=int, default=500, help="half-open slow senders held at once")
    ap.add_argument("--api-idle", type=int, default=200,
                    help="idle connections held at once on the API socket")
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
        ok &= api_floods(fed, "taipei", pid, base, a)
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
