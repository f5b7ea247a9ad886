"""hostile.py - unauthenticated TCP peers for a parent's link listener.

Shared by test_hostile.py and tests/soak/fd_flood.py. Each kind opens one TCP
connection to the listener, does its thing and closes at once (the close
resets the connection: the listener's SP header is never read):

  pipelined       SP handshake (req0) + 5 request frames (issue 8 finding 4)
  connect-close   nothing at all
  handshake-only  the 8-byte SP handshake only
  garbage         an HTTP request instead of an SP handshake
  oversized       SP handshake + a length prefix of 2^40 bytes

slow_senders opens connections that send the handshake and half a frame
header, then hold: they cost a descriptor for as long as they stay open.
"""
import os
import socket
import struct
import threading
import time

# the SP-over-TCP handshake: \0 S P \0, protocol id (req0 = 0x30), 2 zero bytes
HANDSHAKE = b"\x00SP\x00" + struct.pack(">H", 0x30) + b"\x00\x00"


def frame(payload):
    """frame - one SP-over-TCP frame: u64 big-endian length, payload"""
    return struct.pack(">Q", len(payload)) + payload


def request(i):
    """request - a req0 message: request id (high bit set) and junk"""
    return frame(struct.pack(">I", 0x80000000 | i) + b"not a sealed frame")


KINDS = {
    "pipelined": HANDSHAKE + b"".join(request(i) for i in range(5)),
    "connect-close": b"",
    "handshake-only": HANDSHAKE,
    "garbage": b"GET / HTTP/1.1\r\nHost: relay\r\n\r\n",
    "oversized": HANDSHAKE + struct.pack(">Q", 1 << 40),
}


def fd_count(pid):
    """fd_count - open descriptors of process pid"""
    return len(os.listdir("/proc/%d/fd" % pid))


def peak_rss_kib(pid):
    """peak_rss_kib - VmHWM of process pid"""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _one(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        if data:
            s.sendall(data)
    finally:
        s.close()


def flood(port, kind, count, threads=4, deadline=60.0):
    """flood - count connections of kind to 127.0.0.1:port from `threads`
    threads; returns the seconds it took. A connection that fails (backlog
    full) is tried again, so that exactly count are made; RuntimeError when
    that takes longer than deadline seconds (the listener stopped
    accepting)."""
    data = KINDS[kind]
    per = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    errors = []
    t0 = time.monotonic()

    def run(n):
        done = 0
        while done < n and time.monotonic() - t0 < deadline:
            try:
                _one(port, data)
                done += 1
            except OSError as e:  # ECONNREFUSED/ECONNRESET/timeout: again
                errors.append(e)
                time.sleep(0.001)
        if done < n:
            errors.append(RuntimeError("gave up"))

    ts = [threading.Thread(target=run, args=(n,)) for n in per]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors and isinstance(errors[-1], RuntimeError):
        raise RuntimeError("flood %s: not done after %.0f s (%d failed connections, "
                           "last %r)" % (kind, deadline, len(errors), errors[-2:]))
    return time.monotonic() - t0


def slow_senders(port, count):
    """slow_senders - count open connections that sent the handshake and 4
    of a frame header's 8 bytes; the caller closes them"""
    out = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(HANDSHAKE + b"\x00\x00\x00\x00")
        out.append(s)
    return out


def wait_fds(pid, limit, timeout):
    """wait_fds - until pid has at most limit descriptors or timeout s pass;
    the last count"""
    end = time.monotonic() + timeout
    while True:
        n = fd_count(pid)
        if n <= limit or time.monotonic() > end:
            return n
        time.sleep(0.05)
