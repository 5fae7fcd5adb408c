#!/usr/bin/env bash
# Measures `kensa inventory` of this host: wall time with a warm page cache
# and peak RSS, over N runs (default 10). Prints one line per run and the
# median. Usage: bench/inventory.sh [N] [extra kensa flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
shift || true
bin=$(mktemp -d)/kensa
CGO_ENABLED=0 go build -o "$bin" ./cmd/kensa
"$bin" inventory "$@" >/dev/null # warm the page cache
walls=()
for i in $(seq "$n"); do
	out=$( { /usr/bin/time -f '%e %M' "$bin" inventory --quiet "$@" >/dev/null; } 2>&1 | tail -1)
	wall=${out% *}
	rss=${out#* }
	echo "run $i: wall ${wall}s peak RSS $((rss / 1024)) MiB"
	walls+=("$wall $rss")
done
printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1; r[NR]=$2} END {m=int((NR+1)/2); printf "median wall %.3fs, median-run peak RSS %d MiB (n=%d)\n", a[m], r[m]/1024, NR}'
"$bin" inventory --quiet "$@" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("packages", len(d["packages"]), "software", len(d["software"]), "users", len(d["users"])); [print(" ", c["name"], c["status"], c["items"], "%.1fms" % c["duration_ms"]) for c in d["collectors"]]'
