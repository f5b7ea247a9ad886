#!/usr/bin/python3
"""make_corpus.py - write the seed corpora of the fuzz targets.

    /usr/bin/python3 tests/fuzz/make_corpus.py [OUT]    (OUT: tests/fuzz/corpus)

Writes small valid and near-valid inputs for each target into
OUT/<target>/, replacing what is there, plus the dictionaries in
tests/fuzz/dict/. Protobuf seeds are built with tests/integration/pb.py
(independent of the C code under test); envelopes are signed with
python3-nacl using the fixed key seed of fuzz_util.h, so that fuzz_envelope
sees signatures that verify. The output is deterministic: run it again
after changing proto/relay.proto or a form, and commit the result.
"""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import pb  # noqa: E402

try:
    import nacl.signing
except ImportError:
    sys.exit("make_corpus: python3-nacl is needed (tools/setup.sh installs it)")

KEY_SEED = b"relay fuzz corpus key - not real"  # FUZZ_KEY_SEED in fuzz_util.h
assert len(KEY_SEED) == 32
SIGNER = nacl.signing.SigningKey(KEY_SEED)
NOW = 1795219200000000  # FUZZ_NOW_US, 2026-11-21T00:00:00Z
HOUR = 3600 * 1000000
PK_HEX = SIGNER.verify_key.encode().hex()
M = pb.message


def i64(v):
    """i64 - a signed 64-bit value as protobuf encodes it (two's complement)"""
    return v & (2**64 - 1)


def mid(n):
    """mid - a 16-byte message id: 8 bytes of time, 8 of n"""
    return (NOW + n).to_bytes(8, "big") + n.to_bytes(8, "big")


INCIDENT = mid(1)

# ------------------------------------------------------------- body kinds
HARM = [M((1, 2), (2, 2), (3, 1)), M((1, 1), (2, 3), (3, 2))]
DAMAGE = M((1, "site down"), (2, "none"), (3, "2h"), (4, "web pages"),
           (5, "4 hours"), (6, "backup site up"))
REPORT = M((1, NOW - HOUR), (2, NOW), (3, 2), (4, 5), (5, HARM),
           (6, "Home page replaced; 公告 page too."), (7, "public web site"),
           (8, DAMAGE), (9, "forensics"), (10, "took the site offline"),
           (11, ["ag-taipei-b", "ag-taipei-c"]), (12, 6), (13, True),
           (14, "Web defacement"))
DRILL_REPORT = M((1, NOW - HOUR), (2, NOW), (3, 1), (4, 2), (5, HARM[:1]),
                 (6, "drill"), (14, "drill scenario 3"), (15, mid(9)))
UPDATE = M((1, INCIDENT), (2, True), (3, True), (4, False), (5, "team formed"),
           (6, True))
LEVEL_REQUEST = M((1, INCIDENT), (2, 3), (3, "secrets involved"))
REVIEW = M((1, INCIDENT), (2, 2), (3, 3), (4, "official secrets leaked"),
           (5, True), (6, "audit in a month"))
CLOSURE = M((1, INCIDENT), (2, NOW - 2 * HOUR), (3, ["203.0.113.7"]),
            (4, ["10.0.0.1", "2001:db8::1"]), (5, "unknown"), (6, "sqli"),
            (7, "pages only"), (8, "patched"), (9, "unpatched CMS"),
            (10, "patch"), (11, "WAF"), (12, "rewrite"))
WITHDRAWAL = M((1, INCIDENT), (2, "filed twice"))
AUDIENCE = M((1, "taipei"), (2, [1, 2]), (3, 3))
AUDIENCE_PACKED = M((1, "ncert"), (2, pb.varint(1) + pb.varint(2) + pb.varint(3)))
ADVISORY = M((1, 2), (2, 4), (3, "CVE-2026-0001"), (4, "patch now"), (5, AUDIENCE))
ADVISORY_PACKED = M((1, 7), (2, 1), (3, "t"), (4, "x"), (5, AUDIENCE_PACKED))
NOTICES = [
    M((1, 1), (2, INCIDENT), (3, "horizontal notice"), (6, "R-HORIZ")),
    M((1, 3), (2, INCIDENT), (3, "escalation"), (6, "R-ESC-CISO"),
      (7, "ciso"), (8, 3)),
    M((1, 4), (2, INCIDENT), (3, "overdue"), (4, "report"), (5, NOW + HOUR),
      (6, "R-REPORT"), (8, 2)),
    M((1, 6), (3, "drill scenario"), (6, "R-DRILL"), (8, 4), (9, mid(9)),
      (10, 3)),
    M((1, 7), (2, INCIDENT), (3, "notify the data subjects"), (6, "R-PDPA"),
      (7, "pdpa"), (8, 3)),
]
ACK = M((1, [mid(1), mid(2), mid(3)]))

