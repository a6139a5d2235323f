#!/usr/bin/env bash
# LAN discovery (PROTOCOL.md 16.9, LanDiscovery in silosec.conf(5); syncconf switches
# modes and turns it off, turning it on needs a restart). Four hosts on one
# bridged LAN (198.51.9.0/24, fd00:9::/64, link-local): a and c know each other but have
# no Endpoint (peers mode); s and u are strangers to everyone (open mode).
#  - a and c find each other by announcement alone, and ping works;
#  - s, a stranger capturing the LAN, sees no identity of a or c in their announcements;
#  - s lists u (open mode) in `silosec discover`, pins nothing and sends u nothing;
#  - 10,000 forged announcements (fresh identities, valid signatures, forged sources,
#    junk) leave s's table at most SS_LAN_OPEN_TABLE (64) entries and every daemon
#    responsive.
source "$(dirname "$0")/lib.sh"
TABLE=64

ip netns add "${NS}sw"
HOSTS+=(sw)
ip -n "${NS}sw" link add br0 type bridge
ip -n "${NS}sw" link set br0 up
n=0
for h in a c s u; do
	n=$((n + 1))
	host $h
	ip link add "v9-$h" netns "$NS$h" type veth peer name "p-$h" netns "${NS}sw"
	ip -n "${NS}sw" link set "p-$h" master br0 up
	ip -n "$NS$h" addr add "198.51.9.$n/24" dev "v9-$h"
	ip -n "$NS$h" addr add "fd00:9::$n/64" dev "v9-$h" nodad
	ip -n "$NS$h" link set "v9-$h" up
done
conf_iface a 10.77.0.1/24 51001 "LanDiscovery = peers"
conf_peer a "${ID[c]}" 10.77.0.2/32 "Allow = any"
conf_iface c 10.77.0.2/24 51002 "LanDiscovery = peers"
conf_peer c "${ID[a]}" 10.77.0.1/32 "Allow = any"
conf_iface s 10.77.0.3/24 51003 "LanDiscovery = open"
conf_iface u 10.77.0.4/24 51004 "LanDiscovery = open"

ip netns exec "${NS}s" dumpcap -q -i v9-s -w "$TMP/lan.pcap" >/dev/null 2>&1 &
cap=$!
BG+=("$cap")
wait_for 20 test -s "$TMP/lan.pcap"
sleep 0.5 # not pollable: the header is written just before capturing starts

# ---- peers mode: no Endpoint anywhere, the announcement is the only way ----
first_reply() { # from a to c, polled
	local t0=$1
	while ! on a ping -c 1 -W 0.2 10.77.0.2 >/dev/null 2>&1; do
		[ $(($(usec) - t0)) -gt 10000000 ] && return 1
	done
	echo "# first reply $((($(usec) - t0) / 1000)) ms after the second daemon started"
}
start a || exit 1
t0=$(usec)
start c || exit 1
check "peers mode: a finds c by its announcement, ping works" first_reply "$t0"
# Punching sends the INIT to every candidate: the session lands on whichever came first.
lan_endpoint() {
	jget a "d['peers'][0].get('endpoint', '')" | grep -qE '^(198\.51\.9\.2|\[fd00:9::2\]|\[fe80::[0-9a-f:]+%[0-9]+\]):51002$'
}
check "a's endpoint for c is one of c's LAN addresses" lan_endpoint
check "a holds c's LAN address as a candidate of source lan" \
	sh -c "SILOSEC_RUN_DIR=$TMP/a/run ip netns exec ${NS}a '$SILOSEC' show ss0 --json | grep -q '\"lan 198.51.9.2:51002 '"
check "c answers back (it learned a from the handshake)" on c ping -c 1 -W 2 10.77.0.1
check "a recognised c's announcement, nothing refused as forged" \
	sh -c "show() { SILOSEC_RUN_DIR=$TMP/a/run ip netns exec ${NS}a '$SILOSEC' show ss0; }; \
	show | grep -q 'LAN announcements recognised: [1-9]' && ! show | grep -q SS_ERR_LAN_SPOOF"

