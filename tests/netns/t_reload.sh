#!/usr/bin/env bash
# `silosec syncconf` (what `systemctl reload` runs) re-applies the peers: added and changed
# peers apply, removed ones go, sessions of unchanged peers survive; a broken file is
# refused with FILE:LINE and changes nothing; [Interface] changes are named in a warning.
# The reachability keys too: on an introducer and relay i with spokes x and y (no route
# between them), Relay = serve, Introduce = no and Relay = no flipped by syncconf take
# effect at once, as do Introducer = no/yes and CandidateAllow on a spoke; LanDiscovery
# turned on at run time is refused (the sandbox opens no new socket).
source "$(dirname "$0")/lib.sh"
two_nodes udp 4 || exit 1
check "tunnel up" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
hs0=$(jget a "d['peers'][0]['handshakes']")
other=$("$SILOSEC" genkey | "$SILOSEC" pubkey)
cp "$TMP/a/ss0.conf" "$TMP/a/ss0.conf.orig"
cat >>"$TMP/a/ss0.conf" <<EOC
PersistentKeepalive = 7
[Peer]
Identity = $other
AllowedIPs = 10.77.0.9/32
EOC
reload a
peer_field() { # IDENTITY FIELD
	jget a "[p['$2'] for p in d['peers'] if p['peer'] == '$1'][0]"
}
check "a peer added by reload" test "$(jget a "len(d['peers'])")" = 2
check "the new peer's AllowedIPs route" sh -c "ip -n ${NS}a route show dev ss0 | grep -q 10.77.0.9"
check "a changed setting applies (PersistentKeepalive 7)" test "$(peer_field "${ID[b]}" persistent_keepalive)" = 7
check "the unchanged peer keeps its session" test "$(peer_field "${ID[b]}" session)" = True
check "traffic flows at once on the old session" on a ping -c 2 -i 0.2 -W 1 10.77.0.2
check "still the first handshake" test "$(peer_field "${ID[b]}" handshakes)" = "$hs0"

echo "Bogus = 1" >>"$TMP/a/ss0.conf"
reload a
check "a broken file is refused with file:line" grep -q "silosec: .*ss0.conf:[0-9]*:.*Bogus" "$TMP/a/log"
check "and nothing changed" test "$(jget a "len(d['peers'])")" = 2

own_peer() { # a peer the daemon refuses (its own identity): named by FILE:LINE, exit 1
	cp "$TMP/a/ss0.conf.orig" "$TMP/a/ss0.bad.conf"
	put "$TMP/a/ss0.bad.conf" "[Peer]" "Identity = ${ID[a]}" "AllowedIPs = 10.77.0.8/32"
	sed -i 's|^\[Interface\]|&\nName = ss0|' "$TMP/a/ss0.bad.conf"
	! on a "$SILOSEC" syncconf ss0 "$TMP/a/ss0.bad.conf" 2>"$TMP/a/sync.err"
	sed 's/^/# /' "$TMP/a/sync.err"
	grep -q "ss0.bad.conf:$(grep -n '^\[Peer\]' "$TMP/a/ss0.bad.conf" | tail -1 | cut -d: -f1): " "$TMP/a/sync.err"
}
check "a peer the daemon cannot apply is named by FILE:LINE, exit status 1" own_peer

cp "$TMP/a/ss0.conf.orig" "$TMP/a/ss0.conf"
sed -i 's|^ListenPort = .*|ListenPort = 51009|' "$TMP/a/ss0.conf"
reload a
check "an [Interface] change is named (ListenPort) and left for a restart" \
	grep -q "silosec: ss0: ListenPort changed in the file: restart silosecd" "$TMP/a/log"
check "a peer removed by reload" test "$(jget a "len(d['peers'])")" = 1
check "its route is gone" sh -c "! ip -n ${NS}a route show dev ss0 | grep -q 10.77.0.9"
check "the remaining session is still the first" test "$(peer_field "${ID[b]}" handshakes)" = "$hs0"
check "the port is unchanged" test "$(jget a "d['listen_port']")" = 51001

# ---- reachability keys (PROTOCOL.md 16) by syncconf ----
host i
host x
host y
veth i x 3
veth i y 4
# iconf XSERVE YSERVE YINTRODUCE: i's file, with Relay and Introduce for its spokes
iconf() {
	conf_iface i 10.78.0.1/24 52001
	conf_peer i "${ID[x]}" 10.78.0.2/32 "Endpoint = 198.51.3.2:52002" "Introduce = yes" \
		"Relay = $1"
	conf_peer i "${ID[y]}" 10.78.0.3/32 "Endpoint = 198.51.4.2:52003" "Introduce = $3" \
		"Relay = $2"
}
iconf serve no yes
for h in x y; do
	n=$([ $h = x ] && echo 2 || echo 3)
	l=$([ $h = x ] && echo 3 || echo 4)
	m=$([ $h = x ] && echo 3 || echo 2)
	o=$([ $h = x ] && echo y || echo x)
	conf_iface $h "10.78.0.$n/24" "5200$n"
	conf_peer $h "${ID[i]}" 10.78.0.1/32 "Endpoint = 198.51.$l.1:52001" "Introducer = yes" \
		"Relay = yes" "PersistentKeepalive = 25"
	conf_peer $h "${ID[$o]}" "10.78.0.$m/32" "Allow = any" # no Endpoint: i introduces
