#!/usr/bin/python3
"""federation.py - lay out, start and stop a federation of relay nodes.

A topology file (INI: one section per node with tier, parent, city, sector)
becomes, under one data folder: a key pair per node (made by relayctl
keygen), the shared directory.ini, one node config per node, and a state
file. Every listener binds 127.0.0.1 on a port the kernel picked free;
each node's HTTP API socket (api_socket) is a Unix socket path inside the
data folder (AF_UNIX paths hold at most 107 bytes: keep the folder short).

    federation.py init  --topology FILE --dir DIR [--set KEY=VALUE ...]
    federation.py start --dir DIR [NODE ...]
    federation.py stop  --dir DIR [NODE ...]

The integration tests import this module and drive the same class.
"""
import argparse
import configparser
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


_given_ports = set()


def free_port():
    """free_port - a TCP port on 127.0.0.1 that nobody holds right now, for
    a node to listen on. Chosen at random below the kernel's ephemeral range
    (32768-60999 on Linux): a port the kernel handed out for bind(0) is also
    what it hands to the next outgoing connection, so a node's own dial
    could take it before the listener bound it (a node of a browser test
    failed to listen so, once). Never the same port twice in one process."""
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randrange(20000, 32768)
        if port in _given_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given_ports.add(port)
        return port
    raise RuntimeError("free_port: no free port in 20000-32767")


SUN_PATH_MAX = 107  # bytes of an AF_UNIX socket path


class UnixHTTPConnection(http.client.HTTPConnection):
    """UnixHTTPConnection - http.client over a node's API socket"""

    def __init__(self, path, timeout=10.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.unix_path)
        except OSError:
            s.close()
            raise
        self.sock = s


