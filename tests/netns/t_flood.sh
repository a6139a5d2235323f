#!/usr/bin/env bash
# Handshake flood: a third host sends initiations that pass mac1 at full speed. The
# responder spends signature checks only within its load budget, then answers with
# cookie replies (no state, no signature work), counts everything, and its real peer
# keeps working: traffic on the session and even a new handshake (through a cookie).
source "$(dirname "$0")/lib.sh"
two_nodes udp 4 || exit 1
host c
veth b c 2
check "tunnel up" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
ip netns exec "${NS}c" python3 "$(dirname "$0")/flood.py" 198.51.2.1 51002 "${ID[b]}" 14 \
	>"$TMP/flood.txt" 2>&1 &
flood=$!
sleep 1
check "traffic continues during the flood" on a ping -c 10 -i 0.2 -W 2 10.77.0.2
epoch() { jget a "d['peers'][0]['epoch']"; }
epoch2() { test "$(epoch)" -ge 2; }
newhs() {
	on a "$SILOSEC" set ss0 peer "${ID[b]}" rekey || return 1
	# The first INIT is answered with a cookie; the retry (after ~5 s) carries mac2.
	wait_for 9 epoch2
	echo "# epoch $(epoch) after the rekey"
	epoch2
}
check "a new handshake completes during the flood (via a cookie)" newhs
wait $flood
cat "$TMP/flood.txt"
stat() { jget b "$1"; }
check "cookie replies were sent under load" test "$(stat "d['cookies_sent']")" -gt 100
check "flood initiations counted as SS_ERR_COOKIE" test "$(stat "d.get('drops', {}).get('SS_ERR_COOKIE', 0)")" -gt 100
check "signature checks stayed within the load budget" sh -c \
	"n=\$(SILOSEC_RUN_DIR=$TMP/b/run ip netns exec ${NS}b $SILOSEC show ss0 --json | python3 -c \"import json,sys; d=json.load(sys.stdin); print(d.get('drops', {}).get('SS_ERR_SIGNATURE', 0))\"); echo \"signature checks: \$n\"; test \$n -le $((64 + 256 * 16))"
check "traffic after the flood" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
finish
