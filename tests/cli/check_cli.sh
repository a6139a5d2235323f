#!/bin/bash
# SPDX-License-Identifier: MIT
# Every binary and subcommand: -h/--help, --version, an unknown option and an extra
# argument, each with its exit status and a message that names the culprit; then the
# surprises of issue 15 (genkey --help writing a key, knock -d 5m, messages that say
# what to do). Usage: check_cli.sh BUILD_DIR VERSION
set -u
BUILD=$1
VERSION=$2
SILOSEC=$BUILD/src/cli/silosec
SILOSECD=$BUILD/src/tunnel/silosecd
KNOCKD=$BUILD/src/knock/silosec-knockd
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export SILOSEC_RUN_DIR=$TMP/run HOME=$TMP
fails=0

# run WANT_STATUS PATTERN STREAM CMD...: CMD exits WANT_STATUS and STREAM (out/err) has PATTERN
run() {
	local want=$1 pat=$2 stream=$3
	shift 3
	"$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	local rc=$?
	if [ "$rc" != "$want" ] || ! grep -qF -- "$pat" "$TMP/$stream"; then
		echo "FAIL: $* -> status $rc (want $want), $stream lacks '$pat'"
		sed 's/^/  out: /' "$TMP/out" | head -5
		sed 's/^/  err: /' "$TMP/err" | head -5
		fails=$((fails + 1))
	fi
}

"$SILOSEC" genkey "$TMP/k.key" || exit 1
OTHERKEY=$TMP/other.key
"$SILOSEC" genkey "$OTHERKEY" || exit 1
ID=$("$SILOSEC" pubkey <"$TMP/k.key") || exit 1
printf '[Server]\nPrivateKeyFile = k.key\n' >"$TMP/knockd.conf"

# The generic four, per binary: help, version, unknown option, extra argument.
for bin in "$SILOSEC" "$SILOSECD" "$KNOCKD"; do
	name=$(basename "$bin")
	run 0 usage out "$bin" --help
	run 0 "$name $VERSION" out "$bin" --version
	run 2 "--no-such-option" err "$bin" --no-such-option
done
run 0 usage out "$SILOSECD" -h
run 0 usage out "$KNOCKD" -h
run 2 "unexpected argument 'extra-arg'" err "$SILOSECD" -c x extra-arg
run 2 "unexpected argument 'extra-arg'" err "$KNOCKD" -c x extra-arg
run 2 "missing -c FILE" err "$SILOSECD" -f
run 2 "unknown command 'no-such-cmd'" err "$SILOSEC" no-such-cmd

# Per subcommand: arguments it accepts, then one more.
declare -A ARGS=(
	[genkey]="$TMP/new.key" [pubkey]="$TMP/k.key" [fingerprint]="$ID" [show]="sschk0"
	[syncconf]="sschk0 x.conf" [trust]="x.trust list" [revoke]="sschk0 $ID tcp"
	[grant]="sschk0 $ID tcp --for 5m" [cat]="-k k.key -p $ID 127.0.0.1:1"
	[knock]="--to $ID -k k.key 127.0.0.1:9 act" [demo]="1" [set]="sschk0 peer $ID"
	[down]="sschk0" [hook]="sschk0 pre-up"
	[showconf]="sschk0 x.conf" [saveconf]="sschk0 x.conf"
)
# Every command 'silosec --help' lists; one without an ARGS row gets all but the last check.
mapfile -t CMDS < <("$SILOSEC" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ "${#CMDS[@]}" -ge 12 ] || { echo "FAIL: silosec --help lists ${#CMDS[@]} commands"; fails=$((fails + 1)); }
for cmd in "${CMDS[@]}"; do
	run 0 "usage: silosec $cmd" out "$SILOSEC" "$cmd" --help
	run 0 "usage: silosec $cmd" out "$SILOSEC" "$cmd" -h
	run 0 "silosec $VERSION" out "$SILOSEC" "$cmd" --version
	run 2 "--no-such-option" err "$SILOSEC" "$cmd" --no-such-option
	[ -n "${ARGS[$cmd]+set}" ] || { echo "# $cmd: no ARGS row, extra-argument check skipped"; continue; }
	# shellcheck disable=SC2086 # word splitting wanted
	run 2 "extra-arg" err "$SILOSEC" "$cmd" ${ARGS[$cmd]} extra-arg
