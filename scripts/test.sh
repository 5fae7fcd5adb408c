#!/usr/bin/env bash
# Runs Kensa's whole test suite. On a fresh Debian machine, as root, it first
# installs what the tests use as oracles (Debian's own tools) so that no
# test silently skips there. Usage: scripts/test.sh [go test flags...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need: rpm (oracle for the rpm collector),
# checksec (oracle for internal/elfsec), gcc and libc6-dev (the C programs
# internal/elfsec and internal/e2e compile; gcc only recommends libc6-dev),
# chromium (the HTML report's browser test, driven by chromedp),
# poppler-utils (pdftotext and pdfinfo read the PDF reports back) and
# postgresql (the fleet store's conformance suite runs on it as on SQLite).
need=()
command -v rpm >/dev/null || need+=(rpm)
command -v checksec >/dev/null || need+=(checksec)
command -v gcc >/dev/null || need+=(gcc)
[ -e /usr/include/stdio.h ] || need+=(libc6-dev)
command -v chromium >/dev/null || need+=(chromium)
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
if ((${#need[@]})); then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "scripts/test.sh: installing ${need[*]}" >&2
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "scripts/test.sh: ${need[*]} missing; tests that use them will skip" >&2
	fi
fi

# A PostgreSQL server for internal/store, unless KENSA_TEST_POSTGRES names
# one: the newest installed version's "main" cluster, started, with a
# kensa_test role and database (password auth over loopback TCP).
if [ -z "${KENSA_TEST_POSTGRES:-}" ] && [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null; then
	ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
	pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main"' | grep -q . || pg_createcluster "$ver" main >/dev/null
	pg_ctlcluster "$ver" main status >/dev/null 2>&1 || pg_ctlcluster "$ver" main start
	port=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $3}')
	pg() { runuser -u postgres -- psql -p "$port" -Atqc "$1"; }
	[ "$(pg "SELECT 1 FROM pg_roles WHERE rolname = 'kensa_test'")" = 1 ] ||
		pg "CREATE ROLE kensa_test LOGIN PASSWORD 'kensa_test'"
	[ "$(pg "SELECT 1 FROM pg_database WHERE datname = 'kensa_test'")" = 1 ] ||
		pg "CREATE DATABASE kensa_test OWNER kensa_test"
	export KENSA_TEST_POSTGRES="postgres://kensa_test:kensa_test@127.0.0.1:$port/kensa_test?sslmode=disable"
fi

# The race detector needs cgo; use it where a C compiler is there.
race=()
if command -v gcc >/dev/null && [ "$(go env CGO_ENABLED)" = 1 ]; then
	race=(-race)
fi
go test -count=1 "${race[@]}" "$@" ./...
