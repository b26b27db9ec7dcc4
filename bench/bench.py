#!/usr/bin/env python3
"""modelmux benchmark driver (stdlib only; started by bench/run.sh).

Runs one mock upstream and two Envoys side by side -- a plain proxy and the
same Envoy with the modelmux wasm filter -- checks that every case answers
200 with the expected body shape, then measures each case with wrk at
saturation, then again at a fixed moderate load (paced wrk: each connection
waits a calibrated think time between requests) for the latency the filter
adds, and the streaming case's time to first token with a small sequential
client.

Inputs come from the environment (run.sh fills in the paths):
  BENCH_ENVOY, BENCH_WASM, BENCH_MOCK   binaries / module to use (required)
  BENCH_DURATION      seconds per measurement (default 10)
  BENCH_WARMUP        seconds of wrk warm-up before each measurement (default 1)
  BENCH_CONNECTIONS   wrk connections (default 16)
  BENCH_TTFT_N        sequential streaming requests per Envoy (default 200)
  BENCH_CASES         comma-separated case ids to run (default: all)
  BENCH_PACED_PCT     fixed-load rate as % of the case's plain saturation req/s
                      (default 20)
  BENCH_PACED_RPS     fixed-load rate in req/s for every case instead
  BENCH_PACED_CONNECTIONS  wrk connections for the fixed-load runs (default:
                      8, or more if needed for a think time of >= 2 ms)
  BENCH_PACED_DURATION     seconds per fixed-load run (default BENCH_DURATION)
  BENCH_PACED_CASES   comma-separated case ids for the fixed-load runs
                      (default: every case run; "none" skips them)
  BENCH_PIN           1 = pin Envoy to one core, wrk/mock/client to another
                      with taskset when there are >= 2 cores (default 1)
  BENCH_KEEP          1 = keep the temp dir with configs and logs
  BENCH_BASELINE_WASM  an older filter build: adds the modelmux-before Envoy
  BENCH_BASELINE_FEATURES  comma-separated features that filter has, among
                      failover, dialects, gemini, bedrock (default none: the pre-failover
                      config shape); cases needing others get n/a rows
  BENCH_OPENAI_PORT, BENCH_ANTHROPIC_PORT, BENCH_GEMINI_PORT, BENCH_BEDROCK_PORT
                      mock ports (19081, 19082, 19084, 19085)
  BENCH_PLAIN_PORT, BENCH_MODELMUX_PORT            Envoy listeners (19180, 19181)
  BENCH_PLAIN_ADMIN_PORT, BENCH_MODELMUX_ADMIN_PORT Envoy admin (19190, 19191)
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lib.bodies import openai_body, user_text_for
from lib.cases import PACED_MIN_CYCLE_MS, Case, Req, body_key, native_req
from lib.dialects import (ANTHROPIC, BEDROCK_ACCESS_KEY_ID, BEDROCK_SECRET_ACCESS_KEY, DIALECTS,
                          Dialect)
from lib import entry, ingress
from lib.errors import BenchError
from lib.mockctl import set_fault
from lib.numbers import percentile
from lib.procs import (
    Proc,
    cpu_ticks,
    envoy_ready,
    http_get,
    pin_prefix,
    port_free,
    port_open,
    wait_for,
)
from lib import eventstream
from lib.shapes import bedrock_event_text, check_shape, event_text

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "post.lua"
RESULTS_DIR = BENCH_DIR / "results"

OPENAI_KEY = "mock-openai-key"
FAILOVER_MODEL = "failover"  # first target answers 503, second serves
# Filter features a case may need beyond single-target OpenAI/Anthropic
# models; an older filter (BENCH_BASELINE_WASM) is given only those it has.
FEATURES = ("failover", ingress.FEATURE, *(d.feature for d in DIALECTS if d.feature))
NOISE_PCT = 10  # foreign CPU on Envoy's core above which a row is flagged
P99_BUDGET_MS = 1.0  # project target: modelmux adds at most this to p99 at fixed load
CALIBRATION_ROUNDS = 3  # paced think-time calibration runs per Envoy (BENCH_WARMUP s each)
CALIBRATION_TOLERANCE = 0.03  # stop calibrating within 3% of the target req/s
# Paced connections by default: at least PACED_MIN_CONNECTIONS, and enough that
# each cycle (think + latency) is >= PACED_MIN_CYCLE_MS. wrk's timers tick in
# whole ms, so shorter think times make the rate erratic; more connections
# than needed send bigger simultaneous bursts (see bench/README.md).
PACED_MIN_CONNECTIONS = 8
RATE_MISS = 0.10  # fixed-load rows further than this from the target are flagged


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise BenchError(f"{name} must be positive, got {value}")
    return value


def log(msg: str) -> None:
    print(f"bench: {msg}", flush=True)


# --------------------------------------------------------------------------
# Request bodies


SIZES = {"1k": 1024, "200k": 200 * 1024}
# The translated cases per dialect: (size, stream), in Dialect.ids order.
TRANSLATED_VARIANTS = (("1k", False), ("1k", True), ("200k", False))


def write_bodies(outdir: Path) -> dict[str, Path]:
    texts = {size: user_text_for(n) for size, n in SIZES.items()}
    bodies = {
        body_key("openai", size, False): openai_body("gpt-4o-mini", text, False)
        for size, text in texts.items()
    }
    bodies["openai_1k_failover"] = openai_body(FAILOVER_MODEL, texts["1k"], False)
    for d in DIALECTS:
        for size, stream in TRANSLATED_VARIANTS:
            text = texts[size]
            bodies[body_key(f"openai_{d.name}", size, stream)] = openai_body(
                d.public_model, text, stream)
            bodies[body_key(d.name, size, stream)] = d.body(text, stream)
    bodies.update(ingress.bodies(texts["1k"]))
    paths = {}
    for name, data in bodies.items():
        path = outdir / f"{name}.json"
        path.write_bytes(data)
        paths[name] = path
    return paths


# --------------------------------------------------------------------------
# Cases


# Envoys the bench runs; `before` only with BENCH_BASELINE_WASM.
LABELS = {"plain": "plain", "before": "modelmux-before", "modelmux": "modelmux"}


def req_for(case: Case, target: str) -> Req:
    return case.plain if target == "plain" else case.modelmux


def translated_cases(d: Dialect) -> dict[tuple[str, bool], Case]:
    """d's translated cases by (size, stream): the OpenAI request for
    d.public_model through the filter vs the native request on plain."""
    needs = frozenset({d.feature} if d.feature else ())
    cases = {}
    for case_id, (size, stream) in zip(d.ids, TRANSLATED_VARIANTS):
        what = f"{size[:-1]} KB " + ("prompt" if size == "200k" else "chat")
        cases[(size, stream)] = Case(
            case_id,
            f"{what}, {'stream, ' if stream else ''}OpenAI->{d.title}",
            plain=native_req(d, body_key(d.name, size, stream), stream),
            modelmux=Req("/v1/chat/completions", body_key(f"openai_{d.name}", size, stream),
                         "openai_sse" if stream else "openai"),
            stream=stream,
            needs=needs,
        )
    return cases


def passthrough_case(size: str, title: str) -> Case:
    req = Req("/v1/chat/completions", body_key("openai", size, False), "openai")
    return Case(f"passthrough-{size}", title, plain=req, modelmux=req)


TRANSLATED = [translated_cases(d) for d in DIALECTS]

CASES = [
    passthrough_case("1k", "1 KB chat, OpenAI passthrough"),
    *(t[("1k", False)] for t in TRANSLATED),
    Case(
        "failover-1k",
        "1 KB chat, failover 503->Anthropic",
        plain=native_req(ANTHROPIC, body_key(ANTHROPIC.name, "1k", False), False),
        modelmux=Req("/v1/chat/completions", "openai_1k_failover", "openai",
                     upstream_per_response=2),
        needs=frozenset({"failover"}),
        # Envoy's retry back-off (base 10 ms, jittered) is in every request.
        paced_cycle_ms=15.0,
    ),
    *ingress.cases(stream=False),
    *(t[("1k", True)] for t in TRANSLATED),
    *ingress.cases(stream=True),
    passthrough_case("200k", "200 KB prompt, OpenAI passthrough"),
    *(t[("200k", False)] for t in TRANSLATED),
]


def case_targets(case: Case, envoys, before_features: frozenset[str],
                 skipped: dict[str, str]) -> tuple[str, ...]:
    """The Envoys a case runs on, in order: plain, modelmux-before (when
    running, its filter has the features the case needs and it answered
    the verification), modelmux."""
    before = ("before",) if ("before" in envoys and case.needs <= before_features
                             and case.id not in skipped) else ()
    return ("plain", *before, "modelmux")


def baseline_skip_reason(case: Case, before_features: frozenset[str]) -> str | None:
    missing = sorted(case.needs - before_features)
    return f"baseline filter has no {', '.join(missing)}" if missing else None


# --------------------------------------------------------------------------
# Bootstrap templates


FAILOVER_BLOCK = re.compile(r"(?ms)^[ \t]*#@failover-begin\n.*?^[ \t]*#@failover-end\n")


def filter_config(ports: dict[str, int], features: frozenset[str]) -> str:
    """The filter JSON as a YAML double-quoted scalar, with the providers and
    models of `features` (FEATURES). With none, the shape the filter had
    before failover: the single-target OpenAI and Anthropic models and no
    `failover` key (an old filter rejects unknown keys and provider types)."""
    def openai(name: str, port: int) -> dict:
        return {"name": name, "type": "openai", "cluster": name.replace("-", "_"),
                "host": f"127.0.0.1:{port}", "base_path": "/v1", "api_key_env": "MOCK_OPENAI_KEY"}
    dialects = [d for d in DIALECTS if d.feature is None or d.feature in features]
    doc: dict = {
        "providers": [openai("openai-mock", ports["openai"]),
                      *(d.filter_provider(ports[d.name]) for d in dialects)],
        "models": [
            {"name": "gpt-4o-mini", "targets": [{"provider": "openai-mock", "model": "gpt-4o-mini"}]},
            *(d.filter_model() for d in dialects),
        ],
    }
    if "failover" in features:
        doc["providers"].append(openai("openai-down", ports["openai_down"]))
        doc["models"].append({"name": FAILOVER_MODEL, "targets": [
            {"provider": "openai-down", "model": "gpt-4o-mini"},
            {"provider": ANTHROPIC.provider, "model": ANTHROPIC.upstream_model},
        ]})
        # Matches the template's retry policy and outlier detection; the
        # huge consecutive_failures keeps the failing target in rotation.
        doc["failover"] = {"attempt_timeout_ms": 5000, "consecutive_failures": 1000000,
                           "ejection_ms": 10000}
    return json.dumps(json.dumps(doc))


def render(template: Path, out: Path, values: dict[str, str], failover: bool) -> None:
    """Fill in the @@TOKENS@@; without `failover`, drop the #@failover blocks."""
    text = template.read_text()
    if not failover:
        text = FAILOVER_BLOCK.sub("", text)
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    left = re.findall(r"@@[A-Z_]+@@", text)
    if left:
        raise BenchError(f"unfilled placeholders {left} in {template.name}")
    out.write_text(text)


