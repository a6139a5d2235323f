# NAT lab for the netns tests and bench/reach: source after lib.sh (it uses lib.sh's
# namespace prefix, host(), on(), wait_for and cleanup trap).
#
#   intro 198.51.100.1 (+ .2, .3: further "internet" addresses for probes)
#     |
#   [inet] bridge br0 198.51.100.0/24 (.254): the internet, a plain switch
#     |  port p-natA                       |  port p-natB
#   natA wan .10, lan 10.0.1.1/24        natB wan .20, lan 10.0.2.1/24
#     |  bridge "lan", ports l-a, l-c      |  bridge "lan", port l-b
#   a 10.0.1.2, c 10.0.1.3               b 10.0.2.2
#
# Capture on a switch's ports (natlab_capture), not on the bridge device: frames forwarded
# between ports do not show on the bridge itself. p-natA (in inet) carries everything
# natA's side sends to or receives from the internet; l-c (in natA) everything to and
# from c.
#
# NAT types (natlab_nat ROUTER TYPE), all with nftables in the router's namespace:
#   full-cone        masquerade + any inbound UDP to a mapped port is forwarded
#   restricted       ... only from an address the inside port has sent to
#   port-restricted  masquerade alone: Linux keeps the source port (endpoint-independent
#                    mapping while no other inside host holds it); conntrack admits only
#                    replies from the exact address and port sent to
#   symmetric        masquerade random: a new random external port per destination
# For the two cone types, the inside port of every outgoing UDP flow is remembered
# (map "cone", port -> inside address) with the UDP timeout, and inbound traffic to that
# port is DNATed back: this assumes the port was kept, which holds while inside hosts use
# distinct ports (a and c should not share one). Unsolicited inbound traffic to the router
# itself is dropped silently, as home routers do: were it accepted (and answered by an ICMP
# port unreachable), conntrack would keep an entry for it, and a later punch from inside
# towards that sender would clash with it and be given another external port.
# shellcheck shell=bash disable=SC2034
NL_NET=198.51.100
NL_UDP_TIMEOUT=${NL_UDP_TIMEOUT:-30} # nf_conntrack_udp_timeout(_stream) in the routers
NL_TYPES="full-cone restricted port-restricted symmetric"
declare -A NL_WAN=([intro]=$NL_NET.1 [natA]=$NL_NET.10 [natB]=$NL_NET.20)
declare -A NL_IP=([a]=10.0.1.2 [c]=10.0.1.3 [b]=10.0.2.2 [intro]=$NL_NET.1)
declare -A NL_ROUTER=([a]=natA [c]=natA [b]=natB)
declare -A NL_TYPE # current type per router

# nl_do CMD...: run a set-up step; if it fails, say on one line (callers may show only
# the last) which command it was, its exit status and its error output, so that a lab
# that fails to come up says where. Stdout is discarded; CMD runs in this shell, so
# host() and nl_ns() keep their global records.
nl_do() {
	local rc
	"$@" >/dev/null 2>"$TMP/natlab.err" && return 0
	rc=$?
	echo "natlab: step failed (exit $rc): $*: $(tr '\n' ' ' <"$TMP/natlab.err")" >&2
	return 1
}

# nl_ns NAME: a bare namespace (router or switch: no key, no daemon), removed on exit
nl_ns() {
	nl_do ip netns add "$NS$1" || return 1
	HOSTS+=("$1")
	mkdir -p "$TMP/$1/run"
	nl_do ip -n "$NS$1" link set lo up || return 1
	# Bridged frames must not pass through this namespace's IP hooks (br_netfilter).
	# shellcheck disable=SC2016 # expanded by the inner sh
	nl_do on "$1" sh -c 'for f in /proc/sys/net/bridge/bridge-nf-call-*; do
		[ ! -e "$f" ] || echo 0 >"$f" || exit 1; done'
}

