#!/usr/bin/env bash
# Builds the benchmark's peer proxy — Caddy with the Coraza web application firewall and its
# embedded OWASP Core Rule Set — from the Go module proxy, pinned by bench/peers/go.mod and
# verified against the hashes in bench/peers/go.sum (the checksum database does not answer for
# the coraza-caddy module, so go.sum is the record). Cached beside the control-plane tools, keyed
# by go.sum: a second run is a no-op. The last line printed is the binary's path.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
key="$(sha256sum "$here/peers/go.sum" "$here/peers/main.go" | sha256sum | cut -c1-12)"
cache_root="${RISKGATE_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/riskgate-tools}"
out="$cache_root/caddy-coraza-$key"
if [ ! -x "$out/caddy" ]; then
  echo "build-peers: building Caddy with Coraza (bench/peers/go.mod), a few minutes once" >&2
  mkdir -p "$out/src"
  cp "$here/peers/go.mod" "$here/peers/go.sum" "$here/peers/main.go" "$out/src/"
  (cd "$out/src" && GOFLAGS=-mod=readonly GONOSUMDB='github.com/corazawaf/*' CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w" -o "$out/caddy.tmp" .)
  mv "$out/caddy.tmp" "$out/caddy"
fi
echo "$out/caddy"
