#!/usr/bin/env bash
# Secure streams end to end: `silosec cat` between two namespaces over TCP (1 GiB, SHA-256
# compared), both directions at once, through an SSH-like pipe (socat), and the failures:
# wrong identity, TOFU pin and key change, a flipped byte and a cut connection in the
# middle (a proxy), each ending non-zero with output that is only a verified prefix.
source "$(dirname "$0")/lib.sh"
host a
host b
host c
veth a b 1
KA=$TMP/a/node.key KB=$TMP/b/node.key KC=$TMP/c/node.key
GIB=${STREAM_BYTES:-1073741824}

# Deterministic pseudo-random bytes, fast: AES-CTR keystream. (The generator dies of
# SIGPIPE when head is done; under pipefail that must not count.)
gen() { # BYTES SEED
	(openssl enc -aes-128-ctr -pass "pass:$2" -nosalt -pbkdf2 </dev/zero 2>/dev/null || true) |
		head -c "$1"
}

one_gib() {
	on b "$SILOSEC" cat -l 45001 --key "$KB" --peer "${ID[a]}" </dev/null 2>"$TMP/b.err" |
		sha256sum >"$TMP/out.sha" &
	local srv=$! t0 t1
	wait_listening b 45001 || return 1
	t0=$(date +%s.%N)
	gen "$GIB" one | tee >(sha256sum >"$TMP/in.sha") |
		on a "$SILOSEC" cat 198.51.1.2:45001 --key "$KA" --peer "${ID[b]}" || return 1
	wait $srv || { cat "$TMP/b.err"; return 1; }
	t1=$(date +%s.%N)
	wait_for 5 grep -q ' -$' "$TMP/in.sha" # the process substitution may still be writing
	echo "# $GIB bytes in $(echo "$t1 - $t0" | bc) s: $(echo "$GIB / ($t1 - $t0) / 1048576" | bc) MiB/s"
	echo "in  $(cat "$TMP/in.sha")"
	echo "out $(cat "$TMP/out.sha")"
	[ "$(cut -d' ' -f1 "$TMP/in.sha")" = "$(cut -d' ' -f1 "$TMP/out.sha")" ]
}
check "$((GIB >> 20)) MiB through silosec cat over TCP, SHA-256 equal" one_gib

both_ways() {
	local n=$((64 << 20))
	gen $n b2a | on b "$SILOSEC" cat -l 45002 --key "$KB" --peer "${ID[a]}" >"$TMP/at-b" &
	local srv=$!
	wait_listening b 45002 || return 1
	gen $n a2b | on a "$SILOSEC" cat 198.51.1.2:45002 --key "$KA" --peer "${ID[b]}" >"$TMP/at-a" ||
		return 1
	wait $srv || return 1
	[ "$(sha256sum <"$TMP/at-b")" = "$(gen $n a2b | sha256sum)" ] &&
		[ "$(sha256sum <"$TMP/at-a")" = "$(gen $n b2a | sha256sum)" ]
}
check "64 MiB each way at once (half-close on both sides)" both_ways

# An SSH-like transport: the stream crosses a process's stdin/stdout (like ProxyCommand).
ssh_like() {
	local n=$((256 << 20))
	on b "$SILOSEC" cat -l 127.0.0.1:45003 --key "$KB" --peer "${ID[a]}" </dev/null |
		sha256sum >"$TMP/pipe.sha" &
	local srv=$!
	wait_listening b 45003 || return 1
	on b socat TCP-LISTEN:45004,bind=127.0.0.1,reuseaddr EXEC:"socat STDIO TCP\:127.0.0.1\:45003" &
	local relay=$!
	wait_listening b 45004 || return 1
	gen $n pipe | on b "$SILOSEC" cat 127.0.0.1:45004 --key "$KA" --peer "${ID[b]}" || return 1
	wait $srv || return 1
	kill $relay 2>/dev/null
	[ "$(cut -d' ' -f1 "$TMP/pipe.sha")" = "$(gen $n pipe | sha256sum | cut -d' ' -f1)" ]
}
check "256 MiB through an SSH-like pipe (socat EXEC relay)" ssh_like

# refused_cat PORT TAG KEY PEER: b listens for a; a connects with KEY expecting PEER.
# Both must fail and deliver nothing; their messages are in $TMP/TAG.cli and TAG.srv.
refused_cat() {
	on b "$SILOSEC" cat -l "$1" --key "$KB" --peer "${ID[a]}" </dev/null >"$TMP/$2.out" \
		2>"$TMP/$2.srv" &
	local srv=$! rc src
	wait_listening b "$1" || return 1
	echo secret | on a "$SILOSEC" cat "198.51.1.2:$1" --key "$3" --peer "$4" 2>"$TMP/$2.cli"
	rc=$?
	wait $srv
	src=$?
	echo "client exit $rc: $(cat "$TMP/$2.cli")"
	echo "server exit $src: $(cat "$TMP/$2.srv")"
	[ $rc -ne 0 ] && [ $src -ne 0 ] && [ ! -s "$TMP/$2.out" ]
}
wrong_identity() { # a expects c at b's address
	refused_cat 45005 w "$KA" "${ID[c]}" && [ "$(wc -l <"$TMP/w.cli")" -eq 1 ]
}
check "wrong identity: both sides fail, one message, nothing delivered" wrong_identity
unknown_client() {
	refused_cat 45006 u "$KC" "${ID[b]}" && grep -q SS_ERR_UNKNOWN_PEER "$TMP/u.srv"
}
check "unknown client identity refused by the listener" unknown_client

