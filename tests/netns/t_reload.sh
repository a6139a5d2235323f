#!/usr/bin/env bash
# `silosec syncconf` (what `systemctl reload` runs) re-applies the peers: added and changed
# peers apply, removed ones go, sessions of unchanged peers survive; a broken file is
# refused with FILE:LINE and changes nothing; [Interface] changes are named in a warning.
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
finish