done
ipeer() { # HOST FIELD EXPR-ON-p: a field of i's peer HOST ('' when absent)
	jget i "[p.get('$2', '') for p in d['peers'] if p['peer'] == '${ID[$1]}'][0]"
}
registered() { [ -n "$(jget x "d['peers'][0].get('reflexive', '')")" ] &&
	[ -n "$(jget y "d['peers'][0].get('reflexive', '')")" ]; }
check "introducer and relay i, spokes x and y registered with it" \
	eval 'start i && start x && start y && wait_for 10 registered'
denied() { jget i "[p.get('drops', {}).get('SS_ERR_REACH_DENIED', 0) for p in d['peers'] if p['peer'] == '${ID[$1]}'][0]"; }
check "y is not a relay peer at i (Relay = no): x's circuit is refused" \
	eval '! on x ping -c 2 -i 0.5 -W 1 10.78.0.3 >/dev/null && wait_for 5 test "$(denied x)" -gt 0'

iconf serve serve yes
check "syncconf: Relay = serve for y" reload i
check "show --json at i: relay serve for y" test "$(ipeer y relay)" = serve
check "x reaches y through the relay i, no restart" wait_for 25 on x ping -c 1 -W 1 10.78.0.3
check "x's path to y: relay via i" eval "jget x \"[p['path'] for p in d['peers'] if p['peer'] == '\${ID[y]}'][0]\" | grep -q '^relay via'"
check "i carries a circuit" test "$(jget i "d.get('relay_circuits', 0)")" -ge 1
check "i's session with x survived the reload" test "$(ipeer x handshakes)" = 1

iconf serve serve no
check "syncconf: Introduce = no for y" reload i
check "show --json at i: y no longer introduced" test -z "$(ipeer y introduce)"
requery() { # x forgets y and asks again: i must refuse to introduce y
	local before
	before=$(denied x)
	on x "$SILOSEC" set ss0 peer "${ID[y]}" remove &&
		on x "$SILOSEC" set ss0 peer "${ID[y]}" allowed-ips 10.78.0.3/32 allow any || return 1
	on x ping -c 1 -W 1 10.78.0.3 >/dev/null
	wait_for 5 test "$(denied x)" -gt "$before"
}
check "i refuses to introduce y now (x's QUERY: SS_ERR_REACH_DENIED)" requery

iconf serve no no
check "syncconf: Relay = no for y closes its circuits" reload i
check "no circuit at i" wait_for 5 test "$(jget i "d.get('relay_circuits', 0)")" = 0

xintro() { # yes|no: Introducer = for i in x's file, applied by syncconf
	sed -i "s/^Introducer = .*/Introducer = $1/" "$TMP/x/ss0.conf" && reload x
}
xreflexive() { jget x "d['peers'][0].get('reflexive', '')"; }
xregistered() { [ -n "$(xreflexive)" ]; }
check "syncconf on x: Introducer = no: i is no introducer of x's, nothing registered" \
	eval 'xintro no && test -z "$(jget x "d[\"peers\"][0].get(\"introducer\", \"\")")" && ! xregistered'
check "syncconf on x: Introducer = yes: x registers at once (i reports x's address)" \
	eval 'xintro yes && wait_for 3 xregistered && echo "# i sees x at $(xreflexive)"'

xcand() { # x's drops of candidates for y
	jget x "[p.get('drops', {}).get('SS_ERR_CANDIDATE', 0) for p in d['peers'] if p['peer'] == '${ID[y]}'][0]"
}
cand_allow() { # CandidateAllow on x by syncconf: i's answer about y (198.51.4.2) is refused
	iconf serve serve yes
	reload i || return 1
	sed -i 's|^\[Interface\]|&\nCandidateAllow = 10.0.0.0/8|' "$TMP/x/ss0.conf"
	reload x || return 1
	# Introduce = yes again at i: y is introduced from its next REGISTER (every 20 s;
	# Introduce = no dropped its registration), so x asks until i answers.
	wait_for 30 cand_query && echo "# x refused $(xcand) candidate(s) for y"
}
cand_query() { # x forgets y, asks i again; i's answer gave x a refused candidate
	on x "$SILOSEC" set ss0 peer "${ID[y]}" remove &&
		on x "$SILOSEC" set ss0 peer "${ID[y]}" allowed-ips 10.78.0.3/32 allow any || return 1
	on x ping -c 1 -W 1 10.78.0.3 >/dev/null
	wait_for 2 test "$(xcand)" -gt 0
}
check "syncconf on x: CandidateAllow = 10.0.0.0/8 refuses y's introduced address" cand_allow
check "x still reaches y, through the relay" wait_for 25 on x ping -c 1 -W 1 10.78.0.3

lan_refused() {
	sed -i 's|^\[Interface\]|&\nLanDiscovery = peers|' "$TMP/i/ss0.conf"
	! on i "$SILOSEC" syncconf ss0 "$TMP/i/ss0.conf" 2>"$TMP/i/sync.err" || return 1
	sed 's/^/# /' "$TMP/i/sync.err"
	grep -q "LanDiscovery = peers: not applied.*restart silosecd" "$TMP/i/sync.err" &&
		test "$(jget i "d['lan_discovery']")" = off
}
check "LanDiscovery turned on by syncconf is refused by name (restart needed), exit 1" lan_refused
finish