# nl_wire NS IFACE SWITCH PORT ADDR/LEN: a veth from NS (named IFACE) to bridge SWITCH
# (in namespace inet or in a router), with ADDR on IFACE
nl_wire() {
	local sw_ns=$3 sw_br=br0
	[ "$3" != inet ] && sw_br=lan
	nl_do ip link add "$2" netns "$NS$1" type veth peer name "$4" netns "$NS$sw_ns" &&
		nl_do ip -n "$NS$sw_ns" link set "$4" master "$sw_br" up &&
		nl_do ip -n "$NS$1" addr add "$5" dev "$2" &&
		nl_do ip -n "$NS$1" link set "$2" up
}

# nl_bridge NS NAME ADDR/LEN: a bridge (a switch) in NS, with ADDR, up
nl_bridge() {
	nl_do ip -n "$NS$1" link add "$2" type bridge &&
		nl_do ip -n "$NS$1" addr add "$3" dev "$2" &&
		nl_do ip -n "$NS$1" link set "$2" up
}

# natlab_setup TYPE_A TYPE_B: build the lab with natA of TYPE_A and natB of TYPE_B.
# Hosts intro, a, b and c are lib.sh hosts (a key each, for the SiloSec cases). A step
# that fails is named on stderr with its error (nl_do).
natlab_setup() {
	local r n l h
	nl_ns inet && nl_bridge inet br0 "$NL_NET.254/24" || return 1
	nl_do host intro || return 1
	nl_wire intro eth0 inet p-intro "$NL_NET.1/24" &&
		nl_do ip -n "$NS"intro addr add "$NL_NET.2/24" dev eth0 &&
		nl_do ip -n "$NS"intro addr add "$NL_NET.3/24" dev eth0 || return 1
	for r in natA natB; do
		n=$([ $r = natA ] && echo 1 || echo 2)
		nl_ns $r && nl_wire $r wan inet "p-$r" "${NL_WAN[$r]}/24" &&
			nl_bridge $r lan "10.0.$n.1/24" &&
			nl_do on $r sysctl -qw net.ipv4.ip_forward=1 || return 1
	done
	for h in a c b; do
		r=${NL_ROUTER[$h]}
		l=$([ "$r" = natA ] && echo 1 || echo 2)
		nl_do host $h && nl_wire $h eth0 "$r" "l-$h" "${NL_IP[$h]}/24" &&
			nl_do ip -n "$NS$h" route add default via "10.0.$l.1" || return 1
	done
	natlab_nat natA "$1" && natlab_nat natB "$2" || return 1
	# After the rulesets: they need connection tracking, so these sysctls exist by now
	# (where nf_conntrack is a module, nft loads it).
	for r in natA natB; do
		nl_do on $r sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$NL_UDP_TIMEOUT" \
			net.netfilter.nf_conntrack_udp_timeout_stream="$NL_UDP_TIMEOUT" || return 1
	done
}

# natlab_nat ROUTER TYPE: (re)load ROUTER's ruleset as NAT TYPE (see the top of this file);
# flushes its conntrack table and mappings too, so no state of the old type survives.
natlab_nat() {
	local r=$1 t=$2 cone='' restr='' rnd='' rules
	local learn='iifname lan oifname wan meta l4proto udp update'
	local in='iifname wan meta l4proto udp'
	case $t in
	full-cone) cone=1 ;;
	restricted) cone=1 restr=1 ;;
	port-restricted) ;;
	symmetric) rnd=" random" ;;
	*) echo "natlab_nat: unknown NAT type $t (one of: $NL_TYPES)" >&2; return 1 ;;
	esac
	rules="table ip natlab {
	map cone { type inet_service : ipv4_addr; flags dynamic,timeout; timeout ${NL_UDP_TIMEOUT}s; }
	set seen { type ipv4_addr . inet_service; flags dynamic,timeout; timeout ${NL_UDP_TIMEOUT}s; }
	chain prerouting {
		type nat hook prerouting priority dstnat;
		${restr:+$in ip saddr . udp dport != @seen return}
		${cone:+$in dnat ip to udp dport map @cone}
	}
	chain postrouting {
		type nat hook postrouting priority srcnat;
		oifname wan masquerade$rnd
	}
	chain forward {
		type filter hook forward priority filter;
		${cone:+$learn @cone "{ udp sport : ip saddr }"}
		${restr:+$learn @seen "{ ip daddr . udp sport }"}
		iifname wan ct state established,related accept
		iifname wan ct status dnat accept
		iifname wan drop
	}
	chain input {
		type filter hook input priority filter;
		iifname wan ct state established,related accept
		iifname wan drop
	}
}"
	# One transaction: the old ruleset is replaced, never absent (packets forwarded
	# without NAT in between would leave private addresses on the internet).
	printf 'table ip natlab {}\ndelete table ip natlab\n%s\n' "$rules" >"$TMP/natlab-$r.nft"
	nl_do on "$r" nft -f "$TMP/natlab-$r.nft" || return 1
	NL_TYPE[$r]=$t
	natlab_flush "$r"
}

