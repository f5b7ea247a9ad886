#!/usr/bin/python3
"""demo.py - the demo federation, start to stop.

Lays out the topology of topology.ini under a temporary folder, starts every
node on loopback, files a sample incident at a Taipei agency, has the city
review it, follows it to the national center, publishes a national advisory
that reaches every agency, prints the journey with times, then shows the
policy at work: a what-if (relayctl advise), the copy to the city, a
horizontal notice and the national escalations. Then it stops every node. Pass --keep to leave the folder (and its logs) behind.

With --console, every node also serves the web console on 127.0.0.1 (a free
port each); the demo prints each node's address with a one-time admin
password, made for this run only, and keeps the federation running until
Ctrl-C.
"""
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from federation import Federation, free_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

REPORT = {
    "title": "Defacement of the appointment web site",
    "aware_at": None,
    "level": 2,
    "category": "external_intrusion",
    "harms": [{"kind": "tamper", "class": "core", "severity": "minor"}],
    "facts": "The public appointment page shows a foreign banner since 09:40.",
    "scope": "Appointment site only; the patient database is on another host.",
    "measures_taken": "Site taken offline, static maintenance page served.",
    "support_requested": "None yet.",
    "damage": {"operational_impact": "Online appointments unavailable",
               "estimated_recovery": "4 hours"},
}

ADVISORY = {
    "kind": "vulnerability",
    "severity": 3,
    "title": "Actively exploited CMS plug-in flaw",
    "text": "Patch the gallery plug-in to 4.2.1 or disable it; indicators attached.",
    "audience": {"scope": "ncert", "tiers": ["agency"]},
}


def say(text):
    print("\n== " + text, flush=True)


SETTINGS = {"retry_min_ms": 50, "retry_max_ms": 2000}


def open_console(fed):
    """open_console - an HTTP listener on 127.0.0.1 for every node (written
    into its config before the first start)"""
    for nid in fed.nodes:
        fed.nodes[nid]["http_port"] = free_port()
        fed.write_config(nid, dict(SETTINGS, http_listen="127.0.0.1:%d" % fed.nodes[nid]["http_port"]))
    fed.save()


def console_accounts(fed):
    """console_accounts - an admin account with a fresh random password on
    every node (made over its Unix socket, as an operator would with
    relayctl operator add); returns {nid: password}"""
    out = {}
    for nid in fed.nodes:
        pw = secrets.token_urlsafe(12)
        st, rep = fed.api(nid, "POST", "/api/v1/operators",
                          {"name": "admin", "role": "admin", "password": pw})
        if st != 200:
            raise RuntimeError("%s: cannot make the admin account: %s" % (nid, rep))
        out[nid] = pw
    return out


