#!/usr/bin/env bash
# Operator integration (issue 15 items 4-7): peer names and groups in rules, show, set,
# grant, revoke, trust and the audit trail; showconf | syncconf keeping every session;
# SaveConfig writing `set` changes back atomically; `silosec trust forget` taking effect
# in the running daemon at the peer's next handshake, other sessions untouched.
source "$(dirname "$0")/lib.sh"
host a
host b
host c
veth a b 1
veth a c 2
conf_iface a 10.77.0.1/24 51001 "TrustStore = a.trust" "SaveConfig = yes"
conf_peer a "${ID[b]}" 10.77.0.2/32 "Name = bob" "Endpoint = 198.51.1.2:51002" \
	"Groups = ci" "Allow = icmp"
conf_peer a tofu 10.77.0.3/32 "Name = carol" "Endpoint = 198.51.2.2:51003" "Allow = icmp"
put "$TMP/a/ss0.conf" "[Group ci]" "Allow = tcp 7000"
chmod 600 "$TMP/a/ss0.conf"
conf_iface b 10.77.0.2/24 51002
conf_peer b "${ID[a]}" 10.77.0.0/24 "Endpoint = 198.51.1.1:51001" "Allow = any"
conf_iface c 10.77.0.3/24 51003 "AcceptTofu = yes"
conf_peer c "${ID[a]}" 10.77.0.0/24 "Endpoint = 198.51.2.1:51001" "Allow = any"
start a && start b && start c || exit 1
apid=${PID[a]}
si() { on a "$SILOSEC" "$@"; }
pf() { jget a "[p for p in d['peers'] if p.get('name') == '$1'][0]$2"; }

check "tunnel to bob" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
check "tunnel to carol (trust on first use)" on a ping -c 2 -i 0.2 -W 2 10.77.0.3
check "show names the peers" test "$(pf bob "['peer']")" = "${ID[b]}"
check "show lists effective rules and where each came from" \
	test "$(pf bob "['rules']")" = "[{'origin': 'own', 'rule': 'icmp'}, {'origin': 'group:ci', 'rule': 'tcp 7000'}]"
human() { show a | grep -q "^  name: bob$" && show a | grep -q "allow: icmp (own), tcp 7000 (group ci)$"; }
check "show (human) names the peer and the group a rule came from" human
tcp_listen a 7000
tcp_listen a 7001
check "a group rule admits what the peer's own rules do not (bob: tcp 7000)" tcp_probe b 10.77.0.1 7000
check "a peer outside the group is refused (carol: tcp 7000)" eval "! tcp_probe c 10.77.0.1 7000 1"

# Names wherever an identity goes.
check "set by name" si set ss0 peer bob persistent-keepalive 9
check "the change applies" test "$(pf bob "['persistent_keepalive']")" = 9
check "grant by name" si grant ss0 carol "tcp 7001" --for 60
check "the grant admits carol" tcp_probe c 10.77.0.1 7001
check "audit lines carry the name next to the fingerprint" \
	sh -c "grep '\"event\":\"grant\"' '$TMP/a/log' | grep '\"decision\":\"create\"' | grep -q '\"identity\":\"[^\"]*\",\"name\":\"carol\"'"
check "revoke by name" si revoke ss0 carol
unknown() { ! si set ss0 peer dave persistent-keepalive 1 2>"$TMP/err" && grep -q "no peer is named so" "$TMP/err"; }
check "an unknown name is refused, named" unknown

# showconf | syncconf: the running configuration as a file, applied back unchanged.
hsb=$(pf bob "['handshakes']")
hsc=$(pf carol "['handshakes']")
si showconf ss0 "$TMP/a/ss0.conf" >"$TMP/a/shown.conf" 2>>"$TMP/a/log"
check "showconf prints a configuration with the set change" grep -q "^PersistentKeepalive = 9$" "$TMP/a/shown.conf"
check "showconf never writes a key inline" sh -c "grep -q '^PrivateKeyFile = ' '$TMP/a/shown.conf' && ! grep -q '^PrivateKey ' '$TMP/a/shown.conf'"
check "showconf keeps names, groups and [Group] sections" \
	sh -c "grep -q '^Name = carol$' '$TMP/a/shown.conf' && grep -q '^Groups = ci$' '$TMP/a/shown.conf' && grep -q '^\[Group ci\]$' '$TMP/a/shown.conf'"
