#!/usr/bin/env bash
# Rekeying under continuous TCP traffic loses nothing TCP can see: forced rekeys (the
# control socket) during one iperf3 run, and with REKEY=1 the timer-driven rekey after
# 120 s (a 130 s run).
source "$(dirname "$0")/lib.sh"
two_nodes udp 4 || exit 1
check "tunnel up" on a ping -c 2 -i 0.2 -W 2 10.77.0.2

iperf_paced() { # SECONDS PORT -> JSON in $TMP/iperf.json
	on b iperf3 -s -D -1 -p "$2" >/dev/null 2>&1
	sleep 0.3
	on a iperf3 -c 10.77.0.2 -p "$2" -t "$1" -b 100M -J >"$TMP/iperf.json"
}
no_retransmits() {
	python3 - "$TMP/iperf.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["end"]
r, b = e["sum_sent"]["retransmits"], e["sum_received"]["bytes"]
print(f"# {b} bytes received, {r} TCP retransmissions")
sys.exit(0 if r == 0 and b > 0 else 1)
PY
}
forced() {
	iperf_paced 6 5301 &
	local ip=$! i
	for i in 1 2 3 4; do
		sleep 1.2
		on a "$SILOSEC" set ss0 peer "${ID[b]}" rekey || return 1
	done
	wait $ip && no_retransmits
}
check "4 forced rekeys during a TCP transfer, no retransmission" forced
check "each rekey was a new epoch" test "$(jget a "d['peers'][0]['epoch']")" -ge 5

if [ "${REKEY:-0}" = 1 ]; then
	e0=$(jget a "d['peers'][0]['epoch']")
	timer() { iperf_paced 130 5302 && no_retransmits; }
	check "timer rekey (120 s) during a 130 s TCP transfer, no retransmission" timer
	check "the timer started a new epoch" test "$(jget a "d['peers'][0]['epoch']")" -gt "$e0"
fi
finish
