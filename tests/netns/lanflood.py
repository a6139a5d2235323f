#!/usr/bin/env python3
"""Flood a LAN with open-mode LAN announcements (PROTOCOL.md 16.9, type 10): each from a
fresh identity with a valid signature and a current time, so every one that is examined
is a new unknown identity for the table. Sources are forged round-robin inside the LAN's
/24 (a raw socket), so per-source limits alone cannot hold them back; a third of the
packets are junk (random bytes, wrong lengths, bad signatures).
Usage: lanflood.py IFACE PREFIX24 COUNT   e.g. lanflood.py v9-s 198.51.9 10000
Prints the number of datagrams sent."""
import os, socket, struct, sys, time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

iface, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
LABEL = b"SiloSec v2 lan signature"
PORT = 51998


def announcement(i):
    head = struct.pack(">BBHHHQ", 10, 2, 0, 51999, 0, time.time_ns())
    if i % 3 == 2:  # junk: bad signature, or a wrong length, or random
        kind = i % 9
        if kind == 2:
            return head + os.urandom(96)
        if kind == 5:
            return head + os.urandom(40)
        return os.urandom(112)
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    msg = head + pub
    return msg + key.sign(LABEL + msg)


def packet(src, payload):
    udp = struct.pack(">HHHH", PORT, PORT, 8 + len(payload), 0)
    total = 20 + len(udp) + len(payload)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 1, 17, 0,
                     socket.inet_aton(src), socket.inet_aton("255.255.255.255"))
    return ip + udp + payload


s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
sent = 0
for i in range(count):
    src = f"{prefix}.{10 + i % 240}"
    try:
        s.sendto(packet(src, announcement(i)), ("255.255.255.255", 0))
        sent += 1
    except OSError:
        time.sleep(0.001)
print(sent)
