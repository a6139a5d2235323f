#!/usr/bin/env bash
# What crosses the wire is unreadable: a marker sent through the tunnel by ping and by
# curl (HTTP from a server in the other namespace) appears on the TUN side of a capture
# and nowhere on the veth side.
source "$(dirname "$0")/lib.sh"
two_nodes udp 4 || exit 1
marker=SILOSEC_PLAINTEXT_MARKER_7c1f
mkdir -p "$TMP/www"
for i in $(seq 200); do echo "$marker line $i"; done >"$TMP/www/secret.txt"

(cd "$TMP/www" && ip netns exec "${NS}b" python3 -m http.server 8080 --bind 10.77.0.2 \
	>/dev/null 2>&1) &
web=$!
capture() { # HOST IFACE FILE (dumpcap is tshark's capture engine, quicker to start)
	ip netns exec "$NS$1" dumpcap -q -i "$2" -w "$3" >/dev/null 2>&1 &
	echo $!
}
wire=$(capture a v1-a "$TMP/wire.pcap")
tun=$(capture a ss0 "$TMP/tun.pcap")
# The file gets its header once capturing has begun.
wait_for 20 test -s "$TMP/wire.pcap"
wait_for 20 test -s "$TMP/tun.pcap"
# Not pollable: the header is written just before capturing starts; a short margin.
sleep 0.5
check "curl fetches a file through the tunnel" \
	wait_for 10 sh -c "ip netns exec ${NS}a curl -sf http://10.77.0.2:8080/secret.txt | grep -q '$marker line 200'"
hex=$(printf %s "SILOSEC_MARK_PNG" | od -An -tx1 | tr -d ' \n')
check "ping with a marker pattern" on a ping -c 3 -i 0.2 -p "$hex" -W 2 10.77.0.2
# dumpcap writes as it captures: the last ping's marker in the TUN file means the
# captures are through (then SIGINT flushes what is left).
wait_for 5 grep -qa SILOSEC_MARK_PNG "$TMP/tun.pcap"
kill -INT "$wire" "$tun" 2>/dev/null
wait "$wire" "$tun" 2>/dev/null
kill "$web" 2>/dev/null
check "the capture on the TUN side holds the markers (control)" \
	sh -c "grep -qa '$marker' '$TMP/tun.pcap' && grep -qa SILOSEC_MARK_PNG '$TMP/tun.pcap'"
check "the veth capture holds the tunnel packets" sh -c "test \$(ip netns exec ${NS}a tshark -r $TMP/wire.pcap -Y udp 2>/dev/null | wc -l) -ge 10 && test \$(stat -c %s $TMP/wire.pcap) -gt 8000"
check "no marker on the wire" sh -c "! grep -qa -e '$marker' -e SILOSEC_MARK '$TMP/wire.pcap'"
check "no HTTP on the wire" sh -c "! grep -qa -e 'HTTP/1' -e 'GET /secret' '$TMP/wire.pcap'"
check "tshark sees only UDP to the tunnel ports on the veth" sh -c \
	"ip netns exec ${NS}a tshark -r '$TMP/wire.pcap' -T fields -e udp.port -Y 'ip' 2>/dev/null | sort -u | grep -vx '51001,51002' | grep -vx '51002,51001' | wc -l | grep -qx 0"
finish