tofu() {
	local kh=$TMP/known_hosts port rc
	for port in 45007 45008; do
		on b "$SILOSEC" cat -l $port --key "$KB" --any </dev/null >/dev/null 2>&1 &
		wait_listening b $port || return 1
		echo hi | on a "$SILOSEC" cat 198.51.1.2:$port --key "$KA" --known-hosts "$kh" \
			2>>"$TMP/t.cli" || return 1
		wait
		grep -q "198.51.1.2:$port ${ID[b]}" "$kh" || return 1
	done
	grep -c "pinned" "$TMP/t.cli" | grep -qx 2 || return 1
	# Again to 45007, now answered by identity c: refused as a changed identity.
	on b "$SILOSEC" cat -l 45007 --key "$KC" --any </dev/null >"$TMP/t.out" 2>/dev/null &
	wait_listening b 45007 || return 1
	echo secret | on a "$SILOSEC" cat 198.51.1.2:45007 --key "$KA" --known-hosts "$kh" \
		2>"$TMP/t2.cli"
	rc=$?
	wait
	cat "$TMP/t2.cli"
	[ $rc -ne 0 ] && grep -q SS_ERR_IDENTITY "$TMP/t2.cli" && [ ! -s "$TMP/t.out" ]
}
check "TOFU: first use pins HOST:PORT, a changed identity is refused" tofu

# A man in the middle that forwards, flipping one bit or cutting at an offset (a -> b).
cat >"$TMP/mitm.py" <<'PY'
import socket, sys, threading
mode, at, lport, dst, dport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", lport)); ls.listen(1)
c, _ = ls.accept(); s = socket.create_connection((dst, dport))
def back():
    while (d := s.recv(65536)):
        c.sendall(d)
    c.shutdown(socket.SHUT_WR)
threading.Thread(target=back, daemon=True).start()
n = 0
while (d := c.recv(65536)):
    if mode == "flip" and n <= at < n + len(d):
        d = bytearray(d); d[at - n] ^= 0x10; d = bytes(d)
    if mode == "cut" and n + len(d) > at:
        s.sendall(d[: at - n]); s.close(); c.close(); sys.exit(0)
    s.sendall(d); n += len(d)
s.shutdown(socket.SHUT_WR)
threading.Event().wait(2)
PY

tamper() { # MODE OFFSET PORT EXPECT
	local n=$((8 << 20)) rc
	on b "$SILOSEC" cat -l "$3" --key "$KB" --peer "${ID[a]}" </dev/null >"$TMP/m.out" \
		2>"$TMP/m.srv" &
	local srv=$!
	wait_listening b "$3" || return 1
	on a python3 "$TMP/mitm.py" "$1" "$2" $(($3 + 100)) 198.51.1.2 "$3" &
	local mitm=$!
	wait_listening a $(($3 + 100)) || return 1
	gen $n tamper | on a "$SILOSEC" cat 127.0.0.1:$(($3 + 100)) --key "$KA" --peer "${ID[b]}" \
		2>/dev/null
	wait $srv
	rc=$?
	kill $mitm 2>/dev/null
	local got
	got=$(stat -c %s "$TMP/m.out")
	echo "# $1 at byte $2: receiver exit $rc, $got verified bytes written"
	echo "receiver: $(cat "$TMP/m.srv")"
	# Non-zero, the stated reason, and the output is an exact prefix of what was sent.
	[ $rc -ne 0 ] && grep -q "$4" "$TMP/m.srv" && [ "$got" -gt 0 ] && [ "$got" -lt $n ] &&
		cmp -s "$TMP/m.out" <(gen "$got" tamper)
}
check "a flipped bit mid-stream: integrity failure, verified prefix only" \
	tamper flip 3000000 45010 "integrity failure"
check "a connection cut mid-stream: truncation reported, verified prefix only" \
	tamper cut 5000000 45011 "connection cut"

no_plaintext() {
	on b "$SILOSEC" cat -l 45012 --key "$KB" --peer "${ID[a]}" </dev/null >/dev/null &
	wait_listening b 45012 || return 1
	on a python3 "$TMP/mitm.py" record 0 45112 198.51.1.2 45012 &
	wait_listening a 45112 || return 1
	# Record what crosses the wire with a tap on the veth.
	on b timeout 5 tcpdump -i v1-b -w "$TMP/cap.pcap" -U "tcp port 45012" 2>"$TMP/tap.err" &
	local tap=$!
	wait_for 3 grep -q "listening on" "$TMP/tap.err" # printed once it captures
	(yes "SILOSEC-PLAINTEXT-MARKER" || true) | head -c 1000000 |
		on a "$SILOSEC" cat 127.0.0.1:45112 --key "$KA" --peer "${ID[b]}" || return 1
	# 1,000,000 bytes crossed the wire sealed: the capture holds at least as much.
	wait_for 3 eval '[ "$(stat -c %s "$TMP/cap.pcap" 2>/dev/null || echo 0)" -ge 1000000 ]'
	kill $tap 2>/dev/null
	wait
	[ -s "$TMP/cap.pcap" ] && ! grep -q "SILOSEC-PLAINTEXT-MARKER" "$TMP/cap.pcap"
}
command -v tcpdump >/dev/null && check "the wire carries no plaintext (tcpdump)" no_plaintext
finish