# --------------------------------------------------------------------------
# Verification


def post(port: int, req: Req, bodies: dict[str, Path]) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"content-type": "application/json", **req.headers}
        conn.request("POST", req.path, body=bodies[req.body].read_bytes(), headers=headers)
        resp = conn.getresponse()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, hdrs, resp.read()
    finally:
        conn.close()



def verify(case: Case, target: str, port: int, bodies: dict[str, Path]) -> None:
    req = req_for(case, target)
    try:
        status, headers, body = post(port, req, bodies)
    except (OSError, http.client.HTTPException) as exc:
        raise BenchError(f"verify {case.id}/{target}: POST {req.path} failed: {exc!r}") from None
    excerpt = body[:600].decode(errors="replace")
    if status != 200:
        raise BenchError(f"verify {case.id}/{target}: HTTP {status} for POST {req.path}\n{excerpt}")
    try:
        what = check_shape(req.shape, headers, body)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise BenchError(
            f"verify {case.id}/{target}: 200 but not a {req.shape} body ({exc})\n{excerpt}"
        ) from None
    log(f"verified {case.id:<17} {LABELS[target]:<15} 200 {req.shape}: {what}")


# --------------------------------------------------------------------------
# Load (wrk)


def run_wrk(port: int, req: Req, bodies: dict[str, Path], seconds: int, conns: int,
            core: int | None, delay_ms: float = 0.0) -> dict:
    """One wrk run; `delay_ms` > 0 makes each connection wait that long
    between a response and its next request (post.lua's delay())."""
    env = dict(os.environ)
    env["BENCH_BODY"] = str(bodies[req.body])
    env["BENCH_HEADERS"] = "|".join(f"{k}: {v}" for k, v in req.headers.items())
    env["BENCH_DELAY_MS"] = f"{delay_ms:.3f}"
    argv = pin_prefix(core) + [
        "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "30s",
        "-s", str(LUA_SCRIPT), f"http://127.0.0.1:{port}{req.path}",
    ]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 90)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(line[len("BENCH_RESULT "):])
    errors = {k: v for k, v in result.items() if k.startswith("err_") and v}
    if errors:
        raise BenchError(
            f"wrk saw errors against port {port} {req.path}: {errors}\n{proc.stdout}"
        )
    if result["requests"] == 0:
        raise BenchError(f"wrk completed no requests against port {port} {req.path}")
    return result


