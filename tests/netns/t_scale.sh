#!/usr/bin/env bash
# 10,000 configured peers on a (one /32 each, random identities, no endpoints), b among
# them: silosecd starts, the tunnel to b works both ways, `silosec show` lists them all,
# and the daemon's memory per configured peer (RSS of a minus RSS of b, which has one
# peer, over 10,000) stays within 2 KiB. Run: SS_BUILD=... tests/netns/run.sh t_scale.sh
source "$(dirname "$0")/lib.sh"
N=${SS_SCALE_PEERS:-10000}
host a
host b
veth a b 1
python3 - "$N" "${ID[b]}" >"$TMP/a/ss0.conf" <<'PY'
import base64, os, sys
n, idb = int(sys.argv[1]), sys.argv[2]
print("[Interface]\nPrivateKeyFile = node.key\nAddress = 10.77.0.1/16\nListenPort = 51001")
me = n // 2
for i in range(n):
    if i == me:
        print(f"[Peer]\nIdentity = {idb}\nEndpoint = 198.51.1.2:51002\n"
              "AllowedIPs = 10.77.0.2/32\nAllow = icmp")
    else:
        ip = 0x0a500000 + i + 1  # 10.80.0.0/12 and up
        print(f"[Peer]\nIdentity = {base64.b64encode(os.urandom(32)).decode()}\n"
              f"AllowedIPs = {ip >> 24}.{ip >> 16 & 255}.{ip >> 8 & 255}.{ip & 255}/32")
PY
conf_iface b 10.77.0.2/16 51002
conf_peer b "${ID[a]}" 10.77.0.1/32 "Endpoint = 198.51.1.1:51001" "Allow = icmp"
t0=${EPOCHREALTIME/./}
START_WAIT=60 # N peers' routes take time
check "silosecd starts with $N configured peers" start a
echo "  # started in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"
start b || exit 1
check "ping a -> b (peer $((N / 2)) of $N)" on a ping -c 3 -i 0.2 -W 2 10.77.0.2
check "ping b -> a" on b ping -c 3 -i 0.2 -W 2 10.77.0.1
check "silosec show lists $N peers" test "$(jget a "len(d['peers'])")" -eq "$N"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
per_peer() {
	local ra rb
	ra=$(rss_kb "${PID[a]}") rb=$(rss_kb "${PID[b]}")
	echo "# RSS: a ${ra} KiB ($N peers), b ${rb} KiB (1 peer): $(((ra - rb) * 1024 / N)) B per peer"
	# The reachability state (issue 14: candidates, saved INIT, path, punch and query
	# pacing) is made on first use and released when the peer is idle (reachstate.c).
	[ $(((ra - rb) * 1024 / N)) -le 2048 ]
}
check "daemon memory per configured peer <= 2 KiB (RSS difference)" per_peer
# The timer pass walks every peer (bench/scale: ~150 us for 10,000): with one session up
# and pings every 0.2 s, the daemon's CPU time over 5 s shows what that costs in practice.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
idle_cpu() {
	local c0 c1 hz pct
	hz=$(getconf CLK_TCK)
	c0=$(cpu_ticks "${PID[a]}")
	on a ping -q -c 25 -i 0.2 -W 2 10.77.0.2 >/dev/null || return 1
	c1=$(cpu_ticks "${PID[a]}")
	pct=$(((c1 - c0) * 10000 / hz / 5))
	echo "# CPU of silosecd with $N peers over 5 s, one session, 5 pings/s: $((pct / 100)).$(printf %02d $((pct % 100)))% of a core"
	[ "$pct" -le 500 ]
}
check "$N idle peers cost the timer pass under 5 % of a core" idle_cpu
finish
