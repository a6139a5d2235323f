#!/usr/bin/env bash
# Shared helpers for the network-namespace tests and the demo: hosts, links, keys,
# configs and daemons, all removed again on exit.
# shellcheck disable=SC2034
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${SS_BUILD:-$ROOT/build}
SILOSEC=$BUILD/src/cli/silosec
SILOSECD=$BUILD/src/tunnel/silosecd
KNOCKD=$BUILD/src/knock/silosec-knockd
# A version manager's python3 (pyenv's shim) is a script that starts an interpreter to
# pick one: 1.5 s a call on a loaded machine, and the checks call python3 often (jget
# in wait_for loops). The real interpreter's directory goes first on PATH.
if PYDIR=$(python3 -c 'import os, sys; print(os.path.dirname(sys.executable))' 2>/dev/null); then
	PATH=$PYDIR:$PATH
fi
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
	for h in "${HOSTS[@]}"; do
		ip netns del "$NS$h" 2>/dev/null
		rm -rf "/etc/netns/$NS$h" # a test's own /etc/hosts for the namespace
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

# on HOST CMD...: run in the host's namespace, with the host's run and state directories.
on() {
	local h=$1
	shift
	SILOSEC_RUN_DIR=$TMP/$h/run SILOSEC_STATE_DIR=$TMP/$h/state ip netns exec "$NS$h" "$@"
}

host() { # NAME
	ip netns add "$NS$1"
	ip -n "$NS$1" link set lo up
	mkdir -p "$TMP/$1/run"
	# Like /var/lib or /run: the sandboxed daemon (no DAC_READ_SEARCH) passes through to
	# its own directories.
	chmod 711 "$TMP" "$TMP/$1"
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

# put FILE LINE...: append the lines to FILE
put() {
	local f=$1
	shift
	printf '%s\n' "$@" >>"$f"
}
# conf_iface HOST ADDRESS PORT [LINE...]: begin HOST's ss0.conf with its [Interface]
conf_iface() {
	: >"$TMP/$1/ss0.conf"
	put "$TMP/$1/ss0.conf" "[Interface]" "PrivateKeyFile = node.key" "Address = $2" \
		"ListenPort = $3" "${@:4}"
}
# conf_peer HOST IDENTITY ALLOWEDIPS [LINE...]: append a [Peer] to HOST's ss0.conf
# (Endpoint, Allow and the like as further lines)
conf_peer() { put "$TMP/$1/ss0.conf" "[Peer]" "Identity = $2" "AllowedIPs = $3" "${@:4}"; }

# START_WAIT: seconds start() gives silosecd to open its control socket (t_scale: more).
START_WAIT=${START_WAIT:-5}
start() { # HOST [extra silosecd args]
	local h=$1
	shift
	# A socket left by an earlier daemon (a sandboxed one cannot always unlink it)
	# would make the wait below return before this daemon is up.
	rm -f "$TMP/$h/run/ss0/ctl.sock"
	SILOSEC_RUN_DIR=$TMP/$h/run SILOSEC_STATE_DIR=$TMP/$h/state ip netns exec "$NS$h" \
		"$SILOSECD" -f -c "$TMP/$h/ss0.conf" ${SS_SILOSECD_ARGS:-} "$@" 2>>"$TMP/$h/log" &
	PID[$h]=$!
	wait_daemon "${PID[$h]}" "$START_WAIT" test -S "$TMP/$h/run/ss0/ctl.sock" && return 0
	echo "silosecd on $h did not start:" >&2
	tail -20 "$TMP/$h/log" >&2
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
	conf_iface a 10.77.0.1/24 51001 ${3:+"$3"}
	conf_peer a "${ID[b]}" 10.77.0.2/32 "Endpoint = 198.51.1.2:51002" "Allow = $1"
	conf_peer a "${ID[c]}" 10.77.0.3/32 "Endpoint = 198.51.2.2:51003" "Allow = $2"
	for h in b c; do
		n=$([ $h = b ] && echo 2 || echo 3)
		l=$([ $h = b ] && echo 1 || echo 2)
		conf_iface $h "10.77.0.$n/24" "5100$n"
		conf_peer $h "${ID[a]}" 10.77.0.0/24 "Endpoint = 198.51.$l.1:51001" "Allow = any"
	done
	start a && start b && start c
}

# two_nodes [udp|ip] [4|6]: hosts a and b on one veth, tunnel 10.77.0.0/24 + fd77::/64.
# Each side lets the other reach everything ($TWO_NODES_ALLOW, default "any"): these
# tests exercise the data path; t_allow.sh and t_grant.sh test the capability rules.
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
	two_nodes_conf a b 1 "$eb"
	two_nodes_conf b a 2 "$ea"
	start a && start b
}
# two_nodes_conf HOST PEER N PEER_ENDPOINT: HOST is 10.77.0.N, fd77::N, port 5100N
# (transport $tr and rules $allow: two_nodes' locals)
two_nodes_conf() {
	local m=$((3 - $3))
	conf_iface "$1" "10.77.0.$3/24, fd77::$3/64" "5100$3" "Transport = $tr" ${TWO_NODES_IFACE:+"$TWO_NODES_IFACE"}
	conf_peer "$1" "${ID[$2]}" "10.77.0.$m/32, fd77::$m/128" "Endpoint = $4" "Allow = $allow"
}