def upstream_counters(admin_port: int) -> dict[str, int]:
    """Totals of upstream requests and connections over the mock clusters and
    the failover rotation clusters."""
    try:
        status, text = http_get(admin_port, "/stats?filter=upstream_(rq|cx)_total$")
    except OSError as exc:
        raise BenchError(f"admin /stats on port {admin_port} failed: {exc}") from None
    if status != 200:
        raise BenchError(f"admin /stats on port {admin_port} answered {status}")
    totals = {"rq": 0, "cx": 0}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if not name.startswith(("cluster.openai_mock.", "cluster.modelmux_",
                                *(f"cluster.{d.cluster}." for d in DIALECTS))):
            continue
        kind = "rq" if name.endswith("upstream_rq_total") else "cx"
        totals[kind] += int(value.strip() or 0)
    return totals


def busy_ticks(core: int | None, with_irq: bool = True) -> int:
    """Busy clock ticks of one CPU (or of all of them when `core` is None):
    user + nice + system + steal, plus irq + softirq when `with_irq`."""
    name = "cpu" if core is None else f"cpu{core}"
    with open("/proc/stat") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] == name:
                user, nice, system, _idle, _iowait, irq, softirq, steal = (
                    int(x) for x in fields[1:9]
                )
                busy = user + nice + system + steal
                return busy + irq + softirq if with_irq else busy
    raise BenchError(f"{name} not found in /proc/stat")


def saturation_load(cfg: dict) -> dict:
    return {"connections": cfg["connections"], "duration": cfg["duration"],
            "warmup": cfg["warmup"], "delay_ms": 0.0}


