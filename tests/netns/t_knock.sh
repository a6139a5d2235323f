#!/usr/bin/env bash
# silosec-knockd end to end: a knock opens a closed port (IPv4 and IPv6) and the kernel
# closes it again; replays (also across a daemon restart), stale timestamps, unknown
# identities and forbidden actions do nothing; a payload reaches a script base64-encoded;
# a cycle runs its close command per port; a knock is bound to its signed source, so a
# copy captured and re-sent from another host opens nothing and does not burn the real
# one; a garbage flood from one namespace does not stop a legitimate knock from another.
source "$(dirname "$0")/lib.sh"

host s
host c
host j
veth s c 1 # s 198.51.1.1 / fd00:1::1, c .2
veth s j 2 # s 198.51.2.1, j 198.51.2.2
umask 077
"$SILOSEC" genkey "$TMP/c/other.key"
OTHER=$("$SILOSEC" pubkey <"$TMP/c/other.key")
mkdir -p "$TMP/s/out"
chmod 755 "$TMP" "$TMP/s" "$TMP/s/out"
cat >"$TMP/s/record.sh" <<'SH'
#!/bin/sh
# Record what the daemon passed (environment only) and the argument list.
f=$(dirname "$0")/out/$SILOSEC_KNOCK_ACTION.$SILOSEC_KNOCK_PHASE
{ echo "args=$*"; env | grep '^SILOSEC_KNOCK_' | sort; echo "envcount=$(env | wc -l)"; } >>"$f"
SH
chmod 755 "$TMP/s/record.sh"
knockd_server s "[::]:62201" "Window = 30" "ReplayFile = replay.db" "RateLimit = 5" \
	"Burst = 10" "LogInterval = 1"
knockd_action s web open "Open = tcp/8080, tcp/9000-9001" "Duration = 3" "MaxDuration = 4"
knockd_action s note command "Command = $TMP/s/record.sh first second" "Timeout = 5"
knockd_action s cycle cycle "Command = $TMP/s/record.sh" "CloseCommand = $TMP/s/record.sh" \
	"Open = tcp/7000, udp/7001-7002" "Duration = 2"
knockd_action s admin command "Command = $TMP/s/record.sh"
knockd_client s carol "${ID[c]}" "web, note, cycle"
knockd_client s dave "$OTHER" admin

check "silosec-knockd -t accepts the configuration" on s "$KNOCKD" -t -c "$TMP/s/knockd.conf"
check "silosec-knockd starts" start_knockd s s

# A TCP service on 8080 and 9001 behind the guard.
ip netns exec "${NS}s" python3 -c '
import socket, threading
def serve(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port)); s.listen(16)
    while True:
        c, _ = s.accept(); c.close()
for p in (8080, 9001):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
threading.Event().wait()
' &
PYPID=$!
wait_listening s 8080 && wait_listening s 9001

knock() { # [knock args...] from c
	on c "$SILOSEC" knock --to "${ID[s]}" --key "$TMP/c/node.key" "$@"
}
reach() { # ADDR PORT: TCP connect from c within 1 s
	on c timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}
closed() { ! reach "$@"; }
logged() { grep -q -- "$1" "$TMP/s/log"; }

check "port 8080 is closed before any knock" closed 198.51.1.1 8080
check "a knock opens tcp/8080 for its source (--wait-port)" \
	knock 198.51.1.1 web --save-packet "$TMP/c/web.pkt" --wait-port 8080 --wait 3
check "the range tcp/9000-9001 opened too" reach 198.51.1.1 9001
shut_out() { ! on j timeout 1 bash -c 'exec 3<>/dev/tcp/198.51.2.1/8080' 2>/dev/null; }
check "another source (j) is still shut out" shut_out
check "... and the knock was logged with its client name" logged "knock accepted: client carol"
check "the port closes again after Duration (kernel timeout)" wait_for 6 closed 198.51.1.1 8080
check "IPv6: a knock opens tcp/8080 over IPv6" knock '[fd00:1::1]' web --wait-port 8080 --wait 3

