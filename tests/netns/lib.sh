#!/usr/bin/env bash
# Shared helpers for the network-namespace tests and the demo: hosts, links, keys,
# configs and daemons, all removed again on exit.
# shellcheck disable=SC2034
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${SS_BUILD:-$ROOT/build}
SILOSEC=$BUILD/src/cli/silosec
SILOSECD=$BUILD/src/tunnel/silosecd
NS=ss$$-        # namespace prefix, unique per run
TMP=$(mktemp -d /tmp/silosec-netns.XXXXXX)
declare -A ID PID
HOSTS=()

BG=() # helper processes (listeners) killed on exit

cleanup() {
	local h
	for h in "${BG[@]}"; do kill "$h" 2>/dev/null; done
	for h in "${!PID[@]}"; do kill "${PID[$h]}" 2>/dev/null; done
	wait 2>/dev/null
	for h in "${HOSTS[@]}"; do ip netns del "$NS$h" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# on HOST CMD...: run in the host's namespace, with the host's control-socket directory.
on() {
	local h=$1
	shift
	SILOSEC_RUN_DIR=$TMP/$h/run ip netns exec "$NS$h" "$@"
}

host() { # NAME
	ip netns add "$NS$1"
	ip -n "$NS$1" link set lo up
	mkdir -p "$TMP/$1/run"
	HOSTS+=("$1")
	umask 077
	"$SILOSEC" genkey "$TMP/$1/node.key"
	ID[$1]=$("$SILOSEC" pubkey < "$TMP/$1/node.key")
}

# veth A B N: veth between A and B on 192.0.2.0/24-like subnets 198.51.N.0/24 and fd00:N::/64.
veth() {
	local a=$1 b=$2 n=$3
	ip link add "v$n-$a" netns "$NS$a" type veth peer name "v$n-$b" netns "$NS$b"
	ip -n "$NS$a" addr add "198.51.$n.1/24" dev "v$n-$a"
	ip -n "$NS$b" addr add "198.51.$n.2/24" dev "v$n-$b"
	ip -n "$NS$a" addr add "fd00:$n::1/64" dev "v$n-$a" nodad
	ip -n "$NS$b" addr add "fd00:$n::2/64" dev "v$n-$b" nodad
	ip -n "$NS$a" link set "v$n-$a" up
	ip -n "$NS$b" link set "v$n-$b" up
}

# conf HOST TEXT: write the host's ss0.conf
conf() {
	printf '%s\n' "$2" > "$TMP/$1/ss0.conf"
}

start() { # HOST [extra silosecd args]
	local h=$1
	shift
	# A socket left by an earlier daemon (a sandboxed one cannot always unlink it)
	# would make the wait below return before this daemon is up.
	rm -f "$TMP/$h/run/ss0.sock"
	SILOSEC_RUN_DIR=$TMP/$h/run ip netns exec "$NS$h" \
		"$SILOSECD" -f -c "$TMP/$h/ss0.conf" ${SS_SILOSECD_ARGS:-} "$@" 2>>"$TMP/$h/log" &
	PID[$h]=$!
	local i
	for i in $(seq 50); do
		[ -S "$TMP/$h/run/ss0.sock" ] && return 0
		kill -0 "${PID[$h]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "silosecd on $h did not start:" >&2
	cat "$TMP/$h/log" >&2
	return 1
}

stop() { # HOST
	kill "${PID[$1]}" 2>/dev/null
	wait "${PID[$1]}" 2>/dev/null
	unset "PID[$1]"
}

show() { # HOST [args]
	local h=$1
	shift
	on "$h" "$SILOSEC" show ss0 "$@"
}

# jget HOST EXPR: a value from `silosec show --json` (python3 expression on `d`)
jget() {
	show "$1" --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"
}

# ---- checks: each prints "ok - ..." or "not ok - ..."; finish prints the tally ----
PASS=0 FAIL=0
check() { # DESCRIPTION CMD...
	local desc=$1
	shift
	if "$@" >"$TMP/check.log" 2>&1; then
		echo "ok - $desc"
		grep '^# ' "$TMP/check.log" | sed 's/^/  /'
		PASS=$((PASS + 1))
	else
		echo "not ok - $desc"
		FAIL=$((FAIL + 1))
		sed 's/^/    | /' "$TMP/check.log" | tail -15
		local h
		for h in "${HOSTS[@]}"; do
			[ -f "$TMP/$h/log" ] && sed "s/^/    $h: /" "$TMP/$h/log" | tail -8
		done
	fi
}

# Daemons stop cleanly on SIGTERM; under ASan/UBSan their reports land in the logs.
clean_exit() {
	local h bad=0
	for h in "${!PID[@]}"; do
		kill "${PID[$h]}" 2>/dev/null
		wait "${PID[$h]}" || { echo "silosecd on $h exited with $?"; bad=1; }
		unset "PID[$h]"
	done
	! grep -l -E "Sanitizer|runtime error:" "$TMP"/*/log 2>/dev/null && [ $bad -eq 0 ]
}

finish() {
	check "daemons exit cleanly, no sanitizer reports" clean_exit
	echo "checks: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

# two_nodes [udp|ip] [4|6]: hosts a and b on one veth, tunnel 10.77.0.0/24 + fd77::/64.
# Each side lets the other reach everything ($TWO_NODES_ALLOW, default "any"): these
# tests exercise the data path; t_allow.sh and t_grant.sh test the capability rules.
# hub_nodes ALLOW_B ALLOW_C [HUB_EXTRA]: hub A with spokes B (link 1) and C (link 2),
# A's Allow rules for B and C as given, extra [Interface] lines for A; the spokes route
# 10.77.0.0/24 through A and allow it anything. Starts all three.
hub_nodes() {
	local h n l
	host a
	host b
	host c
	veth a b 1
	veth a c 2
	conf a "[Interface]
PrivateKeyFile = node.key
Address = 10.77.0.1/24
ListenPort = 51001${3:+
$3}
[Peer]
Identity = ${ID[b]}
Endpoint = 198.51.1.2:51002
AllowedIPs = 10.77.0.2/32
Allow = $1
[Peer]
Identity = ${ID[c]}
Endpoint = 198.51.2.2:51003
AllowedIPs = 10.77.0.3/32
Allow = $2"
	for h in b c; do
		n=$([ $h = b ] && echo 2 || echo 3)
		l=$([ $h = b ] && echo 1 || echo 2)
		conf $h "[Interface]
PrivateKeyFile = node.key
Address = 10.77.0.$n/24
ListenPort = 5100$n
[Peer]
Identity = ${ID[a]}
Endpoint = 198.51.$l.1:51001
AllowedIPs = 10.77.0.0/24
Allow = any"
	done
	start a && start b && start c
}

two_nodes() {
	local tr=${1:-udp} fam=${2:-4} ea=198.51.1.1:51001 eb=198.51.1.2:51002
	local allow=${TWO_NODES_ALLOW:-any} # TWO_NODES_IFACE: more [Interface] lines
	if [ "$fam" = 6 ]; then
		ea="[fd00:1::1]:51001"
		eb="[fd00:1::2]:51002"
	fi
	host a
	host b
	veth a b 1
	conf a "[Interface]
PrivateKeyFile = node.key
Address = 10.77.0.1/24, fd77::1/64
ListenPort = 51001
Transport = $tr
${TWO_NODES_IFACE:-}
[Peer]
Identity = ${ID[b]}
Endpoint = $eb
AllowedIPs = 10.77.0.2/32, fd77::2/128
Allow = $allow"
	conf b "[Interface]
PrivateKeyFile = node.key
Address = 10.77.0.2/24, fd77::2/64
ListenPort = 51002
Transport = $tr
${TWO_NODES_IFACE:-}
[Peer]
Identity = ${ID[a]}
Endpoint = $ea
AllowedIPs = 10.77.0.1/32, fd77::1/128
Allow = $allow"
	start a && start b
}

# Wait until CMD succeeds (up to SECONDS).
wait_for() { # SECONDS CMD...
	local t=$1 i
	shift
	for ((i = 0; i < t * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@"
}

# tcp_listen HOST PORT: accept connections on PORT (all addresses), answer "hi", close.
# (SS_SILOSECD_ARGS, e.g. --no-sandbox, is passed to every silosecd that start() runs.)
tcp_listen() {
	# ip netns exec execs python, so $! is the listener itself and cleanup can kill it.
	SILOSEC_RUN_DIR=$TMP/$1/run ip netns exec "$NS$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.sendall(b"hi\n")
    c.close()
' "$2" >/dev/null 2>&1 &
	BG+=($!)
	sleep 0.3
}

# tcp_probe HOST ADDR PORT [TIMEOUT]: connect from HOST and read the "hi" (exit 0) or fail.
tcp_probe() {
	on "$1" python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
c.settimeout(float(sys.argv[3]))
sys.exit(0 if c.recv(3) == b"hi\n" else 1)
' "$2" "$3" "${4:-3}"
}
