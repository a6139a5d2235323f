#!/usr/bin/env bash
# Every pair of the NAT lab's types (natlab.sh; PROTOCOL.md 16.5, issue 14 item 9 and its
# targets): natA and natB each full-cone, restricted, port-restricted or symmetric, the 10
# unordered pairs. intro is both hosts' introducer and relay (Relay = yes, so the fallback
# exists); a (behind natA) and b (behind natB) know no address of each other. Per case:
# cold daemons registered with intro, then the initiator pings the other side; reached,
# the path each side's `silosec show --json` settles on (direct or relay), and the time
# from the first packet to the first reply, printed as "# PAIR (X first): PATH, first
# reply N ms" (the README's table reads these lines).
#
# Expected: direct for every pair except
#   symmetric <-> symmetric: both mappings are per destination, nobody can predict a port;
#   port-restricted <-> symmetric: the port-restricted filter admits only the exact
#     address and port its host sent to, and the symmetric side's port towards it is a
#     fresh random one; opening it would take port guessing (birthday probing), which
#     SiloSec does not do (PROTOCOL.md 16.5), nor Nebula, nor Tailscale without it.
# Both of these must reach each other through the relay. The cone types (full-cone,
# restricted) reach a symmetric NAT directly through a peer-reflexive candidate: the
# symmetric side's INIT arrives from a mapping nobody predicted and the answer goes back
# through it.
#
# The first reply is asserted loosely (FIRST_REPLY_MAX, 10 s): the issue's target is
# 1.5 s, but the CI machine is shared; the measured times are printed.
#
# Directions: NATPAIRS_FULL=1 runs each pair twice, a first and b first, on fresh daemons
# (20 cases, 3 to 4 minutes on a loaded 2-core machine); the default (CI, run.sh) runs
# each pair once, the initiator alternating with the pair so that both directions of
# cone <-> symmetric are covered (10 cases, about 2 minutes with the idle case).
#
# Last, an idle peer behind a port-restricted NAT: a reaches b, both stay silent until the
# routers have forgotten the a <-> b mapping (the lab's NL_UDP_TIMEOUT; registration with
# intro keeps the intro mapping, and there is no PersistentKeepalive between a and b),
# then b sends first: it must reach a again, through a new introduction.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/natlab.sh"
declare -A TIP=([intro]=10.99.0.1 [a]=10.99.0.2 [b]=10.99.0.3)
declare -A PORT=([intro]=51820 [a]=51821 [b]=51822)
INTRO_EP=${NL_WAN[intro]}:${PORT[intro]}
FIRST_REPLY_MAX=${FIRST_REPLY_MAX:-10}
FULL=${NATPAIRS_FULL:-0}

confs() {
	local h o
	conf_iface intro "${TIP[intro]}/24" "${PORT[intro]}"
	for h in a b; do
		o=$([ $h = a ] && echo b || echo a)
		conf_peer intro "${ID[$h]}" "${TIP[$h]}/32" "Allow = any" "Introduce = yes" \
			"Relay = serve"
		conf_iface $h "${TIP[$h]}/24" "${PORT[$h]}"
		conf_peer $h "${ID[intro]}" "${TIP[intro]}/32" "Endpoint = $INTRO_EP" \
			"Introducer = yes" "Relay = yes" "Allow = any"
		conf_peer $h "${ID[$o]}" "${TIP[$o]}/32" "Allow = any"
	done
}
registered() { show "$1" --json | grep -q '"reflexive"'; }
# cold TYPE_A TYPE_B: stop every daemon (a running one would make new mappings at once,
# and natlab_flush insists on an empty table), natA and natB as given, daemons started
# again; returns once a and b are registered with intro
cold() {
	local h
	for h in intro a b; do [ -n "${PID[$h]:-}" ] && stop "$h"; done
	natlab_nat natA "$1" && natlab_nat natB "$2" ||
		{ echo "natlab_nat $1 $2 failed"; return 1; }
	for h in intro a b; do
		# Logs are kept whole (finish looks for sanitizer reports): count from here.
		GAVE_UP0[$h]=$(count "$TMP/$h/log" "$GAVE_UP")
		start "$h" || return 1
	done
	wait_for 5 registered a && wait_for 5 registered b
}
# path_of HOST PEER: the path HOST's show reports for PEER ("" without a session). Not
# lib.sh's jget: "python3" on PATH may be a version manager's shim, a second a start.
path_of() {
	show "$1" --json | "$NL_PY" -c "import json,sys
print([p.get('path','') for p in json.load(sys.stdin)['peers'] if p['peer']==sys.argv[1]][0])" "${ID[$2]}"
}
is_path() { # HOST PEER direct|relay
	case $3 in
	direct) [[ $(path_of "$1" "$2") == "direct ${NL_WAN[${NL_ROUTER[$2]}]}:"* ]] ;;
	relay) [[ $(path_of "$1" "$2") == "relay via"* ]] ;;
	esac
}
paths() { echo "paths now: $1 -> $2: $(path_of "$1" "$2"); $2 -> $1: $(path_of "$2" "$1")"; }
GAVE_UP="SS_TUN_PUNCH: no direct path"
declare -A GAVE_UP0
gave_up() { more_than "${GAVE_UP0[$1]}" "$TMP/$1/log" "$GAVE_UP"; } # since cold
other() { [ "$1" = a ] && echo b || echo a; }

