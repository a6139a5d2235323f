#!/usr/bin/env bash
# Hostile packets on the wire: a captured DATA packet replayed, truncated and
# bit-flipped, plus garbage, all with the real 5-tuple. Each is dropped silently and
# counted by reason in `silosec show`, and traffic goes on.
source "$(dirname "$0")/lib.sh"
two_nodes udp 4 || exit 1
check "tunnel up" on a ping -c 2 -i 0.2 -W 2 10.77.0.2

drops() { # CODE -> count at B, peer and interface together
	jget b "d.get('drops', {}).get('$1', 0) + d['peers'][0].get('drops', {}).get('$1', 0)"
}
inject() {
	# Pings until inject.py is done: it may take seconds to start on a loaded machine,
	# and it needs DATA packets to capture.
	on a ping -c 200 -i 0.1 -s 200 -W 1 10.77.0.2 >/dev/null &
	local ping=$!
	on a python3 "$(dirname "$0")/inject.py" v1-a 198.51.1.1 51001 198.51.1.2 51002
	local r=$?
	kill $ping 2>/dev/null
	wait $ping
	return $r
}
check "capture and inject altered packets" inject
# All injected packets counted: the last ones sent are the garbage (SS_ERR_MALFORMED).
counted() { [ "$(drops SS_ERR_MALFORMED)" -ge 2 ] && [ "$(drops SS_ERR_UNKNOWN_INDEX)" -ge 1 ]; }
wait_for 5 counted
show b >"$TMP/show-b.txt"
check "replays dropped as SS_ERR_REPLAY (3)" test "$(drops SS_ERR_REPLAY)" -ge 3
check "bit flips and cut tags under fresh counters dropped as SS_ERR_DECRYPT" test "$(drops SS_ERR_DECRYPT)" -ge 4
check "short and garbage packets dropped as SS_ERR_MALFORMED" test "$(drops SS_ERR_MALFORMED)" -ge 2
check "unknown receiver index dropped as SS_ERR_UNKNOWN_INDEX" test "$(drops SS_ERR_UNKNOWN_INDEX)" -ge 1
check "drops are visible in silosec show" grep -q "SS_ERR_REPLAY" "$TMP/show-b.txt"
check "traffic continues after the attack" on a ping -c 3 -i 0.2 -W 2 10.77.0.2
check "the session survived (no new handshake needed)" test "$(jget b "d['peers'][0]['epoch']")" = 1
finish
