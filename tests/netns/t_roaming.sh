#!/usr/bin/env bash
# B's outer address changes under traffic: B re-handshakes from its new address at once
# (it watches rtnetlink), A's session moves there (flow binding makes roaming a new
# handshake). A pings B at 10/s throughout; a renumbering may cost at most 1 s of them,
# whether B adds the new address before removing the old one or after. Argument: the
# outer family, 4 (default) or 6.
source "$(dirname "$0")/lib.sh"
fam=${1:-4}
pfx=198.51.1. len=24 opt=
ep() { echo "198.51.1.$1:51002"; } # B's endpoint as A shows it
if [ "$fam" = 6 ]; then
	pfx=fd00:1:: len=64 opt=nodad
	ep() { echo "[fd00:1::$1]:51002"; }
fi
echo "# outer IPv$fam"
two_nodes udp "$fam" || exit 1
check "tunnel up" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
check "A sees B at ${pfx}2" test "$(jget a "d['peers'][0]['endpoint']")" = "$(ep 2)"
# Keep the new address when the old primary goes.
ip netns exec "${NS}b" sysctl -qw net.ipv4.conf.v1-b.promote_secondaries=1

replies() { [ "$(grep -c "bytes from" "$TMP/ping")" -ge "$1" ]; }
# renumber add|del OLD NEW: ping B from A at 10/s (50 pings) while B moves from host
# number OLD to NEW, adding NEW first (add) or removing OLD first (del); at most 10 may
# be lost.
renumber() {
	on a ping -c 50 -i 0.1 -W 1 -D 10.77.0.2 >"$TMP/ping" 2>&1 &
	local pp=$! t0
	wait_for 5 replies 10 || return 1
	t0=$EPOCHREALTIME
	if [ "$1" = add ]; then
		ip -n "${NS}b" addr add "$pfx$3/$len" ${opt:+"$opt"} dev v1-b
		ip -n "${NS}b" addr del "$pfx$2/$len" dev v1-b
	else
		ip -n "${NS}b" addr del "$pfx$2/$len" dev v1-b
		ip -n "${NS}b" addr add "$pfx$3/$len" ${opt:+"$opt"} dev v1-b
	fi
	wait $pp
	# The outage: from the renumbering to the first reply after the last lost ping.
	python3 - "$TMP/ping" "$1" "$t0" <<'PY'
import re, sys
seen = {}
for line in open(sys.argv[1]):
    m = re.match(r"\[([0-9.]+)\] .*bytes from .*icmp_seq=(\d+)", line)
    if m:
        seen.setdefault(int(m.group(2)), float(m.group(1)))
lost = [s for s in range(1, 51) if s not in seen]
after = [seen[s] for s in sorted(seen) if lost and s > lost[-1]]
if not lost:
    outage = "none"
elif after:
    outage = f"{after[0] - float(sys.argv[3]):.2f} s"
else:
    outage = "no reply after it"
order = "new address added first" if sys.argv[2] == "add" else "old address removed first"
print(f"# {order}: {len(lost)} of 50 pings at 10/s lost, outage {outage}")
sys.exit(0 if len(lost) <= 10 and after or not lost else 1)
PY
}
check "B adds ${pfx}3, then removes ${pfx}2: at most 1 s of pings lost" renumber add 2 3
check "A now sends to ${pfx}3" test "$(jget a "d['peers'][0]['endpoint']")" = "$(ep 3)"
check "B removes ${pfx}3, then adds ${pfx}4: at most 1 s of pings lost" renumber del 3 4
check "A now sends to ${pfx}4" test "$(jget a "d['peers'][0]['endpoint']")" = "$(ep 4)"
check "traffic from B reaches A from its new address" on b ping -c 3 -i 0.2 -W 2 10.77.0.1
check "a new handshake for each move" test "$(jget a "d['peers'][0]['epoch']")" -ge 3
finish