def cpu_snapshot(envoy: Proc, mock: Proc, core: int | None,
                 envoy_core: int | None) -> dict[str, float]:
    """CPU clock ticks used so far by Envoy, the mock, finished child
    processes (wrk), and each of the two cores."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "envoy": cpu_ticks(envoy.pid),
        "mock": cpu_ticks(mock.pid),
        "children": (kids.ru_utime + kids.ru_stime) * os.sysconf("SC_CLK_TCK"),
        "load_core": busy_ticks(core),
        "load_core_noirq": busy_ticks(core, with_irq=False) if core is not None else 0,
        "envoy_core": busy_ticks(envoy_core, with_irq=False) if envoy_core is not None else 0,
    }


def foreign_cpu(d: dict[str, float], secs: float, pinned: bool) -> dict[str, float]:
    """CPU spent on each core by anything but what the bench put there (other
    jobs on the machine, hypervisor steal): noise indicators, in %."""
    if not pinned:
        return {}
    hz = os.sysconf("SC_CLK_TCK")
    ours_on_load = d["mock"] + d["children"]  # wrk is the only child run meanwhile
    return {
        "foreign_cpu_pct_on_envoy_core": max(0.0, (d["envoy_core"] - d["envoy"]) / hz / secs * 100),
        "foreign_cpu_pct_on_load_core":
            max(0.0, (d["load_core_noirq"] - ours_on_load) / hz / secs * 100),
    }


def measure(case: Case, target: str, envoy: Proc, mock: Proc, port: int, admin_port: int,
            bodies: dict[str, Path], load: dict, core: int | None,
            envoy_core: int | None) -> dict:
    """wrk warm-up (unless load["warmup"] is 0), then the measured run with
    CPU use and upstream counters read around it."""
    req = req_for(case, target)
    conns, delay = load["connections"], load["delay_ms"]
    if load["warmup"]:
        run_wrk(port, req, bodies, load["warmup"], conns, core, delay)
    up0 = upstream_counters(admin_port)
    cpu0 = cpu_snapshot(envoy, mock, core, envoy_core)
    res = run_wrk(port, req, bodies, load["duration"], conns, core, delay)
    cpu1 = cpu_snapshot(envoy, mock, core, envoy_core)
    up1 = upstream_counters(admin_port)
    if not envoy.alive():
        raise BenchError(f"{envoy.name} died during {case.id}:\n{envoy.log_tail()}")
    d = {k: cpu1[k] - cpu0[k] for k in cpu0}
    secs = res["duration_us"] / 1e6
    hz = os.sysconf("SC_CLK_TCK")
    cpu_us = d["envoy"] * 1e6 / hz
    upstream_rq = up1["rq"] - up0["rq"]
    # Every response wrk counted must have come from the mock, not from a
    # local reply in Envoy; allow for requests in flight at either edge.
    per = req.upstream_per_response
    slack = (conns + res["requests"] // 100) * per
    if abs(upstream_rq - res["requests"] * per) > slack:
        raise BenchError(
            f"{case.id}/{target}: wrk completed {res['requests']} requests but Envoy sent "
            f"{upstream_rq} upstream (expected {per} per response)"
        )
    out = {
        "requests": res["requests"],
        "seconds": round(secs, 3),
        "rps": res["requests"] / secs,
        "p50_ms": res["p50_us"] / 1000,
        "p90_ms": res["p90_us"] / 1000,
        "p99_ms": res["p99_us"] / 1000,
        "mean_ms": res["mean_us"] / 1000,
        "envoy_cpu_s": cpu_us / 1e6,
        "envoy_cpu_pct": cpu_us / 1e6 / secs * 100,
        "cpu_us_per_req": cpu_us / res["requests"],
        # Busy share of the core wrk and the mock run on (whole machine,
        # all cores summed, when not pinned).
        "load_cpu_pct": d["load_core"] / hz / secs * 100,
        "upstream_rq": upstream_rq,
        "upstream_cx": up1["cx"] - up0["cx"],
        "connections": conns,
        "delay_ms": round(delay, 3),
        **foreign_cpu(d, secs, envoy_core is not None),
    }
    log_run(case, target, out)
    return out


def log_run(case: Case, target: str, out: dict) -> None:
    paced = f"paced {out['delay_ms']:.2f} ms think, " if out["delay_ms"] else ""
    noise = ""
    if "foreign_cpu_pct_on_envoy_core" in out:
        noise = (f", foreign CPU {out['foreign_cpu_pct_on_envoy_core']:.0f}% Envoy core / "
                 f"{out['foreign_cpu_pct_on_load_core']:.0f}% load core")
    log(
        f"{case.id:<17} {LABELS[target]:<15} {out['rps']:9.1f} req/s  p50 {out['p50_ms']:.2f} ms  "
        f"p99 {out['p99_ms']:.2f} ms  {out['cpu_us_per_req']:.1f} CPU µs/req  "
        f"({paced}Envoy {out['envoy_cpu_pct']:.0f}%, load core {out['load_cpu_pct']:.0f}%, "
        f"{out['upstream_cx']} new upstream conns{noise})"
    )


# --------------------------------------------------------------------------
# Latency at a fixed load (paced wrk)


def paced_target_rps(plain_saturation_rps: float, cfg: dict) -> float:
    if cfg["paced_rps"]:
        return float(cfg["paced_rps"])
    return plain_saturation_rps * cfg["paced_pct"] / 100


def paced_connections(target_rps: float, cfg: dict, min_cycle_ms: float) -> int:
    if cfg["paced_connections"]:
        return cfg["paced_connections"]
    return max(PACED_MIN_CONNECTIONS, math.ceil(target_rps * min_cycle_ms / 1000))


def calibrate_delay(port: int, req: Req, bodies: dict[str, Path], load: dict,
                    target_rps: float, core: int | None) -> tuple[float, float]:
    """Find the think time (ms) at which load["connections"] paced wrk
    connections send about `target_rps`; return it and the last req/s seen.

    A connection's cycle is think time + latency + timer slack, so each
    round measures that overhead and sets think = cycle needed - overhead.
    The rounds (load["warmup"] s each) double as the warm-up.
    """
    conns = load["connections"]
    cycle_ms = conns * 1000 / target_rps
    delay, rate = cycle_ms, 0.0  # start slow: no latency assumed
    for _ in range(CALIBRATION_ROUNDS):
        res = run_wrk(port, req, bodies, load["warmup"], conns, core, delay)
        rate = res["requests"] / (res["duration_us"] / 1e6)
        if abs(rate - target_rps) <= target_rps * CALIBRATION_TOLERANCE:
            break
        overhead = conns * 1000 / rate - delay
        new_delay = max(0.0, cycle_ms - overhead)
        if new_delay == delay == 0.0:
            break  # cannot go faster with this many connections
        delay = new_delay
    if delay == 0.0 and rate < target_rps * (1 - CALIBRATION_TOLERANCE):
        log(f"warning: {conns} connections reach only {rate:.0f} of {target_rps:.0f} req/s "
            f"on port {port} even without think time (raise BENCH_PACED_CONNECTIONS)")
    return delay, rate


def measure_paced(case: Case, envoys: dict[str, Proc], mock: Proc, ports: dict[str, int],
                  bodies: dict[str, Path], cfg: dict, saturation: dict,
                  core: int | None, envoy_core: int | None) -> dict:
    """Plain and modelmux at the same req/s; each side's think time is
    calibrated on its own so that added latency does not lower its rate."""
    target_rps = paced_target_rps(saturation["plain"]["rps"], cfg)
    conns = paced_connections(target_rps, cfg, case.paced_cycle_ms)
    out: dict = {"target_rps": target_rps, "connections": conns}
    for target in ("plain", "modelmux"):
        load = {"connections": conns, "duration": cfg["paced_duration"],
                "warmup": cfg["warmup"]}
        delay, seen = calibrate_delay(ports[target], req_for(case, target), bodies, load,
                                      target_rps, core)
        log(f"paced {case.id} {target}: target {target_rps:.0f} req/s, {conns} conns, think "
            f"{delay:.3f} ms (calibration run: {seen:.0f} req/s)")
        out[target] = measure(case, target, envoys[target], mock, ports[target],
                              ports[f"{target}_admin"], bodies,
                              {**load, "warmup": 0, "delay_ms": delay}, core, envoy_core)
    return out


# --------------------------------------------------------------------------
# Time to first token


class StreamClient:
    """Keep-alive HTTP/1.1 client that times the first content event of an SSE
    response. Written against raw sockets so nothing buffers between the
    socket and the clock."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.buf = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buf = b""

    def _connect(self) -> None:
        self.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _fill(self) -> None:
        assert self.sock is not None
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed mid-response")
        self.buf += data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _body_pieces(self, headers: dict[str, str]):
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size = int(self._line().split(b";", 1)[0], 16)
                if size == 0:
                    while self._line():  # trailers
                        pass
                    return
                # Hand over what has arrived so far without waiting for the
                # whole chunk.
                remaining = size
                while remaining:
                    if not self.buf:
                        self._fill()
                    piece = self.buf[:remaining]
                    self.buf = self.buf[len(piece):]
                    remaining -= len(piece)
                    yield piece
                self._exact(2)
        elif "content-length" in headers:
            remaining = int(headers["content-length"])
            while remaining:
                if not self.buf:
                    self._fill()
                piece = self.buf[:remaining]
                self.buf = self.buf[len(piece):]
                remaining -= len(piece)
                yield piece
        else:
            while True:
                if self.buf:
                    piece, self.buf = self.buf, b""
                    yield piece
                assert self.sock is not None
                data = self.sock.recv(65536)
                if not data:
                    self.close()
                    return
                self.buf = data

    def once(self, req: Req, body: bytes, is_content) -> tuple[float, float]:
        """Send one request; return (seconds to first content event, seconds total)."""
        if self.sock is None:
            self._connect()
        assert self.sock is not None
        head = [f"POST {req.path} HTTP/1.1", "Host: 127.0.0.1",
                "Content-Type: application/json", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in req.headers.items()]
        wire = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        t0 = time.perf_counter()
        self.sock.sendall(wire)
        status_line = self._line().decode()
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or parts[1] != "200":
            self.close()
            raise BenchError(f"streaming request got {status_line!r}")
        headers: dict[str, str] = {}
        while line := self._line():
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        first = None
        pending = b""
        for piece in self._body_pieces(headers):
            if first is not None:
                continue
            found, pending = is_content(pending + piece)
            if found:
                first = time.perf_counter() - t0
        total = time.perf_counter() - t0
        if headers.get("connection", "").lower() == "close":
            self.close()
        if first is None:
            raise BenchError(f"streaming response to {req.path} had no content event")
        return first, total