KINDS = [("report", 10, REPORT), ("drill-report", 10, DRILL_REPORT),
         ("update", 11, UPDATE), ("level-request", 12, LEVEL_REQUEST),
         ("review", 13, REVIEW), ("closure", 14, CLOSURE),
         ("withdrawal", 15, WITHDRAWAL), ("advisory", 16, ADVISORY),
         ("advisory-packed", 16, ADVISORY_PACKED)]
KINDS += [("notice-%d" % i, 17, n) for i, n in enumerate(NOTICES)]
KINDS += [("ack", 18, ACK)]


def body(num, kind, n=1, author="ag-taipei-a", drill=False, extra=()):
    """body - a Body with one kind"""
    fields = [(1, mid(n)), (2, author), (3, NOW), (4, ["taipei", "ncert"])]
    if drill:
        fields.append((5, True))
    return M(*fields, (num, kind), *extra)


def envelope(b, hops=(), sig=None):
    """envelope - body bytes, their signature, hops"""
    if sig is None:
        sig = SIGNER.sign(b).signature
    return M((1, b), (2, sig), (3, [M((1, h), (2, NOW + i)) for i, h in enumerate(hops)]))


def envelopes():
    """envelopes - valid envelopes of every kind, then near-valid ones"""
    out = {}
    for i, (name, num, kind) in enumerate(KINDS):
        out["ok-" + name] = envelope(body(num, kind, n=i + 1,
                                          drill=name.startswith("drill")),
                                     hops=["ag-taipei-a", "taipei"][:i % 3])
    rep = body(10, REPORT)
    good = envelope(rep, ["ag-taipei-a"])
    sig = SIGNER.sign(rep).signature
    out.update({
        "bad-sig": envelope(rep, sig=bytes([sig[0] ^ 1]) + sig[1:]),
        "short-sig": envelope(rep, sig=sig[:63]),
        "truncated": good[:-5],
        "empty-body": envelope(b""),
        "no-kind": envelope(M((1, mid(1)), (2, "a"), (3, NOW))),
        "no-author": envelope(M((1, mid(1)), (3, NOW), (18, ACK))),
        "no-time": envelope(M((1, mid(1)), (2, "a"), (18, ACK))),
        "negative-time": envelope(M((1, mid(1)), (2, "a"), (3, i64(-1)), (18, ACK))),
        "short-id": envelope(M((1, mid(1)[:15]), (2, "a"), (3, NOW), (18, ACK))),
        "two-kinds": envelope(M((1, mid(1)), (2, "a"), (3, NOW), (18, ACK),
                                (15, WITHDRAWAL))),
        "unknown-fields": envelope(body(11, UPDATE, extra=[(99, "x"), (100, 7)])),
        "empty-kind": envelope(body(13, b"")),
        "odd-values": envelope(body(10, M((1, i64(-5)), (2, i64(2**63)), (3, 99),
                                          (4, 4000), (5, [M((1, 77), (2, 88), (3, 99))]),
                                          (6, b"\xff\xfe not utf-8"), (12, 1000))))
        ,
        "many-hops": envelope(rep, ["n%d" % i for i in range(20)]),
    })
    return out


