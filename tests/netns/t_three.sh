#!/usr/bin/env bash
# Three hosts: A is a hub with B and C on separate links. B reaches C through A
# (cryptokey routing on A forwards between peers); B claiming C's inner address is
# dropped by A and counted as SS_TUN_SPOOFED against B.
source "$(dirname "$0")/lib.sh"
hub_nodes any any || exit 1
ip netns exec "${NS}a" sysctl -qw net.ipv4.ip_forward=1

check "B pings the hub" on b ping -c 2 -i 0.2 -W 2 10.77.0.1
check "C pings the hub" on c ping -c 2 -i 0.2 -W 2 10.77.0.1
check "B reaches C through the hub" on b ping -c 3 -i 0.2 -W 2 10.77.0.3
check "hub shows two peers with sessions" \
	test "$(jget a "sum(p['session'] for p in d['peers'])")" = 2

spoof() {
	# B puts C's address on its own tunnel and sends from it.
	on b ip addr add 10.77.0.3/32 dev ss0 || return 1
	on b ping -c 3 -i 0.2 -W 1 -I 10.77.0.3 10.77.0.1 && return 1
	on b ip addr del 10.77.0.3/32 dev ss0
	local n
	n=$(jget a "[p.get('drops', {}).get('SS_TUN_SPOOFED', 0) for p in d['peers'] if p['peer'] == '${ID[b]}'][0]")
	echo "SS_TUN_SPOOFED against B: $n"
	[ "$n" -ge 3 ] && grep -q "SS_TUN_SPOOFED" "$TMP/a/log"
}
check "B spoofing C's inner address is dropped and counted" spoof
check "C's traffic is unaffected" on c ping -c 2 -i 0.2 -W 2 10.77.0.1
finish