def measure_ttft(case: Case, target: str, port: int, bodies: dict[str, Path], n: int) -> dict:
    req = req_for(case, target)
    body = bodies[req.body].read_bytes()
    def is_content(pending: bytes) -> tuple[bool, bytes]:
        """Scan what has arrived: (a content event is in it, the unscanned rest)."""
        if req.shape == "bedrock_eventstream":
            frames, rest = eventstream.split(pending)
            return any(bedrock_event_text(*eventstream.parse(f)) for f in frames), rest
        *lines, rest = pending.split(b"\n")
        return any(raw.startswith(b"data:") and event_text(req.shape, raw[5:].strip())
                   for raw in lines), rest
    client = StreamClient(port)
    firsts, totals = [], []
    try:
        for _ in range(min(20, n)):  # warm-up
            client.once(req, body, is_content)
        for _ in range(n):
            first, total = client.once(req, body, is_content)
            firsts.append(first * 1000)
            totals.append(total * 1000)
    except (OSError, ValueError) as exc:
        raise BenchError(f"ttft {case.id}/{target}: {exc!r}") from None
    finally:
        client.close()
    out = {
        "n": n,
        "ttft_p50_ms": percentile(firsts, 50),
        "ttft_p90_ms": percentile(firsts, 90),
        "ttft_p99_ms": percentile(firsts, 99),
        "ttft_mean_ms": statistics.fmean(firsts),
        "total_p50_ms": percentile(totals, 50),
    }
    log(
        f"ttft {case.id:<12} {target:<8} p50 {out['ttft_p50_ms']:.3f} ms  "
        f"p99 {out['ttft_p99_ms']:.3f} ms  (whole stream p50 {out['total_p50_ms']:.3f} ms)"
    )
    return out


# --------------------------------------------------------------------------
# Report


def fmt(x: float, digits: int = 2) -> str:
    return f"{x:,.{digits}f}"


