#!/usr/bin/env bash
# B changes its key: A refuses the unknown identity (counted, logged with its
# fingerprint) until `silosec set` swaps the peer, then a new handshake succeeds.
source "$(dirname "$0")/lib.sh"
two_nodes udp 4 || exit 1
check "tunnel up with the old key" on a ping -c 2 -i 0.2 -W 2 10.77.0.2

old=${ID[b]}
stop b
rm -f "$TMP/b/node.key"
"$SILOSEC" genkey "$TMP/b/node.key"
new=$("$SILOSEC" pubkey <"$TMP/b/node.key")
start b || exit 1
refused() {
	on b ping -c 3 -i 0.3 -W 1 10.77.0.1 && return 1
	grep "SS_ERR_UNKNOWN_PEER" "$TMP/a/log" | grep -q "$("$SILOSEC" fingerprint "$new")"
}
check "a new, unknown identity is refused and logged" refused
check "silosec set: add the new identity, remove the old" \
	on a "$SILOSEC" set ss0 peer "$new" endpoint 198.51.1.2:51002 allowed-ips 10.77.0.2/32,fd77::2/128 allow any \
	peer "$old" remove
check "new handshake with the new key" wait_for 10 on b ping -c 1 -W 1 10.77.0.1
check "A shows only the new identity" test "$(jget a "[p['peer'] for p in d['peers']]")" = "['$new']"
# Issue 13 finding 7: forgetting a peer's INIT timestamp (a clock that ran ahead) works
# on a live daemon, is logged and audited, and leaves the session up; a later INIT from
# the peer is accepted. An identity that is not a peer is refused and not added.
epoch_above() { [ "$(jget a "d['peers'][0]['epoch']")" -gt "$1" ]; }
reset_ts() {
	local e0
	on a "$SILOSEC" set ss0 peer "$new" reset-timestamp || return 1
	grep '"event":"timestamp_reset"' "$TMP/a/log" | grep -q '"decision":"accept"' &&
		grep -q "SS_TUN_SET: peer .*INIT timestamp [1-9][0-9]* (Unix s) forgotten" "$TMP/a/log" &&
		on b ping -c 1 -W 2 10.77.0.1 || return 1
	e0=$(jget a "d['peers'][0]['epoch']")
	on b "$SILOSEC" set ss0 peer "${ID[a]}" rekey &&
		wait_for 10 epoch_above "$e0"
}
check "reset-timestamp: logged and audited, session kept, next INIT accepted" reset_ts
reset_unknown() {
	local out
	out=$(on a "$SILOSEC" set ss0 peer "$old" reset-timestamp 2>&1) && return 1
	echo "# $out"
	[[ "$out" == *"SS_ERR_NOT_FOUND: no such peer"* ]] && [ "$(jget a "d['peer_count']")" = 1 ]
}
check "reset-timestamp of an unknown identity: a clear error, no peer added" reset_unknown
check "set with a bad identity fails with one clear line" \
	sh -c "! SILOSEC_RUN_DIR=$TMP/a/run ip netns exec ${NS}a $SILOSEC set ss0 peer nope remove 2>&1 | grep -q 'base64 identity'; test \$? -ne 0"
finish
