#!/usr/bin/env bash
# Identity capabilities: B may reach only tcp 22 on A. Everything else B sends is dropped,
# counted as SS_ERR_CAP_DENIED against B, shown with B's rules and the last denied flow,
# and audited; replies to connections A opens pass through the connection tracker.
# Then Policy decides for a peer without Allow: deny (default, with a startup warning)
# or allow (WireGuard-compatible).
source "$(dirname "$0")/lib.sh"
host a
host b
veth a b 1
aconf() { # PEER_LINE [IFACE_LINE]
	conf_iface a "10.77.0.1/24, fd77::1/64" 51001 ${2:+"$2"}
	conf_peer a "${ID[b]}" "10.77.0.2/32, fd77::2/128" "Endpoint = 198.51.1.2:51002" ${1:+"$1"}
}
aconf "Allow = tcp 22"
conf_iface b "10.77.0.2/24, fd77::2/64" 51002
conf_peer b "${ID[a]}" "10.77.0.1/32, fd77::1/128" "Endpoint = 198.51.1.1:51001" "Allow = any"
start a && start b || exit 1
tcp_listen a 22
tcp_listen a 80
tcp_listen b 8080

check "B reaches tcp 22 on A (Allow = tcp 22)" wait_for 10 tcp_probe b 10.77.0.1 22
check "B reaches tcp 22 on A over IPv6 inside" tcp_probe b fd77::1 22
denied() { # PORT: connecting must fail
	! tcp_probe b 10.77.0.1 "$1" 1.5
}
check "B does not reach tcp 80 on A (not granted)" denied 80
check "B's ping to A is dropped (no icmp rule)" sh -c "! ip netns exec ${NS}b ping -c 2 -i 0.3 -W 1 10.77.0.1"
cap_denied() { jget a "d['peers'][0]['drops'].get('SS_ERR_CAP_DENIED', 0)"; }
check "denials are counted as SS_ERR_CAP_DENIED on B" test "$(cap_denied)" -ge 3
check "JSON lists B's rules" test "$(jget a "d['peers'][0]['allow']")" = "['tcp 22']"
human() {
	show a >"$TMP/show.txt"
	cat "$TMP/show.txt"
	grep -q "allow: tcp 22" "$TMP/show.txt" &&
		grep -q "dropped: .*SS_ERR_CAP_DENIED:" "$TMP/show.txt" &&
		grep -Eq "last denied: (icmp type 8 10.77.0.2 -> 10.77.0.1|tcp 10.77.0.2:[0-9]+ -> 10.77.0.1:80)" "$TMP/show.txt"
}
check "silosec show names the rule, the counter and the last denied flow" human
audit_denied() {
	grep '"event":"cap_denied"' "$TMP/a/log" | grep '"code":"SS_ERR_CAP_DENIED"' | grep -q "$("$SILOSEC" fingerprint "${ID[b]}" | cut -c1-8)"
}
check "an audit line for the denial, with B's fingerprint" audit_denied

# A opens connections: the replies come back although B has no rule for them.
check "A pings B: echo replies pass via the connection tracker" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
check "A connects to tcp 8080 on B: the replies pass" tcp_probe a 10.77.0.2 8080
check "and over IPv6 inside" tcp_probe a fd77::2 8080
check "A tracks those connections for B" test "$(jget a "d['peers'][0]['conntrack']")" -ge 1
check "B's own pings are still refused" sh -c "! ip netns exec ${NS}b ping -c 1 -W 1 10.77.0.1"

# No Allow, default Policy (deny): B reaches nothing; a warning names the peer.
aconf ""
reload a
check "without Allow (Policy = deny) tcp 22 is refused too" denied 22
check "a warning names the peer that reaches nothing" grep -q "SS_ERR_CAP_DENIED: peer .* has no Allow and Policy = deny" "$TMP/a/log"
says_nothing() { show a | grep -q 'allow: nothing (no Allow, Policy = deny)'; }
check "show says so" says_nothing
check "replies to A's connections still pass" tcp_probe a 10.77.0.2 8080
# Policy = allow: a peer without Allow reaches everything (WireGuard-compatible).
aconf "" "Policy = allow"
reload a
check "Policy = allow: B without Allow reaches tcp 80" wait_for 5 tcp_probe b 10.77.0.1 80
check "Policy = allow: B pings A" on b ping -c 2 -i 0.2 -W 2 10.77.0.1
check "show says policy allow" test "$(jget a "d['policy'], d['peers'][0]['access']")" = "allow all"
# Allow = none locks a peer out even under Policy = allow.
aconf "Allow = none" "Policy = allow"
reload a
check "Allow = none refuses B under Policy = allow" denied 22
finish