def render_report(meta: dict, results: dict, ttft: dict, paced: dict) -> str:
    lines = [
        "# modelmux bench: plain Envoy vs Envoy + modelmux",
        "",
        f"- when: {meta['when']}  commit: {meta['commit']}",
        f"- envoy: {meta['envoy_version']}",
        f"- machine: {meta['cpu']} x{meta['nproc']}; {meta['pinning']}; "
        f"load average at start {meta['loadavg_at_start']}",
        f"- wrk: 1 thread, {meta['connections']} connections, {meta['duration']} s per run "
        f"after {meta['warmup']} s warm-up; Envoy `--concurrency 1`",
        "- CPU µs/req: Envoy utime+stime over the measured window / completed requests; "
        "Envoy CPU %: the same CPU time / window length (100% = its one core saturated); "
        "load CPU %: busy share of the core wrk and the mock share (near 100% = the load "
        "side, not Envoy, limits req/s)",
        "",
        "Saturation (wrk closed loop, no think time): throughput and cost. p99 here is "
        "mostly queueing behind the throughput limit, not the latency the filter adds; "
        "see the fixed-load table below for that.",
        "",
    ]
    before = bool(meta.get("baseline_wasm"))
    skipped = meta.get("baseline_skipped", {})
    if before:
        features = ", ".join(meta["baseline_features"]) or "none"
        lines += [
            f"modelmux-before: the filter built from `{meta['baseline_wasm']}`, measured in "
            "the same run between plain and modelmux, with the bootstrap and filter config "
            f"cut down to the features it has (BENCH_BASELINE_FEATURES: {features}; without "
            "failover, the single-target models only). Cases it cannot serve show n/a. "
            "after/before = modelmux ÷ modelmux-before, req/s and CPU µs/req.",
            "",
        ]
    extra_head, extra_rule = ((" req/s after/before | CPU after/before |", "--:|--:|")
                              if before else ("", ""))
    lines += [
        "| case | envoy | req/s | p50 ms | p99 ms | CPU µs/req | Envoy CPU % | load CPU % | "
        "req/s vs plain | p99 delta ms |" + extra_head,
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|" + extra_rule,
    ]
    for case in CASES:
        if case.id not in results:
            continue
        row = results[case.id]
        plain = row["plain"]
        for target in LABELS:
            r = row.get(target)
            if r is None:
                if target == "before" and before:
                    why = skipped.get(case.id)
                    na = f"n/a ({why})" if why else "n/a"
                    lines.append(f"| {case.title} | {LABELS[target]} | {na} |"
                                 + " |" * 9)
                continue
            ratio = delta = ""
            after_before = " |" if before else ""
            if target != "plain":
                ratio = f"{r['rps'] / plain['rps']:.2f}x"
                delta = f"{r['p99_ms'] - plain['p99_ms']:+.2f}"
            if target == "modelmux" and "before" in row:
                b = row["before"]
                after_before = (f" {r['rps'] / b['rps']:.2f}x | "
                                f"{r['cpu_us_per_req'] / b['cpu_us_per_req']:.2f}x |")
            elif target == "modelmux" and before:
                after_before = " n/a | n/a |"
            elif before:
                after_before = " | |"
            lines.append(
                f"| {case.title} | {LABELS[target]} | {fmt(r['rps'], 0)} | {fmt(r['p50_ms'])} | "
                f"{fmt(r['p99_ms'])} | {fmt(r['cpu_us_per_req'], 1)} | {r['envoy_cpu_pct']:.0f} | {r['load_cpu_pct']:.0f} | "
                f"{ratio} | {delta} |" + after_before
            )
    lines += noisy_lines(results)
    lines += paced_lines(meta, paced)
    lines += ttft_lines(ttft)
    lines += [
        "",
        "Plain baselines: passthrough cases send the same OpenAI request to the OpenAI mock "
        "(route adds the key); translated and failover cases send the equivalent native "
        "request to that provider's mock (route adds the key): Anthropic `/v1/messages` "
        "(`x-api-key`), Gemini `/v1beta/models/{model}:generateContent` or "
        "`:streamGenerateContent?alt=sse` (`x-goog-api-key`), Bedrock "
        "`/model/{model}/converse` or `/converse-stream` (`Authorization: Bearer` API key; "
        "the filter signs with SigV4 instead, over the whole translated body). "
        "Failover: model `failover` = [a mock OpenAI listener answering every request 503, "
        "the Anthropic mock]; ejection disabled, so each request is tried on the first "
        "target, retried by Envoy on the second and translated there (2 upstream requests "
        "per response, checked). " + ingress.NOTE,
        "",
    ]
    return "\n".join(lines)


def noisy_lines(results: dict) -> list[str]:
    noisy = []
    for case in CASES:
        for target in results.get(case.id, {}):
            r = results[case.id][target]
            if not isinstance(r, dict) or "cpu_us_per_req" not in r:
                continue  # the paced table's target_rps / connections
            envoy_core = r.get("foreign_cpu_pct_on_envoy_core", 0)
            load_core = r.get("foreign_cpu_pct_on_load_core", 0)
            if max(envoy_core, load_core) > NOISE_PCT:
                noisy.append(f"{case.title} / {LABELS[target]} (Envoy core {envoy_core:.0f}%, "
                             f"load core {load_core:.0f}%)")
    if not noisy:
        return []
    return [
        "",
        f"**Noisy:** other processes used more than {NOISE_PCT}% of Envoy's core or of the "
        "wrk+mock core during: " + "; ".join(noisy)
        + ". Re-run on a quiet machine before trusting those rows.",
    ]


def paced_lines(meta: dict, paced: dict) -> list[str]:
    if not paced:
        return []
    rate = (f"{meta['paced_rps']} req/s" if meta["paced_rps"] else
            f"{meta['paced_pct']}% of the plain Envoy's saturation req/s for the case")
    lines = [
        "",
        f"Latency at fixed load (the p99 target: modelmux adds at most {P99_BUDGET_MS:g} ms): "
        "wrk, 1 thread, `conns` connections, each waiting a think time between requests, "
        f"calibrated per Envoy so both send about {rate}; {meta['paced_duration']} s per run. "
        "Δ = modelmux - plain.",
        "",
        f"| case | envoy | conns | target req/s | req/s | p50 ms | p90 ms | p99 ms | Δp50 ms | Δp99 ms | Δp99 ≤ {P99_BUDGET_MS:g} ms |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
    ]
    missed = []
    for case in CASES:
        if case.id not in paced:
            continue
        row = paced[case.id]
        plain = row["plain"]
        for target in ("plain", "modelmux"):
            r = row[target]
            d50 = d99 = verdict = ""
            if target == "modelmux":
                d50 = f"{r['p50_ms'] - plain['p50_ms']:+.3f}"
                d99 = f"{r['p99_ms'] - plain['p99_ms']:+.3f}"
                verdict = "yes" if r["p99_ms"] - plain["p99_ms"] <= P99_BUDGET_MS else "**no**"
            lines.append(
                f"| {case.title} | {target} | {r['connections']} | {fmt(row['target_rps'], 0)} | "
                f"{fmt(r['rps'], 0)} | {r['p50_ms']:.3f} | {r['p90_ms']:.3f} | {r['p99_ms']:.3f} | "
                f"{d50} | {d99} | {verdict} |"
            )
            if abs(r["rps"] / row["target_rps"] - 1) > RATE_MISS:
                missed.append(f"{case.title} / {target}")
    if missed:
        lines += [
            "",
            f"**Off target:** req/s more than {RATE_MISS:.0%} from the target during: "
            + "; ".join(missed) + ". The two Envoys did not see the same load there.",
        ]
    return lines + noisy_lines(paced)


