#!/usr/bin/env bash
# A full tunnel, the way wg-quick makes one: host a sends all its traffic (AllowedIPs =
# 0.0.0.0/0, ::/0) through peer b, which forwards and masquerades to an "internet"
# namespace i with a web server. Brought up and down with `silosec up`/`silosec down`:
# PreUp/PostUp/PreDown/PostDown ran with %i expanded, a failing PreUp is fatal, DNS went
# through resolvconf (a stub recording its input: the namespaces share the host's
# /etc/resolv.conf), and after down every rule, route and table is as before. Also:
# wg-quick's nftables table is there while up (a LAN host's pings to a's tunnel address
# are dropped) and gone after; silosecd's READY=1 reaches $NOTIFY_SOCKET only once its
# interface is up.
source "$(dirname "$0")/lib.sh"
host a
host b
host i
veth a b 1
veth b i 2
# a reaches b directly; "the internet" (203.0.113.80, 2001:db8:80::80) only by b, which
# forwards nothing but tunnel traffic.
ip -n "${NS}a" route add default via 198.51.1.2
ip -n "${NS}a" -6 route add default via fd00:1::2
ip -n "${NS}i" addr add 203.0.113.80/32 dev lo
ip -n "${NS}i" addr add 2001:db8:80::80/128 dev lo
ip netns exec "${NS}b" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "${NS}b" route add 203.0.113.80/32 via 198.51.2.2
ip -n "${NS}b" -6 route add 2001:db8:80::80/128 via fd00:2::2
ip netns exec "${NS}b" nft -f - <<'NFT'
table inet ft {
	chain c_fwd {
		type filter hook forward priority 0; policy drop;
		iifname "ss0" accept
		oifname "ss0" ct state established,related accept
	}
	chain c_nat {
		type nat hook postrouting priority 100;
		oifname "v2-b" masquerade
	}
}
NFT

conf_iface b "10.77.0.2/24, fd77::2/64" 51002
conf_peer b "${ID[a]}" "10.77.0.1/32, fd77::1/128" "Endpoint = 198.51.1.1:51001" "Allow = any"
conf_iface a "10.77.0.1/24, fd77::1/64" 51001 "SaveConfig = yes" \
	"DNS = 10.77.0.2, fd77::2, corp.example" \
	"PreUp = echo pre-up %i >>$TMP/hooks" "PostUp = echo post-up %i >>$TMP/hooks" "PostUp = false" \
	"PreDown = echo pre-down %i >>$TMP/hooks" "PostDown = echo post-down %i >>$TMP/hooks"
conf_peer a "${ID[b]}" "0.0.0.0/0, ::/0" "Endpoint = 198.51.1.2:51002" "Allow = any"

# resolvconf stub: -a NAME (input on stdin) writes $TMP/dns.NAME, -d NAME removes it.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/resolvconf" <<SH
#!/bin/sh
case "\$1" in -a) { echo "args: \$*"; cat; } >"$TMP/dns.\$2" ;; -d) rm -f "$TMP/dns.\$2" ;; esac
SH
chmod +x "$TMP/bin/resolvconf"
ss() { on a env PATH="$TMP/bin:$PATH" SILOSECD="$SILOSECD" "$SILOSEC" "$@" ${SS_SILOSECD_ARGS:-}; }
# (fe80:: lines: the veths' link-local addresses may appear at any time.)
state() { { ip rule; ip -6 rule; ip route show table all; ip -6 route show table all; ip link; } 2>&1 | grep -v fe80; }
on a bash -c "$(declare -f state); state" >"$TMP/before"

# NOTIFY_SOCKET: the listener looks at the interface as soon as READY=1 arrives.
python3 - "$TMP/notify.sock" "$NS" "$TMP/notify.out" <<'PY' &
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[3] + ".ready", "w").close()
msg = s.recv(4096).decode()
link = subprocess.run(["ip", "-n", sys.argv[2] + "b", "-br", "addr", "show", "dev", "ss0"],
                      capture_output=True, text=True).stdout
route = subprocess.run(["ip", "-n", sys.argv[2] + "b", "route", "show", "10.77.0.1/32"],
                       capture_output=True, text=True).stdout
open(sys.argv[3], "w").write(f"{msg}|{link.strip()}|{route.strip()}\n")
PY
BG+=($!)
wait_for 5 test -e "$TMP/notify.out.ready"
NOTIFY_SOCKET=$TMP/notify.sock start b || exit 1
notified() {
	cat "$TMP/notify.out"
	grep -q '^READY=1|ss0 .*10\.77\.0\.2/24.*|10\.77\.0\.1 dev ss0' "$TMP/notify.out"
}
check "READY=1 on NOTIFY_SOCKET, sent once ss0 is up with its address and route" \
	wait_for 5 notified

