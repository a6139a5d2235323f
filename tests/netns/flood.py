#!/usr/bin/env python3
"""Flood a responder with handshake initiations that pass mac1 (its key derives from the
responder's public identity, so anyone can compute it) but carry junk signatures. A
bounded number of packets for a bounded time, to one address inside a test namespace.
Usage: flood.py DST_ADDR DST_PORT RESPONDER_IDENTITY_B64 SECONDS MAX_PACKETS [SRC_ADDR...]
(with several source addresses, packets are spread over them round-robin)"""
import base64, hashlib, hmac, os, socket, struct, sys, time

dst, port, ident, secs = sys.argv[1], int(sys.argv[2]), base64.b64decode(sys.argv[3]), float(sys.argv[4])
limit = int(sys.argv[5])
srcs = sys.argv[6:] or [None]
key = hashlib.sha256(b"SiloSec v2 mac1" + ident).digest()
socks = []
for src in srcs:
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
    if src:
        s.bind((src, 0))
    s.setblocking(False)
    socks.append(s)
sent = 0
end = time.time() + secs
while time.time() < end and sent < limit:
    body = bytes([1, 2, 0, 0]) + os.urandom(4 + 32 + 32) + struct.pack("!Q", time.time_ns()) + os.urandom(64)
    pkt = body + hmac.new(key, body, hashlib.sha256).digest()[:16] + bytes(16)
    try:
        socks[sent % len(socks)].sendto(pkt, (dst, port))
        sent += 1
    except BlockingIOError:
        time.sleep(0.001)
print(f"sent {sent} initiations in {secs:g} s from {len(socks)} source(s)")
