#!/usr/bin/env bash
# Runs the pkg/apt-updates collector (internal/collect/aptchangelog) live on
# this host: reads apt's lists, downloads the candidate .debs (2 at a time)
# into the cache and reads their changelogs. Prints the pending updates,
# changelogs read and missing, the distinct CVE ids the updates fix and the
# time taken, and checks the candidates against `apt list --upgradable`.
#
# Usage: bench/apt-changelog.sh [--cold] [--verbose]
#   --cold     use a new, empty cache directory (measures the downloads);
#              otherwise the default cache (/var/cache/kensa/debs for root,
#              ~/.cache/kensa/debs else) is used and kept.
#   --verbose  print every pending update with its CVEs.
# Needs apt-get, dpkg-deb and the network to the host's apt archives. Not
# run in CI: the test it runs skips unless KENSA_LIVE_APT=1.
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
	case $arg in
	--cold)
		KENSA_APT_CACHE=$(mktemp -d)
		export KENSA_APT_CACHE
		trap 'rm -rf "$KENSA_APT_CACHE"' EXIT
		;;
	--verbose) export KENSA_LIVE_APT_VERBOSE=1 ;;
	*) echo "usage: $0 [--cold] [--verbose]" >&2; exit 2 ;;
	esac
done
KENSA_LIVE_APT=1 go test -count=1 -run '^TestLiveAptUpdates$' -v ./internal/collect/aptchangelog
