#!/usr/bin/env bash
# Builds a static kensa binary into bin/kensa, stamped with the version
# (git describe) and commit. Usage: scripts/build.sh [output]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin/kensa}
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse HEAD 2>/dev/null || echo "")
pkg=github.com/kensa-dev/kensa/internal/buildinfo
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X $pkg.version=$version -X $pkg.commit=$commit" \
	-o "$out" ./cmd/kensa
echo "$out: $("$out" version | head -1)"
