#!/usr/bin/env bash
# Two hosts, one tunnel: ping and TCP/UDP (iperf3) over IPv4 and IPv6 inside, exact
# byte counters in `silosec show`. Arguments: transport (udp|ip), outer family (4|6), and
# "ring" (TunRing = yes) to take outgoing packets through the packet ring instead of one
# TUN read() each.
source "$(dirname "$0")/lib.sh"
tr=${1:-udp} fam=${2:-4} use_ring=
[ "${3:-}" = ring ] && use_ring=1 TWO_NODES_IFACE="TunRing = yes"
echo "# transport $tr, outer IPv$fam${use_ring:+, TunRing = yes}"
two_nodes "$tr" "$fam" || exit 1

check "ping IPv4 through the tunnel" on a ping -c 3 -i 0.2 -W 2 10.77.0.2
check "ping IPv6 through the tunnel" on a ping -c 3 -i 0.2 -W 2 fd77::2
check "ping from the other side" on b ping -c 2 -i 0.2 -W 2 10.77.0.1

counters() { # HOST -> "rx tx"
	jget "$1" "d['peers'][0]['rx_bytes'], d['peers'][0]['tx_bytes']" | tr -d '(),'
}
exact_counters() {
	local a0 b0 a1 b1
	read -r -a a0 <<<"$(counters a)"
	read -r -a b0 <<<"$(counters b)"
	# 5 echo requests and 5 replies of 20 (IPv4) + 8 (ICMP) + 100 bytes each.
	on a ping -c 5 -i 0.2 -s 100 -W 2 10.77.0.2 || return 1
	read -r -a a1 <<<"$(counters a)"
	read -r -a b1 <<<"$(counters b)"
	echo "a: ${a0[*]} -> ${a1[*]}; b: ${b0[*]} -> ${b1[*]}"
	[ $((a1[1] - a0[1])) -eq 640 ] && [ $((a1[0] - a0[0])) -eq 640 ] &&
		[ $((b1[0] - b0[0])) -eq 640 ] && [ $((b1[1] - b0[1])) -eq 640 ]
}
check "exact byte counters in silosec show (640 B each way)" exact_counters

tcp() { # ADDR
	iperf_server b 5202 || return 1
	on a iperf3 -c "$1" -p 5202 -t 3 -J >"$TMP/iperf.json" || return 1
	python3 - "$TMP/iperf.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bps = d["end"]["sum_received"]["bits_per_second"]
print(f"# tunnel TCP {bps / 1e9:.2f} Gbit/s received")
sys.exit(0 if bps > 1e6 else 1)
PY
}
check "TCP (iperf3) over IPv4 inside" tcp 10.77.0.2
check "TCP (iperf3) over IPv6 inside" tcp fd77::2

udp() {
	iperf_server b 5203 || return 1
	on a iperf3 -c 10.77.0.2 -p 5203 -u -b 10M -l 1200 -t 2 -J >"$TMP/iperf.json" || return 1
	python3 - "$TMP/iperf.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum"]
print(f"# tunnel UDP {s['packets']} packets, {s['lost_percent']:.2f}% lost")
sys.exit(0 if s["packets"] > 300 and s["lost_percent"] < 10 else 1)
PY
}
check "UDP (iperf3, 10 Mbit/s) with under 10% loss" udp
no_drops() {
	local h
	for h in a b; do
		[ "$(jget $h "d['peers'][0].get('drops', {})")" = "{}" ] || { show $h; return 1; }
	done
}
check "no packet dropped on either peer" no_drops

# Outgoing packets come through the packet ring with TunRing = yes, else one read() each;
# nothing may be lost in the ring.
ring() {
	local want=read h
	[ -n "$use_ring" ] && want=ring
	for h in a b; do
		[ "$(jget $h "d['tun_reads']")" = "$want" ] || { show $h; return 1; }
		[ "$want" = read ] || [ "$(jget $h "d['ring_drops']")" = 0 ] || { show $h; return 1; }
	done
	echo "# TUN reads: $want"
}
check "TUN read path as configured, nothing lost in the ring" ring

plain() {
	iperf_server b 5204 || return 1
	on a iperf3 -c 198.51.1.2 -p 5204 -t 3 -J >"$TMP/iperf.json" || return 1
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('# plain veth TCP %.2f Gbit/s (reference)' % (d['end']['sum_received']['bits_per_second'] / 1e9))" "$TMP/iperf.json"
}
[ "$tr$fam" = udp4 ] && check "plain veth reference run" plain
finish
