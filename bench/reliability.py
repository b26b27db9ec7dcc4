#!/usr/bin/env python3
"""modelmux reliability run: client success while a provider fails.

Not a timed test and not a benchmark of cost: it starts the mock providers,
renders a bootstrap with `modelmux render` for a failover model (OpenAI mock
first, Anthropic mock second), runs real Envoy (`--concurrency 2`) and sends
keep-alive load at 32 requests in flight through scenarios that break the
first provider with stored mock faults. Every answer must be a 200 with a
valid body (a `chat.completion` with content, or a chunk stream with content
ending in `data: [DONE]`); JSON and streaming requests alternate.

Prints one line per scenario, the filter's and Envoy's failover counters,
and `client success: N/M (P%)`; exits 1 unless every request succeeded.

Run by `make reliability` (which builds everything first). Environment:
  MODELMUX_ENVOY, MODELMUX_WASM, MODELMUX_MOCK, MODELMUX_CLI   what to run
                            (default: .venv/bin/envoy and the release builds)
  RELIABILITY_CONCURRENCY   requests in flight (default 32)
  RELIABILITY_BASELINE_N    requests without faults (default 1000)
  RELIABILITY_FAULT_N       requests per fault scenario (default 5000)
  RELIABILITY_SETTLE_S      max wait for ejections to clear between fault
                            scenarios (default 30)
  RELIABILITY_PORT_BASE     first of the 4 ports used (default 19281)
  BENCH_KEEP=1              keep the temp dir with config, bootstrap, logs
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lib.admin import stats
from lib.bodies import filler, openai_body
from lib.client import LoadResult, run_load
from lib import entry
from lib.errors import BenchError
from lib.mockctl import clear_fault, set_fault
from lib.numbers import percentile
from lib.procs import Proc, envoy_ready, port_free, port_open, wait_for
from lib.shapes import check_shape

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = {
    "ENVOY": ".venv/bin/envoy",
    "WASM": "target/wasm32-wasip1/release/modelmux.wasm",
    "MOCK": "target/release/modelmux-mock",
    "CLI": "target/release/modelmux",
}
OPENAI_KEY = "mock-openai-key"
ANTHROPIC_KEY = "mock-anthropic-key"
MODEL = "smart"
PROVIDER_A, PROVIDER_B = "openai-mock", "anthropic-mock"
# Failover tuning in the filter config (rendered into the route's retry
# policy and the rotation clusters' outlier detection).
FAILOVER = {"attempt_timeout_ms": 5000, "consecutive_failures": 3, "ejection_ms": 10000}


def log(msg: str) -> None:
    print(f"reliability: {msg}", flush=True)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise BenchError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise BenchError(f"{name} must be positive, got {value}")
    return value


@dataclass
class Scenario:
    id: str
    title: str
    n: int
    fault: dict | None  # stored on provider A's listener for the scenario


def filter_config(openai_port: int, anthropic_port: int) -> dict:
    def provider(name: str, kind: str, port: int, key_env: str) -> dict:
        return {"name": name, "type": kind, "cluster": name.replace("-", "_"),
                "host": f"127.0.0.1:{port}", "base_path": "/v1", "api_key_env": key_env,
                "endpoint": {"tls": False}}
    return {
        "providers": [
            provider(PROVIDER_A, "openai", openai_port, "MOCK_OPENAI_KEY"),
            provider(PROVIDER_B, "anthropic", anthropic_port, "MOCK_ANTHROPIC_KEY"),
        ],
        "models": [{"name": MODEL, "targets": [
            {"provider": PROVIDER_A, "model": "gpt-4o-mini"},
            {"provider": PROVIDER_B, "model": "claude-sonnet-4-5"},
        ]}],
        "failover": FAILOVER,
    }


def render_bootstrap(cli: str, config: Path, out: Path, wasm: str, listen: int,
                     admin: int) -> None:
    argv = [cli, "render", "--config", str(config),
            "--listen", f"127.0.0.1:{listen}", "--admin", f"127.0.0.1:{admin}",
            "--wasm", str(Path(wasm).resolve()),
            "--key", f"MOCK_OPENAI_KEY={OPENAI_KEY}",
            "--key", f"MOCK_ANTHROPIC_KEY={ANTHROPIC_KEY}"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise BenchError(f"modelmux render failed ({proc.returncode}):\n{proc.stderr}")
    out.write_text(proc.stdout)


# --------------------------------------------------------------------------
# Requests: JSON and streams alternate; a few prompt sizes rotate.

PROMPTS = [filler(size, seed=size) for size in (120, 400, 900)]
BODIES = [
    (openai_body(MODEL, prompt, stream), "openai_sse" if stream else "openai")
    for prompt in PROMPTS for stream in (False, True)
]
HEADERS = {"content-type": "application/json"}


def make_request(i: int) -> tuple[str, dict[str, str], bytes]:
    return "/v1/chat/completions", HEADERS, BODIES[i % len(BODIES)][0]


def check_response(i: int, status: int, headers: dict[str, str], body: bytes) -> str | None:
    if status != 200:
        return f"http_{status}"
    try:
        check_shape(BODIES[i % len(BODIES)][1], headers, body)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return "invalid_body"
    return None


# --------------------------------------------------------------------------
# Counters

MODELMUX_PREFIX = f"wasmcustom.modelmux.m.{MODEL}.p."


def modelmux_counters(admin: int) -> dict[str, dict[str, int]]:
    """{provider: {counter: value}} for the failover model."""
    out: dict[str, dict[str, int]] = {}
    for name, value in stats(admin, f"^{MODELMUX_PREFIX}".replace(".", r"\.")).items():
        provider, _, counter = name[len(MODELMUX_PREFIX):].rpartition(".")
        out.setdefault(provider, {})[counter] = value
    return out


def counter_delta(after: dict, before: dict, provider: str, counter: str) -> int:
    return after.get(provider, {}).get(counter, 0) - before.get(provider, {}).get(counter, 0)


def flushed_counters(admin: int) -> dict[str, dict[str, int]]:
    time.sleep(1.2)  # the filter flushes its counters to Envoy once a second
    return modelmux_counters(admin)


def wait_no_ejections(admin: int, limit_s: int) -> float:
    """Wait until no rotation-cluster endpoint is ejected; return the wait."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        active = stats(admin, r"^cluster\.modelmux_.*\.outlier_detection\.ejections_active$")
        if not any(active.values()):
            break
        time.sleep(0.25)
    return time.monotonic() - t0


