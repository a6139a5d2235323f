#!/usr/bin/env python3
"""First-reply probe for bench/tunnel: ICMP echo requests to ADDR every INTERVAL_MS until
the first reply (or TIMEOUT_S). Prints "MS SEQ": the time from the first request sent to
the first reply received, in milliseconds, and the sequence number (1-based) of the
request that was answered first (1: the first packet was held during the handshake and
delivered, >1: earlier ones were lost). Interpreter start-up is not counted. Needs root
(raw socket); run inside the sending namespace."""
import os, select, socket, struct, sys, time

addr = sys.argv[1]
interval = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.005
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

ident = os.getpid() & 0xFFFF
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.setblocking(False)
payload = b"silosec-bench-first-reply".ljust(56, b".")
t0 = time.monotonic()
nxt, seq = t0, 0
while True:
    now = time.monotonic()
    if now - t0 > timeout:
        sys.exit(1)
    if now >= nxt:
        seq += 1
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload
        try:
            sock.sendto(pkt, (addr, 0))
        except OSError:
            pass  # e.g. no route yet: counts as lost
        nxt += interval
    r, _, _ = select.select([sock], [], [], max(0.0, nxt - time.monotonic()))
    while r:
        try:
            data = sock.recv(2048)
        except BlockingIOError:
            break
        t1 = time.monotonic()
        ihl = (data[0] & 0x0F) * 4
        typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if typ == 0 and rid == ident:
            print(f"{(t1 - t0) * 1000:.3f} {rseq}")
            sys.exit(0)