sed 's/^PreUp = .*/PreUp = false/' "$TMP/a/ss0.conf" >"$TMP/a/bad.conf" # interface "bad"
pre_fatal() {
	! ss up "$TMP/a/bad.conf" && ! on a ip link show bad && [ -z "$(ip netns pids "${NS}a")" ]
}
check "a failing PreUp is fatal: no daemon, no device" pre_fatal

up() { # a failing PostUp is reported, not fatal
	ss up "$TMP/a/ss0.conf" 2>&1 | tee "$TMP/up.log"
	[ "${PIPESTATUS[0]}" = 0 ] && grep -q 'PostUp = false: exit status 1' "$TMP/up.log"
}
check "silosec up a full tunnel (a failing PostUp reported, not fatal)" up
check "net.ipv4.conf.all.src_valid_mark = 1 (as wg-quick sets it)" \
	on a grep -qx 1 /proc/sys/net/ipv4/conf/all/src_valid_mark
for p in $(ip netns pids "${NS}a"); do BG+=("$p"); done

rules() { # (captured first: grep -q closing the pipe early fails it under pipefail)
	local r4 r6 t4 t6
	r4=$(on a ip rule) r6=$(on a ip -6 rule)
	t4=$(on a ip route show table 51820) t6=$(on a ip -6 route show table 51820)
	printf '%s\n' "$r4" "$r6" "$t4" "$t6"
	grep -q 'not from all fwmark 0xca6c lookup 51820' <<<"$r4" &&
		grep -q 'from all lookup main suppress_prefixlength 0' <<<"$r4" &&
		grep -q 'not from all fwmark 0xca6c lookup 51820' <<<"$r6" &&
		grep -q 'from all lookup main suppress_prefixlength 0' <<<"$r6" &&
		grep -q '^default dev ss0' <<<"$t4" && grep -q '^default dev ss0' <<<"$t6"
}
check "wg-quick's rules and table 51820 (fwmark 0xca6c) with default routes" rules
no_loop() {
	local in out
	in=$(on a ip route get 203.0.113.80) out=$(on a ip route get 198.51.1.2 mark 51820)
	printf '%s\n' "$in" "$out"
	grep -q 'dev ss0' <<<"$in" && grep -q 'dev v1-a' <<<"$out"
}
check "the internet goes into ss0, the tunnel's own marked packets to b do not" no_loop

preraw() { # wg-quick's raw-table rule: a's tunnel address is not reachable from its LAN
	local before after
	on a nft list table ip silosec-ss0 && on a nft list table ip6 silosec-ss0 >/dev/null || return 1
	before=$(on a nft list chain ip silosec-ss0 preraw | grep -o 'packets [0-9]*' | cut -d' ' -f2)
	# b sends its pings for 10.77.0.1 over the underlay, not the tunnel, as a LAN host would.
	ip -n "${NS}b" route add 10.77.0.1/32 via 198.51.1.1 dev v1-b table 100 &&
		ip -n "${NS}b" rule add to 10.77.0.1 ipproto icmp lookup 100 pref 10 || return 1
	on b ping -c 2 -i 0.2 -W 1 10.77.0.1
	ip -n "${NS}b" rule del pref 10
	after=$(on a nft list chain ip silosec-ss0 preraw | grep -o 'packets [0-9]*' | cut -d' ' -f2)
	echo "# preraw drops: $before before, $after after two pings from the LAN"
	[ "$after" -ge $((before + 2)) ]
}
check "nftables table silosec-ss0 (wg-quick's): the tunnel's address dropped from the LAN" preraw