# --------------------------------------------------------------------------
# Report


def scenario_line(s: Scenario, r: LoadResult, base_p99: float | None, deltas: dict) -> str:
    fails = ", ".join(f"{k} {v}" for k, v in sorted(r.failures.items())) or "none"
    p50, p99 = percentile(r.latencies_ms, 50), percentile(r.latencies_ms, 99)
    added = f"{p99 - base_p99:+.2f} ms" if base_p99 is not None else "(reference)"
    return (
        f"{s.id:<9} {s.title:<28} requests {r.requests:>5}  ok {r.successes:>5}  "
        f"failed {r.requests - r.successes} ({fails})  {r.rps:7.0f} req/s  "
        f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  p99 vs baseline {added}  | "
        f"attempts A {deltas['attempts_a']} B {deltas['attempts_b']}, "
        f"failovers {deltas['failovers']}"
    )


def final_counters(admin: int) -> list[str]:
    lines = ["modelmux counters (model smart, whole run):"]
    counters = modelmux_counters(admin)
    keys = ("requests", "errors", "attempts", "failovers", "exhausted", "failures_5xx",
            "failures_429", "failures_connect", "failures_timeout", "failures_overloaded", "failures_malformed",
            "circuit_opened", "circuit_skips")
    for provider in (PROVIDER_A, PROVIDER_B):
        c = counters.get(provider, {})
        lines.append(f"  {provider:<15} " + "  ".join(f"{k} {c.get(k, 0)}" for k in keys))
    envoy = stats(admin, r"^cluster\.modelmux_.*\.(outlier_detection\.ejections_enforced_total"
                         r"|upstream_rq_retry.*)$")
    lines.append("envoy counters:")
    lines += [f"  {name} {value}" for name, value in sorted(envoy.items())]
    return lines


# --------------------------------------------------------------------------
# Main


