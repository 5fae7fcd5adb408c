#!/usr/bin/env bash
# Runs Kensa's whole test suite. On a fresh Debian machine, as root, it first
# installs what the tests use as oracles (Debian's own tools) so that no
# test silently skips there. Usage: scripts/test.sh [go test flags...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need: rpm (oracle for the rpm collector),
# checksec (oracle for internal/elfsec), gcc and libc6-dev (the C programs
# internal/elfsec and internal/e2e compile; gcc only recommends libc6-dev),
# chromium (the HTML report's browser test, driven by chromedp) and
# poppler-utils (pdftotext and pdfinfo read the PDF reports back).
need=()
command -v rpm >/dev/null || need+=(rpm)
command -v checksec >/dev/null || need+=(checksec)
command -v gcc >/dev/null || need+=(gcc)
[ -e /usr/include/stdio.h ] || need+=(libc6-dev)
command -v chromium >/dev/null || need+=(chromium)
command -v pdftotext >/dev/null || need+=(poppler-utils)
if ((${#need[@]})); then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "scripts/test.sh: installing ${need[*]}" >&2
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "scripts/test.sh: ${need[*]} missing; tests that use them will skip" >&2
	fi
fi

# The race detector needs cgo; use it where a C compiler is there.
race=()
if command -v gcc >/dev/null && [ "$(go env CGO_ENABLED)" = 1 ]; then
	race=(-race)
fi
go test -count=1 "${race[@]}" "$@" ./...