def ttft_lines(ttft: dict) -> list[str]:
    if not ttft:
        return []
    lines = [
        "",
        "Time to first token (first `data:` event carrying text), sequential requests, "
        "one keep-alive connection, no other load:",
        "",
        "| case | envoy | n | TTFT p50 ms | TTFT p90 ms | TTFT p99 ms | whole stream p50 ms | TTFT p50 delta ms |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for case in CASES:
        if case.id not in ttft:
            continue
        plain = ttft[case.id]["plain"]
        for target in ("plain", "modelmux"):
            r = ttft[case.id][target]
            delta = f"{r['ttft_p50_ms'] - plain['ttft_p50_ms']:+.3f}" if target == "modelmux" else ""
            lines.append(
                f"| {case.title} | {target} | {r['n']} | {r['ttft_p50_ms']:.3f} | "
                f"{r['ttft_p90_ms']:.3f} | {r['ttft_p99_ms']:.3f} | {r['total_p50_ms']:.3f} | {delta} |"
            )
    return lines


def cmd_output(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown cpu"


# --------------------------------------------------------------------------
# Main


def select_paced(cases: list[Case]) -> list[Case]:
    raw = os.environ.get("BENCH_PACED_CASES", "").strip()
    if raw.lower() == "none":
        return []
    wanted = [c.strip() for c in raw.split(",") if c.strip()]
    unknown = set(wanted) - {c.id for c in cases}
    if unknown:
        raise BenchError(f"BENCH_PACED_CASES {sorted(unknown)} not among the cases run: "
                         f"{[c.id for c in cases]}")
    return [c for c in cases if not wanted or c.id in wanted]


def main() -> int:
    envoy_bin = os.environ.get("BENCH_ENVOY", "")
    wasm = os.environ.get("BENCH_WASM", "")
    mock = os.environ.get("BENCH_MOCK", "")
    baseline_wasm = os.environ.get("BENCH_BASELINE_WASM", "").strip()
    for name, path in (("BENCH_ENVOY", envoy_bin), ("BENCH_WASM", wasm), ("BENCH_MOCK", mock)):
        if not path or not Path(path).is_file():
            raise BenchError(f"{name} does not name a file: {path!r}")
    if baseline_wasm and not Path(baseline_wasm).is_file():
        raise BenchError(f"BENCH_BASELINE_WASM does not name a file: {baseline_wasm!r}")
    before_features = frozenset(
        f.strip() for f in os.environ.get("BENCH_BASELINE_FEATURES", "").split(",") if f.strip())
    if before_features - set(FEATURES):
        raise BenchError(f"unknown BENCH_BASELINE_FEATURES {sorted(before_features - set(FEATURES))}; "
                         f"known: {list(FEATURES)}")
    if shutil.which("wrk") is None:
        raise BenchError("wrk not found on PATH")

    cfg = {
        "duration": env_int("BENCH_DURATION", 10),
        "warmup": env_int("BENCH_WARMUP", 1),
        "connections": env_int("BENCH_CONNECTIONS", 16),
        "ttft_n": env_int("BENCH_TTFT_N", 200),
    }
    cfg.update({
        "paced_pct": env_int("BENCH_PACED_PCT", 20),
        "paced_rps": env_int("BENCH_PACED_RPS", 0),  # 0: use paced_pct
        "paced_connections": env_int("BENCH_PACED_CONNECTIONS", 0),  # 0: auto
        "paced_duration": env_int("BENCH_PACED_DURATION", cfg["duration"]),
    })
    ports = {
        "openai": env_int("BENCH_OPENAI_PORT", 19081),
        **{d.name: env_int(f"BENCH_{d.token}_PORT", d.default_port) for d in DIALECTS},
        "openai_down": env_int("BENCH_OPENAI_DOWN_PORT", 19083),
        "plain": env_int("BENCH_PLAIN_PORT", 19180),
        "modelmux": env_int("BENCH_MODELMUX_PORT", 19181),
        "plain_admin": env_int("BENCH_PLAIN_ADMIN_PORT", 19190),
        "modelmux_admin": env_int("BENCH_MODELMUX_ADMIN_PORT", 19191),
    }
    if baseline_wasm:
        ports["before"] = env_int("BENCH_BEFORE_PORT", 19182)
        ports["before_admin"] = env_int("BENCH_BEFORE_ADMIN_PORT", 19192)
    busy = [f"{k}={p}" for k, p in ports.items() if not port_free(p)]
    if busy:
        raise BenchError(f"ports already in use: {', '.join(busy)} (override with BENCH_*_PORT)")

    wanted = [c.strip() for c in os.environ.get("BENCH_CASES", "").split(",") if c.strip()]
    unknown = set(wanted) - {c.id for c in CASES}
    if unknown:
        raise BenchError(f"unknown BENCH_CASES {sorted(unknown)}; known: {[c.id for c in CASES]}")
    cases = [c for c in CASES if not wanted or c.id in wanted]
    paced_cases = select_paced(cases)

    cpus = sorted(os.sched_getaffinity(0))
    pin = (os.environ.get("BENCH_PIN", "1") != "0" and shutil.which("taskset") is not None
           and len(cpus) >= 2)
    envoy_core, load_core = (cpus[1], cpus[0]) if pin else (None, None)
    pinning = (f"Envoy pinned to cpu {envoy_core}; wrk, mock and TTFT client to cpu {load_core}"
               if pin else "no CPU pinning")

    load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="modelmux-bench-"))
    log(f"work dir {work}")
    bodies = write_bodies(work)
    log("bodies: " + ", ".join(f"{k}={p.stat().st_size}B" for k, p in bodies.items()))

    procs: list[Proc] = []
    ok = False
    try:
        mock_proc = Proc("mock", pin_prefix(load_core) + [
            mock,
            "--openai-addr", f"127.0.0.1:{ports['openai']}",
            "--openai-key", OPENAI_KEY,
            # The failover model's first target: every request gets a 503.
            "--listen", f"openai-down=openai@127.0.0.1:{ports['openai_down']}",
            *(arg for d in DIALECTS for arg in d.mock_args(ports[d.name])),
        ], work)
        procs.append(mock_proc)
        mock_proc.start()
        mock_ports = ("openai", "openai_down", *(d.name for d in DIALECTS))
        wait_for(mock_proc, "mock ports", lambda: all(port_open(ports[k]) for k in mock_ports))
        set_fault(ports["openai_down"], status=503)

        envoys: dict[str, Proc] = {}
        targets = ("plain", "before", "modelmux") if baseline_wasm else ("plain", "modelmux")
        for target in targets:
            conf = work / f"envoy-{target}.yaml"
            template = "envoy-plain.yaml.tmpl" if target == "plain" else "envoy-modelmux.yaml.tmpl"
            filter_wasm = baseline_wasm if target == "before" else wasm
            features = before_features if target == "before" else frozenset(FEATURES)
            render(BENCH_DIR / template, conf, {
                "ADMIN_PORT": str(ports[f"{target}_admin"]),
                "LISTEN_PORT": str(ports[target]),
                "OPENAI_PORT": str(ports["openai"]),
                "OPENAI_DOWN_PORT": str(ports["openai_down"]),
                "OPENAI_KEY": OPENAI_KEY,
                **{f"{d.token}_PORT": str(ports[d.name]) for d in DIALECTS},
                **{f"{d.token}_KEY": d.key for d in DIALECTS},
                "AWS_ACCESS_KEY_ID": BEDROCK_ACCESS_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": BEDROCK_SECRET_ACCESS_KEY,
                "WASM_PATH": str(Path(filter_wasm).resolve()),
                "FILTER_CONFIG": filter_config(ports, features),
            }, failover="failover" in features)
            proc = Proc(f"envoy-{target}", pin_prefix(envoy_core) + [
                envoy_bin, "-c", str(conf), "--use-dynamic-base-id", "--concurrency", "1",
                "-l", "warning",
            ], work)
            procs.append(proc)
            proc.start()
            envoys[target] = proc
        for target, proc in envoys.items():
            wait_for(proc, "admin /ready and listener",
                     lambda t=target: envoy_ready(ports[f"{t}_admin"], ports[t]))
            log(f"{proc.name} ready (pid {proc.pid}, port {ports[target]})")

        # Cases the modelmux-before Envoy does not run, with the reason: a
        # feature its filter lacks, or a failed verification (the old
        # filter is not what is under test, so that is n/a, not a failure).
        skipped: dict[str, str] = {}
        if "before" in envoys:
            for case in cases:
                why = baseline_skip_reason(case, before_features)
                if why:
                    skipped[case.id] = why
                    log(f"{case.id}: no {LABELS['before']} row ({why})")
        for case in cases:
            for target in case_targets(case, envoys, before_features, skipped):
                try:
                    verify(case, target, ports[target], bodies)
                except BenchError as exc:
                    if target != "before":
                        raise
                    skipped[case.id] = "baseline failed verification"
                    log(f"warning: no {LABELS['before']} row for {case.id}: {exc}")

        results: dict[str, dict] = {}
        for case in cases:
            results[case.id] = {
                target: measure(case, target, envoys[target], mock_proc, ports[target],
                                ports[f"{target}_admin"], bodies, saturation_load(cfg),
                                load_core, envoy_core)
                for target in case_targets(case, envoys, before_features, skipped)
            }

        paced: dict[str, dict] = {}
        for case in paced_cases:
            paced[case.id] = measure_paced(case, envoys, mock_proc, ports, bodies, cfg,
                                           results[case.id], load_core, envoy_core)

        ttft: dict[str, dict] = {}
        for case in cases:
            if case.stream:
                ttft[case.id] = {
                    target: measure_ttft(case, target, ports[target], bodies, cfg["ttft_n"])
                    for target in ("plain", "modelmux")
                }
                # Streams must still be the right shape after the load runs.
                for target in ("plain", "modelmux"):
                    verify(case, target, ports[target], bodies)

        for proc in procs:
            if not proc.alive():
                raise BenchError(f"{proc.name} is no longer running:\n{proc.log_tail()}")

        meta = {
            "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "commit": cmd_output(["git", "describe", "--always", "--dirty"]) or "uncommitted",
            "envoy_version": (cmd_output([envoy_bin, "--version"]).splitlines() or ["?"])[-1]
            .split("version:", 1)[-1].strip(),
            "cpu": cpu_model(),
            "nproc": os.cpu_count(),
            "pinning": pinning,
            "loadavg_at_start": load_at_start,
            "baseline_wasm": baseline_wasm,
            "baseline_features": sorted(before_features) if baseline_wasm else [],
            "baseline_skipped": skipped,
            **cfg,
        }
        report = render_report(meta, results, ttft, paced)
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "latest.md").write_text(report, encoding="utf-8")
        (RESULTS_DIR / "latest.json").write_text(
            json.dumps({"meta": meta, "wrk": results, "paced": paced, "ttft": ttft},
                       indent=2) + "\n"
        )
        print()
        print(report)
        log(f"wrote {RESULTS_DIR / 'latest.md'} and latest.json")
        ok = True
        return 0
    finally:
        for proc in reversed(procs):
            proc.stop()
        if ok and os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"configs and logs kept in {work}")


if __name__ == "__main__":
    entry.run(main, "bench")