recognised() { on a "$SILOSEC" show ss0 | awk -F': ' '/LAN announcements recognised/ {print $2}'; }
before=$(recognised)
ip -n "${NS}c" addr add 198.51.9.22/24 dev v9-c
check "an address change announces at once (not after the 30 s interval)" \
	wait_for 3 sh -c "[ \$(SILOSEC_RUN_DIR=$TMP/a/run ip netns exec ${NS}a '$SILOSEC' show ss0 | awk -F': ' '/LAN announcements recognised/ {print \$2}') -gt $before ]"

# ---- open mode: s and u are strangers ----
start s || exit 1
start u || exit 1
fp_u=$("$SILOSEC" fingerprint "${ID[u]}")
check "open mode: s lists u in silosec discover" \
	wait_for 5 sh -c "SILOSEC_RUN_DIR=$TMP/s/run ip netns exec ${NS}s '$SILOSEC' discover ss0 | grep -q '$fp_u'"
# Each round goes out over IPv4, then IPv6: the entry ends at u's IPv6 address.
check "s heard u over IPv6 as well" \
	wait_for 5 sh -c "SILOSEC_RUN_DIR=$TMP/s/run ip netns exec ${NS}s '$SILOSEC' discover ss0 | grep '$fp_u' | grep -qE '\[(fe80::|fd00:9::4)'"
on s "$SILOSEC" discover ss0 | sed 's/^/# /' | head -3
check "s pinned nothing: no peer, no session" \
	sh -c "SILOSEC_RUN_DIR=$TMP/s/run ip netns exec ${NS}s '$SILOSEC' show ss0 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d[\"peer_count\"] != 0 or d[\"peers\"] != [])'"
check "discover on a peers-mode daemon says it lists nothing" \
	sh -c "SILOSEC_RUN_DIR=$TMP/a/run ip netns exec ${NS}a '$SILOSEC' discover ss0 2>&1 | grep -q 'not open'"
# Let one more round of address-change announcements settle, then read the capture.
wait_for 5 sh -c "[ \$(ip netns exec ${NS}s tshark -r $TMP/lan.pcap -Y 'udp.dstport == 51998' 2>/dev/null | wc -l) -ge 4 ]"
kill -INT "$cap" 2>/dev/null
wait "$cap" 2>/dev/null
ids() { # the identities of HOSTS as hex
	local h
	for h in "$@"; do echo "${ID[$h]}" | base64 -d | od -An -tx1 | tr -d ' \n'; echo; done
}
payloads() { # FILTER: UDP payloads to port 51998 in the capture, hex, one a line
	ip netns exec "${NS}s" tshark -r "$TMP/lan.pcap" -Y "udp.dstport == 51998 && $1" \
		-T fields -e udp.payload 2>/dev/null | tr -d ':'
}
type9() { [ "$(payloads 'ip.src == 198.51.9.1 || ip.src == 198.51.9.2' | grep -c '^0902')" -ge 2 ]; }
check "the capture holds a's and c's peers-mode announcements (48 bytes, type 9)" type9
# Announcements only: a unicast INIT the bridge floods before it learns a MAC would
# carry an identity in the clear (PROTOCOL.md 1.2), and that is not what this is about.
payloads 'udp' >"$TMP/ann.hex"
no_ids() { ! grep -qiE "$(ids a c | paste -sd'|')" "$TMP/ann.hex"; }
check "a stranger learns no identity: neither a's nor c's 32 bytes are in any announcement" no_ids
check "announcements leave with TTL 1 (IPv4 broadcast) and hop limit 1 (ff12::5ec:1998)" \
	sh -c "ip netns exec ${NS}s tshark -r $TMP/lan.pcap -Y 'udp.dstport == 51998 && ip.dst == 255.255.255.255 && ip.ttl == 1' 2>/dev/null | grep -q . && \
	ip netns exec ${NS}s tshark -r $TMP/lan.pcap -Y 'udp.dstport == 51998 && ipv6.dst == ff12::5ec:1998 && ipv6.hlim == 1' 2>/dev/null | grep -q . && \
	! ip netns exec ${NS}s tshark -r $TMP/lan.pcap -Y 'udp.dstport == 51998 && ((ip && ip.ttl != 1) || (ipv6 && ipv6.hlim != 1))' 2>/dev/null | grep -q ."
