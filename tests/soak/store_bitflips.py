#!/usr/bin/python3
"""store_bitflips - random bit flips in the data pages of a store with 200
incidents and 200 queued reports (issue 8 finding 3), 20 trials.

    RELAY_BUILD=build tests/soak/store_bitflips.py [TRIALS [FLIPS]]

Each trial flips FLIPS (default 8) random bits past the two meta pages of a
copy of the agency's store, starts it, and runs `relayctl store check`.
Prints one line per trial: refused at start, or the check's exit status,
whether the node is still alive, and what it found. Not part of the suite:
what the flips hit varies with the store's random ids."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import relaytest  # noqa: E402
from relaytest import Federation  # noqa: E402

TOPO = {"ncert": {"tier": "national"}, "taipei": {"tier": "city", "parent": "ncert"},
        "ag-a": {"tier": "agency", "parent": "taipei", "city": "taipei"}}


def dump(store):
    """dump - mdb_dump of every database, or its failure: what a reader sees"""
    r = subprocess.run(["mdb_dump", "-a", store], capture_output=True)
    return (r.returncode, r.stdout)


def dump_dbs(d):
    """dump_dbs - {database name: its dump lines} of a dump() result"""
    out, name = {}, "?"
    for line in d[1].decode(errors="replace").splitlines():
        if line.startswith("database="):
            name = line[9:]
        out.setdefault(name, []).append(line)
    return out


def dump_diff(a, b):
    """dump_diff - which databases read differently in two dumps"""
    if a[0] != b[0]:
        return "mdb_dump's exit status (%d -> %d)" % (a[0], b[0])
    da, db = dump_dbs(a), dump_dbs(b)
    return sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k))


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    flips = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    tmp = tempfile.mkdtemp(prefix="relay-flip.")
    fed = Federation(tmp)
    try:
        fed.init(TOPO, {"retry_min_ms": 20, "retry_max_ms": 500})
        fed.start()
        fed.stop("taipei")
        for i in range(200):
            fed.ctl("ag-a", "report", "-", stdin=json.dumps(relaytest.fresh_form(title="t%03d" % i)))
        fed.stop("ag-a")
        mdb = os.path.join(fed.nodes["ag-a"]["store"], "data.mdb")
        keep = os.path.join(tmp, "keep.mdb")
        shutil.copyfile(mdb, keep)
        size = os.path.getsize(keep)
        clean = dump(fed.nodes["ag-a"]["store"])
        rnd = random.Random(8)
        found = free = dead = 0
        for trial in range(trials):
            shutil.copyfile(keep, mdb)
            with open(mdb, "r+b") as f:
                for _ in range(flips):
                    off = rnd.randrange(2 * 4096, size)
                    f.seek(off)
                    b = f.read(1)
                    f.seek(off)
                    f.write(bytes([b[0] ^ (1 << rnd.randrange(8))]))
            flipped = dump(fed.nodes["ag-a"]["store"])
            if flipped == clean:
                # every live record reads as before: the flips hit free pages
                # or the free space inside pages; nothing stored is damaged
                print("trial %2d: flips changed no live record (free space)" % trial)
                free += 1
                continue
            try:
                fed.start("ag-a")
            except RuntimeError:
                fed.procs.pop("ag-a", None)
                print("trial %2d: refused at start: %s" % (trial, open(
                    fed.nodes["ag-a"]["log"]).read().splitlines()[-1][-120:]))
                found += 1
                continue
            r = fed.ctl_raw("ag-a", "store", "check", "--json")
            alive = fed.running("ag-a")
            try:
                rep = json.loads(r.stdout)
                dmg = sorted({d["db"] for d in rep["damaged"]})
                # a damaged message the sender met first is already in corrupt
                moved = len(rep.get("corrupt", []))
            except (ValueError, KeyError):
                dmg, moved = "no reply: " + r.stderr[-100:], 0
            if moved:
                dmg = "%s, %d message(s) already in corrupt" % (dmg, moved)
            found += r.returncode == 1 or moved > 0
            print("trial %2d: store check exit %d, node %s, damaged in %s" % (
                trial, r.returncode, "alive" if alive else "DEAD", dmg))
            if r.returncode == 0 and not moved:
                print("          not found; the flips changed %s" % dump_diff(clean, flipped))
            dead += not alive
            if alive:
                fed.stop("ag-a")
            else:
                fed.procs.pop("ag-a", None)
        print("%d of %d stores with damaged records refused or reported "
              "(%d trials hit only free space); %d node(s) died" % (
                  found, trials - free, free, dead))
        return 0 if dead == 0 and found == trials - free else 1
    finally:
        fed.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