def main() -> int:
    paths = {name: os.environ.get(f"MODELMUX_{name}") or str(ROOT / default)
             for name, default in DEFAULT_PATHS.items()}
    for name, path in paths.items():
        if not path or not Path(path).is_file():
            raise BenchError(f"MODELMUX_{name} does not name a file: {path!r}")
    concurrency = env_int("RELIABILITY_CONCURRENCY", 32)
    fault_n = env_int("RELIABILITY_FAULT_N", 5000)
    settle_s = env_int("RELIABILITY_SETTLE_S", 30)
    base = env_int("RELIABILITY_PORT_BASE", 19281)
    ports = {"openai": base, "anthropic": base + 1, "listen": base + 2, "admin": base + 3}
    busy = [f"{k}={p}" for k, p in ports.items() if not port_free(p)]
    if busy:
        raise BenchError(f"ports in use: {', '.join(busy)} (set RELIABILITY_PORT_BASE)")
    scenarios = [
        Scenario("baseline", "no faults", env_int("RELIABILITY_BASELINE_N", 1000), None),
        Scenario("a-down", "A: 100% 503", fault_n, {"status": 503}),
        Scenario("a-flaky", "A: 503 at random, rate 0.5", fault_n, {"status": 503, "rate": 0.5}),
    ]

    work = Path(tempfile.mkdtemp(prefix="modelmux-reliability-"))
    procs: list[Proc] = []
    ok = False
    try:
        mock = Proc("mock", [
            paths["MOCK"],
            "--openai-addr", f"127.0.0.1:{ports['openai']}",
            "--anthropic-addr", f"127.0.0.1:{ports['anthropic']}",
            "--openai-key", OPENAI_KEY, "--anthropic-key", ANTHROPIC_KEY,
        ], work)
        procs.append(mock)
        mock.start()
        wait_for(mock, "mock ports",
                 lambda: port_open(ports["openai"]) and port_open(ports["anthropic"]))

        config = work / "modelmux.json"
        config.write_text(json.dumps(filter_config(ports["openai"], ports["anthropic"]),
                                     indent=2))
        bootstrap = work / "envoy.yaml"
        render_bootstrap(paths["CLI"], config, bootstrap, paths["WASM"],
                         ports["listen"], ports["admin"])
        envoy = Proc("envoy", [
            paths["ENVOY"], "-c", str(bootstrap), "--use-dynamic-base-id",
            "--concurrency", "2", "-l", "warning",
        ], work)
        procs.append(envoy)
        envoy.start()
        wait_for(envoy, "admin /ready and listener",
                 lambda: envoy_ready(ports["admin"], ports["listen"]))
        log(f"mock on :{ports['openai']} (A, {PROVIDER_A}) and :{ports['anthropic']} "
            f"(B, {PROVIDER_B}); Envoy --concurrency 2 on :{ports['listen']}; model {MODEL} = "
            f"[A, B], failover {json.dumps(FAILOVER)}; {concurrency} in flight, "
            "JSON and stream requests alternating")

        total = LoadResult()
        base_p99: float | None = None
        before = modelmux_counters(ports["admin"])
        for s in scenarios:
            if s.fault is not None:
                waited = wait_no_ejections(ports["admin"], settle_s)
                if waited > 0.5:
                    log(f"waited {waited:.1f} s for outlier ejections to clear before {s.id}")
                set_fault(ports["openai"], **s.fault)
            try:
                r = run_load(ports["listen"], s.n, concurrency, make_request, check_response)
            finally:
                clear_fault(ports["openai"])
            after = flushed_counters(ports["admin"])
            deltas = {
                "attempts_a": counter_delta(after, before, PROVIDER_A, "attempts"),
                "attempts_b": counter_delta(after, before, PROVIDER_B, "attempts"),
                "failovers": counter_delta(after, before, PROVIDER_B, "failovers")
                + counter_delta(after, before, PROVIDER_A, "failovers"),
            }
            before = after
            line = scenario_line(s, r, base_p99, deltas)
            print(line, flush=True)
            if base_p99 is None:
                base_p99 = percentile(r.latencies_ms, 99)
            total.requests += r.requests
            total.latencies_ms += r.latencies_ms
            for k, v in r.failures.items():
                total.failures[k] = total.failures.get(k, 0) + v
            if not envoy.alive() or not mock.alive():
                raise BenchError(f"a process died during {s.id}:\n{envoy.log_tail()}")

        for line in final_counters(ports["admin"]):
            print(line)
        pct = 100 * total.successes / total.requests
        print(f"client success: {total.successes}/{total.requests} ({pct:.2f}%)", flush=True)
        ok = True
        return 0 if total.successes == total.requests else 1
    finally:
        for proc in reversed(procs):
            proc.stop()
        if ok and os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"config, bootstrap and logs kept in {work}")


if __name__ == "__main__":
    entry.run(main, "reliability")
