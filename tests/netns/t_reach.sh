#!/usr/bin/env bash
# Introducers and hole punching on the NAT lab (natlab.sh; PROTOCOL.md 16.4, 16.5): intro
# is every host's introducer; a and c sit behind natA, b behind natB; no host knows
# another's address. a reaches b directly through port-restricted and symmetric NATs
# (judged by a capture on the internet switch: natA <-> natB, not via intro), a reaches c
# on their LAN (AdvertiseLocal), a conntrack flush on both routers mid-session recovers,
# and an introducer that may not introduce b (Introduce = no) gives no session. Times
# from the first packet to the first ping reply are printed as "# ...".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/natlab.sh"
declare -A TIP=([intro]=10.99.0.1 [a]=10.99.0.2 [b]=10.99.0.3 [c]=10.99.0.4)
declare -A PORT=([intro]=51820 [a]=51821 [b]=51822 [c]=51823)
INTRO_EP=${NL_WAN[intro]}:${PORT[intro]}

# confs INTRODUCE_B: intro introduces a, c and (if yes) b; hosts know intro and each other
confs() {
	local h o
	conf_iface intro "${TIP[intro]}/24" "${PORT[intro]}"
	for h in a b c; do
		conf_peer intro "${ID[$h]}" "${TIP[$h]}/32" "Allow = any" \
			"Introduce = $([ $h = b ] && echo "$1" || echo yes)"
		conf_iface $h "${TIP[$h]}/24" "${PORT[$h]}" "AdvertiseLocal = yes"
		conf_peer $h "${ID[intro]}" "${TIP[intro]}/32" "Endpoint = $INTRO_EP" \
			"Introducer = yes" "Allow = any"
		for o in a b c; do
			[ $o = $h ] || conf_peer $h "${ID[$o]}" "${TIP[$o]}/32" "Allow = any"
		done
	done
}
registered() { show "$1" --json | grep -q '"reflexive"'; }
# restart HOST...: cold daemons, registered with intro
restart() {
	local h
	for h in "$@"; do [ -n "${PID[$h]:-}" ] && stop "$h"; done
	for h in "$@"; do start "$h" || return 1; done
	for h in "$@"; do wait_for 5 registered "$h" || return 1; done
}
# first_reply FROM TO: ping until the first reply (at most 8 s); prints the time
first_reply() {
	local t0 t1
	t0=$(usec)
	on "$1" ping -c 1 -i 0.05 -w 8 "${TIP[$2]}" >/dev/null || return 1
	t1=$(usec)
	echo "# $1 -> $2: first reply after $(((t1 - t0) / 1000)) ms (${NL_TYPE[natA]} <-> ${NL_TYPE[natB]})"
}
path_of() { # HOST PEER: the path HOST's show reports for PEER
	jget "$1" "[p.get('path','') for p in d['peers'] if p['peer']=='${ID[$2]}'][0]"
}
# direct_ab: a <-> b crossed the internet switch between natA and natB, and a's path to b
# is natB's address
direct_ab() {
	local n p
	n=$(natlab_count ab "udp and host ${NL_WAN[natA]} and host ${NL_WAN[natB]}")
	p=$(path_of a b)
	echo "natA <-> natB datagrams: $n; a's path to b: $p"
	[ "$n" -gt 0 ] && [[ $p == "direct ${NL_WAN[natB]}:"* ]]
}

pair() { # TYPE_B: natB as TYPE_B, cold a and b, ping a -> b, judge the path
	natlab_nat natB "$1" && natlab_flush natA || return 1
	restart a b || return 1
	natlab_capture ab inet p-natA udp || return 1
	first_reply a b || return 1
	on a ping -c 3 -i 0.2 -W 1 "${TIP[b]}" >/dev/null || return 1
	natlab_capture_stop ab
	direct_ab
}

check "lab up (port-restricted on both sides), intro as introducer" \
	eval 'natlab_setup port-restricted port-restricted && confs yes && start intro'
check "a and b registered: intro reports their natA/natB address" eval \
	'restart a b c && [[ $(jget a "[p.get(\"reflexive\") for p in d[\"peers\"] if p.get(\"introducer\")][0]") == ${NL_WAN[natA]}:* ]]'
check "port-restricted <-> port-restricted: a reaches b directly" pair port-restricted
check "port-restricted <-> symmetric: a reaches b directly (peer-reflexive)" pair symmetric

same_lan() {
	first_reply a c || return 1
	local p
	p=$(path_of a c)
	echo "a's path to c: $p"
	[[ $p == "direct ${NL_IP[c]}:"* ]]
}
check "a and c (same LAN): direct on the LAN" same_lan

flush() { # both routers forget every mapping while a pings b
	local t0 t1
	on a ping -c 2 -W 1 "${TIP[b]}" >/dev/null || return 1
	natlab_flush natA && natlab_flush natB || return 1
	t0=$(usec)
	on a ping -i 0.2 -w 40 -c 1 "${TIP[b]}" >/dev/null || return 1
	t1=$(usec)
	echo "# conntrack flush on natA and natB: first reply again after $(((t1 - t0) / 1000)) ms"
}
check "conntrack flush on both routers mid-session: a reaches b again" flush

denied() { # intro may not introduce b: a's packets for b get no session
	local d
	stop intro
	confs no
	start intro || return 1
	restart a b || return 1
	! on a ping -c 1 -i 0.1 -w 3 "${TIP[b]}" >/dev/null || return 1
	[ "$(jget a "[p['session'] for p in d['peers'] if p['peer']=='${ID[b]}'][0]")" = False ] || return 1
	d=$(jget intro "sum(p.get('drops',{}).get('SS_ERR_REACH_DENIED',0) for p in d['peers'])")
	echo "intro: SS_ERR_REACH_DENIED $d"
	[ "$d" -gt 0 ]
}
check "introducer with Introduce = no for b: no session, refusal counted" denied
finish