def api_call_full(sock, method, path, body=None, headers=None, timeout=10.0):
    """api_call_full - one request to the API on Unix socket sock: (status,
    JSON reply or None when the body is not JSON, headers with lower-case
    names)"""
    conn = UnixHTTPConnection(sock, timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        hdrs = {"Accept": "application/json"}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        try:
            conn.request(method, path, body=data, headers=hdrs)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered before the whole body was read (413): read that answer
        r = conn.getresponse()
        raw = r.read()
        got = {k.lower(): v for k, v in r.getheaders()}
        try:
            return r.status, json.loads(raw.decode()) if raw else None, got
        except ValueError:
            return r.status, None, got
    finally:
        conn.close()


def api_call(sock, method, path, body=None, headers=None, timeout=10.0):
    """api_call - api_call_full without the headers: (status, JSON reply)"""
    return api_call_full(sock, method, path, body, headers, timeout)[:2]


class Federation:
    """Federation - the nodes of one topology under one data folder"""

    def __init__(self, datadir, build=None):
        self.dir = os.path.abspath(datadir)
        self.build = os.path.abspath(build or os.environ.get("RELAY_BUILD", os.path.join(ROOT, "build")))
        self.node_bin = os.path.join(self.build, "node", "relay-node")
        self.ctl_bin = os.path.join(self.build, "tools", "relayctl", "relayctl")
        self.nodes = {}
        self.procs = {}
        self.wrap = {}  # nid -> command prefix (e.g. prlimit) for its starts
        state = os.path.join(self.dir, "federation.json")
        if os.path.exists(state):
            with open(state) as f:
                self.nodes = json.load(f)["nodes"]

    # ---------------------------------------------------------------- layout
    def init(self, topology, settings=None):
        """init - keys, directory and configs for every node of topology"""
        topo = configparser.ConfigParser(inline_comment_prefixes=(";",))
        if isinstance(topology, dict):
            topo.read_dict(topology)
        else:
            topo.read(topology)
        os.makedirs(self.dir, exist_ok=True)
        order = topo.sections()
        for nid in order:
            sec = topo[nid]
            key = os.path.join(self.dir, nid + ".key")
            pub = subprocess.run([self.ctl_bin, "keygen", key], check=True,
                                 capture_output=True, text=True).stdout.strip()
            self.nodes[nid] = {
                "tier": sec["tier"], "parent": sec.get("parent", ""),
                "city": sec.get("city", ""), "sector": sec.get("sector", "none"),
                "role": sec.get("role", ""), "contact": sec.get("contact", ""),
                "key": key, "pub": pub,
                "port": free_port() if sec["tier"] not in ("agency", "office") else 0,
                "config": os.path.join(self.dir, nid + ".conf"),
                "api_socket": self.sock_path(nid),
                "log": os.path.join(self.dir, nid + ".log"),
                "store": os.path.join(self.dir, nid + ".db"),
            }
        with open(os.path.join(self.dir, "directory.ini"), "w") as f:
            for nid in order:
                n = self.nodes[nid]
                f.write("[%s]\ntier = %s\n" % (nid, n["tier"]))
                for k in ("parent", "city", "role", "contact"):
                    if n[k]:
                        f.write("%s = %s\n" % (k, n[k]))
                f.write("sector = %s\nkey = %s\n\n" % (n["sector"], n["pub"]))
        # the national root key signs the directory (held here, never by a node)
        self.root_key = os.path.join(self.dir, "root.key")
        self.root_pub = subprocess.run([self.ctl_bin, "keygen", self.root_key], check=True,
                                       capture_output=True, text=True).stdout.strip()
        subprocess.run([self.ctl_bin, "dir-init", "--root", self.root_key, "--from",
                        os.path.join(self.dir, "directory.ini"), "--out",
                        os.path.join(self.dir, "directory.log")],
                       check=True, capture_output=True, text=True)
        for nid in order:
            self.write_config(nid, settings or {})
        self.save()

    def sock_path(self, nid):
        """sock_path - nid's API socket in the data folder; refused when too
        long for AF_UNIX (the node could not bind it)"""
        path = os.path.join(self.dir, nid + ".sock")
        if len(path.encode()) > SUN_PATH_MAX:
            raise ValueError("%s: longer than %d bytes, the AF_UNIX limit: use a shorter "
                             "data folder" % (path, SUN_PATH_MAX))
        return path

    def write_config(self, nid, settings):
        """write_config - one node's config file"""
        n = self.nodes[nid]
        lines = ["[node]", "id = " + nid, "tier = " + n["tier"],
                 "api_socket = " + n["api_socket"], "store = " + n["store"],
                 "key = " + n["key"],
                 "directory = " + os.path.join(self.dir, "directory.log"),
                 "root_key = " + self.root_pub]
        if n["port"]:
            lines.append("listen = tcp://127.0.0.1:%d" % n["port"])
        if n["parent"]:
            p = self.nodes[n["parent"]]
            lines.append("upstream = tcp://127.0.0.1:%d" % p["port"])
            lines.append("upstream_key = " + p["pub"])
        for k, v in settings.items():
            lines.append("%s = %s" % (k, v))
        with open(n["config"], "w") as f:
            f.write("\n".join(lines) + "\n")

    def save(self):
        with open(os.path.join(self.dir, "federation.json"), "w") as f:
            json.dump({"nodes": self.nodes}, f, indent=1)

    # ------------------------------------------------------------- processes
    def start(self, *names, init=None):
        """start - run nodes (all when none named) and wait for their sockets.
        A node's first start passes --init (it creates the store); later ones
        do not. init=True or False overrides that (a test that removed a store)."""
        names = names or tuple(self.nodes)
        for nid in names:
            first = not self.nodes[nid].get("initialized") if init is None else init
            log = open(self.nodes[nid]["log"], "a")
            self.procs[nid] = subprocess.Popen(
                self.wrap.get(nid, []) + [self.node_bin, "--config", self.nodes[nid]["config"]] +
                (["--init"] if first else []),
                stdout=log, stderr=log)
            log.close()
            self.nodes[nid]["pid"] = self.procs[nid].pid
        self.save()
        for nid in names:
            self.wait_ready(nid)
            self.nodes[nid]["initialized"] = True
        self.save()

    def wait_ready(self, nid, timeout=10.0):
        """wait_ready - until the node answers on its API socket"""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if nid in self.procs and self.procs[nid].poll() is not None:
                raise RuntimeError("%s exited with %d; see %s" % (
                    nid, self.procs[nid].returncode, self.nodes[nid]["log"]))
            # straight over the socket: a relayctl process per poll costs
            # 25 ms (130 ms under ASan) of loading libcurl, and starts are many
            try:
                st, rep = self.api(nid, "GET", "/api/v1/status", timeout=1.0)
                if st == 200:
                    return rep
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("%s did not answer within %.0f s" % (nid, timeout))

    def wait_links(self, timeout=10.0):
        """wait_links - until every child reports its upstream link connected"""
        end = time.monotonic() + timeout
        for nid, n in self.nodes.items():
            if not n["parent"] or not self.running(nid) or not self.running(n["parent"]):
                continue
            while True:
                code, st = self.api(nid, "GET", "/api/v1/status")
                if code != 200:
                    raise RuntimeError("%s: status: %s" % (nid, st))
                if all(l["connected"] for l in st["links"] if l["direction"] == "up"):
                    break
                if time.monotonic() > end:
                    raise RuntimeError("%s: upstream link not connected" % nid)
                time.sleep(0.02)

    def running(self, nid):
        p = self.procs.get(nid)
        if p is not None:
            return p.poll() is None
        pid = self.nodes[nid].get("pid")
        if not pid:
            return False
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False

    def stop(self, *names, sig=signal.SIGTERM, timeout=10.0):
        """stop - signal nodes (all when none named) and reap them"""
        names = names or tuple(self.nodes)
        for nid in names:
            if self.running(nid):
                pid = self.procs[nid].pid if nid in self.procs else self.nodes[nid]["pid"]
                os.kill(pid, sig)
        for nid in names:
            p = self.procs.pop(nid, None)
            if p is not None:
                try:
                    p.wait(timeout)
                except subprocess.TimeoutExpired:
                    if shutil.which("gdb"):  # show where it hangs, for the log
                        sys.stderr.write(subprocess.run(
                            ["gdb", "-p", str(p.pid), "-batch", "-ex", "thread apply all bt"],
                            capture_output=True, text=True).stdout)
                    p.kill()
                    p.wait()
                    raise RuntimeError("%s did not stop on signal %d" % (nid, sig))
            else:
                end = time.monotonic() + timeout
                while self.running(nid) and time.monotonic() < end:
                    time.sleep(0.02)
            self.nodes[nid].pop("pid", None)
        self.save()

    def kill(self, *names):
        """kill - SIGKILL: no chance to finish anything"""
        self.stop(*names, sig=signal.SIGKILL)

    # --------------------------------------------------------------- control
    def api(self, nid, method, path, body=None, headers=None, timeout=10.0):
        """api - one HTTP request to nid's API socket: (status, JSON reply)"""
        return api_call(self.nodes[nid]["api_socket"], method, path, body, headers, timeout)

    def api_full(self, nid, method, path, body=None, headers=None, timeout=10.0):
        """api_full - as api, and the reply's headers (lower-case names)"""
        return api_call_full(self.nodes[nid]["api_socket"], method, path, body, headers, timeout)

    def ctl_raw(self, nid, *args, timeout_ms=None, stdin=None):
        """ctl_raw - run relayctl against nid. report, update and close get
        --no-wait unless args say how long to wait for the target's receipt
        (--wait-receipt): most tests file with links down on purpose, and
        test_receipt.py tests the wait itself"""
        cmd = [self.ctl_bin, "-c", self.nodes[nid]["config"]]
        if timeout_ms:
            cmd += ["-t", str(timeout_ms)]
        args = list(args)
        if args and args[0] in ("report", "update", "close") and "--wait-receipt" not in args:
            args.append("--no-wait")
        return subprocess.run(cmd + args, capture_output=True, text=True, input=stdin)

    def ctl(self, nid, *args, stdin=None):
        """ctl - run relayctl --json against a node; the parsed reply"""
        r = self.ctl_raw(nid, *args, "--json", stdin=stdin)
        if r.returncode != 0:
            raise RuntimeError("relayctl %s at %s failed (%d): %s%s" % (
                " ".join(args), nid, r.returncode, r.stderr, r.stdout))
        return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("verb", choices=["init", "start", "stop"])
    ap.add_argument("nodes", nargs="*")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--topology", default=os.path.join(HERE, "demo", "topology.ini"))
    ap.add_argument("--build")
    ap.add_argument("--set", action="append", default=[], help="extra node config KEY=VALUE")
    a = ap.parse_args()
    fed = Federation(a.dir, a.build)
    if a.verb == "init":
        fed.init(a.topology, dict(s.split("=", 1) for s in a.set))
    elif a.verb == "start":
        fed.start(*a.nodes)
    else:
        fed.stop(*a.nodes)


if __name__ == "__main__":
    sys.exit(main())
