# Everything runs on the Node.js 24 that `npm ci` installs into node_modules (the `node`
# package), never on the machine's own node.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

NODE_MODULES_STAMP := node_modules/.package-lock.json

.PHONY: all test lint typecheck crds check-generated unit demo clean

all: test

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

## test: the one test command — lint, types, generated files, and every test tier
test: $(NODE_MODULES_STAMP) lint typecheck check-generated unit

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

unit: $(NODE_MODULES_STAMP)
	vitest run

## demo: the shop app, the enforcer on examples/quickstart.yaml, 20 s of users and attacks, a table
demo: $(NODE_MODULES_STAMP)
	node demo/run.ts

clean:
	rm -rf .tmp