# ------------------------------------------------------------ link, store
def links(envs):
    """links - first byte chooses the message (fuzz_link.c)"""
    e1, e2 = envs["ok-report"], envs["ok-update"]
    dues = [M((1, w), (2, NOW + w * HOUR), (3, NOW if w % 2 else 0), (4, w == 3),
              (5, True)) for w in range(8)]
    events = [M((1, NOW), (2, "ag-taipei-a"), (3, "reported"), (4, mid(1)),
                (5, "level 2")),
              M((1, NOW + 1), (2, "taipei"), (3, "reviewed"), (5, "confirm 2"))]
    record = M((1, INCIDENT), (2, "ag-taipei-a"), (3, 2), (4, 2), (5, 3), (6, 0),
               (7, False), (8, True), (9, False), (10, False), (11, events),
               (12, True), (13, NOW - HOUR), (14, NOW), (15, 2), (16, "taipei"),
               (17, "taipei"), (18, ["ag-taipei-b"]), (19, 3), (20, True),
               (21, True), (22, NOW + HOUR), (23, False), (24, dues), (25, 1),
               (26, True), (28, ["ag-taipei-b"]), (29, False))
    scen = [M((1, i), (2, "ag-%d" % i), (3, 1 + i % 4), (4, mid(20 + i)),
              (5, NOW), (6, NOW + 1), (7, mid(40 + i)), (8, NOW + 2),
              (9, NOW + 3), (10, NOW + 4), (11, i % 4 >= 2)) for i in range(3)]
    entry = M((1, "ag-taipei-c"), (2, 1), (3, "taipei"), (4, "taipei"), (5, 7),
              (7, "desk +886-2-0000-0009"), (8, SIGNER.verify_key.encode()),
              (9, NOW), (10, NOW + 365 * 24 * HOUR))
    dir_change = M((1, 1), (2, NOW), (3, entry))
    return {
        "request-push": b"\x00" + M((1, 1), (2, "ag-taipei-a"), (3, [e1, e2]),
                                    (4, [mid(5)]), (5, False)),
        "request-poll": b"\x00" + M((1, 1), (2, "taipei"), (4, [mid(5), mid(6)]),
                                    (5, True)),
        "request-bad-envelope": b"\x00" + M((1, 1), (2, "x"), (3, [e1[:10], b""])),
        "reply": b"\x01" + M((1, [mid(1), mid(2)]),
                             (2, [M((1, 1), (2, mid(2)), (3, "signature does not verify"))]),
                             (3, [e2]), (5, False)),
        "reply-error": b"\x01" + M((4, "unknown node"), (5, True)),
        "record": b"\x02" + record,
        "record-minimal": b"\x02" + M((1, INCIDENT), (2, "a"), (3, 99)),
        "audit": b"\x03" + M((1, 7), (2, NOW), (3, "received"), (4, mid(1)),
                             (5, "taipei"), (6, "stored"), (7, bytes(32))),
        "drill": b"\x04" + M((1, mid(9)), (2, "taipei"), (3, NOW), (4, HOUR),
                             (5, scen)),
        # the sealed link frame and the directory change (issue "Trust")
        "sealed-request": b"\x05" + M((1, "ag-taipei-a"), (2, bytes(range(32))),
                                      (3, bytes(24)), (4, bytes(range(48)))),
        "sealed-refusal": b"\x05" + M((3, bytes(24)), (5, "frame did not open")),
        # relay-link-v2 (issue 9): handshake, its answer, a data frame, a reply
        "sealed-handshake": b"\x05" + M((1, "ag-taipei-a"), (2, bytes(range(32))),
                                        (4, bytes(range(24)))),
        "sealed-answer": b"\x05" + M((2, bytes(range(32))), (4, bytes(16)), (6, bytes(12))),
        "sealed-data": b"\x05" + M((1, "ag-taipei-a"), (4, bytes(range(48))),
                                   (6, bytes(12)), (7, 3)),
        "sealed-reply": b"\x05" + M((4, bytes(range(40)))),
        "dir-enrol": b"\x06" + dir_change,
        "dir-revoke": b"\x06" + M((1, 2), (2, NOW), (5, "ag-taipei-a")),
        "dir-signed": b"\x07" + M((1, dir_change), (2, SIGNER.sign(dir_change).signature)),
    }