check "control: u's open-mode announcement carries u's identity in the clear" \
	grep -qi "$(ids u)" "$TMP/ann.hex"
check "s answered nothing: every UDP datagram s sent went to the announcement port" \
	sh -c "[ \$(ip netns exec ${NS}s tshark -r $TMP/lan.pcap -Y 'udp && (ip.src == 198.51.9.3 || eth.src == '\$(ip -n ${NS}s -br link show v9-s | awk '{print \$3}')') && udp.dstport != 51998' 2>/dev/null | wc -l) -eq 0 ]"

# ---- a flood of announcements ----
t=$(usec)
sent=$(ip netns exec "${NS}u" python3 "$(dirname "$0")/lanflood.py" v9-u 198.51.9 10000)
echo "# $sent forged announcements sent in $((($(usec) - t) / 1000)) ms"
listed() { on s "$SILOSEC" discover ss0 | grep -c 'ago$'; }
bounded() { local n; n=$(listed); [ "$n" -gt 1 ] && [ "$n" -le $TABLE ]; }
check "after the flood s lists forged identities, but at most $TABLE" bounded
echo "# s lists $(listed) identities; refused: $(on s "$SILOSEC" show ss0 | grep 'announcement refused' | tr -s ' ' | tr '\n' ' ')"
check "the flood was examined and rate-limited (SS_ERR_REACH_RATE counted)" \
	sh -c "SILOSEC_RUN_DIR=$TMP/s/run ip netns exec ${NS}s '$SILOSEC' show ss0 | grep -q 'SS_ERR_REACH_RATE'"
t=$(usec)
check "s answers silosec show at once after the flood" on s "$SILOSEC" show ss0
echo "# show took $((($(usec) - t) / 1000)) ms"
check "a and c still talk" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
# LanDiscovery by syncconf: open -> peers and -> off apply in the running (sandboxed)
# daemon; back on would need a socket the sandbox refuses: refused by name.
lan_mode() { # HOST MODE: apply MODE by syncconf, 0 if applied
	sed -i "s/^LanDiscovery = .*/LanDiscovery = $2/" "$TMP/$1/ss0.conf"
	on "$1" "$SILOSEC" syncconf ss0 "$TMP/$1/ss0.conf" 2>"$TMP/$1/sync.err" ||
		{ sed 's/^/syncconf: /' "$TMP/$1/sync.err"; return 1; }
}
check "syncconf: s open -> peers, discover now lists nothing" eval 'lan_mode s peers &&
	test "$(jget s "d[\"lan_discovery\"]")" = peers &&
	on s "$SILOSEC" discover ss0 >"$TMP/disc" 2>&1; cat "$TMP/disc"; grep -q "not open" "$TMP/disc"'
check "syncconf: s peers -> off, port 51998 closed" eval 'lan_mode s off &&
	test "$(jget s "d[\"lan_discovery\"]")" = off && ! on s ss -Huln | grep -q ":51998 "'
check "syncconf: s off -> open is refused (restart needed), still off" eval '! lan_mode s open &&
	sed "s/^/# /" "$TMP/s/sync.err" && grep -q "LanDiscovery = open: not applied.*restart" "$TMP/s/sync.err" &&
	test "$(jget s "d[\"lan_discovery\"]")" = off'
check "every daemon ran sandboxed (seccomp) with LAN discovery" \
	sh -c "for p in ${PID[a]} ${PID[c]} ${PID[s]} ${PID[u]}; do grep -q '^Seccomp:.*2' /proc/\$p/status || exit 1; done"
finish
