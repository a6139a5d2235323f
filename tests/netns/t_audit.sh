#!/usr/bin/env bash
# Audit trail and log rotation, as logrotate does it: the file is renamed, a new one is
# created (or not), the daemon gets SIGHUP. silosecd (unprivileged after set-up, no
# file-permission override) writes its trail in the interface's own log directory,
# which it made its user's at start: it reopens a pre-created file, creates the new file
# itself otherwise, and when the path cannot be opened keeps writing to the renamed file
# and says so in the log and in the trail. silosec-knockd's root parent reopens
# too; its parser child holds no descriptor on the audit file, and the refusals it finds
# reach the trail through the parent. No line is lost at any step. Last, if logrotate is
# installed, docs/silosec.logrotate itself rotates both files of the live daemons.
source "$(dirname "$0")/lib.sh"

host a
host b
# The log directories as the units make them: LogsDirectory=silosec (knockd's, 0711) and
# LogsDirectory=silosec/%i (silosecd's, root's 0700 until silosecd gives it to its user).
LOGDIR=$TMP/a/log.d
mkdir -m 0711 "$LOGDIR"
mkdir -m 0700 "$LOGDIR/ss0"
AUD=$LOGDIR/ss0/audit.jsonl
conf_iface a 10.77.0.1/24 51001
conf_peer a "${ID[b]}" 10.77.0.2/32 "Allow = icmp"
start a --audit "$AUD" || exit 1

N=0
grant() { # one audited event: a grant for B on the next port
	N=$((N + 1))
	on a "$SILOSEC" grant ss0 "${ID[b]}" "tcp $((1000 + N))" --for 5m >/dev/null
}
# lines FILE PORT: how many grant lines for that port FILE holds
lines() { grep -c "\"event\":\"grant\",\"decision\":\"create\".*tcp $2" "$1" 2>/dev/null; }
# has FILE PORT...: each port's grant line is in FILE exactly once
has() {
	local f=$1 p
	shift
	for p in "$@"; do
		[ "$(lines "$f" "$p")" = 1 ] || { echo "# tcp $p: $(lines "$f" "$p") lines in $f"; return 1; }
	done
}
# total PORT...: each port's grant line is in exactly one of the files, once
total() {
	local p n
	for p in "$@"; do
		n=$(cat "$AUD"* 2>/dev/null | grep -c "\"event\":\"grant\",\"decision\":\"create\".*tcp $p")
		[ "$n" = 1 ] || { echo "# tcp $p: $n lines in all"; return 1; }
	done
}
daemon_uid() { awk '$1 == "Uid:" {print $2}' "/proc/$1/status"; }
hup() { # PID LOG: SIGHUP, then wait for one more "audit trail" message in LOG
	local before
	before=$(count "$2" "audit trail")
	kill -HUP "$1"
	wait_for 5 more_than "$before" "$2" "audit trail"
}