# --------------------------------------------------------- config, directory
DIRECTORY = """[ncert]
tier = national
contact = N-CERT duty desk +886-2-0000-0001
sector = none
key = {k}

[homeland]
tier = office
parent = ncert
role = homeland
key = {k}

[ci-energy]
tier = office
parent = ncert
role = ci-group
sector = energy
key = {k}

[taipei]
tier = city
parent = ncert
contact = Taipei DoIT security window +886-2-0000-0003
key = {k}

[moe]
tier = ministry
parent = ncert
key = {k}

[tp-school]
tier = agency
parent = moe
city = taipei
sector = none
key = {k}

[ag-taipei-a]
tier = agency   ; the reporting target is the city
parent = taipei
city = taipei
sector = health
key = {k}
""".format(k=PK_HEX)

CONFIG_AGENCY = """[node]
id           = ag-taipei-a
tier         = agency
control      = ipc:///run/relay/ag-taipei-a.ctl
upstream     = tcp://city.example:7400     ; every tier but national
upstream_key = {k}
store        = /var/lib/relay/ag-taipei-a
key          = /etc/relay/ag-taipei-a.key
directory    = /etc/relay/directory.ini
""".format(k=PK_HEX)

CONFIG_FULL = """; every optional key
[node]
id = taipei
tier = city
control = ipc:///run/relay/taipei.ctl
listen = tcp://0.0.0.0:7400
upstream = tcp://ncert.example:7400
upstream_key = {k}
store = /var/lib/relay/taipei
key = /etc/relay/taipei.key
directory = /etc/relay/directory.ini
policy = /etc/relay/default.policy
clock = manual:2026-11-21T00:00:00Z
map_mb = 64
map_max_mb = 4096
max_message_bytes = 65536
batch_max = 256
retry_min_ms = 100
retry_max_ms = 30000
link_timeout_ms = 10000
poll_hold_ms = 1000
link_workers = 32
debug = 1
""".format(k=PK_HEX)

CONFIG_NATIONAL = """[node]
id = ncert
tier = national
control = ipc:///tmp/ncert.ctl
listen = tcp://127.0.0.1:7400
store = /tmp/ncert.db
key = /tmp/ncert.key
directory = /tmp/directory.ini
clock = system
"""


def configs():
    """configs - config and directory files, valid and near-valid"""
    return {
        "config-agency": CONFIG_AGENCY,
        "config-full": CONFIG_FULL,
        "config-national": CONFIG_NATIONAL,
        "config-crlf": CONFIG_NATIONAL.replace("\n", "\r\n"),
        "config-errors": "[node]\nid = x\ntier = mayor\nmap_mb = 0x10\nmap_max_mb = 1\n"
                         "upstream_key = abc\nclock = manual:yesterday\nid = y\n"
                         "[other]\nfoo = bar\nno equals sign\n",
        "config-long-line": "[node]\nid = " + "a" * 300 + "\ntier = agency\n",
        "directory": DIRECTORY,
        "directory-errors": "[a]\ntier = agency\nparent = b\nkey = 00\n[b]\ntier = agency\n"
                            "parent = a\nkey = {k}\nrole = nsc\nsector = water\n"
                            "[c]\ntier = national\nkey = {k}\n[d]\ntier = national\n"
                            "key = {k}\ncolour = red\n".format(k=PK_HEX),
        "directory-loop": "[n]\ntier = national\nkey = {k}\n[a]\ntier = city\nparent = b\n"
                          "key = {k}\n[b]\ntier = city\nparent = a\nkey = {k}\n".format(k=PK_HEX),
    }


# ------------------------------------------------------------------ policy
def strip_comments(text):
    """strip_comments - a policy file without its comments and blank lines"""
    out = []
    for line in text.splitlines():
        line = line.split("#")[0].split(";")[0].strip()
        if line:
            out.append(line)
    return "\n".join(out) + "\n"


def policies():
    """policies - the shipped files, compact forms of them, near-valid ones"""
    d = open(os.path.join(ROOT, "policy", "default.policy"), encoding="utf-8").read()
    r = open(os.path.join(ROOT, "policy", "regime-2002.policy"), encoding="utf-8").read()
    dc, rc = strip_comments(d), strip_comments(r)
    return {
        "default": d,
        "regime-2002": r,
        "default-compact": dc,
        "regime-2002-compact": rc,
        "default-crlf-bom": "\ufeff" + dc.replace("\n", "\r\n"),
        "default-no-offline": dc.split("[offline]")[0],
        "default-spans": dc.replace("1mo 1mo 1mo 1mo", "99999mo - 0d 12mo")
                           .replace("3d 3d 3d 3d", "0d 1d 99999h 59m")
                           .replace("+08:00", "-12:30"),
        "bad-line": dc.replace("[drill]", "[drill\nfraction = 3/0"),
        "bad-levels": dc.replace("levels = 1 2 3 4", "levels = A B C D E"),
    }


