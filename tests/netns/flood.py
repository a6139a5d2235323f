#!/usr/bin/env python3
"""Flood a responder with handshake initiations that pass mac1 (its key derives from the
responder's public identity, so anyone can compute it) but carry junk signatures. A
bounded number of packets for a bounded time, to one address inside a test namespace.
Usage: flood.py [--junk] [--rate N] [--spoof ADDR:PORT] DST_ADDR DST_PORT
                RESPONDER_IDENTITY_B64 SECONDS MAX_PACKETS [SRC_ADDR...]
(with several source addresses, packets are spread over them round-robin)
--junk: one-byte datagrams (type INIT, nothing else) instead of initiations.
--rate: at most N packets a second (default: as fast as the socket takes them).
--spoof: an off-path spoofer: IPv4 packets with that forged source address and port,
sent through a raw socket (SRC_ADDRs are ignored)."""
import base64, hashlib, hmac, os, socket, struct, sys, time

args = sys.argv[1:]
junk, rate, spoof = False, 0.0, None
while args and args[0].startswith("--"):
    opt = args.pop(0)
    if opt == "--junk":
        junk = True
    elif opt == "--rate":
        rate = float(args.pop(0))
    elif opt == "--spoof":
        addr, sport = args.pop(0).rsplit(":", 1)
        spoof = (addr, int(sport))
    else:
        sys.exit(f"flood.py: unknown option {opt}")
dst, port, ident, secs = args[0], int(args[1]), base64.b64decode(args[2]), float(args[3])
limit = int(args[4])
srcs = args[5:] or [None]
key = hashlib.sha256(b"SiloSec v2 mac1" + ident).digest()

def spoofed(payload):
    udp = struct.pack("!HHHH", spoof[1], port, 8 + len(payload), 0) + payload
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                       socket.inet_aton(spoof[0]), socket.inet_aton(dst)) + udp

socks = []
if spoof:
    srcs = [None]
    socks.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW))
    socks[0].setblocking(False)
else:
    for src in srcs:
        s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
        if src:
            s.bind((src, 0))
        s.setblocking(False)
        socks.append(s)
sent = 0
start = time.time()
end = start + secs
while time.time() < end and sent < limit:
    if rate and sent >= (time.time() - start) * rate:
        time.sleep(0.001)
        continue
    if junk:
        pkt = bytes([1])
    else:
        body = bytes([1, 2, 0, 0]) + os.urandom(4 + 32 + 32) + struct.pack("!Q", time.time_ns()) + os.urandom(64)
        pkt = body + hmac.new(key, body, hashlib.sha256).digest()[:16] + bytes(16)
    try:
        if spoof:
            socks[0].sendto(spoofed(pkt), (dst, 0))
        else:
            socks[sent % len(socks)].sendto(pkt, (dst, port))
        sent += 1
    except BlockingIOError:
        time.sleep(0.001)
what = "one-byte datagrams" if junk else "initiations"
frm = f"spoofed as {spoof[0]}:{spoof[1]}" if spoof else f"from {len(socks)} source(s)"
print(f"sent {sent} {what} in {time.time() - start:.1f} s {frm}")
