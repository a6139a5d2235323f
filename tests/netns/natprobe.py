#!/usr/bin/env python3
"""UDP probes for the NAT lab (tests/netns/natlab.sh), after RFC 3489's tests.

natprobe.py reflect ADDR:PORT...
    Answer every datagram "ID [FROM]" with "ID IP:PORT", the sender's address as seen
    here: from the socket FROM (another ADDR:PORT of this reflector) when given, else from
    the socket it arrived on.
natprobe.py probe LOCAL_ADDR:PORT REQ... [--timeout S]
    From one socket bound to LOCAL, send each REQ in order and print "REQ MAPPED" per REQ
    (MAPPED "-" when no answer came). REQ is DEST:PORT (resent every 0.2 s until answered)
    or DEST:PORT@FROM:PORT (the answer asked from FROM, sent once, not waited for: a later
    plain REQ's answer travels the same path behind it, so end with a plain REQ).
    Exits 1 when a plain REQ got no answer within the timeout (default 3 s).
"""
import select, socket, sys, time


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def reflect(binds):
    socks = {}
    for b in binds:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(addr(b))
        socks[b] = s
    while True:
        r, _, _ = select.select(list(socks.values()), [], [])
        for s in r:
            data, src = s.recvfrom(2048)
            words = data.decode(errors="replace").split()
            if not words:
                continue
            out = socks.get(words[1], s) if len(words) > 1 else s
            out.sendto(f"{words[0]} {src[0]}:{src[1]}".encode(), src)


def probe(local, reqs, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(local))
    seen = {}

    def drain(wait):
        r, _, _ = select.select([s], [], [], wait)
        while r:
            data, _ = s.recvfrom(2048)
            words = data.decode(errors="replace").split()
            if len(words) == 2:
                seen[words[0]] = words[1]
            r, _, _ = select.select([s], [], [], 0)

    ok = True
    for i, req in enumerate(reqs):
        dest, _, via = req.partition("@")
        msg = f"{i} {via}".strip().encode()
        s.sendto(msg, addr(dest))
        if via:
            continue
        end = time.monotonic() + timeout
        nxt = time.monotonic() + 0.2
        while str(i) not in seen and time.monotonic() < end:
            drain(max(0.0, min(nxt, end) - time.monotonic()))
            if str(i) not in seen and time.monotonic() >= nxt:
                s.sendto(msg, addr(dest))
                nxt += 0.2
        ok = ok and str(i) in seen
    drain(0)
    for i, req in enumerate(reqs):
        print(req, seen.get(str(i), "-"))
    return 0 if ok else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    t = 3.0
    if "--timeout" in args:
        k = args.index("--timeout")
        t = float(args[k + 1])
        del args[k : k + 2]
    if len(args) >= 2 and args[0] == "reflect":
        reflect(args[1:])
    elif len(args) >= 3 and args[0] == "probe":
        sys.exit(probe(args[1], args[2:], t))
    else:
        sys.exit(__doc__)
