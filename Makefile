# modelmux developer entry points. Everything runs from the repository root.
#
#   make test       bootstrap + build + lint + unit + validate + e2e (what CI runs)
#   make run        demo gateway on 127.0.0.1:10000 in front of the mock providers
#   make bench      benchmark (bench/run.sh)
#
# Note: `cargo test --workspace` does not work here: the root crate is a wasm
# cdylib whose native test binary would not link. Use `make unit`.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
# Targets such as `test` list their steps as prerequisites; keep them in order.
.NOTPARALLEL:

CARGO  ?= cargo
VENV   := .venv
PYTHON := $(VENV)/bin/python
ENVOY  := $(VENV)/bin/envoy
WASM   := target/wasm32-wasip1/release/modelmux.wasm
MOCK   := target/release/modelmux-mock
CLI    := target/release/modelmux
PYTEST_ARGS ?=

export MODELMUX_WASM := $(CURDIR)/$(WASM)
export MODELMUX_MOCK := $(CURDIR)/$(MOCK)
export MODELMUX_CLI := $(CURDIR)/$(CLI)
export MODELMUX_ENVOY := $(CURDIR)/$(ENVOY)

.PHONY: bootstrap build wasm mock run test bench lint fmt unit unit-wasm e2e validate clean distclean help

help:
	@echo "targets: bootstrap build run test bench lint fmt unit unit-wasm e2e validate validate-istio configs check-configs clean distclean"

bootstrap:
	scripts/bootstrap.sh

build: wasm mock

wasm:
	$(CARGO) build --target wasm32-wasip1 --release -p modelmux

mock:
	$(CARGO) build --release -p modelmux-mock -p modelmux-cli

run:
	scripts/run.sh

test: bootstrap build lint unit check-configs validate e2e

bench: bootstrap build
	bench/run.sh

# Client success while a failover model's first provider fails (not a timed
# test): mock + `modelmux render` + Envoy, 11,000 requests at 32 in flight.
.PHONY: reliability
reliability: bootstrap build
	$(CARGO) build --release -p modelmux-cli
	MODELMUX_CLI=$(CURDIR)/target/release/modelmux $(PYTHON) bench/reliability.py

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p modelmux -p modelmux-core --target wasm32-wasip1 -- -D warnings

fmt:
	$(CARGO) fmt --all

unit:
	$(CARGO) test -p modelmux-core -p modelmux-mock -p modelmux-cli
	$(PYTHON) -m pytest -q bench/tests
	$(MAKE) --no-print-directory unit-wasm

# The core's tests compiled to the filter's target, run under Node's WASI
# (scripts/wasi-runner.mjs). Skipped when node is not installed.
unit-wasm:
	if command -v node >/dev/null 2>&1; then \
	  CARGO_TARGET_WASM32_WASIP1_RUNNER="node $(CURDIR)/scripts/wasi-runner.mjs" \
	    $(CARGO) test -p modelmux-core --target wasm32-wasip1; \
	else \
	  echo "unit-wasm: node not found; skipping the wasm32 run of the core tests"; \
	fi

