#!/usr/bin/env bash
# Run the network-namespace suite; each script prints "ok"/"not ok" lines and a
# "checks: P passed, F failed" tally. Needs root. SS_BUILD picks the build directory.
# Ends with "netns: P passed, F failed".
set -uo pipefail
cd "$(dirname "$0")"
passed=0 failed=0
# NETNS_RETRY=1 (the default): a script with failed checks runs once more and the second
# run counts. The first run's "not ok" lines stay in the output, marked as retried: these
# end-to-end timings share two cores with whatever else runs, and one slow handshake must
# not hide the other 450 checks. NETNS_RETRY=0 counts the first run.
run_once() { # SCRIPT ARGS... (sets p and f)
	local out rc
	out=$(timeout 600 "./$1" "${@:2}" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^(not ok|#|  #|    [|] )' | sed "s|^|$1 ${*:2}: |"
	p=$(printf '%s\n' "$out" | awk '/^checks:/ {print $2}')
	f=$(printf '%s\n' "$out" | awk '/^checks:/ {print $4}')
	if [ -z "$p" ]; then
		echo "$1 ${*:2}: no result (exit $rc)"
		printf '%s\n' "$out" | tail -20
		p=0 f=1
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
}
run() { # SCRIPT ARGS...
	local p f
	run_once "$@"
	if [ "$f" -ne 0 ] && [ "${NETNS_RETRY:-1}" -ne 0 ]; then
		echo "$1 ${*:2}: # retried: $p passed, $f failed on the first run (lines above)"
		run_once "$@"
	fi
	echo "$1 ${*:2}: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
}
if [ $# -gt 0 ]; then
	run "$@"
else
	run t_basic.sh udp 4
	run t_fulltunnel.sh
	run t_basic.sh udp 6
	run t_basic.sh ip 4
	run t_basic.sh ip 6
	run t_basic.sh udp 4 ring
	run t_basic.sh ip 6 ring
	run t_three.sh
	run t_keychange.sh
	run t_roaming.sh
	run t_roaming.sh 6
	run t_tofu.sh
	run t_inject.sh
	run t_capture.sh
	run t_flood.sh
	run t_spoof.sh
	run t_reload.sh
	run t_stream.sh
	run t_knock.sh
	run t_allow.sh
	run t_grant.sh
	run t_ops.sh
	run t_bounds.sh
	run t_sandbox.sh
	run t_lan.sh
	run t_audit.sh
	run t_scale.sh
	run t_rekey.sh
	run t_natlab.sh
	run t_relay.sh
	run t_hardnat.sh
	run t_upgrade.sh
	run t_reach.sh
	run t_natpairs.sh
	run t_metrics.sh
fi
echo "netns: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
