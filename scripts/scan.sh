#!/usr/bin/env bash
# The main job on a fresh machine: build kensa, make sure its vulnerability
# database has data, and scan this host. Arguments go to `kensa scan`
# (e.g. --format json --output report.json).
#
# The database (KENSA_DB, else ~/.cache/kensa/vulndb.sqlite) is filled once:
# from ../shared/vulndata when this clone sits in the Kensa workplace (real
# feeds, kept offline), else from the feeds' official locations with
# `kensa db update`. Run `bin/kensa db update` yourself to refresh it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
scripts/build.sh bin/kensa >&2
kensa=bin/kensa

if ! "$kensa" db status >/dev/null 2>&1 || "$kensa" db status | grep -q '^No feeds imported'; then
	if [ -d ../shared/vulndata ]; then
		echo "scan.sh: importing the feeds of ../shared/vulndata into the vulnerability database" >&2
		"$kensa" db import --quiet ../shared/vulndata
	else
		echo "scan.sh: fetching the feeds this host needs (kensa db update)" >&2
		# A feed that cannot be fetched is said by db update and, in the
		# scan, as coverage that was not evaluated: go on.
		"$kensa" db update || echo "scan.sh: some feeds could not be updated; the scan says what is not covered" >&2
	fi
fi
exec "$kensa" scan "$@"
