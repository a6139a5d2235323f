#!/usr/bin/env bash
# Issue 13, finding 2: an off-path spoofer (C, one link away from B) floods the responder B
# with datagrams carrying peer A's source address and port: first one-byte junk, then
# initiations with a valid mac1 (anyone can compute it) past B's load budget. Neither may
# keep A from completing a new handshake: junk is a counted drop and charges nothing, and
# under load only an INIT with a valid mac2 (which needs the cookie sent to A's address)
# is charged to its source.
source "$(dirname "$0")/lib.sh"
two_nodes udp 4 || exit 1
host c
veth b c 2
# C reaches A's subnet only through B; B takes the forged sources from C's link.
ip -n "${NS}c" route add 198.51.1.0/24 via 198.51.2.1
ip netns exec "${NS}b" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.v2-b.rp_filter=0
check "tunnel up" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
drops() { jget b "d.get('drops', {}).get('$1', 0)"; }
epoch() { jget a "d['peers'][0]['epoch']"; }
# spoof NAME ARGS...: flood.py as A (198.51.1.1:51001), 1000 a second, in the background.
spoof() {
	local name=$1
	shift
	ip netns exec "${NS}c" python3 "$(dirname "$0")/flood.py" --spoof 198.51.1.1:51001 \
		--rate 1000 "$@" 198.51.1.2 51002 "${ID[b]}" 30 30000 >"$TMP/$name.txt" 2>&1 &
	FLOOD=$!
	BG+=("$FLOOD")
}
# rekey_through: A starts a new handshake; its epoch must grow within SECONDS.
rekey_through() {
	local e0 t0 secs=$1
	e0=$(epoch)
	t0=$(usec)
	on a "$SILOSEC" set ss0 peer "${ID[b]}" rekey || return 1
	newer() { [ "$(epoch)" -gt "$e0" ]; }
	wait_for "$secs" newer || return 1
	echo "# epoch $(epoch) after $((($(usec) - t0) / 1000)) ms"
}
all_drops() { jget b "sum(d.get('drops', {}).values())"; }
more() { [ "$(all_drops)" -gt "$1" ]; }

m0=$(drops SS_ERR_MALFORMED)
t0=$(usec)
spoof junk --junk
check "a spoofed flood of one-byte datagrams from A's address hits B" \
	wait_for 10 more $(($(all_drops) + 500))
# A's INIT goes through at once; the daemon used to charge A's source for every
# datagram starting with 1, and dropped A's INITs (SS_TUN_RATE_LIMITED) during the flood.
check "  A completes a new handshake during it" rekey_through 8
check "  and traffic flows" on a ping -c 3 -i 0.2 -W 2 10.77.0.2
rate() {
	local n=$(($(drops SS_ERR_MALFORMED) - m0)) ms=$((($(usec) - t0) / 1000))
	echo "# $n one-byte datagrams dropped as SS_ERR_MALFORMED in $ms ms (nothing else)"
	[ $((n * 1000 / ms)) -gt 200 ]
}
check "  at well over 20 a second" rate
kill "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null
cat "$TMP/junk.txt"

c0=$(jget b "d['cookies_sent']")
spoof inits
cookies() { [ "$(jget b "d['cookies_sent']")" -gt "$((c0 + 100))" ]; }
check "spoofed initiations from A's address put B under load (cookie replies)" \
	wait_for 10 cookies
# Under load A's first INIT earns a cookie; its retry (after ~5 s) carries mac2.
check "  A completes a new handshake during it (through a cookie)" rekey_through 20
check "  and traffic flows" on a ping -c 3 -i 0.2 -W 2 10.77.0.2
kill "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null
cat "$TMP/inits.txt"
check "no INIT was refused as over a rate limit" test "$(drops SS_ERR_RATE_LIMIT)" -eq 0
finish