first() {
	echo "# $(stat -c '%U %a' "$LOGDIR/ss0")"
	grant && has "$AUD" 1001 && [ "$(stat -c %u:%a "$LOGDIR/ss0")" = "$(daemon_uid "${PID[a]}"):700" ]
}
check "first event lands in the audit file; the log directory is the daemon's, 0700" first
rotate_precreated() {
	mv "$AUD" "$AUD.1"
	grant || return 1 # written before SIGHUP: still into the renamed file
	# logrotate's "create 0600 USER GROUP", with the daemon's user
	install -m 0600 -o "$(daemon_uid "${PID[a]}")" /dev/null "$AUD"
	hup "${PID[a]}" "$TMP/a/log" || return 1
	grep -q "audit trail $AUD reopened" "$TMP/a/log" || return 1
	grant || return 1
	has "$AUD.1" 1001 1002 && has "$AUD" 1003 && [ "$(stat -c %a "$AUD")" = 600 ]
}
check "silosecd: rename, pre-created file, SIGHUP: new lines in the new file" rotate_precreated
check "nothing lost: each event once, in the file it was written to" total 1001 1002 1003
rotate_fallback() {
	mv "$AUD" "$AUD.2"
	mkdir "$AUD" # not a file: the daemon cannot open it
	hup "${PID[a]}" "$TMP/a/log" || return 1
	grep "cannot reopen the audit trail" "$TMP/a/log" | tail -1 | sed 's/^/# /'
	grep -q "SS_ERR_IO: SIGHUP: cannot reopen the audit trail $AUD: " "$TMP/a/log" || return 1
	grant || return 1
	[ -d "$AUD" ] && has "$AUD.2" 1004 &&
		grep -q '"event":"audit_reopen","decision":"keep_old_file","code":"SS_ERR_IO"' "$AUD.2"
}
check "silosecd: a path it cannot open: keeps the old file, says why" rotate_fallback
recover() { # no pre-created file: the daemon creates it in its own directory, 0600
	rmdir "$AUD"
	hup "${PID[a]}" "$TMP/a/log" && grant && has "$AUD" 1005 && has "$AUD.2" 1004 &&
		[ "$(stat -c %u:%a "$AUD")" = "$(daemon_uid "${PID[a]}"):600" ] &&
		grep -q "^CapEff:.*0000000000001000$" "/proc/${PID[a]}/status"
}
check "the next SIGHUP creates the new file itself (NET_ADMIN only, its own directory)" recover
check "nothing lost" total 1001 1002 1003 1004 1005
with_truststore() {
	stop a
	sed -i 's|^ListenPort = 51001|&\nTrustStore = a.trust|' "$TMP/a/ss0.conf"
	start a --audit "$AUD" || return 1
	mv "$AUD" "$AUD.3"
	hup "${PID[a]}" "$TMP/a/log" || return 1
	grep -q "audit trail $AUD reopened" "$TMP/a/log" || return 1
	grant || return 1
	echo "# new file: $(stat -c '%U %a' "$AUD")"
	has "$AUD" 1006 && [ "$(stat -c %u:%a "$AUD")" = "$(daemon_uid "${PID[a]}"):600" ]
}
check "silosecd with a TrustStore too creates the new file itself, 0600" with_truststore
check "nothing lost" total 1001 1002 1003 1004 1005 1006

