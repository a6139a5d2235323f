#!/usr/bin/env bash
# Trust on first use: A knows B only by address. The first identity that answers is
# pinned in A's TrustStore; after B's key changes, A refuses it and raises a security
# alert with a stable code until the pin is forgotten with `silosec trust`.
source "$(dirname "$0")/lib.sh"
host a
host b
veth a b 1
conf_iface a 10.77.0.1/24 51001 "TrustStore = a.trust"
conf_peer a tofu 10.77.0.2/32 "Endpoint = 198.51.1.2:51002" "Allow = icmp"
conf_iface b 10.77.0.2/24 51002 "AcceptTofu = yes"
conf_peer b "${ID[a]}" 10.77.0.1/32 "Endpoint = 198.51.1.1:51001" "Allow = icmp"
start a && start b || exit 1
# A relative TrustStore is in the interface's state directory, which the daemon's user
# owns: pins are saved there without CAP_DAC_OVERRIDE.
store=$TMP/a/state/ss0/a.trust

check "first contact works" on a ping -c 2 -i 0.2 -W 2 10.77.0.2
check "B's identity is pinned in the trust store" grep -q "^198.51.1.2:51002 ${ID[b]}$" "$store"
check "the store is 0600" test "$(stat -c %a "$store")" = 600
owned() { # the state directory is the daemon's, 0700; the daemon has CapEff NET_ADMIN only
	[ "$(stat -c %u:%a "$TMP/a/state/ss0")" = "$(awk '$1 == "Uid:" {print $2}' "/proc/${PID[a]}/status"):700" ] &&
		grep -q "^CapEff:.*0000000000001000$" "/proc/${PID[a]}/status"
}
check "saved by the sandboxed daemon (NET_ADMIN only) in its own state directory" owned
check "the pin is logged (SS_TUN_TOFU_PINNED)" grep -q "SS_TUN_TOFU_PINNED" "$TMP/a/log"
check "silosec trust list shows it with its fingerprint" \
	sh -c "SILOSEC_STATE_DIR=$TMP/a/state '$SILOSEC' trust '$TMP/a/ss0.conf' list | grep -q '$("$SILOSEC" fingerprint "${ID[b]}")'"
check "silosec show names the learned identity" test "$(jget a "d['peers'][0]['peer']")" = "${ID[b]}"

# B gets a new key (reinstalled machine, or an impostor at B's address).
stop a
stop b
rm -f "$TMP/b/node.key"
"$SILOSEC" genkey "$TMP/b/node.key"
newb=$("$SILOSEC" pubkey <"$TMP/b/node.key")
start a && start b || exit 1
refused() {
	on a ping -c 3 -i 0.5 -W 1 10.77.0.2 && return 1
	on b ping -c 2 -i 0.5 -W 1 10.77.0.1 && return 1
	grep "SECURITY ALERT" "$TMP/a/log" | grep -q "SS_ERR_IDENTITY"
}
check "a changed identity is refused with a security alert" refused
check "the store still holds the first identity" grep -q "^198.51.1.2:51002 ${ID[b]}$" "$store"
check "the refusal is counted" test "$(jget a "d['peers'][0].get('drops', {}).get('SS_ERR_IDENTITY', 0)")" -ge 1

check "silosec trust forget" on a "$SILOSEC" trust "$TMP/a/ss0.conf" forget 198.51.1.2:51002
stop a
start a || exit 1
check "after forgetting, the new identity is pinned" wait_for 10 on a ping -c 1 -W 1 10.77.0.2
check "the store now holds the new identity" grep -q "^198.51.1.2:51002 $newb$" "$store"
check "trust pin refuses to overwrite a different pin" \
	sh -c "! '$SILOSEC' trust '$store' pin 198.51.1.2:51002 '${ID[a]}'"
finish
