# Everything runs on the Node.js 24 that `npm ci` installs into node_modules (the `node`
# package), never on the machine's own node.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

NODE_MODULES_STAMP := node_modules/.package-lock.json

.PHONY: all build test lint typecheck crds check-generated unit browser-tests slow-tests controlplane-tests tools controlplane-up controlplane-down demo bench bench-smoke eval e2e clean

all: test

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

## test: the one test command — lint, types, generated files, and every test tier
test: $(NODE_MODULES_STAMP) lint typecheck check-generated unit browser-tests slow-tests controlplane-tests

## lint: biome lint and format check
lint: $(NODE_MODULES_STAMP)
	biome check .

typecheck: $(NODE_MODULES_STAMP)
	tsc --noEmit

## crds: regenerate crds/ and docs/riskpolicy.md from the zod schema in api/
crds: $(NODE_MODULES_STAMP)
	node scripts/generate.ts

check-generated: $(NODE_MODULES_STAMP)
	node scripts/generate.ts --check

## unit: tiers 1 and 2 — pure modules, and the enforcer as a real server with Redis and .mmdb data
unit: $(NODE_MODULES_STAMP)
	vitest run

## browser-tests: tier 5 — the challenge page and the client helper in a real headless Chromium
## (Debian's chromium; RISKGATE_CHROMIUM names another binary)
browser-tests: $(NODE_MODULES_STAMP)
	vitest run --config vitest.browser.config.ts

## slow-tests: whole-system runs — the detection evaluation and the demo (minutes)
slow-tests: $(NODE_MODULES_STAMP)
	vitest run --config vitest.slow.config.ts

## controlplane-tests: tier 3 — CRDs, operator and chart against a real kube-apiserver + etcd
controlplane-tests: $(NODE_MODULES_STAMP) tools
	vitest run --config vitest.controlplane.config.ts

## tools: build kube-apiserver, kubectl, etcd and helm from the Go module proxy (cached, pinned)
tools:
	test/controlplane/tools/build-tools.sh

## controlplane-up: start a control plane for hand testing; prints the kubeconfig path last
controlplane-up: $(NODE_MODULES_STAMP) tools
	node test/controlplane/up.ts

controlplane-down: $(NODE_MODULES_STAMP)
	node test/controlplane/down.ts

## build: compile the sources to plain JavaScript in dist/, as the image does (the bench runs it)
build: $(NODE_MODULES_STAMP)
	rm -rf dist
	tsc -p tsconfig.build.json

## bench: the side-by-side benchmark (several minutes); results in bench/results/ and the README
bench: build
	node bench/run.ts

## bench-smoke: a short run that proves the harness works (reports; never fails on numbers)
bench-smoke: build
	BENCH_SMOKE=1 node bench/run.ts

## eval: the detection evaluation; writes docs/evaluation.md
eval: $(NODE_MODULES_STAMP)
	node eval/run.ts

## e2e: tier 4 on kind (needs Docker; stops at once, saying so, where there is none)
e2e: $(NODE_MODULES_STAMP)
	test/e2e/run.sh

## demo: the shop app, the enforcer on examples/quickstart.yaml, 20 s of users and attacks, a table
demo: $(NODE_MODULES_STAMP)
	node demo/run.ts

clean:
	rm -rf .tmp dist