# ---- silosec-knockd: the parent holds the trail, the parser child does not ----
KAUD=$LOGDIR/knockd.audit.jsonl
knockd_web_conf a 127.0.0.1:62201 b
# Its log: $TMP/k/log, which finish checks for sanitizer reports.
start_knockd a k --audit "$KAUD" || exit 1
KPID=${PID[k]}
child_of() { awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null; }
CHILD=$(child_of $KPID)
echo "# knockd $KPID, parser child ${CHILD:-none}"
# zlines PATTERN: lines matching PATTERN in all of LOGDIR's files (and its
# per-interface directories'), compressed or not
zlines() {
	local f
	for f in "$LOGDIR"/* "$LOGDIR"/*/*; do [ -f "$f" ] && gzip -dcf "$f"; done | grep -c "$1"
}
REFUSE='"event":"knock","decision":"refuse"'
junk() { # one refused knock (outer MAC wrong), audited by the child through the parent
	local before
	before=$(zlines "$REFUSE")
	send_udp a 127.0.0.1 62201
	wait_for 3 eval '[ "$(zlines "$REFUSE")" -gt "$before" ]'
}
krefusals() { grep -c '"event":"knock","decision":"refuse","code":"SS_ERR_KNOCK_' "$1" 2>/dev/null; }
fd_on() { # PID FILE: PID has a descriptor open on FILE (or on FILE renamed)
	local l
	for l in "/proc/$1/fd"/*; do
		case $(readlink "$l") in "$2"*) return 0 ;; esac
	done
	return 1
}
no_fd() {
	[ -n "$CHILD" ] || return 1
	ls -l "/proc/$CHILD/fd" | sed 's/^/# child /'
	fd_on "$KPID" "$KAUD" && ! fd_on "$CHILD" "$KAUD"
}
check "knockd: the parent holds the audit file, the parser child does not" no_fd
first_refusal() { junk && [ "$(grep -c '"code":"SS_ERR_KNOCK_MAC"' "$KAUD")" = 1 ]; }
check "a refusal found by the child reaches the trail through the parent" first_refusal
krotate() {
	mv "$KAUD" "$KAUD.1"
	junk || return 1
	hup "$KPID" "$TMP/k/log" || return 1
	grep -q "audit trail $KAUD reopened" "$TMP/k/log" || return 1
	junk || return 1
	echo "# refusals: $(krefusals "$KAUD.1") in the renamed file, $(krefusals "$KAUD") in the new one"
	[ "$(krefusals "$KAUD.1")" = 2 ] && [ "$(krefusals "$KAUD")" = 1 ] &&
		[ "$(stat -c %U:%a "$KAUD")" = root:600 ]
}
check "knockd: rename, SIGHUP: the root parent creates the new file (root, 0600)" krotate
kfallback() {
	mv "$KAUD" "$KAUD.2"
	mkdir "$KAUD" # not a file: even root cannot open it
	hup "$KPID" "$TMP/k/log" || return 1
	grep -q "SS_ERR_IO: SIGHUP: cannot reopen the audit trail $KAUD" "$TMP/k/log" || return 1
	junk || return 1
	rmdir "$KAUD"
	hup "$KPID" "$TMP/k/log" && junk || return 1
	echo "# refusals: $(krefusals "$KAUD.2") in the renamed file, $(krefusals "$KAUD") in the new one"
	# The renamed file: the line from before, and the one written after the failed reopen.
	[ "$(krefusals "$KAUD.2")" = 2 ] && [ "$(krefusals "$KAUD")" = 1 ] &&
		grep -q '"event":"audit_reopen"' "$KAUD.2"
}
check "knockd: a path it cannot open keeps the old file; the next SIGHUP moves over" kfallback
all_refusals() { [ "$(zlines "$REFUSE")" = 5 ]; }
check "nothing lost: 5 refusals, 5 lines" all_refusals
same_child() { [ "$(child_of $KPID)" = "$CHILD" ] && ! fd_on "$CHILD" "$KAUD"; }
check "the parser child is the same and still holds no audit descriptor" same_child

# ---- docs/silosec.logrotate, run by logrotate on both live daemons ----
# systemctl is replaced by kill, /var/log/silosec by the test's directory.
reopened() { tail -3 "$2" | grep -q "audit trail $1 reopened"; } # TRAIL LOG (read afresh)
logrotate_run() {
	local g0 k0
	mkdir "$TMP/a/earlier" && mv "$LOGDIR"/*.[0-9] "$LOGDIR"/ss0/*.[0-9] "$TMP/a/earlier/" || return 1
	# Without a TrustStore again: the daemon creates the new file itself.
	stop a
	sed -i '/^TrustStore/d' "$TMP/a/ss0.conf"
	start a --audit "$AUD" || return 1
	grant && junk || return 1 # notifempty: both files have lines
	g0=$(zlines '"event":"grant"')
	k0=$(zlines '"event":"knock"')
	sed -e "s|/var/log/silosec/|$LOGDIR/|" \
		-e "s|systemctl reload silosec-knockd.service|kill -HUP $KPID|" \
		-e "s|systemctl kill --kill-whom=main -s HUP \"silosec@\${d##\*/}.service\"|kill -HUP ${PID[a]}|" \
		"$ROOT/docs/silosec.logrotate" >"$TMP/logrotate.conf"
	grep -q "kill -HUP ${PID[a]}" "$TMP/logrotate.conf" && grep -q "kill -HUP $KPID" "$TMP/logrotate.conf" || return 1
	logrotate -f -s "$TMP/logrotate.state" "$TMP/logrotate.conf" || return 1
	wait_for 5 reopened "$AUD" "$TMP/a/log" || return 1
	wait_for 5 reopened "$KAUD" "$TMP/k/log" || return 1
	ls -l "$LOGDIR" | grep -v ^total | sed 's/^/# /'
	grant && junk || return 1
	has "$AUD" "$((1000 + N))" && [ "$(krefusals "$KAUD")" = 1 ] &&
		[ "$(stat -c %u:%a "$AUD")" = "$(daemon_uid "${PID[a]}"):600" ] &&
		[ "$(stat -c %U:%a "$KAUD")" = root:600 ] &&
		[ "$(zlines '"event":"grant"')" = $((g0 + 1)) ] &&
		[ "$(zlines '"event":"knock"')" = $((k0 + 1)) ]
}
if command -v logrotate >/dev/null; then
	check "logrotate with docs/silosec.logrotate: both daemons write to new files, nothing lost" \
		logrotate_run
else
	echo "# logrotate not installed: docs/silosec.logrotate not exercised"
fi
finish
