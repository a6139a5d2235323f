#!/usr/bin/env bash
# Three hosts: A is a hub with B and C on separate links. B reaches C through A
# (cryptokey routing on A forwards between peers); B claiming C's inner address is
# dropped by A and counted as SS_TUN_SPOOFED against B.
source "$(dirname "$0")/lib.sh"
host a
host b
host c
veth a b 1
veth a c 2
ip netns exec "${NS}a" sysctl -qw net.ipv4.ip_forward=1
conf a "[Interface]
PrivateKeyFile = node.key
Address = 10.77.0.1/24
ListenPort = 51001
[Peer]
Identity = ${ID[b]}
Endpoint = 198.51.1.2:51002
AllowedIPs = 10.77.0.2/32
Allow = any
[Peer]
Identity = ${ID[c]}
Endpoint = 198.51.2.2:51003
AllowedIPs = 10.77.0.3/32
Allow = any"
for h in b c; do
	n=$([ $h = b ] && echo 2 || echo 3)
	l=$([ $h = b ] && echo 1 || echo 2)
	conf $h "[Interface]
PrivateKeyFile = node.key
Address = 10.77.0.$n/24
ListenPort = 5100$n
[Peer]
Identity = ${ID[a]}
Endpoint = 198.51.$l.1:51001
AllowedIPs = 10.77.0.0/24
Allow = any"
done
start a && start b && start c || exit 1

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