done
[ -e "$TMP/new.key" ] && { echo "FAIL: genkey FILE extra-arg wrote FILE"; fails=$((fails + 1)); }

# silosec(8) has a heading (.TP, then the name) for every command 'silosec --help' lists.
DOCS=$(dirname "$(readlink -f "$0")")/../../docs
awk 'tp { sub(/^\.B[RI]? +"?/, ""); sub(/[ "\\].*/, ""); print } { tp = /^\.TP/ }' \
	"$DOCS/silosec.8" | sort -u >"$TMP/man-cmds"
for cmd in "${CMDS[@]}"; do
	grep -qx -- "$cmd" "$TMP/man-cmds" || { echo "FAIL: silosec.8 does not document '$cmd'"; fails=$((fails + 1)); }
done

# The shell completions offer exactly the commands 'silosec --help' lists (item 14).
COMPL=$(dirname "$(readlink -f "$0")")/../../completion
want=$(printf '%s\n' "${CMDS[@]}" | sort | tr '\n' ' ')
got=$(sed -n 's/^_silosec_commands="\(.*\)"$/\1/p' "$COMPL/silosec.bash" | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$got" = "$want" ] || { echo "FAIL: silosec.bash commands '$got', --help '$want'"; fails=$((fails + 1)); }
got=$(sed -n 's/^\tcommands=(\(.*\))$/\1/p' "$COMPL/_silosec" | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$got" = "$want" ] || { echo "FAIL: _silosec commands '$got', --help '$want'"; fails=$((fails + 1)); }
# bash: the command list and a running interface (a ctl.sock in the run dir).
mkdir -p "$TMP/run/sschk9" && : >"$TMP/run/sschk9/ctl.sock"
got=$(bash -c '. "$1"; COMP_WORDS=(silosec sh); COMP_CWORD=1; _silosec; echo "${COMPREPLY[*]}";
	COMP_WORDS=(silosec show ""); COMP_CWORD=2; _silosec; echo "${COMPREPLY[*]}";
	COMP_WORDS=(silosec knock --wa); COMP_CWORD=2; _silosec; echo "${COMPREPLY[*]}"' _ "$COMPL/silosec.bash" | tr '\n' '|')
[ "$got" = "show showconf|sschk9 --help|--wait-port --wait|" ] ||
	{ echo "FAIL: bash completion gave '$got'"; fails=$((fails + 1)); }
# zsh: compadd and _arguments run only inside a completion widget; stand-ins print what
# _silosec offers (zsh itself filters by the typed prefix), so the same cases are checked.
if command -v zsh >/dev/null; then
	got=$(SILOSEC_RUN_DIR="$TMP/run" zsh -f -c '
		compadd() { while (( $# )); do case $1 in -a) shift; print -r -- ${(P)1} ;; --) ;;
			*) print -r -- $1 ;; esac; shift; done }
		_arguments() { print -r -- "${(@)${(@M)@:#*\[*}%%\[*}" }
		_files() { print FILES }
		fpath=($1 $fpath); autoload -Uz _silosec
		words=(silosec sh); CURRENT=2; _silosec | tr "\n" " "; print "|"
		words=(silosec show ""); CURRENT=3; _silosec | tr "\n" " "; print "|"
		words=(silosec hook sschk9 ""); CURRENT=4; _silosec | tr "\n" " "; print "|"
		words=(silosec knock --wa); CURRENT=3; _silosec | grep -c -- "--wait-port"
	' _ "$COMPL" 2>&1 | tr '\n' '|')
	want_z="$(printf '%s ' "${CMDS[@]}")--help --version ||sschk9 --json --prometheus --output ||"
	want_z+="pre-up post-up pre-down post-down ||1|"
	[ "$got" = "$want_z" ] || { echo "FAIL: zsh completion gave '$got', want '$want_z'"; fails=$((fails + 1)); }
else
	echo "SKIP: zsh completion (no zsh; scripts/deps installs it)"
fi
rm -rf "$TMP/run/sschk9"

# Every short option has a long one (issue 15, item 12).
for cmd in "$SILOSEC cat" "$SILOSEC knock" "$SILOSECD" "$KNOCKD"; do
	# shellcheck disable=SC2086 # word splitting wanted
	$cmd --help | grep -E '^ +-[A-Za-z0-9],? ' | grep -v -- ' --[a-z]' |
		sed "s|^|FAIL: $cmd: short option without a long one: |" >"$TMP/short"
	[ -s "$TMP/short" ] && { cat "$TMP/short"; fails=$((fails + 1)); }
done

# genkey --help / -h print help and write no key file.
run 0 usage out "$SILOSEC" genkey --help
run 0 usage out "$SILOSEC" genkey -h
for f in --help -h; do
	[ -e "$TMP/$f" ] && { echo "FAIL: genkey $f wrote a file '$f'"; fails=$((fails + 1)); }
done
[ -s "$TMP/out" ] && grep -q '^[A-Za-z0-9+/]\{43\}=$' "$TMP/out" &&
	{ echo "FAIL: genkey -h printed a key"; fails=$((fails + 1)); }

# pubkey FILE reads FILE; pubkey - and stdin read stdin.
run 0 "$ID" out "$SILOSEC" pubkey "$TMP/k.key"
[ "$("$SILOSEC" pubkey - <"$TMP/k.key")" = "$ID" ] || { echo "FAIL: pubkey -"; fails=$((fails + 1)); }

# Durations take units: knock -d 5m asks for 300 s (it used to become 5).
run 0 "300 s asked" out "$SILOSEC" knock --to "$ID" -k k.key -d 5m 127.0.0.1:9 act
run 0 "7200 s asked" out "$SILOSEC" knock --to "$ID" -k k.key --duration 2h 127.0.0.1:9 act
run 2 "'5 parsecs' is not a duration" err "$SILOSEC" knock --to "$ID" -k k.key -d "5 parsecs" \
	127.0.0.1:9 act
run 2 "'5x' is not a duration" err "$SILOSEC" cat -k k.key -p "$ID" -w 5x 127.0.0.1:1
# -p is the peer's identity in cat and knock alike; -t is gone from knock (the daemons' test).
run 0 "300 s asked" out "$SILOSEC" knock -p "$ID" -k k.key -d 300 127.0.0.1:9 act
run 2 "invalid option -- 't'" err "$SILOSEC" knock -t "$ID" -k k.key 127.0.0.1:9 act
run 2 "add --wait-port" err "$SILOSEC" knock -p "$ID" -k k.key -w 22 127.0.0.1:9 act

# Errors say what to do.
run 2 "missing the server's identity: --to IDENTITY" err "$SILOSEC" knock 127.0.0.1 act
run 2 "missing our private key: --key FILE" err "$SILOSEC" cat 127.0.0.1:1
run 1 "No such file" err "$SILOSEC" pubkey "$TMP/none.key"
run 1 "No such file" err "$SILOSEC" cat -k "$TMP/none.key" -p "$ID" 127.0.0.1:1
run 1 "No such file" err "$SILOSEC" knock --to "$ID" -k "$TMP/none.key" 127.0.0.1:9 act
printf '[Server]\nPrivateKeyFile = none.key\n' >"$TMP/nokey.conf"
run 1 "No such file" err "$KNOCKD" -t -c "$TMP/nokey.conf"
printf '%s\r\n' "$(cat "$TMP/k.key")" >"$TMP/crlf.key"
chmod 600 "$TMP/crlf.key"
run 1 "CRLF" err "$SILOSEC" pubkey "$TMP/crlf.key"
run 1 "CRLF" err "$SILOSEC" knock --to "$ID" -k "$TMP/crlf.key" 127.0.0.1:9 act
# silosecd -t loads the key and warns about what will surprise (issue 15, item 13).
printf '[Interface]\nName = sschk0\nPrivateKeyFile = none.key\n' >"$TMP/nokey-d.conf"
run 1 "No such file" err "$SILOSECD" -t -c "$TMP/nokey-d.conf"
printf '[Interface]\nName = sschk0\nPrivateKeyFile = k.key\n[Peer]\nName = a\nIdentity = %s\nAllow = none\n' \
	"$("$SILOSEC" pubkey <"$OTHERKEY")" >"$TMP/one.conf"
run 0 "one.conf: ok (interface sschk0, 1 peer)" out "$SILOSECD" -t -c "$TMP/one.conf"
[ -s "$TMP/err" ] && { echo "FAIL: silosecd -t warned on a clean file"; fails=$((fails + 1)); }
{
	printf '[Interface]\nName = sschk0\nPrivateKeyFile = k.key\nTable = off\n'
	printf '[Peer]\nName = self\nIdentity = %s\nAllowedIPs = 0.0.0.0/0\n' "$ID"
	printf '[Peer]\nName = b\nIdentity = %s\nAllowedIPs = 10.9.0.2/32\nAllow = none\n' \
		"$("$SILOSEC" pubkey <"$OTHERKEY")"
} >"$TMP/warn.conf"
run 0 "warn.conf: ok (interface sschk0, 2 peers)" out "$SILOSECD" -t -c "$TMP/warn.conf"
for w in "warn.conf:5: warning: peer self is this host's own identity" \
	"warn.conf:5: warning: peer self has no Allow and Policy = deny" \
	"warn.conf:5: warning: peer self: AllowedIPs 0.0.0.0/0 with Table = off" \
	"warn.conf:9: warning: peer b: AllowedIPs 10.9.0.2/32 overlaps 0.0.0.0/0 of peer self"; do
	grep -qF -- "$w" "$TMP/err" || { echo "FAIL: silosecd -t lacks '$w'"; fails=$((fails + 1)); }
done
# The README's quick-start configuration stays valid and draws no warning.
README=$(dirname "$(readlink -f "$0")")/../../README.md
cp "$TMP/k.key" "$TMP/alpha.key"
sed -n '/cat > \/etc\/silosec\/ss0.conf <<EOF/,/^    EOF$/p' "$README" | sed '1d;$d;s/^    //' |
	sed "s|<beta's identity[^>]*>|$("$SILOSEC" pubkey <"$OTHERKEY")|;s|<gamma's identity>|$("$SILOSEC" genkey | "$SILOSEC" pubkey)|" \
		>"$TMP/ss0.conf"
if ! grep -q '^\[Group ' "$TMP/ss0.conf" || ! grep -q '^Name = ' "$TMP/ss0.conf"; then
	echo "FAIL: README quick start lacks a [Group] or Name ="
	fails=$((fails + 1))
fi
run 0 "ss0.conf: ok (interface ss0, 2 peers)" out "$SILOSECD" -t -c "$TMP/ss0.conf"
[ -s "$TMP/err" ] && { echo "FAIL: README quick start: silosecd -t warned"; cat "$TMP/err"; fails=$((fails + 1)); }
nodaemon="no silosecd is running for interface sschk0"
run 1 "$nodaemon" err "$SILOSEC" set sschk0 peer "$ID" persistent-keepalive 5
run 1 "$nodaemon" err "$SILOSEC" grant sschk0 "$ID" "tcp 22" --for 5m
run 1 "$nodaemon" err "$SILOSEC" revoke sschk0 "$ID"
run 2 "missing --for DURATION" err "$SILOSEC" grant sschk0 "$ID" "tcp 22"

if [ "$fails" -ne 0 ]; then
	echo "check_cli: $fails failure(s)"
	exit 1
fi
echo "check_cli: ok"
