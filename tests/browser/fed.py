#!/usr/bin/python3
"""fed.py - a federation for the browser tests (issue 11).

Starts the demo topology (deployments/demo/topology.ini) under a fresh
temporary folder, every node on the same controlled clock (clock =
manual:CLOCK), with an HTTP listener (http_listen = 127.0.0.1:<free port>)
on the nodes the tests open (OPENED), and on each of those an account per
role (admin, reviewer, reporter, viewer) with a random password, made over
the node's Unix socket. Then it prints ONE JSON line:

  {"ok": true, "clock": ISO, "nodes": {"tp-health": {"tier": "agency",
   "url": "http://127.0.0.1:PORT/console/", "base": "http://127.0.0.1:PORT",
   "accounts": {"viewer": {"name": "viewer", "password": "..."}, ...}}, ...}}

and obeys commands on stdin, one per line, answering one JSON line each:

  advance SECONDS               every node's clock moves on (POST /api/v1/clock)
  quiet                         until every node's outbox is empty
  stop NODE / start NODE        stop a node (its link goes down) / start it again
  api NODE METHOD PATH [JSON]   one request over NODE's Unix socket:
                                {"ok": true, "status": N, "body": ...}
  quit                          stop every node, remove the folder, exit

Whatever happens (quit, stdin closed, SIGTERM, the test process killed)
every node is stopped and the folder removed (RELAY_KEEP=1 keeps it, with
the nodes' logs): the nodes run under
setpriv --pdeathsig, so that even a SIGKILL of this process takes them
with it. Only the set-up and the clock use the Unix socket; the tests do
every operator action through the browser.
"""
import concurrent.futures
import ctypes
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "deployments"))
from federation import Federation, free_port  # noqa: E402

