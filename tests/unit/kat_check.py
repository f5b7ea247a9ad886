#!/usr/bin/python3
"""kat_check.py - check kat_envelope.txt without any of the relay's code.

PyNaCl (libsodium's Python binding, but not our C) derives the key from the
seed and signs the body bytes; a few lines of protobuf decoding here check
the body's fields and the envelope's framing. Usage: kat_check.py KAT_FILE.
Exit status 0 when everything matches, 1 with a message otherwise.
"""
import sys

import nacl.exceptions
import nacl.signing

# RFC 8032 section 7.1, TEST 1: the seed the KAT uses and its public key.
RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PK = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def read_kat(path):
    """name -> bytes for every 'name = hex' line."""
    kat = {}
    with open(path, encoding="ascii") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, value = line.partition(" = ")
            if not sep:
                raise SystemExit(f"{path}:{n}: expected 'name = hex'")
            kat[name] = bytes.fromhex(value)
    for name in ("seed", "pk", "body", "signature", "envelope"):
        if name not in kat:
            raise SystemExit(f"{path}: no '{name}' line")
    return kat


def varint(buf, i):
    """Decode a varint at buf[i]; return (value, next index)."""
    v, shift = 0, 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return v, i
        shift += 7


def fields(buf):
    """Top-level protobuf fields as a list of (number, value)."""
    out, i = [], 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
            if i > len(buf):
                raise ValueError("truncated length-delimited field")
        else:
            raise ValueError(f"unexpected wire type {wt}")
        out.append((num, v))
    return out


def encode_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def check(cond, what):
    if not cond:
        raise SystemExit(f"kat_check: FAIL: {what}")
    print(f"ok   {what}")


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: kat_check.py KAT_FILE")
    kat = read_kat(sys.argv[1])

    sk = nacl.signing.SigningKey(kat["seed"])
    check(kat["seed"].hex() == RFC8032_SEED, "seed is RFC 8032 TEST 1")
    check(bytes(sk.verify_key) == kat["pk"], "pk derives from the seed")
    check(kat["pk"].hex() == RFC8032_PK, "pk is RFC 8032 TEST 1's")

    sig = sk.sign(kat["body"]).signature
    check(sig == kat["signature"], "PyNaCl signs the body to the recorded signature")
    vk = nacl.signing.VerifyKey(kat["pk"])
    vk.verify(kat["body"], kat["signature"])
    print("ok   the recorded signature verifies")

    # The check must be able to fail: one flipped bit, anywhere, refuses.
    for what, body, s in (
        ("a flipped body bit", bytes([kat["body"][0] ^ 1]) + kat["body"][1:], sig),
        ("a flipped signature bit", kat["body"], sig[:-1] + bytes([sig[-1] ^ 0x80])),
    ):
        try:
            vk.verify(body, s)
        except nacl.exceptions.BadSignatureError:
            print(f"ok   {what} does not verify")
        else:
            raise SystemExit(f"kat_check: FAIL: {what} verifies")

    body = dict(fields(kat["body"]))
    check(body.get(1) == bytes.fromhex("00112233445566778899aabbccddeeff"), "body id")
    check(body.get(2) == b"ag-test", "body author")
    check(body.get(3) == 1700000000000000, "body created_us")
    check(body.get(4) == b"city-test", "body to")
    upd = dict(fields(body.get(11, b"")))
    check(upd.get(1) == bytes.fromhex("fedcba98765432100123456789abcdef"),
          "body is a StatusUpdate of the incident")

    env = (b"\x0a" + encode_varint(len(kat["body"])) + kat["body"]
           + b"\x12" + encode_varint(len(sig)) + sig)
    check(env == kat["envelope"], "envelope is {1: body, 2: signature}")
    print("kat_check: all ok")


if __name__ == "__main__":
    main()
