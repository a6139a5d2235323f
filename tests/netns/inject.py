#!/usr/bin/env python3
"""Capture one sealed DATA packet on a veth, then inject altered copies of it (and
garbage) with the original 5-tuple: replays, truncations, bit flips. Run inside the
sender's namespace. Usage: inject.py IFACE SRC SPORT DST DPORT"""
import os, socket, struct, sys, time

iface, src, sport, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])

def capture(timeout=10.0):
    # ETH_P_ALL: packet sockets see outgoing frames only with it.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    s.settimeout(0.5)
    end = time.time() + timeout
    while time.time() < end:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        ip = frame[14:]
        if frame[12:14] != b"\x08\x00" or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        sp, dp = struct.unpack("!HH", ip[ihl:ihl + 4])
        payload = ip[ihl + 8:]
        if sp == sport and dp == dport and payload[:1] == b"\x04" and len(payload) > 60:
            return payload
    sys.exit("no DATA packet seen")

def send(payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    s.sendto(ip + udp, (dst, 0))

pkt = capture()
print(f"captured a {len(pkt)}-byte DATA packet")
time.sleep(0.5)
ctr = struct.unpack("!Q", pkt[8:16])[0]

def fresh(p, i):
    """The same packet under a counter not yet seen: it must fail authentication, not
    the replay check (which comes first and is cheaper)."""
    return p[:8] + struct.pack("!Q", ctr + 100000 + i) + p[16:]

flip = lambda p, at, bit: p[:at] + bytes([p[at] ^ bit]) + p[at + 1:]
cases = {
    "replay": [pkt, pkt, pkt],
    "truncated": [pkt[:20], fresh(pkt[:-1], 1), fresh(pkt[:-16], 2)],
    "bitflip": [fresh(flip(pkt, 40, 1), 3), fresh(flip(pkt, len(pkt) - 1, 0x80), 4),
                fresh(flip(pkt, 2, 4), 5)],
    "garbage": [os.urandom(100), b"\x77" + os.urandom(99), b"\x04\x02\x00\x00" + os.urandom(96)],
}
for name, pkts in cases.items():
    for p in pkts:
        send(p)
    print(f"sent {len(pkts)} {name}")
