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
check "set with a bad identity fails with one clear line" \
	sh -c "! SILOSEC_RUN_DIR=$TMP/a/run ip netns exec ${NS}a $SILOSEC set ss0 peer nope remove 2>&1 | grep -q 'base64 identity'; test \$? -ne 0"
finish
