#!/usr/bin/env bash
# Builds vegeta, the benchmark's open-loop load generator, from the Go module proxy, pinned,
# into the same cache as the control-plane tools. A second run is a no-op. The last line
# printed is the binary's path.
set -euo pipefail

VEGETA_VERSION=v12.13.0

cache_root="${RISKGATE_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/riskgate-tools}"
bin="$cache_root/vegeta-$VEGETA_VERSION"
if [ ! -x "$bin/vegeta" ]; then
  echo "build-vegeta: building vegeta $VEGETA_VERSION" >&2
  mkdir -p "$bin"
  GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN="$bin" go install -trimpath -ldflags "-s -w" \
    "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi
echo "$bin/vegeta"