TOPOLOGY = os.path.join(ROOT, "deployments", "demo", "topology.ini")
CLOCK = "2026-11-30T01:00:00Z"  # 09:00 in Taipei, a Monday
OPENED = ("tp-health", "tp-transport", "taipei", "moe", "ncert")  # agencies, city, ministry, national
ROLES = ("admin", "reviewer", "reporter", "viewer")
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """die_with_parent - SIGTERM to this process when its parent dies"""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class BrowserFed:
    """BrowserFed - the federation, its accounts and the commands"""

    def __init__(self):
        # short: AF_UNIX socket paths live in it
        self.dir = tempfile.mkdtemp(prefix="rb.", dir="/tmp")
        self.fed = Federation(self.dir)
        self.http = {}
        self.now = None  # the federation's controlled time once advanced

    def start(self):
        """start - lay out, start and furnish the federation; the first reply"""
        settings = {"retry_min_ms": 50, "retry_max_ms": 1000, "clock": "manual:" + CLOCK}
        self.fed.init(TOPOLOGY, settings)
        for nid in OPENED:
            self.http[nid] = free_port()
            self.fed.write_config(nid, dict(settings, http_listen="127.0.0.1:%d" % self.http[nid]))
        for nid in self.fed.nodes:
            self.fed.wrap[nid] = ["setpriv", "--pdeathsig", "TERM", "--"]
        self.fed.start()
        self.fed.wait_links()
        # the accounts, a node per thread: each password is an argon2id hash
        # the node computes (about 0.2 s, more on a busy machine)
        with concurrent.futures.ThreadPoolExecutor(len(OPENED)) as pool:
            made = dict(zip(OPENED, pool.map(self.accounts, OPENED)))
        nodes = {}
        for nid in OPENED:
            base = "http://127.0.0.1:%d" % self.http[nid]
            nodes[nid] = {"tier": self.fed.nodes[nid]["tier"], "base": base,
                          "url": base + "/console/", "accounts": made[nid]}
        return {"ok": True, "clock": CLOCK, "dir": self.dir, "nodes": nodes}

    def accounts(self, nid):
        """accounts - an account per role at nid, random passwords"""
        accounts = {}
        for role in ROLES:
            pw = secrets.token_urlsafe(18)
            st, rep = self.fed.api(nid, "POST", "/api/v1/operators",
                                   {"name": role, "role": role, "password": pw}, timeout=30)
            if st != 200:
                raise RuntimeError("%s: account %s: %d %s" % (nid, role, st, rep))
            accounts[role] = {"name": role, "password": pw}
        return accounts

    def quiet(self):
        """quiet - until every node's outbox is empty"""
        for nid in self.fed.nodes:
            st, rep = self.fed.api(nid, "GET", "/api/v1/outbox/wait?timeout_ms=10000", timeout=15)
            if st != 200:
                return {"ok": False, "node": nid, "status": st, "body": rep}
        return {"ok": True}

    def advance(self, seconds):
        """advance - every node's controlled clock moves on by seconds"""
        now = None
        for nid in self.fed.nodes:
            st, rep = self.fed.api(nid, "POST", "/api/v1/clock", {"advance_s": int(seconds)})
            if st != 200:
                return {"ok": False, "node": nid, "status": st, "body": rep}
            now = rep.get("now", now)
        self.now = now
        return {"ok": True, "now": now}

    def node(self, verb, nid):
        """node - stop or start one node (the R-OFFLINE case)"""
        if nid not in self.fed.nodes:
            return {"ok": False, "error": "no node " + nid}
        if verb == "stop":
            self.fed.stop(nid)
            return {"ok": True}
        self.fed.start(nid)
        # a restarted node's controlled clock starts again at CLOCK: set it
        # to where the others are, or it would refuse their messages as
        # from the future
        if self.now:
            st, rep = self.fed.api(nid, "POST", "/api/v1/clock", {"set": self.now})
            if st != 200:
                return {"ok": False, "node": nid, "status": st, "body": rep}
        return {"ok": True}

    def call(self, nid, method, path, body):
        """call - one request over nid's Unix socket"""
        st, rep = self.fed.api(nid, method, path, body)
        return {"ok": True, "status": st, "body": rep}

    def command(self, line):
        """command - obey one line of stdin; its answer"""
        words = line.split(None, 4)
        if not words:
            return {"ok": False, "error": "empty command"}
        verb = words[0]
        if verb == "advance" and len(words) == 2:
            return self.advance(words[1])
        if verb == "quiet" and len(words) == 1:
            return self.quiet()
        if verb in ("stop", "start") and len(words) == 2:
            return self.node(verb, words[1])
        if verb == "api" and len(words) >= 4:
            body = json.loads(words[4]) if len(words) == 5 else None
            return self.call(words[1], words[2], words[3], body)
        return {"ok": False, "error": "unknown command: " + line}

    def close(self):
        """close - stop every node (killed if it will not stop), remove the folder"""
        try:
            self.fed.stop()
        except Exception as e:  # still remove the folder; say why in the log
            sys.stderr.write("fed.py: stop: %s\n" % e)
            for p in self.fed.procs.values():
                if p.poll() is None:
                    p.kill()
        if os.environ.get("RELAY_KEEP") == "1":  # as the integration tests: logs kept
            sys.stderr.write("fed.py: kept %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def reply(obj):
    """reply - one JSON line to the test"""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    """main - start, obey stdin until quit or EOF, then stop everything"""
    die_with_parent()
    bf = BrowserFed()

    def on_signal(signum, frame):
        """on_signal - leave through the finally below (nodes stopped)"""
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        reply(bf.start())
        for line in sys.stdin:
            line = line.strip()
            if line == "quit":
                break
            try:
                reply(bf.command(line))
            except Exception as e:  # the test sees why, and may go on
                reply({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    except Exception as e:
        reply({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
        raise
    finally:
        bf.close()
    try:
        reply({"ok": True, "quit": True})
    except OSError:
        pass  # the test has gone already
    return 0


if __name__ == "__main__":
    sys.exit(main())