# expect TYPE_A TYPE_B: the path the two NAT types must end on
expect() {
	case "$1 $2" in
	"symmetric symmetric" | "port-restricted symmetric" | "symmetric port-restricted")
		echo relay ;;
	*) echo direct ;;
	esac
}

# pair TYPE_A TYPE_B FROM: natA as TYPE_A, natB as TYPE_B (both flushed), cold daemons,
# FROM pings the other host; first reply, then the settled path on both sides
pair() {
	local ta=$1 tb=$2 from=$3 to want t0 t1 ms p0
	to=$(other "$from")
	want=$(expect "$ta" "$tb")
	cold "$ta" "$tb" || return 1
	t0=$(usec)
	on "$from" ping -c 1 -i 0.05 -w "$FIRST_REPLY_MAX" "${TIP[$to]}" >/dev/null ||
		{ echo "no reply within $FIRST_REPLY_MAX s"; return 1; }
	t1=$(usec)
	ms=$(((t1 - t0) / 1000))
	p0=$(path_of "$from" "$to")
	echo "first reply after $ms ms, $from's path then: ${p0:-none}"
	if [ "$want" = direct ]; then
		# A relayed first reply may come before the punch; the direct session replaces
		# it within the attempt (SS_PUNCH_GIVE_UP_AFTER, 5 s).
		wait_for 8 is_path "$from" "$to" direct && wait_for 8 is_path "$to" "$from" direct ||
			{ paths "$from" "$to"; return 1; }
	else
		# Both attempts end without a direct session; the relay carries the session.
		wait_for 8 gave_up "$from" && wait_for 8 gave_up "$to" || return 1
		is_path "$from" "$to" relay && is_path "$to" "$from" relay ||
			{ paths "$from" "$to"; return 1; }
	fi
	on "$from" ping -c 2 -i 0.2 -W 2 "${TIP[$to]}" >/dev/null &&
		on "$to" ping -c 2 -i 0.2 -W 2 "${TIP[$from]}" >/dev/null ||
		{ echo "pings both ways on the settled path failed"; paths "$from" "$to"; return 1; }
	[[ $want == direct && $p0 == relay* ]] && ms="$ms ms (through the relay, then direct)" ||
		ms="$ms ms"
	echo "# $ta <-> $tb ($from first): $want, first reply $ms"
	CASES=$((CASES + 1))
	[ "$(((t1 - t0) / 1000))" -le 1500 ] && MET=$((MET + 1))
	return 0
}
CASES=0 MET=0

check "lab up, intro as introducer and relay of a and b" \
	eval 'natlab_setup full-cone full-cone && confs'

set -- $NL_TYPES
types=("$@")
k=0
for ((i = 0; i < ${#types[@]}; i++)); do
	for ((j = i; j < ${#types[@]}; j++)); do
		ta=${types[$i]} tb=${types[$j]}
		if [ "$FULL" = 1 ]; then
			froms="a b"
		else
			froms=$([ $((k % 2)) = 0 ] && echo a || echo b)
		fi
		for f in $froms; do
			check "$ta <-> $tb, $f first: reached, $(expect "$ta" "$tb")" pair "$ta" "$tb" "$f"
		done
		k=$((k + 1))
	done
done

echo "# first reply within the 1.5 s target in $MET of $CASES cases reached"

# mapping_gone ROUTER PEER_WAN: ROUTER's conntrack has no UDP entry with PEER_WAN
ANSWERED="SS_TUN_INTRODUCED: answer"
mapping_gone() { ! on "$1" conntrack -L -p udp 2>/dev/null | grep -q "=$2 "; }
idle() {
	local t0 t1 n
	cold port-restricted port-restricted || return 1
	on a ping -c 1 -i 0.05 -w "$FIRST_REPLY_MAX" "${TIP[b]}" >/dev/null || return 1
	wait_for 8 is_path a b direct || return 1
	# Idle: the routers' UDP timeout is the wait (conntrack entries are forgotten then).
	wait_for $((NL_UDP_TIMEOUT + 15)) mapping_gone natA "${NL_WAN[natB]}" &&
		wait_for 5 mapping_gone natB "${NL_WAN[natA]}" || return 1
	registered a && registered b || return 1
	n=$(count "$TMP/b/log" "$ANSWERED")
	t0=$(usec)
	on b ping -c 1 -i 0.05 -w "$FIRST_REPLY_MAX" "${TIP[a]}" >/dev/null ||
		{ echo "b cannot reach a after the idle period"; return 1; }
	t1=$(usec)
	wait_for 8 is_path b a direct || return 1
	# b asked intro (an ANSWER came back): a's old mapping was gone, a new punch made one.
	more_than "$n" "$TMP/b/log" "$ANSWERED" || { echo "b was not introduced to a again"; return 1; }
	echo "# idle past the UDP timeout (${NL_UDP_TIMEOUT} s), then b first: $(path_of b a), first reply $(((t1 - t0) / 1000)) ms"
}
check "port-restricted <-> port-restricted idle past the NAT timeout, then the other side first" idle
finish
