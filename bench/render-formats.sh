#!/usr/bin/env bash
# Renders one large report to every format through the command line
# (kensa report), as a user would, and prints wall time, max RSS and
# output size per format. The numbers go into bench/README.md.
#
# Usage: bench/render-formats.sh [FINDINGS]   (default 50000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/kensa" ./cmd/kensa
go run ./bench/largereport -n "$n" >"$work/big.json"
echo "input: $n findings, $(du -h "$work/big.json" | cut -f1) of JSON"
printf '%-22s %9s %11s %10s\n' format wall max_rss output
run() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$work/time" "$work/kensa" report -i "$work/big.json" "$@" -o "$work/out" 2>"$work/err" || {
		cat "$work/err" >&2
		return 1
	}
	read -r wall rss <"$work/time"
	printf '%-22s %8ss %8d MB %10s\n' "$name" "$wall" $((rss / 1024)) "$(du -h "$work/out" | cut -f1)"
}
for f in json table csv sarif html pdf cyclonedx spdx; do
	run "$f" -f "$f"
done
run "html --kind full" -f html --kind full
run "pdf --kind full" -f pdf --kind full
run "cyclonedx +vulns" -f cyclonedx --sbom-vulnerabilities