replay() { send_udp c 198.51.1.1 62201 "$1"; } # FILE: send a saved datagram again from c
# The IPv6 knock's opening ends too, so nothing below finds the port open by it.
wait_for 6 closed fd00:1::1 8080
replay_ignored() {
	replay "$TMP/c/web.pkt"
	wait_for 3 logged "drop SS_ERR_KNOCK_REPLAY (-78)" && closed 198.51.1.1 8080
}
check "a replayed knock does nothing (SS_ERR_KNOCK_REPLAY)" replay_ignored
stale() {
	knock -q 198.51.1.1 web --time-offset -60000 || return 1
	wait_for 3 logged "drop SS_ERR_KNOCK_TIME (-77)" && closed 198.51.1.1 8080
}
check "a stale timestamp does nothing (SS_ERR_KNOCK_TIME)" stale
unknown() {
	on c "$SILOSEC" knock -q --to "${ID[s]}" --key "$TMP/j/node.key" 198.51.1.1 web || return 1
	wait_for 3 logged "drop SS_ERR_KNOCK_UNKNOWN_ID (-76)" && closed 198.51.1.1 8080
}
check "an unknown identity does nothing (SS_ERR_KNOCK_UNKNOWN_ID)" unknown
wrong_action() {
	knock -q 198.51.1.1 admin || return 1
	knock -q 198.51.1.1 nosuch || return 1
	wait_for 3 logged "drop SS_ERR_KNOCK_ACTION (-80)" && [ ! -e "$TMP/s/out/admin.run" ]
}
check "an action the identity may not run does nothing (SS_ERR_KNOCK_ACTION)" wrong_action
other_server() {
	on c "$SILOSEC" knock -q --to "${ID[j]}" --key "$TMP/c/node.key" 198.51.1.1 web || return 1
	wait_for 3 logged "drop SS_ERR_KNOCK_MAC (-73)" && closed 198.51.1.1 8080
}
check "a knock sealed to another server is dropped by the outer MAC" other_server

