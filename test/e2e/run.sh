#!/usr/bin/env bash
# make e2e: kind cluster, the image built and loaded, the chart installed, a demo app with a
# RiskPolicy, legitimate and attack traffic, decisions asserted. Needs a Docker engine, which
# the project's development machines do not have: it stops at once, saying so, when there is none.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  echo "make e2e: needs a running Docker engine (kind runs Kubernetes nodes as containers); none is available here." >&2
  echo "make e2e: tiers 1-3 (make test) run everywhere; this tier runs on machines with Docker." >&2
  exit 1
fi
command -v kind >/dev/null || { echo "make e2e: kind is not installed (go install sigs.k8s.io/kind@v0.30.0)" >&2; exit 1; }

TOOLS=$(test/controlplane/tools/build-tools.sh | tail -1)
export PATH="$TOOLS:$PATH"
CLUSTER=riskgate-e2e
IMAGE=riskgate:e2e

cleanup() { kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true; }
trap cleanup EXIT

kind create cluster --name "$CLUSTER" --wait 120s
docker build -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"
helm install riskgate charts/riskgate --namespace riskgate-system --create-namespace \
  --set image.repository=riskgate --set image.tag=e2e --set image.pullPolicy=Never --wait --timeout 180s

kubectl create namespace shop
kubectl label namespace shop riskgate.dev/inject=enabled
kubectl apply -n shop -f - <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
        - name: app
          image: nginx:1.27.3-alpine
          ports: [{name: http, containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports: [{port: 80, targetPort: http}]
YAML
sed 's/namespace: default/namespace: shop/' examples/quickstart.yaml | kubectl apply -f -
kubectl wait -n shop --for=jsonpath='{.status.conditions[?(@.type=="Ready")].status}'=True rpol/quickstart --timeout=60s
kubectl rollout status -n shop deployment/shop --timeout=180s

probe() { kubectl run "probe-$RANDOM" -n shop --rm -i --restart=Never --image=curlimages/curl:8.11.1 -- \
  curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(probe http://shop.shop/products/1)" = 200 ] || { echo "legitimate request not allowed" >&2; exit 1; }
[ "$(probe -X POST http://shop.shop/transfer)" = 401 ] || { echo "unauthenticated transfer not refused" >&2; exit 1; }
echo "make e2e: passed"