# ----------------------------------------------------------------- control
INC_HEX = INCIDENT.hex()
FORMS = {
    "report": {"title": "Web defacement", "aware_at": "2026-11-20T09:00:00+08:00",
               "reported_at": "2026-11-20T09:40:00.123456+08:00", "level": 2,
               "category": "external_intrusion",
               "harms": [{"kind": "tamper", "class": "core", "severity": "minor"},
                         {"kind": "leak", "class": "official_secret",
                          "severity": "severe"}],
               "facts": "Home page replaced; 公告 page too.", "scope": "public web site",
               "damage": {"operational_impact": "site down", "delay": "2h",
                          "estimated_recovery": "4 hours"},
               "support_requested": "forensics", "measures_taken": "offline",
               "affected_agencies": ["ag-taipei-b"], "ci_sector": "energy",
               "personal_data": True, "drill": False},
    "update": {"incident": INC_HEX, "team_formed": True, "damage_controlled": True,
               "recovered": False, "subjects_notified": True, "text": "ok"},
    "request-level": {"incident": INC_HEX, "level": 3, "reason": "secrets involved"},
    "review": {"incident": INC_HEX, "verdict": "change", "level": 3, "basis": "b",
               "closure": True, "follow_up": "audit"},
    "close": {"incident": INC_HEX, "event_at": "2026-11-19T23:00:00Z",
              "source_ips": ["203.0.113.7"], "target_ips": ["10.0.0.1", "2001:db8::1"],
              "attacker_location": "unknown", "attack_method": "sqli",
              "impact_analysis": "pages", "remediation": "patched",
              "root_cause": "unpatched CMS", "improve_short": "patch",
              "improve_mid": "WAF", "improve_long": "rewrite"},
    "withdraw": {"incident": INC_HEX, "reason": "filed twice"},
    "advisory": {"kind": "vulnerability", "severity": 4, "title": "CVE", "text": "patch now",
                 "audience": {"scope": "taipei", "tiers": ["agency", "city"],
                              "sector": "energy"}},
}


def controls():
    """controls - submit requests, bare forms, other verbs, refusals"""
    import json
    out = {}
    for verb, form in FORMS.items():
        out["submit-" + verb] = json.dumps({"verb": "submit", "kind": verb, "args": form},
                                           ensure_ascii=False)
        out["form-" + verb] = json.dumps(form, ensure_ascii=False, separators=(",", ":"))
    drill = dict(FORMS["report"], drill=True, drill_of=mid(9).hex(), level=1)
    out["submit-drill-report"] = json.dumps({"verb": "submit", "kind": "report", "args": drill})
    minimal = {"title": "t", "aware_at": "2026-11-20T09:00:00Z", "level": 1,
               "category": "internal_mistake", "facts": "f",
               "harms": [{"kind": "outage", "class": "non_core", "severity": "minor"}]}
    out["form-report-minimal"] = json.dumps(minimal)
    out["submit-support"] = json.dumps({"verb": "submit", "kind": "support",
                                        "args": {"incident": INC_HEX, "text": "team sent"}})
    for name, req in [("list", {"verb": "list", "what": "incidents", "filter": "overdue"}),
                      ("show", {"verb": "show", "id": INC_HEX}),
                      ("wait", {"verb": "wait", "outbox_empty": True, "timeout_ms": 100}),
                      ("clock", {"verb": "clock", "advance_s": 3600})]:
        out["verb-" + name] = json.dumps(req)
    out["bad-report"] = json.dumps({"verb": "submit", "kind": "report", "args": dict(
        minimal, level=5, harms=[{"kind": "fire", "class": "core", "severity": "SEVERE"}],
        aware_at="2026-11-20T09:00:00", foo=1)})
    out["bad-update"] = json.dumps({"verb": "submit", "kind": "update",
                                    "args": {"incident": "00112233", "recovered": False}})
    out["bad-types"] = '{"verb":"submit","kind":"advisory","args":{"kind":7,"severity":"4",' \
                       '"title":null,"text":[],"audience":{"tiers":["county"]}}}'
    out["not-object"] = '[1, 2, {"args": "x"}]'
    return out


