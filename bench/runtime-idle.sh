#!/usr/bin/env bash
# Measures the runtime observer's own cost on an idle host, through the whole
# `kensa scan --packages runtime` (issue 5's budget: under 1 % of one core on
# average, under 50 MB RSS). For each method it runs one window and records:
#   - the CPU kensa used inside the window (utime+stime from /proc/PID/stat,
#     sampled every second: at the "observing with" line and at the last
#     sample before "window over"), as a percentage of one core;
#   - its RSS at the end of the window (VmRSS) and the peak RSS of the whole
#     scan (/usr/bin/time %M: inventory, window, ELF analysis, rules);
#   - the CPU of the whole scan and the events the method delivered.
# Needs root (each method is forced; one that cannot run fails the scan).
# Usage: bench/runtime-idle.sh [DURATION (default 5m)] [METHOD...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
command -v jq >/dev/null || { echo "needs jq" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
duration=${1:-5m}
shift || true
methods=("$@")
((${#methods[@]})) || methods=(ebpf netlink proc)

tmp=$(mktemp -d)
kpid=
trap '[ -n "$kpid" ] && kill "$kpid" 2>/dev/null; rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -buildvcs=false -o "$tmp/kensa" ./cmd/kensa
tck=$(getconf CLK_TCK)

# ticks PID: utime+stime of PID in clock ticks (fields 14 and 15; the
# command name "kensa" has no spaces).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rsskb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

rows=()
for m in "${methods[@]}"; do
	err=$tmp/$m.err
	/usr/bin/time -f '%U %S %M' -o "$tmp/$m.time" "$tmp/kensa" scan --packages runtime --duration "$duration" \
		--observer "$m" --format json --output "$tmp/$m.json" --no-download 2>"$err" &
	tpid=$!
	kpid=
	for _ in $(seq 600); do
		kpid=$(pgrep -P "$tpid" -x kensa || true)
		[ -n "$kpid" ] && grep -q 'observing with' "$err" && break
		sleep 0.2
	done
	grep -q 'observing with' "$err" || { cat "$err" >&2; echo "$m: no window started" >&2; exit 1; }
	c0=$(ticks "$kpid")
	t0=$(date +%s.%N)
	c1=$c0 t1=$t0 rss=$(rsskb "$kpid")
	while ! grep -q 'window over' "$err"; do
		c=$(ticks "$kpid" 2>/dev/null) || break
		t=$(date +%s.%N)
		r=$(rsskb "$kpid" 2>/dev/null) || break
		grep -q 'window over' "$err" && break # the sample may include evaluation
		c1=$c t1=$t rss=$r
		sleep 1
	done
	wait "$tpid" || { cat "$err" >&2; echo "$m: kensa failed" >&2; exit 1; }
	kpid=
	read -r u s peak <"$tmp/$m.time"
	events=$(jq '.observation.stats.events' "$tmp/$m.json")
	method=$(jq -r '.observation.method' "$tmp/$m.json")
	rows+=("$(awk -v m="$method" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v tck="$tck" -v rss="$rss" \
		-v peak="$peak" -v u="$u" -v s="$s" -v ev="$events" 'BEGIN {
		cpu = (c1 - c0) / tck; wall = t1 - t0
		printf "| %s | %.0f s | %.2f s | %.3f %% | %.1f MB | %.1f MB | %.2f s | %d |", m, wall, cpu, 100 * cpu / wall, rss / 1024, peak / 1024, u + s, ev
	}')")
	echo "${rows[-1]}" >&2
done

echo "kensa scan --packages runtime --duration $duration on $(hostname) ($(nproc) CPUs, kernel $(uname -r)), $(date -u +%Y-%m-%d)"
echo
echo "| method | window sampled | observer CPU in window | of one core | RSS at window end | peak RSS (whole scan) | CPU (whole scan) | events |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
