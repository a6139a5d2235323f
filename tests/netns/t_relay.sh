#!/usr/bin/env bash
# Relays (PROTOCOL.md 16.7, 16.8) on the NAT lab with two symmetric NATs, where no direct
# path exists: a and b reach each other through intro (Relay = serve for both), which
# carries only ciphertext; a relay hop that alters a datagram is dropped and counted at
# the end host; an end host refuses a circuit from a requester it does not know (c does
# not have a as a peer). Prints the first reply and TCP through the relay against the
# direct tunnel a-intro on the same lab.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/natlab.sh"
R=$NL_NET.1
check "lab up (natA and natB symmetric)" natlab_setup symmetric symmetric

conf_iface intro 10.77.0.254/24 51999 "Policy = allow"
for h in a b c; do
	n=$(case $h in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac)
	conf_peer intro "${ID[$h]}" "10.77.0.$n/32" "Relay = serve"
	conf_iface $h "10.77.0.$n/24" $((51998 + n)) "Policy = allow"
	conf_peer $h "${ID[intro]}" 10.77.0.254/32 "Endpoint = $R:51999" "Relay = yes" \
		"PersistentKeepalive = 25"
done
conf_peer a "${ID[b]}" 10.77.0.2/32
conf_peer a "${ID[c]}" 10.77.0.3/32
conf_peer b "${ID[a]}" 10.77.0.1/32 # c has no peer a: it must refuse a's circuit

hop_sessions() { [ "$(jget intro "sum(p['session'] for p in d['peers'])")" = 3 ]; }
# a's audit trail records its path changes (a log directory as the unit makes it).
AUD=$TMP/a/log.d/ss0/audit.jsonl
mkdir -m 0711 "$TMP/a/log.d" && mkdir -m 0700 "$TMP/a/log.d/ss0"
up() { start intro && start a --audit "$AUD" && start b && start c && wait_for 10 hop_sessions; }
check "relay and three hosts up; each has its hop session" up

first_reply() {
	local t0 t1
	t0=$(usec)
	on a ping -c 1 -W 5 10.77.0.2 >/dev/null || on a ping -c 1 -W 5 10.77.0.2 || return 1
	t1=$(usec)
	echo "# first reply through the relay (cold): $(((t1 - t0) / 1000)) ms"
}
check "a reaches b through the relay (symmetric NATs on both sides)" first_reply
check "pings both ways" eval 'on a ping -c 3 -i 0.2 -W 2 10.77.0.2 && on b ping -c 3 -i 0.2 -W 2 10.77.0.1'

path() {
	show a | grep "path: relay via" || return 1
	jget a "[p['path'] for p in d['peers'] if p['peer'] == '${ID[b]}'][0]" | grep '^relay via' || return 1
	jget intro "d['relay_circuits']" | grep '^[1-9]' || return 1
	grep '"event":"path"' "$AUD" | grep 'relay via'
}
check "show: path relay via intro at a, circuits at the relay; audit line for the path" path

tcp_rate() { # FROM TO PORT: TCP bits per second received
	iperf_server "${2%%:*}" "$3" >/dev/null || return 1
	on "$1" iperf3 -c "${2#*:}" -p "$3" -t 2 -J >"$TMP/iperf.json" || return 1
	python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' "$TMP/iperf.json"
}
# Two runs of each, interleaved, the better one kept: the CPUs are shared with other work.
tcp() {
	local direct=0 relayed=0 r k
	for k in 1 2; do
		r=$(tcp_rate a intro:10.77.0.254 $((5300 + k))) || return 1
		[ "$r" -gt "$direct" ] && direct=$r
		r=$(tcp_rate a b:10.77.0.2 $((5310 + k))) || return 1
		[ "$r" -gt "$relayed" ] && relayed=$r
	done
	echo "# TCP direct (a-intro) $((direct / 1000000)) Mbit/s, through the relay (a-intro-b) $((relayed / 1000000)) Mbit/s, ratio $(python3 -c "print(f'{$relayed / $direct:.2f}')")"
	[ "$relayed" -gt 0 ]
}
check "TCP through the relay (iperf3)" tcp

CANARY=SILOSEC-RELAY-CANARY-5f1c2
plaintext() {
	printf "%s" "$(printf "$CANARY%.0s" {1..20})" >"$TMP/canary"
	natlab_capture relay inet p-intro udp || return 1
	natlab_capture inner b ss0 udp || return 1
	for _ in 1 2 3 4 5; do send_udp a 10.77.0.2 9999 "$TMP/canary"; done
	wait_for 5 sh -c "tcpdump -r '$TMP/inner.pcap' -nn -A 2>/dev/null | grep -q $CANARY"
	local seen=$?
	natlab_capture_stop relay
	natlab_capture_stop inner
	local at_relay
	at_relay=$(tcpdump -r "$TMP/relay.pcap" -nn -A 2>/dev/null | grep -c "$CANARY")
	echo "# canary inside b's tunnel: $([ $seen = 0 ] && echo yes || echo no); in $(natlab_count relay udp) packets at the relay's port: $at_relay"
	[ $seen = 0 ] && [ "$at_relay" = 0 ] && [ "$(natlab_count relay udp)" -gt 0 ]
}
check "a capture at the relay shows no plaintext (the canary reaches b)" plaintext

# The relay host alters type-8 datagrams it sends towards natB (a byte of the sealed part,
# UDP checksum cleared so the kernel delivers them): b drops them, counted against intro.
drops_at_b() {
	jget b "sum(v for p in d['peers'] if p['peer'] == '${ID[intro]}' for k, v in p.get('drops', {}).items() if k == 'SS_ERR_DECRYPT')"
}
flip() {
	local before after
	before=$(drops_at_b)
	on intro nft -f - <<NFT || return 1
table ip flip {
	chain out {
		type filter hook output priority 0;
		ip daddr ${NL_WAN[natB]} udp sport 51999 @th,64,8 0x08 @th,48,16 set 0 @th,320,8 set 0x5a
	}
}
NFT
	on a ping -c 3 -i 0.2 -W 1 10.77.0.2 && { on intro nft delete table ip flip; return 1; }
	on intro nft delete table ip flip
	after=$(drops_at_b)
	echo "# SS_ERR_DECRYPT at b from the relay hop: $before -> $after"
	[ "$after" -ge $((before + 3)) ] || return 1
	on a ping -c 2 -i 0.2 -W 2 10.77.0.2
}
check "datagrams altered on the relay hop are dropped and counted at b; traffic resumes" flip

refused() {
	on a ping -c 2 -i 0.5 -W 1 10.77.0.3 && return 1
	local n
	n=$(jget c "sum(p.get('drops', {}).get('SS_ERR_REACH_DENIED', 0) for p in d['peers'])")
	echo "# SS_ERR_REACH_DENIED at c: $n"
	[ "$n" -ge 1 ] && ! jget a "[p.get('path', '') for p in d['peers'] if p['peer'] == '${ID[c]}'][0]" | grep -q relay
}
check "c refuses a circuit from a, not one of its peers (no path, counted)" refused
finish
