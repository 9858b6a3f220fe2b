#!/usr/bin/env bash
# Builds the real control plane for the tests from the Go module proxy, pinned, into a cache
# outside the repository: kube-apiserver and kubectl (k8s.io/kubernetes), etcd
# (go.etcd.io/etcd/server/v3) and helm (helm.sh/helm/v3). A second run is a no-op. The last
# line printed is the folder holding the binaries.
set -euo pipefail

K8S_VERSION=v1.36.3
STAGING_VERSION=v0.36.3
ETCD_VERSION=v3.6.16
HELM_VERSION=v3.19.5

cache_root="${RISKGATE_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/riskgate-tools}"
bin="$cache_root/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION/bin"
work="$cache_root/build"
mkdir -p "$bin" "$work"
export GOFLAGS=-mod=mod
export CGO_ENABLED=0

log() { echo "build-tools: $*" >&2; }

build_kubernetes() {
  local dir="$work/kubernetes-$K8S_VERSION"
  mkdir -p "$dir"
  cd "$dir"
  local mod
  mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  {
    echo "module riskgate.dev/tools/kubernetes"
    echo
    echo "go $(sed -n 's/^go //p' "$mod")"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "// k8s.io/kubernetes replaces its staging modules with local folders; a dependency's"
    echo "// replace directives are ignored, so each one points at its published release here."
    echo "replace ("
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$STAGING_VERSION"'#p' "$mod"
    echo ")"
  } > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go mod tidy >/dev/null
  log "building kube-apiserver $K8S_VERSION"
  go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION" -o "$bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  log "building kubectl $K8S_VERSION"
  go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION" -o "$bin/kubectl" k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  local dir="$work/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  cd "$dir"
  printf 'module riskgate.dev/tools/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
  go mod tidy >/dev/null
  log "building etcd $ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
}

build_helm() {
  local dir="$work/helm-$HELM_VERSION"
  mkdir -p "$dir"
  cd "$dir"
  printf 'module riskgate.dev/tools/helm\n\ngo 1.24\n\nrequire helm.sh/helm/v3 %s\n' "$HELM_VERSION" > go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "helm.sh/helm/v3/cmd/helm"\n' > tools.go
  go mod tidy >/dev/null
  # As helm's release build does: the Kubernetes version `helm template` and `helm lint` assume
  # without --kube-version is that of the client-go it was built with (else 1.20, which charts
  # requiring a newer Kubernetes refuse).
  local client_go major minor
  client_go=$(go list -m -f '{{.Version}}' k8s.io/client-go)
  major=$(( $(echo "$client_go" | sed 's/^v\([0-9]*\)\..*/\1/') + 1 ))
  minor=$(echo "$client_go" | sed 's/^v[0-9]*\.\([0-9]*\)\..*/\1/')
  log "building helm $HELM_VERSION (assumes Kubernetes $major.$minor)"
  go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$major -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$major -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor" \
    -o "$bin/helm" helm.sh/helm/v3/cmd/helm
  echo "$major.$minor" > "$bin/helm.kube-version"
}

[ -x "$bin/kube-apiserver" ] && [ -x "$bin/kubectl" ] || build_kubernetes
[ -x "$bin/etcd" ] || build_etcd
[ -x "$bin/helm" ] && [ -f "$bin/helm.kube-version" ] || build_helm
echo "$bin"