# natlab_flush ROUTER: forget every mapping, as a router reboot would (the cone types'
# learnt ports, then the conntrack table). Daemons may be sending through ROUTER all the
# while: a datagram right after the flush makes a new mapping, as it would after a reboot,
# so the table need not be empty afterwards (t_natlab checks that it is, with no traffic).
natlab_flush() {
	nl_do on "$1" nft flush map ip natlab cone \; flush set ip natlab seen &&
		nl_do on "$1" conntrack -F
}

# natlab_capture NAME NS IFACE [FILTER...]: record IFACE in NS to $TMP/NAME.pcap in the
# background until natlab_capture_stop NAME; returns once tcpdump is capturing
declare -A NL_CAP
natlab_capture() {
	local n=$1 h=$2 i=$3
	shift 3
	ip netns exec "$NS$h" tcpdump -i "$i" -nn -U --immediate-mode -w "$TMP/$n.pcap" "$@" 2>"$TMP/$n.cap.log" &
	NL_CAP[$n]=$!
	BG+=($!)
	wait_for 5 grep -q "listening on" "$TMP/$n.cap.log"
}
natlab_capture_stop() {
	kill "${NL_CAP[$1]}" 2>/dev/null
	wait "${NL_CAP[$1]}" 2>/dev/null
	unset "NL_CAP[$1]"
}
# natlab_count NAME FILTER...: packets in capture NAME matching the tcpdump FILTER
natlab_count() {
	local n=$1
	shift
	tcpdump -r "$TMP/$n.pcap" -nn "$@" 2>/dev/null | wc -l
}

# ---- UDP probes (natprobe.py, a small STUN-like reflector) ----
NL_PROBE=$(dirname "${BASH_SOURCE[0]}")/natprobe.py
# The interpreter itself, not a version manager's shim: the shim costs a second a start.
NL_PY=$(python3 -c 'import sys; print(sys.executable)')
# natlab_reflector: on intro, answer probes on .1:3478, .1:3479, .2:3478, .3:3478
natlab_reflector() {
	ip netns exec "$NS"intro "$NL_PY" "$NL_PROBE" reflect "$NL_NET.1:3478" "$NL_NET.2:3478" \
		"$NL_NET.3:3478" "$NL_NET.1:3479" >/dev/null 2>"$TMP/reflector.log" &
	BG+=($!)
	wait_listening intro 3479 udp
}
# natlab_probe HOST LOCALPORT REQ...: from one socket on HOST, one line per REQ with the
# address the reflector saw ("-" when no answer came). REQ is DEST:PORT, or
# DEST:PORT@FROM:PORT to ask for the answer from another reflector socket (an unsolicited
# packet for the NAT); end with a plain REQ, which the earlier answers must precede.
natlab_probe() {
	on "$1" "$NL_PY" "$NL_PROBE" probe "0.0.0.0:$2" "${@:3}"
}
