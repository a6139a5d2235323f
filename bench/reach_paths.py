#!/usr/bin/env python3
"""Path timeline for bench/reach: which path a tunnel's packets took, over time.

reach_paths.py DIRECT_TXT RELAY_TXT PING_TXT T0 TCP0 TCP1
  DIRECT_TXT, RELAY_TXT: `tcpdump -tt -nn -r` output of the packets that travel the direct
  path between the two hosts (or their NATs) and of those between natA and the relay;
  PING_TXT: `ping -D` output of a steady ping through the tunnel; T0: epoch seconds of the
  first reply; TCP0, TCP1: epoch seconds the TCP run started and ended.
Prints one line: PATH_FIRST RTT_FIRST PATH_TCP PATH_LAST RTT_LAST UPGRADE
  PATH_*: direct, relayed or - (no traffic), by majority of packets in the first second,
  during the TCP run and in the last second; RTT_*: median ping RTT (ms) in the first and
  last second; UPGRADE: seconds after the first reply from which every 0.25 s slot with
  traffic went the direct path, when the path started relayed (else -).
"""
import re, statistics, sys

SLOT = 0.25


def stamps(path):
    out = []
    for line in open(path, errors="replace"):
        m = re.match(r"(\d+\.\d+) ", line)
        if m:
            out.append(float(m.group(1)))
    return out


def majority(d, r, lo, hi):
    nd = sum(lo <= t < hi for t in d)
    nr = sum(lo <= t < hi for t in r)
    if nd == nr == 0:
        return "-"
    return "direct" if nd > nr else "relayed"


def main():
    d, r = stamps(sys.argv[1]), stamps(sys.argv[2])
    t0, tcp0, tcp1 = (float(x) for x in sys.argv[4:7])
    pings = []
    for line in open(sys.argv[3], errors="replace"):
        m = re.match(r"\[(\d+\.\d+)\].*time=([\d.]+)", line)
        if m:
            pings.append((float(m.group(1)), float(m.group(2))))
    end = max([t for t, _ in pings] + d + r + [tcp1])

    def rtt(lo, hi):
        v = [x for t, x in pings if lo <= t < hi]
        return f"{statistics.median(v):.2f}" if v else "-"

    first = majority(d, r, t0, t0 + 1)
    last = majority(d, r, end - 1, end + 0.01)
    up = "-"
    if first == "relayed":
        slots = []
        t = t0
        while t < end:
            slots.append((t, majority(d, r, t, t + SLOT)))
            t += SLOT
        busy = [(t, p) for t, p in slots if p != "-"]
        k = len(busy)
        while k > 0 and busy[k - 1][1] == "direct":
            k -= 1
        if k < len(busy):
            up = f"{busy[k][0] - t0:.1f}"
    print(first, rtt(t0, t0 + 1), majority(d, r, tcp0, tcp1), last, rtt(end - 1, end + 0.01), up)


main()