web() {
	ip netns exec "${NS}i" python3 -m http.server -b :: 8080 >/dev/null 2>&1 &
	BG+=($!)
	wait_for 5 on i curl -s -o /dev/null http://203.0.113.80:8080/
}
check "web server in the internet namespace" web
through() { # curl -4|-6 URL: works, and a's underlay carried only SiloSec UDP meanwhile
	# The session first (a loaded machine can take seconds over the handshake), so that
	# curl's own time limit measures the tunnel, not the handshake.
	wait_for 15 on a ping -c 1 -W 1 "$([ "$1" = -4 ] && echo 10.77.0.2 || echo fd77::2)" \
		>/dev/null || return 1
	ip netns exec "${NS}a" timeout 30 tcpdump -Z root -i v1-a -n -U --immediate-mode -w "$TMP/cap.pcap" 2>"$TMP/tcpdump.log" &
	local t=$!
	wait_for 10 grep -q "listening on" "$TMP/tcpdump.log" || return 1
	on a curl -s -m 15 "$1" "$2" >"$TMP/page" && grep -qi "directory listing" "$TMP/page" ||
		return 1
	sleep 0.3 # the last packets, still in the socket's buffer, into the file
	kill -INT $t
	wait $t
	local all ss
	# ICMPv6 neighbour, router and multicast listener messages stay on the link; MLD
	# reports carry a hop-by-hop header, which tcpdump's "icmp6" does not look past.
	local link='ip6 and (icmp6 or src net fe80::/10 or dst net ff00::/8)'
	all=$(tcpdump -r "$TMP/cap.pcap" -n "(ip or ip6) and not ($link)" 2>/dev/null | wc -l)
	ss=$(tcpdump -r "$TMP/cap.pcap" -n 'udp and host 198.51.1.2 and port 51002' 2>/dev/null | wc -l)
	echo "# $1: $ss SiloSec packets of $all on a's underlay"
	tcpdump -r "$TMP/cap.pcap" -n "(ip or ip6) and not ($link) and not (udp and host 198.51.1.2 and port 51002)" 2>/dev/null |
		sed 's/^/# other: /'
	[ "$ss" -gt 0 ] && [ "$ss" -eq "$all" ]
}
check "curl over IPv4 through the tunnel; underlay shows only SiloSec packets" \
	through -4 http://203.0.113.80:8080/
check "curl over IPv6 through the tunnel" through -6 "http://[2001:db8:80::80]:8080/"

dns_set() {
	cat "$TMP/dns.ss0"
	grep -q -- '-a ss0 -m 0 -x' "$TMP/dns.ss0" && grep -q 'nameserver 10.77.0.2' "$TMP/dns.ss0" &&
		grep -q 'nameserver fd77::2' "$TMP/dns.ss0" && grep -q '^search corp.example' "$TMP/dns.ss0"
}
check "DNS servers and search domain given to resolvconf" dns_set

check "a run-time change: persistent-keepalive 7s" ss set ss0 peer "${ID[b]}" persistent-keepalive 7s
check "silosec down" ss down ss0
saved() { # SaveConfig = yes: down wrote the change back, keeping wg-quick's keys
	cat "$TMP/a/ss0.conf"
	grep -qx 'PersistentKeepalive = 7' "$TMP/a/ss0.conf" &&
		grep -qx 'PreDown = echo pre-down %i >>'"$TMP"'/hooks' "$TMP/a/ss0.conf" &&
		grep -q '^DNS = 10.77.0.2' "$TMP/a/ss0.conf" && [ "$(stat -c %a "$TMP/a/ss0.conf")" = 600 ]
}
check "SaveConfig = yes: down saved the set change atomically, hooks and DNS kept" saved
gone() {
	on a bash -c "$(declare -f state); state" >"$TMP/after"
	diff "$TMP/before" "$TMP/after" && [ ! -e "$TMP/dns.ss0" ] &&
		! on a nft list table ip silosec-ss0 2>/dev/null && [ -z "$(ip netns pids "${NS}a")" ] && [ ! -e "$TMP/a/run/ss0.up" ]
}
check "after down: rules, routes, tables, device, DNS and daemon all gone" gone
hooks() {
	cat "$TMP/hooks"
	printf 'pre-up ss0\npost-up ss0\npre-down ss0\npost-down ss0\n' | diff - "$TMP/hooks"
}
check "hooks ran in order with %i expanded (and not PostUp after the failed PreUp)" hooks
crashed() { # the daemon killed: down still removes the rules it left
	ss up "$TMP/a/ss0.conf" >/dev/null 2>&1 || return 1
	local p
	p=$(ip netns pids "${NS}a")
	[ -n "$p" ] && kill -9 $p
	wait_for 5 bash -c "! ip -n ${NS}a link show ss0" || return 1
	on a ip rule | grep fwmark || return 1
	ss down ss0 # no daemon to stop: status 1, the rest done
	on a bash -c "$(declare -f state); state" >"$TMP/after"
	diff "$TMP/before" "$TMP/after" && [ ! -e "$TMP/dns.ss0" ] &&
		! on a nft list table ip6 silosec-ss0 2>/dev/null
}
check "after a killed daemon, down removes its rules and DNS" crashed
finish
