#!/usr/bin/env bash
# Measures the fraction of N short-lived loopback TCP connections (default
# 10,000) that each observer method captured, through the whole pipeline: a
# forced `kensa scan --packages runtime` window, and the connections of its
# JSON report (observation.connections). The per-library measurements
# (internal/observe/*/measure_test.go) count what a method hands a Recorder;
# this counts what reaches the report, with the windowing, the exclusion of
# Kensa's own activity and the CLI's default settings in between, and with
# the load made by another process (the two non-eBPF measure tests make it
# inside the observer's process).
#
# The load generator is the one of internal/observe/ebpf/measure_test.go (its
# test binary run with KENSA_OBSERVE_LOADGEN=N): it listens on 127.0.0.1, opens
# and closes N connections to itself, and prints the port. Connections are
# counted by that port; "by pid" are those attributed to the generator.
# "pid-0 outbound elsewhere" counts outbound connections without a process
# between two 127.0.0.1 endpoints to another port: inbound connections a
# method took for outbound ones (their remote is the client's ephemeral
# port), plus whatever else the host did on 127.0.0.1 meanwhile.
# Needs root. KEEP=1 keeps the reports. Usage:
# bench/runtime-connections.sh [N] [METHOD...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
command -v jq >/dev/null || { echo "needs jq" >&2; exit 1; }
n=${1:-10000}
shift || true
methods=("$@")
((${#methods[@]})) || methods=(ebpf netlink proc)
window=30s

tmp=$(mktemp -d)
kpid=
trap '[ -n "$kpid" ] && kill "$kpid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -buildvcs=false -o "$tmp/kensa" ./cmd/kensa
go test -buildvcs=false -c -o "$tmp/loadgen" ./internal/observe/ebpf

rows=()
for m in "${methods[@]}"; do
	err=$tmp/$m.err
	"$tmp/kensa" scan --packages runtime --duration "$window" --observer "$m" --format json \
		--output "$tmp/$m.json" --no-download 2>"$err" &
	kpid=$!
	for _ in $(seq 600); do
		grep -q 'observing with' "$err" && break
		kill -0 "$kpid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'observing with' "$err" || { cat "$err" >&2; echo "$m: no window started" >&2; exit 1; }
	t0=$(date +%s.%N)
	KENSA_OBSERVE_LOADGEN=$n "$tmp/loadgen" >"$tmp/$m.port" &
	lpid=$!
	wait "$lpid"
	t1=$(date +%s.%N)
	if grep -q 'window over' "$err"; then
		echo "$m: the load outlasted the $window window; the count is incomplete" >&2
	fi
	wait "$kpid" || { cat "$err" >&2; echo "$m: kensa failed" >&2; exit 1; }
	kpid=
	port=$(tr -d '[:space:]' <"$tmp/$m.port")
	counts=$(jq -r --arg p ":$port" --argjson pid "$lpid" '
		.observation as $o
		| [$o.connections[] | select(.direction == "outbound" and (.remote | endswith($p)))] as $out
		| [$o.connections[] | select(.direction == "inbound" and (.local | endswith($p)))] as $in
		| [$o.connections[] | select(.direction == "outbound" and .pid == 0 and (.local | startswith("127.0.0.1:"))
			and (.remote | startswith("127.0.0.1:")) and (.remote | endswith($p) | not))] as $mis
		| [$o.method,
		   ([$out[].count] | add // 0), ([$out[] | select(.pid == $pid) | .count] | add // 0),
		   ([$in[].count] | add // 0), ([$mis[].count] | add // 0),
		   $o.stats.events, $o.stats.lost, $o.stats.unattributed] | @tsv' "$tmp/$m.json")
	read -r method out outpid in mis events lost unattr <<<"$counts"
	rows+=("$(awk -v m="$method" -v n="$n" -v t0="$t0" -v t1="$t1" -v o="$out" -v op="$outpid" -v i="$in" -v mis="$mis" \
		-v ev="$events" -v lost="$lost" -v un="$unattr" 'BEGIN {
		printf "| %s | %d in %.1f s | %d (%.2f %%) | %d | %d (%.2f %%) | %d | %d | %d | %d |", m, n, t1 - t0, o, 100 * o / n, op, i, 100 * i / n, mis, ev, lost, un
	}')")
	echo "${rows[-1]}" >&2
done

[ -n "${KEEP:-}" ] && echo "reports kept in $tmp" >&2
echo "$n loopback connections during a $window kensa scan --packages runtime window; $(hostname) ($(nproc) CPUs, kernel $(uname -r)), $(date -u +%Y-%m-%d)"
echo
echo "| method | connections made | outbound captured | of which by pid | inbound captured | pid-0 outbound elsewhere | events | lost | unattributed |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
