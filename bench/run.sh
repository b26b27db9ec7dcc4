#!/usr/bin/env bash
# modelmux benchmark: plain Envoy vs Envoy + modelmux, same mock, same wrk.
# Usage: bench/run.sh   (or `make bench`)
# Knobs (env): BENCH_DURATION (s, default 10), BENCH_WARMUP, BENCH_CONNECTIONS,
#   BENCH_TTFT_N, BENCH_CASES, BENCH_PACED_* (fixed-load latency runs),
#   BENCH_PIN, BENCH_KEEP, BENCH_*_PORT -- see bench/bench.py.
#   ENVOY (or MODELMUX_ENVOY), MODELMUX_WASM, MODELMUX_MOCK and
#   PYTHON override what is run; BENCH_SKIP_BUILD=1 skips bootstrap and cargo.
# Output: the tables on stdout and in bench/results/latest.md (+ latest.json).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { echo "bench: $*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    say "need root (or sudo) to run: $*" >&2
    return 1
  fi
}

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk from apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  command -v wrk >/dev/null 2>&1 || { say "wrk still missing after install" >&2; exit 1; }
fi

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  if [ -f scripts/bootstrap.sh ]; then
    say "running scripts/bootstrap.sh"
    bash scripts/bootstrap.sh
  fi
  say "building mock and wasm filter (release)"
  cargo build --quiet --release -p modelmux-mock
  cargo build --quiet --target wasm32-wasip1 --release -p modelmux
fi

ENVOY="${ENVOY:-${MODELMUX_ENVOY:-}}"
if [ -z "$ENVOY" ]; then
  if [ -x .venv/bin/envoy ]; then
    ENVOY=.venv/bin/envoy
  elif command -v envoy >/dev/null 2>&1; then
    ENVOY="$(command -v envoy)"
  else
    say "no Envoy: run scripts/bootstrap.sh or set ENVOY=/path/to/envoy" >&2
    exit 1
  fi
fi

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

case "$ENVOY" in
  /*) ;;
  */*) ENVOY="$ROOT/$ENVOY" ;;
  *) ENVOY="$(command -v "$ENVOY")" ;;
esac
export BENCH_ENVOY="$ENVOY"
export BENCH_WASM="${MODELMUX_WASM:-$ROOT/target/wasm32-wasip1/release/modelmux.wasm}"
export BENCH_MOCK="${MODELMUX_MOCK:-$ROOT/target/release/modelmux-mock}"

exec "$PYTHON" "$ROOT/bench/bench.py"