check "syncconf of the shown file" si syncconf ss0 "$TMP/a/shown.conf"
check "bob keeps his session (same handshake count)" test "$(pf bob "['handshakes']")" = "$hsb"
check "carol keeps her session" test "$(pf carol "['handshakes']")/$(pf carol "['session']")" = "$hsc/True"
check "the group rule still applies" tcp_probe b 10.77.0.1 7000

# Trust: carol gets a new key; refused; `trust forget` by name; learned without a restart.
stop c
rm -f "$TMP/c/node.key"
"$SILOSEC" genkey "$TMP/c/node.key"
newc=$("$SILOSEC" pubkey <"$TMP/c/node.key")
start c || exit 1
store=$TMP/a/state/ss0/a.trust
# A's session with the old key is dead at C: a handshake now (rekey, by name) meets the new key.
si set ss0 peer carol rekey
alert() { grep "SECURITY ALERT" "$TMP/a/log" | grep -q SS_ERR_IDENTITY; }
check "carol's new identity is refused with a security alert" wait_for 10 alert
check "and no traffic passes" eval "! on a ping -c 2 -i 0.3 -W 1 10.77.0.3"
hsb=$(pf bob "['handshakes']")
epb=$(pf bob "['epoch']")
check "silosec trust CONFIG forget NAME" si trust "$TMP/a/ss0.conf" forget carol
check "the running daemon learns the new identity at the next handshake" \
	wait_for 10 on a ping -c 1 -W 1 10.77.0.3
check "and pins it" grep -q "^198.51.2.2:51003 $newc$" "$store"
check "no restart" kill -0 "$apid"
check "bob's session untouched (handshakes, epoch)" \
	test "$(pf bob "['handshakes']")/$(pf bob "['epoch']")/$(pf bob "['session']")" = "$hsb/$epb/True"
check "the forget is audited" sh -c "grep '\"event\":\"tofu_pin\"' '$TMP/a/log' | grep -q '\"decision\":\"forget\"'"

# SaveConfig = yes: `silosec saveconf` (the unit's ExecStop) writes the running
# configuration back, by rename, with the file's mode.
ino=$(stat -c %i "$TMP/a/ss0.conf")
si set ss0 peer bob persistent-keepalive 11
check "saveconf" si saveconf ss0 "$TMP/a/ss0.conf"
stop a
check "the file holds the set change" grep -q "^PersistentKeepalive = 11$" "$TMP/a/ss0.conf"
check "replaced by rename (new inode), mode 0600, no temporary left" \
	sh -c "[ $(stat -c %i "$TMP/a/ss0.conf") != $ino ] && [ \$(stat -c %a '$TMP/a/ss0.conf') = 600 ] && ! ls '$TMP/a/' | grep -q 'ss0.conf\.'"
start a || exit 1
check "the saved file starts the daemon, with the change" test "$(pf bob "['persistent_keepalive']")" = 11
check "SaveConfig off: saveconf leaves the file alone" sh -c "
	sed -i '/^SaveConfig/d' '$TMP/a/ss0.conf'; i=\$(stat -c %i '$TMP/a/ss0.conf')
	SILOSEC_RUN_DIR=$TMP/a/run SILOSEC_STATE_DIR=$TMP/a/state ip netns exec ${NS}a '$SILOSEC' saveconf ss0 '$TMP/a/ss0.conf' &&
	[ \$(stat -c %i '$TMP/a/ss0.conf') = \$i ]"
finish
