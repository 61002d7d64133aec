# bash completion for tessera(8): commands, subcommands, options, and
# client names from "tessera client list --json" (with the --db, --key-dir
# given on the line).
# shellcheck shell=bash

_tessera_clients()
{
	local i db=()
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		--db | --key-dir)
			db+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}")
			;;
		esac
	done
	# Unquote a ~ or quotes the user typed, nothing more (no eval).
	for ((i = 1; i < ${#db[@]}; i += 2)); do
		db[i]=${db[i]/#\~/$HOME}
		db[i]=${db[i]//[\"\']/}
	done
	# Never create a database by pressing TAB: ask only an existing one.
	local path=${TESSERA_DB:-tessera.db}
	for ((i = 0; i < ${#db[@]}; i += 2)); do
		[[ ${db[i]} == --db ]] && path=${db[i + 1]}
	done
	[[ -f $path ]] || return 0
	"${COMP_WORDS[0]}" "${db[@]}" --json client list 2>/dev/null |
	    sed -n 's/^ *"name": *"\([^"]*\)".*/\1/p'
}

_tessera()
{
	local cur prev words cword
	_init_completion || return

	local global="--db --key-dir --json"
	local serve_opts="--listen --tls-cert --tls-key --client-ca --client-crl
	    --issuer --token-ttl --rotation-period --jwks-max-age --clock-skew
	    --key-bits --threads --log-level --audit-retention --rate-limit
	    --max-connections --max-connections-per-ip --connection-timeout
	    --max-staleness --audit-max-rows --anonymous-rate-limit"

	case $prev in
	--db | --tls-cert | --tls-key | --client-ca | --client-crl | --jti-file)
		_filedir
		return
		;;
	--key-dir)
		_filedir -d
		return
		;;
	--log-level)
		COMPREPLY=($(compgen -W "error warn info debug" -- "$cur"))
		return
		;;
	--key-bits)
		COMPREPLY=($(compgen -W "2048 3072 4096" -- "$cur"))
		return
		;;
	--client)
		COMPREPLY=($(compgen -W "$(_tessera_clients)" -- "$cur"))
		return
		;;
	--outcome)
		COMPREPLY=($(compgen -W "issued denied revoked ignored active
		    inactive" -- "$cur"))
		return
		;;
	--listen | --issuer | --token-ttl | --rotation-period | \
	--jwks-max-age | --clock-skew | --threads | --audit-retention | \
	--rate-limit | --max-connections | --max-connections-per-ip | \
	--connection-timeout | --max-staleness | --audit-max-rows | \
	--anonymous-rate-limit | --cn | --description | --scope | --ttl | \
	--audience | --since | --limit | --jti | --reason)
		return	# a value of the user's own
		;;
	esac

	# The command words so far, skipping options and their values.
	local i w cmd=() skip=0
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if ((skip)); then
			skip=0
			continue
		fi
		case $w in
		--json | --dry-run | --prune) ;;
		--*) skip=1 ;;
		*) cmd+=("$w") ;;
		esac
	done

	local opts=$global
	case ${cmd[0]-} in
	"")
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global --version --help" -- \
			    "$cur"))
		else
			COMPREPLY=($(compgen -W "serve migrate client grant key
			    policy token audit revocation agent help" -- "$cur"))
		fi
		return
		;;
	serve) opts+=" $serve_opts" ;;
	client)
		case ${#cmd[@]}:${cmd[1]-} in
		1:)
			COMPREPLY=($(compgen -W "add list show enable disable
			    remove revoke-tokens" -- "$cur"))
			return
			;;
		2:add) opts+=" --cn --description" ;;
		2:revoke-tokens) opts+=" --reason" ;&
		2:show | 2:enable | 2:disable | 2:remove)
			if [[ $cur != -* ]]; then
				COMPREPLY=($(compgen -W "$(_tessera_clients)" \
				    -- "$cur"))
				return
			fi
			;;
		esac
		;;
	grant)
		case ${#cmd[@]}:${cmd[1]-} in
		1:)
			COMPREPLY=($(compgen -W "add list remove" -- "$cur"))
			return
			;;
		2:add | 2:remove)
			[[ ${cmd[1]} == add ]] && opts+=" --scope --ttl"
			if [[ $cur != -* ]]; then
				COMPREPLY=($(compgen -W "$(_tessera_clients)" \
				    -- "$cur"))
				return
			fi
			;;
		*:add) opts+=" --scope --ttl" ;;
		*:list) opts+=" --client --audience" ;;
		esac
		;;
	key)
		if ((${#cmd[@]} == 1)); then
			COMPREPLY=($(compgen -W "list rotate revoke" -- "$cur"))
			return
		fi
		;;
	policy)
		case ${#cmd[@]}:${cmd[1]-} in
		1:)
			COMPREPLY=($(compgen -W "export apply" -- "$cur"))
			return
			;;
		2:apply)
			opts+=" --dry-run --prune"
			if [[ $cur != -* ]]; then
				_filedir
				return
			fi
			;;
		*:apply) opts+=" --dry-run --prune" ;;
		esac
		;;
	token)
		case ${#cmd[@]}:${cmd[1]-} in
		1:)
			COMPREPLY=($(compgen -W "inspect revoke" -- "$cur"))
			return
			;;
		*:revoke) opts+=" --jti --reason" ;;
		esac
		;;
	revocation)
		if ((${#cmd[@]} == 1)); then
			COMPREPLY=($(compgen -W "list" -- "$cur"))
			return
		fi
		;;
	audit)
		opts+=" --since --client --audience --outcome --limit"
		;;
	agent)
		opts+=" --server --cert --key --ca --renew-at --exec
		    --token-audience --token-file"
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	fi
} &&
	complete -F _tessera tessera
