#!/usr/bin/env bash
# Moving a relayed session to a direct path (PROTOCOL.md 16.5, "Upgrade"): a and b behind
# port-restricted NATs, intro their introducer and relay. At first natA drops everything
# to and from natB's address, so punching fails and a and b fall back to the relay; with
# pings flowing through it, the block goes. The session must move to the direct path
# within one SS_UPGRADE_INTERVAL (plus the punch itself and slack), shown by show --json
# and an audit "path" line, with the pings going on across the switch (losses reported).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/natlab.sh"
UPGRADE_INTERVAL=$(awk '/#define SS_UPGRADE_INTERVAL/ { gsub(/[^0-9 ]/, " ", $3); print $3 + 0 }' \
	"$ROOT/include/silosec/wire.h")
PUNCH_GIVE_UP=5 # SS_PUNCH_GIVE_UP_AFTER, s
check "lab up (natA and natB port-restricted)" natlab_setup port-restricted port-restricted

block() {
	on natA nft -f - <<NFT
table ip block {
	chain hold {
		type filter hook forward priority -10;
		ip daddr ${NL_WAN[natB]} counter drop
		ip saddr ${NL_WAN[natB]} counter drop
	}
}
NFT
}
check "natA drops everything to and from natB" block

conf_iface intro 10.78.0.254/24 51999
for h in a b; do
	n=$([ $h = a ] && echo 1 || echo 2)
	conf_peer intro "${ID[$h]}" "10.78.0.$n/32" "Allow = any" "Introduce = yes" "Relay = serve"
	conf_iface $h "10.78.0.$n/24" $((51998 + n))
	conf_peer $h "${ID[intro]}" 10.78.0.254/32 "Allow = any" "Introducer = yes" "Relay = yes" \
		"Endpoint = ${NL_IP[intro]}:51999"
done
conf_peer a "${ID[b]}" 10.78.0.2/32 "Allow = any"
conf_peer b "${ID[a]}" 10.78.0.1/32 "Allow = any"

AUD=$TMP/a/log.d/ss0/audit.jsonl
mkdir -m 0711 "$TMP/a/log.d" && mkdir -m 0700 "$TMP/a/log.d/ss0"
registered() { show "$1" --json | grep -q '"reflexive"'; }
up() {
	start intro && start a --audit "$AUD" && start b &&
		wait_for 10 registered a && wait_for 10 registered b
}
check "intro, a and b up; a and b registered with intro" up

path_b() { jget a "[p.get('path', '') for p in d['peers'] if p['peer'] == '${ID[b]}'][0]"; }
relayed() { path_b | grep -q '^relay via'; }
direct() { path_b | grep -q "^direct ${NL_WAN[natB]}:"; }
PING=$TMP/ping.txt
# Not through on(): a background subshell ignores SIGINT, ping itself handles it.
ip netns exec "$NS"a ping -D -O -i 0.2 -W 1 10.78.0.2 >"$PING" 2>&1 &
PING_PID=$!
BG+=("$PING_PID")
T_RELAY=0
through_relay() {
	wait_for 20 relayed || { path_b; return 1; }
	T_RELAY=$(usec)
	echo "# path at a: $(path_b)"
	grep '"event":"path"' "$AUD" | grep -q 'relay via'
}
check "punching fails (blocked): a reaches b through the relay; audit path line" through_relay

# The first attempt's rounds run SS_PUNCH_GIVE_UP_AFTER from its start (before the relay
# was used): unblocking after that, only an upgrade can find the direct path.
attempt_over() { [ $(($(usec) - T_RELAY)) -ge $((PUNCH_GIVE_UP * 1000000)) ]; }
T_OPEN=0
unblock() {
	wait_for $((PUNCH_GIVE_UP + 1)) attempt_over || return 1
	relayed || { echo "# no longer relayed: $(path_b)"; return 1; }
	echo "# dropped at natA while blocked: $(on natA nft list table ip block | grep -o 'packets [0-9]*' | tr '\n' ' ')"
	on natA nft delete table ip block || return 1
	T_OPEN=$(usec)
}
check "the block goes after the first punch attempt ended, the session still relayed" unblock

moved() {
	local t
	wait_for $((UPGRADE_INTERVAL + 10)) direct || { echo "# path at a: $(path_b)"; return 1; }
	t=$(usec)
	echo "# direct $(((t - T_OPEN) / 1000)) ms after the block went ($(((t - T_RELAY) / 1000)) ms after the relayed path; SS_UPGRADE_INTERVAL $UPGRADE_INTERVAL s): $(path_b)"
	grep '"event":"path"' "$AUD" | grep -v 'relay via' | grep -q "path ${NL_WAN[natB]}:" || {
		echo "# no audit line for the direct path"
		return 1
	}
}
check "the session moves to direct within SS_UPGRADE_INTERVAL + 10 s; audit path line" moved

# A few more pings on the direct path, then the tally across the whole run.
after() {
	local n0
	n0=$(grep -c 'bytes from' "$PING")
	wait_for 5 eval "[ \$(grep -c 'bytes from' '$PING') -ge $((n0 + 10)) ]" || return 1
	kill -INT "$PING_PID"
	wait "$PING_PID"
	local sent got
	sent=$(grep -o '^[0-9]* packets transmitted' "$PING" | cut -d' ' -f1)
	got=$(grep -o '[0-9]* received' "$PING" | cut -d' ' -f1)
	echo "# pings every 0.2 s across the switch: $sent sent, $got answered, $((sent - got)) lost"
	echo "# answered late (after 1 s, while the first handshake ran): $(grep -c 'no answer yet' "$PING")"
	# Losses only around the fallback at the start and the switch: at most 5 % in all.
	[ "$got" -gt 0 ] && [ $(((sent - got) * 100)) -le $((sent * 5)) ]
}
check "pings continue on the direct path; losses across the switch counted" after
finish
