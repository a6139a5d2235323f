#!/usr/bin/env bash
# Sandboxed daemons, checked on the live processes: silosecd (unprivileged, seccomp,
# NoNewPrivs, only CAP_NET_ADMIN, with and without a TrustStore) still moves traffic,
# answers show/set and takes `silosec syncconf`; SIGHUP only reopens the audit file; silosec-knockd's parser child (unprivileged, no
# capabilities) and its action runner (root with a bounded capability set, seccomp deny
# list) still open a port on a knock; only the parent holds the audit file; a parser
# child killed by a signal is audited (sandbox_violation) and restarted, and knocks work
# again afterwards.
source "$(dirname "$0")/lib.sh"

# Capability masks as documented in silosecd(8) and silosec-knockd(8).
CAP_TUNNEL=0000000000001000	# CAP_NET_ADMIN
CAP_ACTIONS=00000000000031ef	# CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER KILL SETGID SETUID SETPCAP NET_ADMIN NET_RAW

host a
host b
veth a b 1
conf_iface a 10.77.0.1/24 51001
# B by name: `ip netns exec` mounts /etc/netns/NS/hosts over /etc/hosts. silosecd
# resolves it before its sandbox, which has no resolver (no inet or netlink sockets).
mkdir -p "/etc/netns/${NS}a"
echo "198.51.1.2 silosec-peer-b" >"/etc/netns/${NS}a/hosts"
conf_peer a "${ID[b]}" 10.77.0.2/32 "Endpoint = silosec-peer-b:51002" "Allow = any"
conf_iface b 10.77.0.2/24 51002
conf_peer b "${ID[a]}" 10.77.0.1/32 "Endpoint = 198.51.1.1:51001" "Allow = any"
start a --audit "$TMP/a/audit.log" && start b --audit "$TMP/b/audit.log" || exit 1

field() { # PID FIELD: value from /proc/PID/status
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}
props() { # PID SECCOMP NNP UID-RULE CAPEFF
	local pid=$1 uid
	uid=$(field "$pid" Uid)
	echo "# pid $pid: Uid $uid, Seccomp $(field "$pid" Seccomp), NoNewPrivs $(field "$pid" NoNewPrivs), CapEff $(field "$pid" CapEff)"
	[ "$(field "$pid" Seccomp)" = "$2" ] && [ "$(field "$pid" NoNewPrivs)" = "$3" ] &&
		[ "$(field "$pid" CapEff)" = "$5" ] || return 1
	case $4 in
	root) [ "$uid" = 0 ] ;;
	user) [ "$uid" != 0 ] ;;
	esac
}

check "traffic flows through the sandboxed tunnel" on a ping -c 2 -W 2 10.77.0.2
check "silosecd: Seccomp 2, NoNewPrivs 1, not root, CapEff NET_ADMIN only" \
	props "${PID[a]}" 2 1 user $CAP_TUNNEL
check "silosecd: no core dumps (RLIMIT_CORE 0), not dumpable" \
	bash -c "grep -q '^Max core file size *0 *0' /proc/${PID[a]}/limits && [ \"\$(stat -c %U /proc/${PID[a]}/status)\" = root ]"
locked() { # PID: the key's page and OpenSSL's 1 MiB secure heap are locked
	local kb
	kb=$(awk '$1 == "VmLck:" {print $2}' "/proc/$1/status")
	echo "# VmLck ${kb} kB"
	[ "${kb:-0}" -ge 1024 ]
}
check "silosecd: private keys in locked memory (VmLck)" locked "${PID[a]}"
check "an Endpoint host name, resolved before the sandbox" \
	test "$(jget a "d['peers'][0]['endpoint']")" = 198.51.1.2:51002