PAYLOAD=$'hello; rm -rf / $(id) \n\x01'
payload() {
	knock -q 198.51.1.1 note --payload "$PAYLOAD" || return 1
	wait_for 3 test -s "$TMP/s/out/note.run" || return 1
	local want
	want=$(printf '%s' "$PAYLOAD" | base64 -w0)
	grep -qx "SILOSEC_KNOCK_PAYLOAD=$want" "$TMP/s/out/note.run" &&
		grep -qx "args=first second" "$TMP/s/out/note.run" &&
		grep -qx "SILOSEC_KNOCK_CLIENT=carol" "$TMP/s/out/note.run" &&
		grep -qx "SILOSEC_KNOCK_SOURCE=198.51.1.2" "$TMP/s/out/note.run" &&
		grep -qx "SILOSEC_KNOCK_IDENTITY=${ID[c]}" "$TMP/s/out/note.run" &&
		wait_for 2 logged "action note (run) for 198.51.1.2: exited with status 0" ||
		{
			cat "$TMP/s/out/note.run"
			return 1
		}
}
check "a payload reaches the script base64-encoded, clean environment, exit logged" payload
cycle() {
	knock -q 198.51.1.1 cycle || return 1
	local o=$TMP/s/out/cycle.open c=$TMP/s/out/cycle.close gap
	ports() { [ "$(grep -c SILOSEC_KNOCK_PORT= "$1")" = 2 ]; }
	wait_for 10 ports "$o" && wait_for 10 ports "$c" || return 1
	# Closed after Duration (2 s), not at once: the last writes of each phase, apart.
	# (Timed from the files, not from when this shell looked: a loaded machine can
	# take seconds over the knock itself.)
	gap=$(awk -v a="$(date -r "$o" +%s.%N)" -v b="$(date -r "$c" +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	echo "# close ran ${gap} s after open"
	awk -v g="$gap" 'BEGIN { exit !(g >= 1.5) }' && grep -q "SILOSEC_KNOCK_PORT=7001-7002" "$c"
}
check "a cycle runs its open command now and its close command after Duration, per port" cycle

signed_source() {
	# The report names the address the kernel picked towards the server: what s sees.
	knock 198.51.1.1 note --payload src >"$TMP/c/sent.out" || return 1
	grep -q "^  source    198.51.1.2 " "$TMP/c/sent.out" ||
		{
			cat "$TMP/c/sent.out"
			return 1
		}
	wait_for 3 grep -q "=c3Jj$" "$TMP/s/out/note.run"
}
check "by default the client signs its own address towards the server" signed_source
stolen() {
	# c's knock is captured before it reaches the daemon: sent to a port nobody listens
	# on, kept with --save-packet. j (198.51.2.2) re-sends it first, from its address.
	knock -q 198.51.1.1:62299 web --save-packet "$TMP/c/stolen.pkt" || return 1
	for _ in 1 2 3; do send_udp j 198.51.2.1 62201 "$TMP/c/stolen.pkt" || return 1; done
	wait_for 3 logged "drop SS_ERR_KNOCK_SOURCE (-82).*from 198.51.2.2.*signed for 198.51.1.2" ||
		return 1
	shut_out || return 1
	closed 198.51.1.1 8080 || return 1
	# The real copy, arriving late from c, still works: the challenge was not burnt.
	replay "$TMP/c/stolen.pkt"
	wait_for 2 reach 198.51.1.1 8080 || return 1
	shut_out
}
check "a knock re-sent from a third host opens nothing there and the client's copy still works" \
	stolen
any_source() {
	# carol has no AllowAnySource: an unbound knock is refused with the same code.
	local before
	before=$(count "$TMP/s/log" "SS_ERR_KNOCK_SOURCE \(-82\)")
	knock 198.51.1.1 note --payload any --any-source >"$TMP/c/any.out" || return 1
	grep -q "^  source    any " "$TMP/c/any.out" || return 1
	# A fixed time on purpose: past LogInterval (1 s) after the last logged drop of this
	# code, so the next one gets its own line whatever became of the first.
	sleep 1.2
	knock -q 198.51.1.1 note --payload any2 --source 198.51.1.77 || return 1
	wait_for 3 more_than "$before" "$TMP/s/log" "SS_ERR_KNOCK_SOURCE \(-82\)" &&
		! grep -q "=YW55" "$TMP/s/out/note.run"
}
check "--any-source and a wrong --source are refused (SS_ERR_KNOCK_SOURCE)" any_source

dump_counters() { # SIGUSR1: knockd logs its counters; wait for the line
	local n
	n=$(count "$TMP/s/log" "counters:")
	kill -USR1 "${PID[s]}"
	wait_for 3 more_than "$n" "$TMP/s/log" "counters:"
}
flood() {
	# j sends knock-sized garbage as fast as it can for 4 s; c knocks in the middle.
	on j python3 -c '
import os, socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
junk = [bytes([6, 2, 0, 0]) + os.urandom(300) for _ in range(64)]
n, t = 0, time.time() + 4
while time.time() < t:
    for d in junk:
        try: s.sendto(d, ("198.51.2.1", 62201))
        except OSError: pass
    n += 64
print("# flood: %d datagrams in 4 s" % n)
' >"$TMP/flood.out" &
	local fp=$! rc macs
	# Knock once the junk arrives: the daemon logs a MAC drop again (LogInterval 1 s).
	macs=$(count "$TMP/s/log" "drop SS_ERR_KNOCK_MAC")
	wait_for 3 more_than "$macs" "$TMP/s/log" "drop SS_ERR_KNOCK_MAC"
	knock -q 198.51.1.1 web --wait-port 8080 --wait 2
	rc=$?
	wait $fp
	cat "$TMP/flood.out"
	dump_counters
	grep counters: "$TMP/s/log" | tail -1 | sed 's/^.*counters:/# counters:/'
	# Junk fails the outer MAC and never pays a rate-limit token (PROTOCOL 14.6).
	[ $rc -eq 0 ] && grep counters: "$TMP/s/log" | tail -1 | grep -qv "SS_ERR_KNOCK_MAC 0,"
}
check "a garbage flood from j does not stop c's knock (junk dropped at the MAC)" flood
copies_cheap() {
	# j's copies of c's stolen knock (PROTOCOL 14.5, step 3b): only the first was opened,
	# the others were decided from the cache of opened datagrams, without X25519.
	grep counters: "$TMP/s/log" | tail -1 | grep -Eq "copies dropped before X25519 [1-9]"
}
check "copies of the stolen knock cost no public-key work (counters line)" copies_cheap

restart_replay() {
	# A fresh knock (inside the window), then a restart, then the same datagram again.
	knock -q 198.51.1.1 note --payload again --save-packet "$TMP/c/note.pkt" || return 1
	wait_for 3 grep -q "=YWdhaW4=" "$TMP/s/out/note.run" || return 1
	kill "${PID[s]}"
	wait "${PID[s]}" || return 1
	start_knockd s s || return 1
	local before
	before=$(count "$TMP/s/log" "drop SS_ERR_KNOCK_REPLAY \(-78\)")
	replay "$TMP/c/note.pkt"
	wait_for 3 more_than "$before" "$TMP/s/log" "drop SS_ERR_KNOCK_REPLAY \(-78\)" &&
		[ "$(grep -c "=YWdhaW4=" "$TMP/s/out/note.run")" = 1 ]
}
check "the replay cache survives a restart (persisted)" restart_replay

kill $PYPID 2>/dev/null
finish
