#!/usr/bin/env bash
# B's outer address changes under traffic: B re-handshakes from its new address, A's
# session moves there (flow binding makes roaming a new handshake).
source "$(dirname "$0")/lib.sh"
two_nodes udp 4 || exit 1
check "tunnel up" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
check "A sees B at 198.51.1.2" test "$(jget a "d['peers'][0]['endpoint']")" = 198.51.1.2:51002
roam() {
	# Keep the new address when the old primary goes.
	ip netns exec "${NS}b" sysctl -qw net.ipv4.conf.v1-b.promote_secondaries=1
	ip -n "${NS}b" addr add 198.51.1.3/24 dev v1-b
	ip -n "${NS}b" addr del 198.51.1.2/24 dev v1-b
	wait_for 10 on b ping -c 1 -W 1 10.77.0.1
}
check "B moves to 198.51.1.3 and traffic resumes" roam
check "A now sends to 198.51.1.3" test "$(jget a "d['peers'][0]['endpoint']")" = 198.51.1.3:51002
check "traffic from A reaches B at its new address" on a ping -c 3 -i 0.2 -W 2 10.77.0.2
check "a second handshake happened" test "$(jget a "d['peers'][0]['epoch']")" -ge 2
finish
