#!/usr/bin/env bash
# Load benchmark of kensa server (issue 7): 1,000 simulated agents on
# loopback enrol, upload a real-size inventory each (the Debian host
# snapshot of ../shared/fixtures, made distinct per agent) and heartbeat.
# Prints the latencies and rates (bench/fleetload) and the server's peak
# RSS. Not a CI test.
#
# Usage: bench/fleet-load.sh [sqlite|postgres] [AGENTS] [DURATION]
#   postgres needs KENSA_TEST_POSTGRES (scripts/test.sh sets one up).
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-sqlite}
n=${2:-1000}
dur=${3:-60s}
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/kensa" ./cmd/kensa
go build -o "$work/fleetload" ./bench/fleetload
args=(--data "$work/data")
if [ "$db" = postgres ]; then
	: "${KENSA_TEST_POSTGRES:?set KENSA_TEST_POSTGRES (postgres://...)}"
	schema="kensa_load_$$"
	psql "$KENSA_TEST_POSTGRES" -qc "CREATE SCHEMA $schema"
	trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; psql "$KENSA_TEST_POSTGRES" -qc "SET client_min_messages = warning; DROP SCHEMA '$schema' CASCADE"; rm -rf "$work"' EXIT
	sep='?'
	case "$KENSA_TEST_POSTGRES" in *\?*) sep='&' ;; esac
	args+=(--database "${KENSA_TEST_POSTGRES}${sep}search_path=$schema")
fi
join=$("$work/kensa" server join-token create "${args[@]}" --max-uses "$n" 2>/dev/null)
port=$((20000 + RANDOM % 20000))
"$work/kensa" server "${args[@]}" --listen "127.0.0.1:$port" --heartbeat 10s 2>"$work/server.log" &
echo $! >"$work/pid"
for _ in $(seq 100); do
	curl -sf --cacert "$work/data/pki/ca.crt" "https://127.0.0.1:$port/api/v1/health" >/dev/null && break
	sleep 0.1
done
echo "server: $db, pid $(cat "$work/pid")"
"$work/fleetload" -server "https://127.0.0.1:$port" -ca "$work/data/pki/ca.crt" -join "$join" \
	-agents "$n" -duration "$dur" -heartbeat 10s -root ../shared/fixtures/pkgdb/dpkg/debian-12-this-host
grep -E 'VmHWM|VmRSS' "/proc/$(cat "$work/pid")/status"
[ "$db" = sqlite ] && du -h "$work/data/kensa.db"* | tr '\n' ' ' && echo