# -------------------------------------------------------------- dictionaries
DICTS = {
    "config": ["[node]", "id", "tier", "listen", "control", "upstream", "upstream_key",
               "store", "key", "directory", "policy", "clock", "system", "manual:",
               "map_mb", "map_max_mb", "max_message_bytes", "batch_max", "retry_min_ms",
               "retry_max_ms", "link_timeout_ms", "poll_hold_ms", "link_workers",
               "debug", "agency", "city", "ministry", "national",
               "office", "parent", "sector", "role", "contact", "homeland", "nsc",
               "ci-group", "energy", "health", " = ", "2026-11-21T00:00:00Z", PK_HEX],
    "policy": ["[regime]", "[levels]", "[deadlines]", "[escalation]", "[priority]",
               "[drill]", "[offline]", "name", "timezone", "levels", "non_core", "core",
               "official_secret", "sensitive", "ci_core", "state_secret", ".leak",
               ".tamper", ".outage", "report", "horiz", "review", "team", "control",
               "support", "close", "copy", "from aware", "from report", "from review",
               "ciso_level", "offices_level", "ci_to_homeland", "pdpa_level",
               "closure_review_level", "sectors", "fraction", "scenarios", "window",
               "warn_before", "yes", "no", "defense", "ict", "energy", "transport",
               "finance", "disaster_relief", "health", "public_safety", "government",
               "mo", "99999", "+08:00", " = ", "\r\n"],
    "control": ['"verb"', '"submit"', '"kind"', '"args"', '"title"', '"aware_at"',
                '"reported_at"', '"level"', '"category"', '"harms"', '"class"',
                '"severity"', '"facts"', '"scope"', '"damage"', '"support_requested"',
                '"measures_taken"', '"affected_agencies"', '"ci_sector"',
                '"personal_data"', '"drill"', '"drill_of"', '"incident"',
                '"team_formed"', '"damage_controlled"', '"recovered"',
                '"subjects_notified"', '"text"', '"reason"', '"verdict"', '"basis"',
                '"closure"', '"follow_up"', '"event_at"', '"source_ips"', '"target_ips"',
                '"root_cause"', '"audience"', '"tiers"', '"sector"', '"confirm"',
                '"change"', '"leak"', '"tamper"', '"outage"', '"minor"', '"severe"',
                '"core"', '"non_core"', '"state_secret"', '"external_intrusion"',
                '"vulnerability"', '"agency"', '"operational_impact"',
                '"estimated_recovery"', '"2026-11-20T09:00:00+08:00"', '"' + INC_HEX + '"',
                "true", "false", "null", "\\u0000", "\\ud800"],
}


def write_dir(path, files):
    """write_dir - replace path with one file per entry"""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name, data in sorted(files.items()):
        if isinstance(data, str):
            data = data.encode("utf-8")
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


def dict_line(s):
    """dict_line - one libFuzzer dictionary entry"""
    esc = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else
                  "".join("\\x%02x" % b for b in c.encode()) for c in s)
    return '"%s"\n' % esc


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    envs = envelopes()
    write_dir(os.path.join(out, "envelope"), envs)
    write_dir(os.path.join(out, "link"), links(envs))
    write_dir(os.path.join(out, "config"), configs())
    write_dir(os.path.join(out, "policy"), policies())
    write_dir(os.path.join(out, "control"), controls())
    dicts = os.path.join(HERE, "dict")
    os.makedirs(dicts, exist_ok=True)
    for name, words in DICTS.items():
        with open(os.path.join(dicts, name + ".dict"), "w") as f:
            f.write("# %s.dict - written by make_corpus.py\n" % name)
            f.writelines(dict_line(w) for w in words)


if __name__ == "__main__":
    main()