set_by_name() { # the CLI resolves as root; the daemon gets the address
	on a "$SILOSEC" set ss0 peer "${ID[b]}" endpoint silosec-peer-b:51002 &&
		test "$(jget a "d['peers'][0]['endpoint']")" = 198.51.1.2:51002 && kill -0 "${PID[a]}"
}
check "silosec set endpoint HOST:PORT resolves in the CLI" set_by_name
name_refused() { # sent raw, a host name is refused: the daemon does no lookups at all
	local out
	out=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(("set\npeer=%s\nendpoint=silosec-peer-b:51002\n\n" % sys.argv[2]).encode())
s.shutdown(socket.SHUT_WR)
print(s.makefile().read())
' "$TMP/a/run/ss0/ctl.sock" "${ID[b]}")
	echo "# $out"
	[[ $out == *"not a numeric address"* ]] && kill -0 "${PID[a]}"
}
check "the daemon refuses a host name sent to it (numeric endpoints only)" name_refused
check "silosec show answers" bash -c "SILOSEC_RUN_DIR=$TMP/a/run ip netns exec ${NS}a $SILOSEC show ss0 | grep -q 'peer'"
set_route() {
	on a "$SILOSEC" set ss0 peer "${ID[b]}" allowed-ips 10.77.0.2/32,10.88.0.0/24 || return 1
	on a ip route show dev ss0 | grep -q 10.88.0.0/24
}
check "silosec set adds a route (CAP_NET_ADMIN kept)" set_route
hup_reopens_only() {
	sed -i 's|^AllowedIPs = .*|AllowedIPs = 10.77.0.2/32, 10.99.0.0/24|' "$TMP/a/ss0.conf"
	local n
	n=$(count "$TMP/a/log" "audit trail")
	# Renamed, as a rotation does: the daemon says when it has handled the signal.
	mv "$TMP/a/audit.log" "$TMP/a/audit.log.1"
	install -m 0600 -o "$(field "${PID[a]}" Uid)" /dev/null "$TMP/a/audit.log"
	kill -HUP "${PID[a]}"
	wait_for 3 more_than "$n" "$TMP/a/log" "audit trail" && kill -0 "${PID[a]}" &&
		! ip -n "${NS}a" route show dev ss0 | grep -q 10.99.0.0/24
}
check "SIGHUP only reopens the audit file: the daemon does not read its configuration" \
	hup_reopens_only
syncconf() {
	chmod 600 "$TMP/a/ss0.conf"
	reload a && ip -n "${NS}a" route show dev ss0 | grep -q 10.99.0.0/24 &&
		grep -q "reloaded by syncconf" "$TMP/a/log" && kill -0 "${PID[a]}"
}
check "silosec syncconf (root) reads the root-only file and the daemon applies it" syncconf
check "traffic still flows after set and reload" on a ping -c 1 -W 2 10.77.0.2
daemon_mode() {
	# Without -f: fork, detach, stdio on /dev/null (Landlock allows it), syslog.
	stop a
	on a "$SILOSECD" -c "$TMP/a/ss0.conf" --audit "$TMP/a/audit.log" || return 1
	local pid
	pid=$(pgrep -f "silosecd -c $TMP/a/ss0.conf" | head -1)
	[ -n "$pid" ] || return 1
	PID[a]=$pid
	props "$pid" 2 1 user $CAP_TUNNEL && wait_for 5 on a ping -c 1 -W 1 10.77.0.2 || return 1
	# The control socket stays behind after a stop (its directory is root's): a new
	# start must take it over.
	kill "$pid"
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	unset "PID[a]"
	start a --audit "$TMP/a/audit.log" && on a "$SILOSEC" show ss0 >/dev/null
}
check "daemon mode (no -f) is sandboxed too; a restart takes over the stale socket" daemon_mode
with_truststore() {
	stop a
	sed -i 's|^ListenPort = 51001|&\nTrustStore = a.trust|' "$TMP/a/ss0.conf"
	start a --audit "$TMP/a/audit.log" && props "${PID[a]}" 2 1 user $CAP_TUNNEL &&
		on a ping -c 1 -W 2 10.77.0.2
}
check "with a TrustStore: CapEff NET_ADMIN only too (no DAC_OVERRIDE)" with_truststore

# ---- two instances on one host: each reaches its own directories only ----
two_instances() {
	printf '%s\n' "[Interface]" "Name = ss1" "PrivateKeyFile = node.key" "Address = 10.78.0.1/24" \
		"ListenPort = 51011" "TrustStore = b.trust" >"$TMP/a/ss1.conf"
	mkdir -p "$TMP/a/log1/ss1"
	SILOSEC_RUN_DIR=$TMP/a/run SILOSEC_STATE_DIR=$TMP/a/state ip netns exec "${NS}a" \
		"$SILOSECD" -f -c "$TMP/a/ss1.conf" --audit "$TMP/a/log1/ss1/audit.jsonl" \
		>/dev/null 2>>"$TMP/a/log1.err" &
	PID[a1]=$!
	wait_daemon "${PID[a1]}" 5 test -S "$TMP/a/run/ss1/ctl.sock" || { cat "$TMP/a/log1.err"; return 1; }
	local uid d
	uid=$(field "${PID[a1]}" Uid)
	for d in run/ss0 run/ss1 state/ss0 state/ss1 log1/ss1; do
		echo "# $d: $(stat -c %u:%a "$TMP/a/$d")"
		[ "$(stat -c %u:%a "$TMP/a/$d")" = "$uid:700" ] || return 1
	done
	# What each instance's Landlock ruleset reaches: its own directories, none of the other's.
	grep "Landlock paths" "$TMP/a/log1.err" | sed 's/^/# ss1: /'
	grep "Landlock paths" "$TMP/a/log" | tail -1 | sed 's/^/# ss0: /'
	grep "Landlock paths" "$TMP/a/log1.err" | grep -q " $TMP/a/run/ss1 (rw) $TMP/a/state/ss1 (rw)" &&
		! grep "Landlock paths" "$TMP/a/log1.err" | grep -qE "/ss0[ /]| $TMP/a/run | $TMP/a/state " &&
		! grep "Landlock paths" "$TMP/a/log" | tail -1 | grep -qE "/ss1[ /]" || return 1
	[ "$(on a "$SILOSEC" show | grep -c '^interface: ss')" = 2 ] && props "${PID[a1]}" 2 1 user $CAP_TUNNEL
}
check "two instances: own 0700 directories, Landlock paths of their own only, both shown" two_instances
one_stops() { # ss1 removes its own socket (its directory); ss0's stays and answers
	kill "${PID[a1]}"
	wait "${PID[a1]}" 2>/dev/null
	unset "PID[a1]"
	[ ! -e "$TMP/a/run/ss1/ctl.sock" ] && [ -S "$TMP/a/run/ss0/ctl.sock" ] && on a "$SILOSEC" show ss0 >/dev/null
}
check "a stopped instance removes its own socket; the other's is untouched" one_stops

