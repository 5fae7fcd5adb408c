#!/bin/sh
# Install the Kensa agent as a systemd service, or update an installed one.
#
#   sudo packaging/install-agent.sh --server https://kensa.example:8443 \
#       --join-token kensa_join_... --ca-fingerprint SHA256:... \
#       --tag env=prod --tag role=db [--binary ./kensa]
#
# It copies the kensa binary to /usr/local/bin, writes
# /etc/default/kensa-agent (0600: it holds the join token) with the server,
# the join token, how to verify the server and the tags, installs the
# systemd unit and enables and (re)starts it. Running it again with the
# same arguments changes nothing but the restart; an agent already enrolled
# needs no --join-token (its enrolment is in /var/lib/kensa-agent).
#
# Options:
#   --server URL            the server (https://host:port)             required
#   --join-token TOKEN      from kensa server join-token create      first install
#   --ca-fingerprint FP     the server CA's fingerprint (SHA256:...)  or --ca
#   --ca FILE               the server's CA certificate, copied to /etc/kensa/ca.crt
#   --tag KEY=VALUE         a tag (repeatable; no white space)
#   --arg ARG               another kensa agent argument (repeatable), e.g. --arg --no-download
#   --binary PATH           the kensa binary to install (default: kensa beside
#                           this script, else the one on PATH)
#   --no-start              install and enable, but do not start
#
# For tests: KENSA_INSTALL_PREFIX puts every file under another directory,
# and SYSTEMCTL replaces systemctl.
set -eu

prefix=${KENSA_INSTALL_PREFIX:-}
systemctl=${SYSTEMCTL:-systemctl}
here=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "install-agent: $*" >&2
	exit 1
}

# value checks: what goes into the environment file must be one word
# without quotes, or systemd would read something else.
word() {
	case $2 in
	'' | *[[:space:]\"\'\\\$\`]*) die "$1: want one word without spaces, quotes, backslashes or \$ (got '$2')" ;;
	esac
}

server= token= fingerprint= ca= binary= start=yes args=
while [ $# -gt 0 ]; do
	opt=$1
	case $opt in
	--no-start)
		start=no
		shift
		continue
		;;
	--server | --join-token | --ca-fingerprint | --ca | --tag | --arg | --binary) ;;
	-h | --help)
		sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown option $opt (see --help)" ;;
	esac
	[ $# -ge 2 ] || die "$opt needs a value"
	val=$2
	shift 2
	case $opt in
	--server) server=$val ;;
	--join-token) token=$val ;;
	--ca-fingerprint) fingerprint=$val ;;
	--ca) ca=$val ;;
	--binary) binary=$val ;;
	--tag)
		word --tag "$val"
		case $val in *=*) ;; *) die "--tag $val: want KEY=VALUE" ;; esac
		args="$args --tag $val"
		;;
	--arg)
		word --arg "$val"
		args="$args $val"
		;;
	esac
done

[ "$(id -u)" -eq 0 ] || [ -n "$prefix" ] || die "run as root: it installs a system service"

word --server "$server"
case $server in https://*) ;; *) die "--server $server: want https://host:port" ;; esac
[ -z "$token" ] || word --join-token "$token"
[ -z "$fingerprint" ] || word --ca-fingerprint "$fingerprint"
[ -z "$fingerprint" ] || [ -z "$ca" ] || die "give --ca-fingerprint or --ca, not both"

state=$prefix/var/lib/kensa-agent
if [ -z "$token" ] && [ ! -f "$state/agent.json" ]; then
	die "--join-token: the agent is not enrolled yet (no $state/agent.json)"
fi
if [ -n "$token" ] && [ -z "$fingerprint" ] && [ -z "$ca" ] && [ ! -f "$state/agent.json" ]; then
	die "give --ca-fingerprint or --ca: the agent refuses to enrol with a server it cannot verify"
fi

if [ -z "$binary" ]; then
	if [ -x "$here/kensa" ]; then
		binary=$here/kensa
	elif [ -x "$here/../bin/kensa" ]; then
		binary=$here/../bin/kensa
	else
		binary=$(command -v kensa) || die "no kensa binary: give --binary PATH"
	fi
fi
[ -x "$binary" ] || die "--binary $binary: not an executable file"
unit=$here/systemd/kensa-agent.service
[ -f "$unit" ] || die "$unit: missing (run the script from the repository's packaging directory)"

# install_file SRC DST MODE: copy when the content differs, atomically.
install_file() {
	if [ -f "$2" ] && cmp -s "$1" "$2"; then
		chmod "$3" "$2"
		return
	fi
	mkdir -p "$(dirname "$2")"
	tmp=$(mktemp "$2.tmp.XXXXXX")
	cat "$1" >"$tmp"
	chmod "$3" "$tmp"
	mv -f "$tmp" "$2"
	echo "installed $2"
}

install_file "$binary" "$prefix/usr/local/bin/kensa" 0755
if [ -n "$ca" ]; then
	[ -f "$ca" ] || die "--ca $ca: no such file"
	install_file "$ca" "$prefix/etc/kensa/ca.crt" 0644
fi

umask 077
envfile=$prefix/etc/default/kensa-agent
mkdir -p "$(dirname "$envfile")"
tmp=$(mktemp "$envfile.tmp.XXXXXX")
{
	echo "# Written by kensa's install-agent.sh; see kensa agent --help."
	echo "KENSA_SERVER=$server"
	if [ -n "$token" ]; then
		echo "# The join token is needed for the first start only: once"
		echo "# /var/lib/kensa-agent/agent.json exists it may be removed."
		echo "KENSA_JOIN_TOKEN=$token"
	fi
	[ -z "$fingerprint" ] || echo "KENSA_CA_FINGERPRINT=$fingerprint"
	[ -z "$ca" ] || echo "KENSA_CA=/etc/kensa/ca.crt"
	echo "KENSA_AGENT_ARGS=${args# }"
} >"$tmp"
chmod 0600 "$tmp"
if [ -f "$envfile" ] && cmp -s "$tmp" "$envfile"; then
	rm -f "$tmp"
else
	mv -f "$tmp" "$envfile"
	echo "wrote $envfile"
fi

install_file "$unit" "$prefix/etc/systemd/system/kensa-agent.service" 0644
"$systemctl" daemon-reload
"$systemctl" enable kensa-agent.service
if [ "$start" = yes ]; then
	# restart, not start: a changed binary or configuration takes effect.
	"$systemctl" restart kensa-agent.service
	echo "kensa-agent started: journalctl -u kensa-agent -f"
fi
