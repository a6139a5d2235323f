#!/usr/bin/env bash
# Metrics: `silosec show --prometheus` over two live interfaces passes a strict format
# checker (tests/prom_check.py), agrees with `show --json` and moves with traffic;
# --output writes the file atomically for node_exporter's textfile collector.
# silosec-knockd: a knock opens a port, --list shows it with its identity and the time
# left, --metrics counts it, and the list is empty once the opening expires.
source "$(dirname "$0")/lib.sh"
CHECK=$ROOT/tests/prom_check.py

two_nodes udp 4 || exit 1
prom() { on a "$SILOSEC" show --prometheus "$@"; }

valid() {
	prom >"$TMP/m1.prom" || return 1
	python3 "$CHECK" "$TMP/m1.prom" | sed 's/^/# /'
	[ "${PIPESTATUS[0]}" = 0 ]
}
check "show --prometheus passes the format checker" valid

# sample FILE NAME: the value of NAME's (only) sample for peer b on ss0
sample() {
	python3 "$CHECK" --json "$1" | python3 -c '
import json, sys
v = [s["value"] for s in json.load(sys.stdin)
     if s["name"] == sys.argv[1] and s["labels"].get("interface") == "ss0"]
assert len(v) == 1, v
print(int(v[0]))' "$2"
}
agrees() {
	on a ping -c 3 -i 0.2 -W 2 10.77.0.2 >/dev/null || return 1
	show a --json >"$TMP/a.json" && prom >"$TMP/m2.prom" || return 1
	local k m j
	for k in rx_bytes:silosec_peer_receive_bytes_total tx_bytes:silosec_peer_transmit_bytes_total \
		rx_packets:silosec_peer_receive_packets_total tx_packets:silosec_peer_transmit_packets_total \
		handshakes:silosec_peer_handshakes_total latest_handshake:silosec_peer_last_handshake_seconds; do
		j=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['peers'][0]['${k%%:*}'])" "$TMP/a.json")
		m=$(sample "$TMP/m2.prom" "${k#*:}") || return 1
		echo "# ${k#*:} $m (show --json ${k%%:*} $j)"
		[ "$m" = "$j" ] || return 1
	done
	[ "$(sample "$TMP/m2.prom" silosec_peer_session)" = 1 ]
}
check "per-peer counters equal show --json's (no traffic in between)" agrees

moves() {
	local b0 b1
	b0=$(sample "$TMP/m2.prom" silosec_peer_transmit_bytes_total) || return 1
	# 5 echo requests of 20 + 8 + 100 bytes.
	on a ping -c 5 -i 0.2 -s 100 -W 2 10.77.0.2 >/dev/null || return 1
	prom >"$TMP/m3.prom" || return 1
	b1=$(sample "$TMP/m3.prom" silosec_peer_transmit_bytes_total) || return 1
	echo "# transmit bytes $b0 -> $b1"
	[ $((b1 - b0)) -eq 640 ]
}
check "the byte counter moves with traffic (640 B for 5 pings)" moves

textfile() {
	local d=$TMP/textfile
	mkdir -p "$d"
	prom --output "$d/silosec.prom" || return 1
	# Readable by node_exporter (not root); nothing but the final file left behind.
	[ "$(stat -c %a "$d/silosec.prom")" = 644 ] || return 1
	[ "$(find "$d" -type f | wc -l)" = 1 ] || return 1
	python3 "$CHECK" "$d/silosec.prom" >/dev/null &&
		grep -q '^silosec_interface_up{interface="ss0"} 1$' "$d/silosec.prom"
}
check "--output FILE writes the collector's file (0644, atomically)" textfile

all_ifaces() {
	# No interface named: every running one (here the only one), one header per family.
	on a "$SILOSEC" show --prometheus >"$TMP/m4.prom" || return 1
	python3 "$CHECK" "$TMP/m4.prom" >/dev/null &&
		[ "$(grep -c '^# TYPE silosec_peer_receive_bytes_total ' "$TMP/m4.prom")" = 1 ]
}
check "show --prometheus with no interface covers the running ones" all_ifaces

# ---- silosec-knockd on b: a knocks from 198.51.1.1 to open tcp/8080 for 6 s ----
knockd_server b "198.51.1.2:62201"
knockd_action b web open "Open = tcp/8080, udp/9000-9001" "Duration = 6"
knockd_client b carol "${ID[a]}" web
check "silosec-knockd starts" start_knockd b kd
kd() { on b "$KNOCKD" -c "$TMP/b/knockd.conf" "$@"; }
# ksnap: --metrics into $TMP/k.prom, checked by prom_check.py; kval NAME [REASON]: a value
ksnap() { kd --metrics >"$TMP/k.prom" && python3 "$CHECK" "$TMP/k.prom" >/dev/null; }
kval() {
	local k=$1
	[ -n "${2:-}" ] && k="$1{reason=\"$2\"}"
	awk -v k="$k" '$1 == k { print $2 }' "$TMP/k.prom"
}
nothing_open() { kd --list | grep -qx "(nothing open)"; }
before() {
	nothing_open && ksnap && [ "$(kval silosec_knockd_accepted_total)" = 0 ] &&
		[ "$(kval silosec_knockd_up)" = 1 ] && [ "$(kval silosec_knockd_open)" = 0 ]
}
check "before any knock: --list shows nothing open, --metrics counts nothing" before

FP_A=$("$SILOSEC" fingerprint "${ID[a]}")
listed() { # the row: action, client, source, identity, then the time left (1..6 s)
	kd --list >"$TMP/list.out" || return 1
	awk -v fp="$FP_A" '$1 == "web" && $2 == "carol" && $3 == "198.51.1.1" && $4 == fp &&
		$7 ~ /^[1-6]s$/ && /tcp\/8080, udp\/9000-9001$/ { ok = 1 } END { exit !ok }' \
		"$TMP/list.out"
}
knocked() {
	on a "$SILOSEC" knock -q --to "${ID[b]}" --key "$TMP/a/node.key" 198.51.1.2:62201 web ||
		return 1
	wait_for 3 listed || return 1
	sed 's/^/# /' "$TMP/list.out"
}
check "a knock opens tcp/8080: --list shows it with its identity and the time left" knocked
counted() {
	ksnap && [ "$(kval silosec_knockd_accepted_total)" = 1 ] &&
		[ "$(kval silosec_knockd_actions_total)" = 1 ] && [ "$(kval silosec_knockd_open)" = 1 ]
}
check "--metrics counts the knock (accepted, action run, one opening)" wait_for 4 counted
junk_counted() {
	send_udp a 198.51.1.2 62201 || return 1
	wait_for 5 eval 'ksnap && [ "$(kval silosec_knockd_drops_total SS_ERR_KNOCK_MAC)" = 1 ]'
}
check "a junk datagram moves silosec_knockd_drops_total{reason=SS_ERR_KNOCK_MAC}" junk_counted
expired() { nothing_open && ksnap && [ "$(kval silosec_knockd_open)" = 0 ]; }
check "after Duration the opening is gone from --list and --metrics" wait_for 10 expired
finish