# ---- the knock daemon on b, knocked from a ----
knockd_web_conf b 198.51.1.2:62201 a
start_knockd b k --audit "$TMP/b/knock-audit.log" || exit 1
KPID=${PID[k]}
ip netns exec "${NS}b" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(16)
while True:
    c, _ = s.accept(); c.close()
' &
PYPID=$!
child_of() { # PID: its only child
	cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}'
}
wait_listening b 8080
CHILD=$(child_of $KPID)
echo "# knockd $KPID, parser child ${CHILD:-none}"
knock() {
	on a "$SILOSEC" knock --to "${ID[b]}" --key "$TMP/a/node.key" 198.51.1.2 web "$@"
}
reach() { on a timeout 1 bash -c "exec 3<>/dev/tcp/198.51.1.2/8080" 2>/dev/null; }
closed() { ! reach; }

check "port 8080 is closed before a knock" closed
check "knockd parser child: Seccomp 2, NoNewPrivs 1, not root, no capabilities" \
	props "$CHILD" 2 1 user 0000000000000000
check "knockd action runner: Seccomp 2, NoNewPrivs 1, root, bounded CapEff" \
	props "$KPID" 2 1 root $CAP_ACTIONS
no_audit_fd() { # the trail is the parent's: the child could otherwise write any line
	ls -l "/proc/$KPID/fd" | grep -q -- "-> $TMP/b/knock-audit.log" &&
		! ls -l "/proc/$CHILD/fd" | grep -q -- "-> $TMP/b/knock-audit.log"
}
check "knockd parser child holds no descriptor on the audit file (the parent does)" no_audit_fd
check "a knock opens the port through the privilege-separated daemon" knock --wait-port 8080 --wait 3
check "the accepted knock is in the audit trail" \
	grep -q '"event":"knock","decision":"accept"' "$TMP/b/knock-audit.log"
bad_knock() {
	send_udp a 198.51.1.2 62201
	wait_for 2 grep -q '"decision":"refuse","code":"SS_ERR_KNOCK_MAC"' "$TMP/b/knock-audit.log"
}
check "a refused knock is in the audit trail with its code" bad_knock
killed_child() {
	kill -SYS "$CHILD"
	wait_for 5 grep -q '"event":"sandbox_violation"' "$TMP/b/knock-audit.log" || return 1
	grep '"event":"sandbox_violation"' "$TMP/b/knock-audit.log" | tail -1 | sed 's/^/# /'
	grep '"event":"sandbox_violation"' "$TMP/b/knock-audit.log" | grep -q SS_ERR_SANDBOX || return 1
	wait_for 5 bash -c "n=\$(cat /proc/$KPID/task/$KPID/children); [ -n \"\$n\" ] && [ \"\$n\" != '$CHILD ' ] && [ \"\$n\" != '$CHILD' ]"
}
check "a killed parser child is audited (sandbox_violation) and restarted" killed_child
new_child() { # the restarted child has locked itself in (it does so before it reads knocks)
	NEWCHILD=$(child_of $KPID)
	[ -n "$NEWCHILD" ] && [ "$(field "$NEWCHILD" Seccomp)" = 2 ]
}
wait_for 3 new_child
check "the restarted child is sandboxed too" props "$NEWCHILD" 2 1 user 0000000000000000
again() {
	knock --wait-port 8080 --wait 3 >/dev/null 2>&1
	wait_for 3 bash -c "[ \$(grep -c '\"decision\":\"accept\"' $TMP/b/knock-audit.log) -ge 2 ]" && reach
}
check "knocks work again after the restart" again

kill $PYPID 2>/dev/null
finish
