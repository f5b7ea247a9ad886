#!/usr/bin/python3
"""sigkill_soak - SIGKILL cycles under load: nothing acknowledged is lost,
nothing is stored twice (issue 8, "tests/soak/").

Starts the test chain (ncert <- taipei <- ag-a, ag-b) on 127.0.0.1 under a
temporary folder. Two filers submit reports through relayctl as fast as the
nodes answer, while the main loop SIGKILLs one node chosen at random (the
city, an agency or the national center) every cycle and starts it again.
At the end it waits for every outbox to drain and counts, from each node's
own audit log and incident list:

  acked        submissions relayctl reported as filed
  lost         acked but not at the national center          (must be 0)
  duplicated   stored twice at any node (two 'received' audit entries),
               or one form filed as two incidents (by its title)  (must be 0)
  unanswered   at the national center though relayctl did not report it
               filed (the reply was lost to a kill); a retry of the same
               form is refused naming it, so it is not filed twice
  held         messages held at any node (refused by the next hop)

and checks every audit chain. Exit status 0 (and PASS) only when lost and
duplicated are 0, every chain is intact, and at least one report a cycle
was acknowledged.

  /usr/bin/python3 tests/soak/sigkill_soak.py [--cycles 100] [--seed 1] [--keep]

Needs the build (./tools/setup.sh); uses build/ or $RELAY_BUILD.
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import lmdb  # noqa: E402

import relaytest  # noqa: E402
from relaytest import Federation, CHAIN, FedTest  # noqa: E402


def audit_received(fed, nid):
    """audit_received - message ids with a 'received' or 'created' entry, in order"""
    t = FedTest.__new__(FedTest)  # only for its LMDB reading helpers
    t.fed = fed
    return [m for what, m, _ in FedTest.audit(t, nid) if what in ("received", "created")]


def incident_ids(fed, nid):
    """incident_ids - every key of the node's incidents db, read from LMDB
    (not through list, whose pages are its own concern)"""
    e = lmdb.open(fed.nodes[nid]["store"], readonly=True, lock=True, max_dbs=32,
                  subdir=True)
    try:
        with e.begin() as t:
            db = e.open_db(b"incidents", txn=t, create=False)
            return {bytes(k).hex() for k, _ in t.cursor(db)}
    finally:
        e.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the folder")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="relay-soak.")
    fed = Federation(tmp)
    try:
        return soak(fed, a)
    finally:
        fed.stop()  # every node, whatever happened
        for p in fed.procs.values():
            p.kill()
        if a.keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def titles(fed, nid):
    """titles - {title: [incident ids]} of every incident at nid, page by page"""
    out, cursor = {}, None
    while True:
        args = ["list", "--limit", "1000"] + (["--cursor", cursor] if cursor else [])
        page = fed.ctl(nid, *args)
        for i in page["incidents"]:
            out.setdefault(i.get("title"), []).append(i["id"])
        cursor = page.get("next")
        if not cursor:
            return out


def soak(fed, a):
    """soak - the run itself; 0 when nothing was lost or filed twice"""
    fed.init(CHAIN, dict(FedTest.SETTINGS))
    fed.start()
    fed.wait_links()
    rnd = random.Random(a.seed)
    acked, attempts, stop = [], [0], threading.Event()
    lock = threading.Lock()
    t0 = time.monotonic()

    def filer(nid, seed):
        own = random.Random(seed)  # one per thread: --seed reproduces the forms
        i = 0
        while not stop.is_set():
            i += 1
            form = relaytest.fresh_form(title="%s soak %d" % (nid, i),
                                        facts="soak report %s %d %f" % (nid, i, own.random()))
            r = fed.ctl_raw(nid, "report", "-", "--json", stdin=json.dumps(form),
                            timeout_ms=3000)
            with lock:
                attempts[0] += 1
                if r.returncode == 0:
                    acked.append(json.loads(r.stdout)["incident"])
            if r.returncode != 0 and not fed.running(nid):
                time.sleep(0.01)

    threads = [threading.Thread(target=filer, args=(nid, a.seed * 10 + k))
               for k, nid in enumerate(("ag-a", "ag-b"))]
    for t in threads:
        t.start()
    kills = {}
    try:
        for c in range(a.cycles):
            with lock:
                n0 = len(acked)
            end = time.monotonic() + 5
            while time.monotonic() < end:  # let some reports flow first
                with lock:
                    if len(acked) >= n0 + rnd.randint(2, 10):
                        break
                time.sleep(0.005)
            victim = rnd.choice(["taipei", "ag-a", "ag-b", "ncert"])
            kills[victim] = kills.get(victim, 0) + 1
            fed.kill(victim)
            fed.start(victim)
            if (c + 1) % 10 == 0:
                print("cycle %d/%d: %d acked" % (c + 1, a.cycles, len(acked)), flush=True)
    finally:
        stop.set()
        for t in threads:
            t.join()
    soak_s = time.monotonic() - t0
    fed.wait_links(timeout=30)
    # every acknowledged report must reach the national center: wait on each
    for iid in acked:
        r = fed.ctl_raw("ncert", "wait", iid, "--timeout", "60000")
        if r.returncode != 0:
            break
    for nid in reversed(list(fed.nodes)):  # leaves first, then what they fed
        fed.ctl(nid, "wait", "--outbox-empty", "--timeout", "120000")

    nat = incident_ids(fed, "ncert")
    lost = set(acked) - nat
    dup = {}
    for nid in fed.nodes:
        rec = audit_received(fed, nid)
        d = {m for m in rec if rec.count(m) > 1}
        if d:
            dup[nid] = sorted(d)
    twice = {t: ids for t, ids in titles(fed, "ncert").items() if len(ids) > 1}
    unanswered = nat - set(acked)
    held = {nid: fed.ctl(nid, "status")["counts"].get("held", 0) for nid in fed.nodes}
    intact = {nid: fed.ctl(nid, "audit", "verify")["intact"] for nid in fed.nodes}
    print("sigkill soak: %d cycles in %.0f s (kills: %s)" % (
        a.cycles, soak_s, ", ".join("%s %d" % kv for kv in sorted(kills.items()))))
    print("  submissions %d, acked %d, at national %d" % (attempts[0], len(acked), len(nat)))
    print("  lost %d, duplicated %d, filed twice %d, unanswered-but-stored %d, held %s" % (
        len(lost), sum(len(v) for v in dup.values()), len(twice), len(unanswered), held))
    print("  audit chains intact: %s" % intact)
    if lost:
        print("  LOST: %s" % sorted(lost))
    if dup or twice:
        print("  DUPLICATED: %s %s" % (dup, twice))
    ok = (len(acked) >= a.cycles and not lost and not dup and not twice and
          all(intact.values()))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
