#!/usr/bin/env bash
# `make run`: the modelmux demo in the foreground.
#   1. bootstrap (.venv with Envoy) and release builds of the filter and mock;
#   2. start the mock providers on 127.0.0.1:18081 (OpenAI) / :18082 (Anthropic);
#   3. start Envoy with envoy/demo.yaml: gateway 127.0.0.1:10000, admin :9901.
# Ctrl-C or SIGTERM stops both; if either exits on its own, the other is stopped.
#
# Environment: MODELMUX_SKIP_BUILD=1 skips bootstrap+build;
#              ENVOY_LOG_LEVEL (default warn; wasm logs are always at info);
#              MODELMUX_ENVOY / MODELMUX_MOCK / MODELMUX_WASM override binaries
#              (a non-default wasm gets a copy of demo.yaml under .run/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"   # envoy/demo.yaml refers to the wasm by a repo-relative path

DEFAULT_WASM="target/wasm32-wasip1/release/modelmux.wasm"   # as written in demo.yaml
ENVOY="${MODELMUX_ENVOY:-$ROOT/.venv/bin/envoy}"
MOCK="${MODELMUX_MOCK:-$ROOT/target/release/modelmux-mock}"
WASM="${MODELMUX_WASM:-$ROOT/$DEFAULT_WASM}"
CONFIG="envoy/demo.yaml"
GATEWAY="127.0.0.1:10000"
ADMIN="127.0.0.1:9901"
OPENAI_ADDR="127.0.0.1:18081"
ANTHROPIC_ADDR="127.0.0.1:18082"

say() { printf 'run: %s\n' "$*" >&2; }

if [[ "${MODELMUX_SKIP_BUILD:-0}" != 1 ]]; then
    scripts/bootstrap.sh
    cargo build --release -p modelmux-mock
    cargo build --target wasm32-wasip1 --release -p modelmux
fi
for f in "$ENVOY" "$MOCK" "$WASM"; do
    [[ -x "$f" || -f "$f" ]] || { say "missing $f (run make build)"; exit 1; }
done

if [[ "$WASM" != "$ROOT/$DEFAULT_WASM" ]]; then
    mkdir -p .run
    sed "s#$DEFAULT_WASM#$WASM#" envoy/demo.yaml >.run/demo.yaml
    CONFIG=".run/demo.yaml"
fi

mock_pid=""
envoy_pid=""
prom_pid=""

stop_children() {
    local pids=() pid
    for pid in "$envoy_pid" "$mock_pid" "${prom_pid:-}"; do
        [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && pids+=("$pid")
    done
    ((${#pids[@]})) || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    # Give them a few seconds, then insist.
    for _ in $(seq 50); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
}

on_signal() {
    trap - INT TERM
    say "stopping"
    stop_children
    exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'stop_children' EXIT

wait_http() {  # wait_http URL PID NAME: poll URL until 2xx while PID lives
    local url="$1" pid="$2" name="$3"
    for _ in $(seq 200); do
        if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { say "$name exited during startup"; return 1; }
        sleep 0.1
    done
    say "$name not ready after 20s ($url)"
    return 1
}

# A port already in use would make the health checks below answer from
# whatever holds it (typically a `make run` still running), and the banner
# would announce the old instance: refuse instead.
port_taken() {  # port_taken HOST:PORT: something accepts connections there
    (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null
}
for addr in "$GATEWAY" "$ADMIN" "$OPENAI_ADDR" "$ANTHROPIC_ADDR"; do
    if port_taken "$addr"; then
        say "port $addr is taken (is another \`make run\` running?); stop it first"
        exit 1
    fi
done

"$MOCK" --openai-addr "$OPENAI_ADDR" --anthropic-addr "$ANTHROPIC_ADDR" &
mock_pid=$!
wait_http "http://$OPENAI_ADDR/_mock/health" "$mock_pid" mock
wait_http "http://$ANTHROPIC_ADDR/_mock/health" "$mock_pid" mock

"$ENVOY" --use-dynamic-base-id -c "$CONFIG" \
    --log-level "${ENVOY_LOG_LEVEL:-warn}" --component-log-level wasm:info &
envoy_pid=$!
wait_http "http://$ADMIN/ready" "$envoy_pid" envoy

# `make run PROMETHEUS=1`: a Prometheus scraping the demo, with the alerts.
prom_line=""
if [[ "${PROMETHEUS:-0}" == 1 ]]; then
    command -v prometheus >/dev/null || { say "prometheus not installed (scripts/bootstrap.sh installs it)"; exit 1; }
    mkdir -p .run/prometheus
    # rule_files resolve relative to the config file: alerts.yaml beside it.
    prometheus --config.file=envoy/prometheus/prometheus.yml --storage.tsdb.path=.run/prometheus/data \
        --web.listen-address=127.0.0.1:9090 --log.level=warn &
    prom_pid=$!
    wait_http "http://127.0.0.1:9090/-/ready" "$prom_pid" prometheus
    prom_line="    prometheus http://127.0.0.1:9090  (try: sum by (model) (modelmux_cost_micro_usd) / 1e6)"
fi

cat >&2 <<BANNER

  modelmux demo is up
    gateway  http://$GATEWAY/v1   (models: gpt-4o-mini -> mock OpenAI, claude-sonnet -> mock Anthropic,
                                   smart -> mock OpenAI, failing over to mock Anthropic; split -> 10/90)
    admin    http://$ADMIN        (stats: http://$ADMIN/stats?filter=modelmux)
    metrics  http://$ADMIN/stats/prometheus   (modelmux_* series: requests, tokens, cost_micro_usd,
                                   latency histograms; labels model, provider, consumer from x-team)
$prom_line

  try:
    curl -s http://$GATEWAY/v1/chat/completions -H 'content-type: application/json' \\
      -d '{"model":"claude-sonnet","messages":[{"role":"user","content":"hello there"}]}'
    curl -sN http://$GATEWAY/v1/chat/completions -H 'content-type: application/json' \\
      -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'

  watch failover: make the OpenAI mock answer 503 (x-mock-only scopes the mock's fault headers to it);
  the request is served by Anthropic, translated, in the same client request:
    curl -si http://$GATEWAY/v1/chat/completions -H 'content-type: application/json' \\
      -H 'x-mock-only: openai' -H 'x-mock-status: 503' \\
      -d '{"model":"smart","messages":[{"role":"user","content":"hello there"}]}'
    curl -s 'http://$ADMIN/stats?filter=modelmux.m.smart'    # attempts, failures_5xx, failovers

  Ctrl-C to stop.

BANNER

# Block until a signal arrives or one of the children exits on its own.
set +e
wait -n "$mock_pid" "$envoy_pid"
status=$?
set -e
say "a child process exited (status $status); shutting down"
stop_children
exit "$status"
