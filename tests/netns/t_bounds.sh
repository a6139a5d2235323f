#!/usr/bin/env bash
# Per-peer resource bounds (invariant 11), connection tracking: hub A talks to B and C.
# A opens far more flows to B than B's budget (ConntrackPerPeer = 32): B's table stops at
# 32 entries, the rest is counted as SS_ERR_CT_FULL and audited, and replies to untracked
# flows are refused (fail secure). C's budget is untouched: A's ping and TCP to C still
# get their replies, and C's own allowed traffic still flows.
source "$(dirname "$0")/lib.sh"
hub_nodes "tcp 22" "tcp 22" "ConntrackPerPeer = 32" || exit 1
tcp_listen a 22
tcp_listen b 8080
tcp_listen c 8080
peer() { # HOST FIELD-EXPR
	jget a "[p for p in d['peers'] if p['peer'] == '${ID[$1]}'][0]$2"
}
check "A reaches B (reply tracked)" wait_for 10 tcp_probe a 10.77.0.2 8080
check "A reaches C (reply tracked)" wait_for 10 tcp_probe a 10.77.0.3 8080
check "budget shown: 32 per peer" test "$(peer b "['conntrack_budget']")" = 32

flood() { # 200 UDP flows from A to B, distinct destination ports
	on a python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in range(20000, 20200):
    s.sendto(b"x", ("10.77.0.2", p))
'
}
check "A opens 200 UDP flows to B" flood
# The flood has been counted: B's table full, the rest refused.
settled() { [ "$(peer b "['drops'].get('SS_ERR_CT_FULL', 0)")" -ge 150 ]; }
wait_for 5 settled
check "B's tracked flows stop at its budget (32)" test "$(peer b "['conntrack']")" = 32
check "the overflow is counted as SS_ERR_CT_FULL on B" test "$(peer b "['drops'].get('SS_ERR_CT_FULL', 0)")" -ge 150
check "an audit line says so" sh -c "grep '\"event\":\"conntrack\"' $TMP/a/log | grep -q SS_ERR_CT_FULL"
no_reply() {
	# Flood again first: on a slow machine an earlier flow may have expired meanwhile
	# and left a free slot; the budget must be spent when the connection is tried.
	flood && ! tcp_probe a 10.77.0.2 8080 1.5
}
check "fail secure: a new connection to B gets no reply past the budget" no_reply
check "C is unaffected: A's ping gets C's replies" on a ping -c 3 -i 0.2 -W 2 10.77.0.3
check "C is unaffected: A's new TCP connection to C" tcp_probe a 10.77.0.3 8080
check "C is unaffected: C reaches its allowed tcp 22 on A" tcp_probe c 10.77.0.1 22
check "C's table holds only C's flows" test "$(peer c "['conntrack']")" -le 8
check "B's own allowed traffic still flows (rules need no tracking)" tcp_probe b 10.77.0.1 22
finish