# Validation instantiates the filter (it parses its JSON config), so it needs
# the wasm file. Placeholder keys keep it independent of the caller's env.
# Every key the shipped configs name gets a placeholder unless it is set.
validate: bootstrap wasm
	$(CARGO) build --release -p modelmux-cli
	for k in $$(grep -ho '"[a-z_]*_env": *"[A-Za-z0-9_]*"' envoy/*.json | sed 's/.*"\([A-Za-z0-9_]*\)"$$/\1/' | sort -u); do \
	  export "$$k=$${!k:-validate-placeholder}"; \
	done; \
	for cfg in envoy/envoy.yaml envoy/demo.yaml; do \
	  $(ENVOY) --mode validate --use-dynamic-base-id --log-level warn -c "$$cfg"; \
	done; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  $(MODELMUX) $(MINIMAL_RENDER) > "$$tmp/minimal.yaml"; \
	  $(ENVOY) --mode validate --use-dynamic-base-id --log-level warn -c "$$tmp/minimal.yaml"
	$(MAKE) --no-print-directory validate-istio

# The Istio manifests (envoy/istio/): Istio's CRD schemas, and every Envoy
# patch applied to an Istio-like gateway bootstrap under `envoy --mode validate`.
.PHONY: validate-istio
validate-istio: bootstrap wasm
	$(PYTHON) -m pytest -q tests/istio

e2e: bootstrap build
	$(PYTHON) -m pytest tests/e2e $(PYTEST_ARGS)

clean:
	$(CARGO) clean
	rm -rf .run .pytest_cache tests/e2e/.pytest_cache
	find tests -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

# envoy/demo.yaml and envoy/envoy.yaml are rendered from envoy/*.json by
# `modelmux render` (cli/), envoy/istio/modelmux.yaml from envoy/istio.json by
# `modelmux render --istio`; never edit them by hand. `configs` re-renders
# them; `check-configs` fails if they are stale, then runs `modelmux check`.
# envoy/minimal.json (the README's first deployment) has no committed YAML:
# `check-configs` checks its rendering and `validate` has Envoy validate it.
MODELMUX     := target/release/modelmux
DEMO_RENDER  := render --config envoy/demo.json --key MOCK_OPENAI_KEY=mock-openai-key --key MOCK_ANTHROPIC_KEY=mock-anthropic-key
ENVOY_RENDER := render --config envoy/envoy.json --listen 0.0.0.0:10000
MINIMAL_RENDER := render --config envoy/minimal.json
# envoy/istio/modelmux.yaml: the module URL and sha256 are placeholders that
# a deployment replaces by re-rendering (README, Istio); a digest of the
# current build here would make the file stale at every code change.
ISTIO_WASM_URL    := https://wasm.example.com/modelmux/modelmux.wasm
ISTIO_WASM_SHA256 := 0000000000000000000000000000000000000000000000000000000000000000
ISTIO_RENDER := render --istio --config envoy/istio.json --wasm-url $(ISTIO_WASM_URL) --wasm-sha256 $(ISTIO_WASM_SHA256)

.PHONY: configs check-configs

configs:
	$(CARGO) build --release -p modelmux-cli
	$(MODELMUX) $(DEMO_RENDER) > envoy/demo.yaml.tmp && mv envoy/demo.yaml.tmp envoy/demo.yaml
	$(MODELMUX) $(ENVOY_RENDER) > envoy/envoy.yaml.tmp && mv envoy/envoy.yaml.tmp envoy/envoy.yaml
	$(MODELMUX) $(ISTIO_RENDER) > envoy/istio/modelmux.yaml.tmp && mv envoy/istio/modelmux.yaml.tmp envoy/istio/modelmux.yaml

check-configs:
	$(CARGO) build --release -p modelmux-cli
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  $(MODELMUX) $(DEMO_RENDER) > "$$tmp/demo.yaml"; \
	  $(MODELMUX) $(ENVOY_RENDER) > "$$tmp/envoy.yaml"; \
	  diff -u envoy/demo.yaml "$$tmp/demo.yaml"; \
	  $(MODELMUX) $(ISTIO_RENDER) > "$$tmp/istio.yaml"; \
	  diff -u envoy/envoy.yaml "$$tmp/envoy.yaml"; \
	  diff -u envoy/istio/modelmux.yaml "$$tmp/istio.yaml"
	$(MODELMUX) check --envoy envoy/demo.yaml --config envoy/demo.json
	$(MODELMUX) check --envoy envoy/envoy.yaml --config envoy/envoy.json
	$(MODELMUX) check --envoy envoy/istio/modelmux.yaml --config envoy/istio.json
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  $(MODELMUX) $(MINIMAL_RENDER) > "$$tmp/minimal.yaml"; \
	  $(MODELMUX) check --envoy "$$tmp/minimal.yaml" --config envoy/minimal.json
