#!/usr/bin/env bash
# Compares internal/elfsec with Debian's checksec 2.6.0 over EVERY ELF file
# in /usr/bin and /usr/lib (the test samples a quarter by default) and
# prints agreement per property and each explained disagreement class.
# Needs checksec (apt-get install checksec). Usage: bench/elfsec-checksec.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v checksec >/dev/null || { echo "checksec not installed (apt-get install checksec)" >&2; exit 1; }
start=$(date +%s)
KENSA_ELFSEC_ORACLE=all go test -count=1 -timeout 60m -run '^TestChecksecOracle$' -v ./internal/elfsec |
	grep -E 'oracle_test|^(ok|FAIL|---)'
echo "wall: $(($(date +%s) - start)) s"