# wait_for SECONDS CMD...: poll CMD (every 0.1 s, quietly) until it succeeds, for at most
# SECONDS (may be fractional) of wall time. On timeout, say what was awaited and run CMD
# once more with its output, so a failed check shows why.
wait_for() {
	local end
	end=$(($(usec) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000000 }')))
	shift
	while [ "$(usec)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "wait_for: still failing after the timeout: $*" >&2
	"$@"
}
usec() { echo "${EPOCHREALTIME/./}"; }

# wait_daemon PID SECONDS CMD...: wait_for CMD, but give up at once if PID has exited.
wait_daemon() {
	local pid=$1 t=$2
	shift 2
	wait_for "$t" alive_and "$pid" "$@" && kill -0 "$pid" 2>/dev/null
}
alive_and() { # PID CMD...: CMD succeeded (0), or PID is gone (0 too: stops the wait)
	local pid=$1
	shift
	"$@" || ! kill -0 "$pid" 2>/dev/null
}

# count FILE PATTERN: how many lines of FILE match the extended regex PATTERN (0 if none)
count() {
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null)
	echo "${n:-0}"
}
# more_than N FILE PATTERN: FILE now holds more than N lines matching PATTERN
more_than() { [ "$(count "$2" "$3")" -gt "$1" ]; }

# listening HOST PORT [tcp|udp]: a socket is bound to PORT in HOST's namespace
listening() {
	local t=t
	[ "${3:-tcp}" = udp ] && t=u
	on "$1" ss -Hl${t}n "sport = :$2" | grep -q .
}
# wait_listening HOST PORT [tcp|udp]: wait (10 s) until something listens on PORT
wait_listening() { wait_for 10 listening "$@"; }

# iperf_server HOST PORT: a one-shot iperf3 server, returns once it accepts connections
iperf_server() {
	on "$1" iperf3 -s -D -1 -p "$2" >/dev/null 2>&1
	wait_listening "$1" "$2"
}

# reload HOST: SIGHUP to HOST's silosecd, then wait until it has read the file (it logs
# "reloaded" or why it kept the running configuration)
# reload HOST: apply HOST's ss0.conf to its running daemon, as `systemctl reload` does
# (silosec syncconf as root; its messages go to the host's log)
reload() {
	on "$1" "$SILOSEC" syncconf ss0 "$TMP/$1/ss0.conf" 2>>"$TMP/$1/log"
}

# ---- silosec-knockd: configuration writers and start ----
# knockd_server HOST LISTEN [LINE...]: begin HOST's knockd.conf: [Server] with HOST's key,
# one Listen address and the further lines given
knockd_server() {
	: >"$TMP/$1/knockd.conf"
	# The state file (--list, --metrics) beside the configuration, not in the host's /run.
	put "$TMP/$1/knockd.conf" "[Server]" "PrivateKeyFile = node.key" "Listen = $2" \
		"StateFile = knockd.state" "${@:3}"
}
# knockd_action HOST NAME TYPE [LINE...]: append [Action NAME] of Type TYPE
knockd_action() { put "$TMP/$1/knockd.conf" "" "[Action $2]" "Type = $3" "${@:4}"; }
# knockd_client HOST NAME IDENTITY ACTIONS: append [Client NAME] allowed ACTIONS
knockd_client() {
	put "$TMP/$1/knockd.conf" "" "[Client $2]" "Identity = $3" "Actions = $4"
}
# knockd_web_conf HOST LISTEN CLIENT: the usual shape: host CLIENT may knock "web" to open
# tcp/8080 on HOST for 30 s; the replay cache persisted in replay.db
knockd_web_conf() {
	knockd_server "$1" "$2" "ReplayFile = replay.db"
	knockd_action "$1" web open "Open = tcp/8080" "Duration = 30"
	knockd_client "$1" "$3" "${ID[$3]}" web
}

# start_knockd HOST NAME [silosec-knockd args]: silosec-knockd with HOST's knockd.conf, in
# HOST's namespace (with HOST's control-socket directory, for Type = grant), as PID[NAME],
# logging to $TMP/NAME/log (which finish checks). Returns once the daemon says "listening
# as": it says so only after its parser child is up, so a knock sent then is read.
start_knockd() {
	local h=$1 k=$2 n
	shift 2
	mkdir -p "$TMP/$k"
	n=$(count "$TMP/$k/log" "listening as")
	# Not through on(): PID must be the daemon itself, for signals and its exit status.
	SILOSEC_RUN_DIR=$TMP/$h/run ip netns exec "$NS$h" \
		"$KNOCKD" -f -c "$TMP/$h/knockd.conf" "$@" >/dev/null 2>>"$TMP/$k/log" &
	PID[$k]=$!
	wait_daemon "${PID[$k]}" 20 more_than "$n" "$TMP/$k/log" "listening as" && return 0
	echo "silosec-knockd on $h did not start:" >&2
	tail -20 "$TMP/$k/log" >&2
	return 1
}

# send_udp HOST ADDR PORT [FILE]: one datagram from HOST: FILE's bytes, or without FILE
# knock-sized junk (a knock's first bytes, zeros after: it fails the outer MAC)
send_udp() {
	on "$1" python3 -c '
import socket, sys
d = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else bytes([6, 2, 0, 0]) + bytes(300)
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
socket.socket(fam, socket.SOCK_DGRAM).sendto(d, (sys.argv[1], int(sys.argv[2])))' "${@:2}"
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
	wait_listening "$1" "$2"
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
