#!/usr/bin/env bash
# B's outer address changes under traffic: B re-handshakes from its new address at once
# (it watches rtnetlink), A's session moves there (flow binding makes roaming a new
# handshake). A pings B at 10/s throughout; a renumbering may cost at most 1 s of them,
# whether B adds the new address before removing the old one or after.
source "$(dirname "$0")/lib.sh"
two_nodes udp 4 || exit 1
check "tunnel up" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
check "A sees B at 198.51.1.2" test "$(jget a "d['peers'][0]['endpoint']")" = 198.51.1.2:51002
# Keep the new address when the old primary goes.
ip netns exec "${NS}b" sysctl -qw net.ipv4.conf.v1-b.promote_secondaries=1

replies() { [ "$(grep -c "bytes from" "$TMP/ping")" -ge "$1" ]; }
# renumber add|del OLD NEW: ping B from A at 10/s (50 pings) while B moves from OLD to
# NEW, adding NEW first (add) or removing OLD first (del); at most 10 may be lost.
renumber() {
	on a ping -c 50 -i 0.1 -W 1 -D 10.77.0.2 >"$TMP/ping" 2>&1 &
	local pp=$! t0
	wait_for 5 replies 10 || return 1
	t0=$EPOCHREALTIME
	if [ "$1" = add ]; then
		ip -n "${NS}b" addr add "$3/24" dev v1-b
		ip -n "${NS}b" addr del "$2/24" dev v1-b
	else
		ip -n "${NS}b" addr del "$2/24" dev v1-b
		ip -n "${NS}b" addr add "$3/24" dev v1-b
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
check "B adds 198.51.1.3, then removes .2: at most 1 s of pings lost" renumber add 198.51.1.2 198.51.1.3
check "A now sends to 198.51.1.3" test "$(jget a "d['peers'][0]['endpoint']")" = 198.51.1.3:51002
check "B removes .3, then adds 198.51.1.4: at most 1 s of pings lost" renumber del 198.51.1.3 198.51.1.4
check "A now sends to 198.51.1.4" test "$(jget a "d['peers'][0]['endpoint']")" = 198.51.1.4:51002
check "traffic from B reaches A from its new address" on b ping -c 3 -i 0.2 -W 2 10.77.0.1
check "a new handshake for each move" test "$(jget a "d['peers'][0]['epoch']")" -ge 3
finish
