# SPDX-License-Identifier: MIT
# bash completion for silosec(8): commands, running interfaces, options of cat and knock.
# The command list must equal 'silosec --help''s (tests/cli/check_cli.sh checks).

_silosec_commands="genkey pubkey fingerprint show set syncconf showconf saveconf trust grant revoke cat knock demo up down hook discover"

# Interfaces with a running silosecd: directories of the run dir holding ctl.sock.
_silosec_ifaces()
{
	local d=${SILOSEC_RUN_DIR:-/run/silosec} s
	for s in "$d"/*/ctl.sock; do
		[ -e "$s" ] || continue
		s=${s%/ctl.sock}
		printf '%s\n' "${s##*/}"
	done
}

_silosec()
{
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		mapfile -t COMPREPLY < <(compgen -W "$_silosec_commands --help --version" -- "$cur")
		return
	fi
	cmd=${COMP_WORDS[1]}
	case $cmd in
	cat)
		case $prev in
		-k | --key | -K | --known-hosts)
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return
			;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "--key --peer --known-hosts --any --listen
			--progress --frame --timeout --verbose --help --version" -- "$cur")
		;;
	knock)
		case $prev in
		-k | --key | -P | --payload-file | --profiles | --save-packet)
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return
			;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "--to --peer --key --payload --payload-file
			--duration --wait-port --wait --time-offset --profile --profiles --source
			--any-source --save-packet --ipv4 --ipv6 --quiet --help --version" -- "$cur")
		;;
	genkey | pubkey | trust)
		[ "$COMP_CWORD" -eq 2 ] && mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	show | set | syncconf | showconf | saveconf | grant | revoke | down | hook | discover)
		if [ "$COMP_CWORD" -eq 2 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_silosec_ifaces) --help" -- "$cur")
		elif [ "$cmd" = show ]; then
			mapfile -t COMPREPLY < <(compgen -W "--json --prometheus --output" -- "$cur")
		elif [ "$cmd" = hook ] && [ "$COMP_CWORD" -eq 3 ]; then
			mapfile -t COMPREPLY < <(compgen -W "pre-up post-up pre-down post-down" -- "$cur")
		elif [ "$cmd" != set ]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		;;
	up)
		[ "$COMP_CWORD" -eq 2 ] && mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	esac
}
complete -o default -F _silosec silosec
