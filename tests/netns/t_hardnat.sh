#!/usr/bin/env bash
# HARD_NAT (PROTOCOL.md 16.4 item 2, 16.5) on the NAT lab, both NATs symmetric: a and b
# register with two introducers (intro, which is also their relay, and intro2), see two
# different external ports for their one local port, and set HARD_NAT; an introduction
# between two such hosts skips the punch rounds and asks the relay at once. The same
# cold start with intro alone (nothing tells them their NAT maps per destination) punches
# first and reaches the relay only after SS_PUNCH_RELAY_AFTER: both times are printed.
# PRIVATE (16.4 item 5): with Private = yes on b, intro answers a's QUERY with no address
# of b; b is told and calls a, and a reaches b (here through the relay) without ever
# holding an address of b.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/natlab.sh"
declare -A TIP=([intro]=10.99.0.1 [intro2]=10.99.0.5 [a]=10.99.0.2 [b]=10.99.0.3)
I2=$NL_NET.5
setup() {
	natlab_setup symmetric symmetric || return 1
	host intro2
	nl_wire intro2 eth0 inet p-intro2 "$I2/24"
}
check "lab up (natA and natB symmetric), a second introducer intro2" setup

# confs TWO: intro (introducer and relay) and, if TWO = yes, intro2 (introducer)
confs() {
	local h o
	conf_iface intro "${TIP[intro]}/24" 51820
	conf_iface intro2 "${TIP[intro2]}/24" 51825
	for h in a b; do
		o=$([ $h = a ] && echo b || echo a)
		conf_peer intro "${ID[$h]}" "${TIP[$h]}/32" "Introduce = yes" "Relay = serve"
		conf_peer intro2 "${ID[$h]}" "${TIP[$h]}/32" "Introduce = yes"
		conf_iface $h "${TIP[$h]}/24" $([ $h = a ] && echo 51821 || echo 51822)
		[ $h = b ] && [ "${2:-}" = private ] && put "$TMP/b/ss0.conf" "Private = yes"
		conf_peer $h "${ID[intro]}" "${TIP[intro]}/32" "Endpoint = $NL_NET.1:51820" \
			"Introducer = yes" "Relay = yes" "PersistentKeepalive = 25"
		[ "$1" = yes ] && conf_peer $h "${ID[intro2]}" "${TIP[intro2]}/32" \
			"Endpoint = $I2:51825" "Introducer = yes"
		conf_peer $h "${ID[$o]}" "${TIP[$o]}/32" "Allow = any" # no Endpoint
	done
}
hard() { [ "$(jget "$1" "d.get('hard_nat', 'no')")" = yes ]; }
reflexives() { jget "$1" "' '.join(p.get('reflexive', '') for p in d['peers'])"; }
cold() { # TWO [private]: fresh daemons on fresh NAT state, a and b registered
	local h
	for h in a b intro intro2; do [ -n "${PID[$h]:-}" ] && stop "$h"; done
	natlab_flush natA && natlab_flush natB || return 1
	confs "$1" "${2:-}"
	: >"$TMP/a/log"
	start intro && start intro2 && start a && start b || return 1
	for h in a b; do
		wait_for 10 registered $h "$([ "$1" = yes ] && echo 2 || echo 1)" || return 1
	done
}
registered() { [ "$(jget "$1" "sum(1 for p in d['peers'] if p.get('reflexive'))")" -ge "$2" ]; }
MS=()
first_reply() {
	local t0 t1
	t0=$(usec)
	on a ping -c 1 -i 0.05 -w 8 "${TIP[b]}" >/dev/null || return 1
	t1=$(usec)
	MS+=($(((t1 - t0) / 1000)))
	echo "# a -> b first reply after ${MS[-1]} ms ($1)"
}
relayed() { jget a "[p.get('path', '') for p in d['peers'] if p['peer'] == '${ID[b]}'][0]" | grep -q '^relay via'; }

check "two introducers: a and b registered with both" cold yes
check "each sees two external ports for its one local port: HARD_NAT" \
	eval 'echo "# a seen at: $(reflexives a)"; wait_for 5 hard a && wait_for 5 hard b'
check "a reaches b" first_reply "both HARD_NAT: relay at once"
check "through the relay" relayed
check "a skipped the punch rounds (log)" grep -q "both behind hard NATs: relay at once, no punch rounds" "$TMP/a/log"
check "and sent none" sh -c "! grep -q 'SS_TUN_INTRODUCED: .* punching after' '$TMP/a/log'"

check "one introducer: a and b registered" cold no
check "nothing says the NAT maps per destination" eval '! hard a && ! hard b'
check "a reaches b" first_reply "HARD_NAT unknown: punch rounds, then the relay"
check "through the relay" relayed
check "a punched first (log)" grep -q "SS_TUN_INTRODUCED: .* punching after" "$TMP/a/log"
check "knowing HARD_NAT is faster" eval 'echo "# HARD_NAT ${MS[0]} ms, without ${MS[1]} ms"; [ "${MS[0]}" -lt "${MS[1]}" ]'

cands_of_b() { jget a "[' '.join(p.get('candidates', [])) for p in d['peers'] if p['peer'] == '${ID[b]}'][0]"; }
check "b with Private = yes: registered, show says private" \
	eval 'cold no private && test "$(jget b "d.get(\"private\", \"no\")")" = yes'
check "a reaches b" first_reply "b private: b calls a"
check "intro gave a no address of b (log)" grep -q "answer for a private peer: no addresses" "$TMP/a/log"
check "a holds no introducer candidate for b, only the relay's" \
	eval 'c=$(cands_of_b); echo "# a: candidates for b: $c"; [[ $c != *introducer* ]] && [[ $c == *relay* ]]'
finish
