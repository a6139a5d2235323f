#!/usr/bin/env bash
# Preflight for the NAT lab (natlab.sh): each NAT type behaves as it claims. From one
# socket behind natA, UDP to two reflector addresses shows the mapping (one external
# port, the inside one, for the endpoint-independent types; one per destination for
# symmetric); answers asked from another port of the same address and from a third
# address show the filtering. Also: the routers' conntrack UDP timeout is their own
# (per namespace), a and c meet directly on their LAN, private addresses do not cross
# the internet, natlab_capture records a switch port, natlab_flush forgets the mappings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/natlab.sh"
R1=$NL_NET.1:3478 R2=$NL_NET.2:3478 SAME_IP=$NL_NET.1:3479 OTHER_IP=$NL_NET.3:3478
check "lab up (natA port-restricted, natB symmetric), reflector on intro" \
	eval 'natlab_setup port-restricted symmetric && natlab_reflector'

timeouts() { # the routers' UDP timeout is set in their namespace only
	local v w
	v=$(on natA sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)
	w=$(on intro sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)
	echo "natA $v s, intro (untouched) $w s"
	[ "$v" = "$NL_UDP_TIMEOUT" ] && [ "$w" != "$v" ]
}
check "nf_conntrack_udp_timeout_stream is ${NL_UDP_TIMEOUT}s in the routers only" timeouts

# nat_type TYPE PORT: natA as TYPE; mapping and filtering seen from a's socket PORT
declare -A WANT=([full-cone]="same delivered delivered" [restricted]="same delivered dropped"
	[port-restricted]="same dropped dropped" [symmetric]="new dropped dropped")
nat_type() {
	local t=$1 p=$2 out m1 m2 f1 f2 got
	natlab_nat natA "$t" || return 1
	out=$(natlab_probe a "$p" "$R1" "$R2" "$R1@$SAME_IP" "$R1@$OTHER_IP" "$R1") || {
		echo "$out"
		return 1
	}
	echo "$out"
	read -r m1 m2 f1 f2 < <(printf '%s\n' "$out" | awk '{print $2}' | head -4 | xargs)
	got="new"
	[ "$m1" = "$m2" ] && got="same"
	[ "$m1" = "${NL_WAN[natA]}:$p" ] || [ "$t" = symmetric ] || got="$got, port not kept"
	for f in "$f1" "$f2"; do
		if [ "$f" = "$m1" ]; then got="$got delivered"; else got="$got dropped"; fi
	done
	echo "# $t: mapping $got (want ${WANT[$t]})"
	[ "$got" = "${WANT[$t]}" ]
}
p=40001
for t in $NL_TYPES; do
	check "$t: mapping and filtering as claimed" nat_type "$t" $p
	p=$((p + 1))
done

b_symmetric() {
	local out
	out=$(natlab_probe b 40100 "$R1" "$R2") || return 1
	echo "$out"
	[ "$(printf '%s\n' "$out" | awk '{print $2}' | sort -u | wc -l)" -eq 2 ]
}
check "natB (symmetric): a new external port per destination" b_symmetric

same_lan() { # one hop (TTL 64): straight across natA's LAN bridge, no routing
	local ac ca
	ac=$(on a ping -c 1 -W 2 "${NL_IP[c]}") && ca=$(on c ping -c 1 -W 2 "${NL_IP[a]}") || return 1
	echo "$ac$ca"
	[[ $ac == *ttl=64* && $ca == *ttl=64* ]]
}
check "a and c reach each other directly on their LAN" same_lan
check "a cannot reach b's private address" eval "! on a ping -c 1 -W 1 ${NL_IP[b]}"
check "a reaches intro through natA" on a ping -c 1 -W 2 "${NL_IP[intro]}"

capture() { # natlab_capture on natA's internet port: a's probe leaves as natA
	natlab_capture t inet p-natA udp || return 1
	natlab_probe a 40300 "$R1" || return 1
	natlab_capture_stop t
	[ "$(natlab_count t "src host ${NL_WAN[natA]} and dst host $NL_NET.1 and dst port 3478")" -ge 1 ] &&
		[ "$(natlab_count t "host ${NL_IP[a]}")" -eq 0 ]
}
check "a capture on natA's internet port shows a's probe from natA's address" capture

flush() { # a symmetric mapping is renewed after the flush
	local m1 m2
	natlab_nat natA symmetric || return 1
	m1=$(natlab_probe a 40200 "$R1" | awk '{print $2}') || return 1
	[ "$(on natA cat /proc/sys/net/netfilter/nf_conntrack_count)" -gt 0 ] || return 1
	natlab_flush natA || return 1
	# Nothing sends through natA now (the probe has its answer): the table is empty.
	[ "$(on natA cat /proc/sys/net/netfilter/nf_conntrack_count)" -eq 0 ] || return 1
	m2=$(natlab_probe a 40200 "$R1" | awk '{print $2}') || return 1
	echo "before $m1, after $m2"
	[ "$m1" != "$m2" ]
}
check "natlab_flush empties natA's conntrack table (new mapping after)" flush

# In t_reach the daemons send through the routers all along: natlab_nat and natlab_flush
# must not need a moment with no traffic (they once demanded an empty table afterwards).
ct_count() { on "$1" cat /proc/sys/net/netfilter/nf_conntrack_count; }
tracked() { [ "$(ct_count "$1")" -gt 0 ]; }
flush_busy() {
	local sender
	ip netns exec "$NS"a "$NL_PY" -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"x", ("'"$NL_NET.1"'", 3478))
    time.sleep(0.005)' &
	sender=$!
	BG+=("$sender")
	wait_for 5 tracked natA || return 1
	for _ in 1 2 3; do
		natlab_flush natA && natlab_nat natA restricted || return 1
	done
	echo "natA's conntrack entries a moment later: $(ct_count natA)"
	kill "$sender"
}
check "natlab_flush and natlab_nat work while a sends through natA every 5 ms" flush_busy
finish