def serve_console(fed):
    """serve_console - print every node's console address and password,
    then wait for Ctrl-C (or SIGTERM)"""
    pws = console_accounts(fed)
    say("the console of every node (sign in as admin with the password shown; "
        "it is valid for this run only)")
    for nid, n in fed.nodes.items():
        print("  %-13s %-8s http://127.0.0.1:%d/   admin / %s" % (
            nid, n["tier"], n["http_port"], pws[nid]))
    print("\n  the federation keeps running: press Ctrl-C to stop it", flush=True)
    def stop(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def main():
    keep = "--keep" in sys.argv
    console = "--console" in sys.argv
    data = tempfile.mkdtemp(prefix="relay-demo.")
    fed = Federation(data)
    try:
        say("laying out %d nodes under %s" % (len(open(os.path.join(HERE, "topology.ini")).read().split("[")) - 1, data))
        fed.init(os.path.join(HERE, "topology.ini"), SETTINGS)
        if console:
            open_console(fed)
        fed.start()
        fed.wait_links()
        for nid, n in fed.nodes.items():
            print("  %-13s %-8s reports to %-6s %s" % (nid, n["tier"], n["parent"] or "-",
                  "(belongs to %s)" % n["city"] if n["city"] and n["city"] != n["parent"] else ""))

        say("tp-health files an incident (relayctl report)")
        form = dict(REPORT, aware_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600)))
        r = fed.ctl("tp-health", "report", "-", "--wait-receipt", "10", stdin=json.dumps(form))
        iid = r["incident"]
        print("  incident %s acknowledged by tp-health's store, addressed to %s" % (iid, ", ".join(r["to"])))
        print("  received by %s at %s (relayctl waits for the reporting target's receipt)" % (
            r["received"]["by"], r["received"]["at"]))

        say("taipei (its reporting target) reviews it")
        fed.ctl("taipei", "wait", iid)
        rv = fed.ctl("taipei", "review", iid, "--level", "2", "--confirm",
                     "--basis", "Core business site tampered, restored within tolerable downtime")
        fed.ctl("ncert", "wait", rv["id"])
        fed.ctl("tp-health", "wait", rv["id"])
        print("  review %s reached tp-health and ncert" % rv["id"])

        say("the incident as the national center holds it (relayctl show)")
        inc = fed.ctl("ncert", "show", iid)["incident"]
        print("  state %s, level %s (claimed %s, reviewed %s), from %s" % (
            inc["state"], inc["level"], inc["claimed_level"], inc["reviewed_level"], inc["author"]))
        print("  journey of the report:")
        for h in inc["hops"]:
            print("    %s  %-8s at %s" % (h["at"], h["what"], h["node"]))

        say("ncert publishes a national advisory to every agency")
        adv = fed.ctl("ncert", "advisory", "-", stdin=json.dumps(ADVISORY))
        agencies = [n for n, v in fed.nodes.items() if v["tier"] == "agency"]
        for a in agencies:
            fed.ctl(a, "wait", adv["id"])
            m = fed.ctl(a, "show", adv["id"])["message"]
            path = " -> ".join("%s %s" % (h["node"], h["at"][11:23]) for h in m["hops"])
            print("  %-13s has it: %s" % (a, path))
        for n in fed.nodes:
            if n not in agencies and n != "ncert":
                got = fed.ctl_raw(n, "show", adv["id"]).returncode == 0
                print("  %-13s %s" % (n, "relayed it" if got else "not in its audience"))

        say("what tp-health saw of its incident (relayctl show on the agency)")
        inc = fed.ctl("tp-health", "show", iid)["incident"]
        for e in sorted(inc["history"], key=lambda e: e["at"]):
            print("    %s  %-10s %-10s %s" % (e["at"], e["what"], e["node"], e.get("detail", "")))

        say("tp-school (a Taipei school reporting to MOE) asks the policy first (relayctl advise)")
        school = dict(REPORT, title="Phishing mailbox takeover, student records exposed",
                      aware_at=form["aware_at"], level=1,
                      harms=[{"kind": "leak", "class": "core", "severity": "severe"}],
                      affected_agencies=["tp-health"], personal_data=True)
        adv_out = fed.ctl_raw("tp-school", "advise", "-", "--node", "tp-school", "--directory",
                              os.path.join(data, "directory.ini"), stdin=json.dumps(school))
        print("    " + adv_out.stdout.strip().replace("\n", "\n    "))
        school["level"] = 3  # the agency follows the advice
        r = fed.ctl("tp-school", "report", "-", stdin=json.dumps(school))
        sid = r["incident"]
        print("  filed to %s: moe is central, so taipei gets a copy (R-COPY3)" % ", ".join(r["to"]))
        fed.ctl("taipei", "wait", sid)
        for n in fed.nodes:
            fed.ctl(n, "wait", "--outbox-empty")
        print("  tp-health received the horizontal notice (R-HORIZ): %s" % fed.ctl(
            "tp-health", "show", sid)["incident"]["history"][0]["detail"])
        nat = fed.ctl("ncert", "show", sid)["incident"]
        print("  ncert escalated (R-ESC-*, R-PDPA): %s" % ", ".join(nat["escalated"]))
        for office in ("homeland", "nsc"):
            h = fed.ctl(office, "show", sid)["incident"]["history"]
            print("    %-9s got: %s" % (office, h[0]["detail"]))
        print("  due times as tp-school tracks them (relayctl show):")
        for d in fed.ctl("tp-school", "show", sid)["incident"]["dues"]:
            print("    %-8s %-9s due %s  %s" % (d["deadline"], d["rule"], d["due"], d["state"]))

        say("link status at taipei (relayctl status)")
        for l in fed.ctl("taipei", "status")["links"]:
            print("    %-4s %-13s %-12s outbox %d, last ack %s" % (
                l["direction"], l["peer"], "connected" if l["connected"] else "disconnected",
                l["outbox"], l["last_ack"]))
        if console:
            serve_console(fed)
    finally:
        say("stopping every node")
        fed.stop()
        if keep:
            print("  data and logs kept in " + data)
        else:
            shutil.rmtree(data)
    print("\ndemo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
