#!/usr/bin/env bash
# Build the modelmux filter as it was at git revision REV and print the path
# of the .wasm, for BENCH_BASELINE_WASM (the bench's before/after rows):
#   BENCH_BASELINE_WASM=$(bench/baseline-wasm.sh 4f2be4e) make bench
# The build runs in a temporary worktree with its own CARGO_TARGET_DIR, so
# neither the working tree nor target/ is touched; both temp dirs are removed
# afterwards. The result is kept as /tmp/modelmux-baseline-<commit>.wasm and
# reused on the next call for the same commit. Progress goes to stderr; the
# path is the only thing on stdout.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 REV" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sha="$(git -C "$ROOT" rev-parse --verify --quiet "$1^{commit}")" || {
  echo "baseline-wasm: no commit $1" >&2
  exit 1
}
out="${TMPDIR:-/tmp}/modelmux-baseline-${sha:0:12}.wasm"
if [ -s "$out" ]; then
  echo "baseline-wasm: reusing $out" >&2
  echo "$out"
  exit 0
fi

tree="$(mktemp -d "${TMPDIR:-/tmp}/modelmux-baseline-tree.XXXXXX")"
target="$(mktemp -d "${TMPDIR:-/tmp}/modelmux-baseline-target.XXXXXX")"
cleanup() {
  git -C "$ROOT" worktree remove --force "$tree" >/dev/null 2>&1 || true
  git -C "$ROOT" worktree prune >/dev/null 2>&1 || true
  rm -rf "$tree" "$target"
}
trap cleanup EXIT

echo "baseline-wasm: building ${sha:0:12} in $tree" >&2
git -C "$ROOT" worktree add --detach --quiet "$tree" "$sha" >&2
(cd "$tree" && CARGO_TARGET_DIR="$target" \
  cargo build --quiet --target wasm32-wasip1 --release -p modelmux) >&2
cp "$target/wasm32-wasip1/release/modelmux.wasm" "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
