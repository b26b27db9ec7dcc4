"""The shipped dashboard and alert rules, against a real Prometheus.

One mock, one Envoy and one Prometheus (Debian's `prometheus`, installed by
scripts/bootstrap.sh) scraping Envoy's /stats/prometheus every second, with
envoy/prometheus/alerts.yaml loaded (its `for:` durations shortened to 1 s).
A known traffic sequence runs once; then every query of
envoy/grafana/modelmux.json and every operand of every alert must return data,
the values the test can predict must match exactly, and the alerts the
sequence provokes (a provider whose only endpoint is down, an ejected
failover target) must fire.

The sequence also refuses client mistakes (bad JSON, unknown model, a
parameter a provider lacks, ...), which must show as modelmux_rejections
with their reason and leave every provider series alone, and provokes a
failure of each class on single-target models (5xx, reset, timeout,
malformed answer, a stream the upstream cuts), which must show in
modelmux_failures_* and the provider alerts.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

import prom_env
import support
from prom_env import PrometheusProcess, finite
from support import expected_reply, words

if prom_env.binary("prometheus") is None or prom_env.binary("promtool") is None:
    pytest.skip(f"prometheus/promtool not installed; {prom_env.INSTALL_HINT}", allow_module_level=True)

UPSTREAM = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5"}

# USD per million tokens. Whole dollars: every request then costs a whole
# number of micro-USD, so the cost counters are predictable exactly.
PRICES = {
    "openai-mock": {"input": 2, "output": 8, "cache_read": 1},
    "anthropic-mock": {"input": 3, "output": 15, "cache_read": 1, "cache_write": 4},
}
CONSUMER_HEADER = "x-team"
CONSUMERS = ["alpha", "beta"]  # anything else is `other`, no header `none`


def filter_config(mock: support.MockProcess, dead_port: int) -> dict[str, Any]:
    def provider(name, kind, port, **extra):
        return {"name": name, "type": kind, "cluster": name.replace("-", "_"), "host": f"127.0.0.1:{port}",
                "base_path": "/v1", "api_key_env": f"MOCK_{kind.upper()}_KEY", "endpoint": {"tls": False}, **extra}

    def target(provider_name, kind, priced=True):
        out = {"provider": provider_name, "model": UPSTREAM[kind]}
        if priced:
            out["price"] = PRICES[provider_name]
        return out

    return {
        "providers": [
            provider("openai-mock", "openai", mock.ports["openai"]),
            provider("anthropic-mock", "anthropic", mock.ports["anthropic"]),
            # Nothing listens on dead_port. `dead-hc` is health-checked: its
            # cluster has no healthy endpoint (ModelmuxProviderDown); `dead`
            # is not, so the failover model tries it until Envoy ejects it
            # (ModelmuxProviderEjected).
            provider("dead-hc", "openai", dead_port, health_check={"path": "/_mock/health", "interval_ms": 200}),
            provider("dead", "openai", dead_port),
        ],
        "models": [
            {"name": "prom-openai", "targets": [target("openai-mock", "openai")]},
            {"name": "prom-anthropic", "targets": [target("anthropic-mock", "anthropic")]},
            # No price: no cost series at all.
            {"name": "prom-down", "targets": [target("dead-hc", "openai", priced=False)]},
            {"name": "prom-smart", "targets": [target("dead", "openai", priced=False), target("openai-mock", "openai")]},
        ],
        "consumers": {"header": CONSUMER_HEADER, "allowed": CONSUMERS},
        # Consecutive local-origin failures eject; keep the ejection for the test.
        "failover": {"attempt_timeout_ms": 5000, "consecutive_failures": 3, "ejection_ms": 120000},
        "headers": {"request": ["x-mock-*"]},
    }


# Per model, provider and consumer.
COUNTERS = ("requests", "errors", "input_tokens", "uncached_input_tokens", "cached_tokens",
            "cache_write_tokens", "output_tokens", "reasoning_tokens", "cost_micro_usd")
# Per model and provider.
PLAIN_COUNTERS = ("attempts", "failovers", "failures_connect", "failures_429", "failures_5xx", "failures_timeout",
                  "failures_malformed", "exhausted")
# The single-target route's timeout, shortened so a delayed answer times out.
ROUTE_TIMEOUT_S = 1.5


@dataclass
class Expected:
    """Counter values the traffic must leave: name -> label tuple -> value,
    the labels being (model, provider, consumer), or (model, provider) for
    PLAIN_COUNTERS and the stream count."""
    counters: dict[str, dict[tuple[str, ...], int]] = field(
        default_factory=lambda: {c: {} for c in COUNTERS + PLAIN_COUNTERS})
    streams: dict[tuple[str, str], int] = field(default_factory=dict)
    # (model or "", reason) -> refused requests.
    rejections: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, labels: tuple[str, ...], **values: int) -> None:
        for name, value in values.items():
            series = self.counters.setdefault(name, {})
            series[labels] = series.get(labels, 0) + value

    def reply(self, model, provider, consumer, usage: dict[str, int], price: dict[str, int] | None) -> None:
        """A successful request with the mock's `usage` (input, cached, output)."""
        uncached = usage["input"] - usage["cached"]
        values = dict(requests=1, input_tokens=usage["input"], uncached_input_tokens=uncached,
                      cached_tokens=usage["cached"], output_tokens=usage["output"])
        if price:
            values["cost_micro_usd"] = (uncached * price["input"] + usage["cached"] * price["cache_read"]
                                        + usage["output"] * price["output"])
        self.add((model, provider, consumer), **values)

    def per(self, name: str, level: str) -> dict[tuple[str, ...], float]:
        """Sums for `level` "model,provider[,consumer]"; zeros dropped."""
        n = len(level.split(","))
        out: dict[tuple[str, ...], float] = {}
        for labels, value in self.counters.get(name, {}).items():
            out[labels[:n]] = out.get(labels[:n], 0) + value
        return {k: float(v) for k, v in out.items() if v}


@dataclass
class Stack:
    prom: PrometheusProcess
    envoy: support.EnvoyProcess
    expected: Expected
    envoy_labels: dict[str, set[frozenset[str]]]  # Envoy's series family -> its label name sets


def _chat(envoy, model, text, consumer=None, stream=False, headers=None):
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    hdrs = {"content-type": "application/json", "authorization": "Bearer client-secret", **(headers or {})}
    if consumer is not None:
        hdrs[CONSUMER_HEADER] = consumer
    if stream:
        body["stream"] = True
        resp = requests.post(envoy.gateway + "/v1/chat/completions", json=body, headers=hdrs,
                             timeout=support.HTTP_TIMEOUT, stream=True)
        return support.read_sse(resp)
    return requests.post(envoy.gateway + "/v1/chat/completions", json=body, headers=hdrs,
                         timeout=support.HTTP_TIMEOUT)


def drive_traffic(envoy) -> Expected:
    exp = Expected()
    for model, provider, kind in (("prom-openai", "openai-mock", "openai"),
                                  ("prom-anthropic", "anthropic-mock", "anthropic")):
        upstream = UPSTREAM[kind]
        price = PRICES[provider]
        for text, consumer in (("first question for the prometheus check", "alpha"), ("second one", "beta")):
            resp = _chat(envoy, model, text, consumer)
            assert resp.status_code == 200, resp.text
            reply = expected_reply(upstream, text)
            assert resp.json()["choices"][0]["message"]["content"] == reply
            exp.reply(model, provider, consumer, {"input": words(text), "cached": 0, "output": words(reply)}, price)

        text = "a streamed question for the histograms"
        result = _chat(envoy, model, text, "alpha", stream=True)
        assert result.status == 200 and result.done, result.raw[:500]
        reply = expected_reply(upstream, text)
        assert support.stream_text(result.chunks()) == reply
        exp.reply(model, provider, "alpha", {"input": words(text), "cached": 0, "output": words(reply)}, price)
        exp.streams[(model, provider)] = exp.streams.get((model, provider), 0) + 1

        # Not an allowed consumer: counted as `other`.
        text = "a long enough prompt to have some cached prefix tokens in it"
        resp = _chat(envoy, model, text, "gamma", headers={"x-mock-cached-tokens": "4"})
        assert resp.status_code == 200, resp.text
        usage = resp.json()["usage"]
        assert usage["prompt_tokens_details"]["cached_tokens"] == 4, usage
        reply = expected_reply(upstream, text)
        assert usage["completion_tokens"] == words(reply)
        exp.reply(model, provider, "other", {"input": usage["prompt_tokens"], "cached": 4, "output": words(reply)},
                  price)

        # No consumer header: `none`.
        resp = _chat(envoy, model, "this one fails", headers={"x-mock-status": "429"})
        assert resp.status_code == 429, resp.text
        exp.add((model, provider, "none"), requests=1, errors=1)
        exp.add((model, provider), attempts=5, failures_429=1)

    # The only endpoint of dead-hc refuses connections: 503.
    resp = _chat(envoy, "prom-down", "anyone there", "alpha")
    assert resp.status_code == 503, resp.text
    exp.add(("prom-down", "dead-hc", "alpha"), requests=1, errors=1)
    exp.add(("prom-down", "dead-hc"), attempts=1, failures_connect=1)

    provider_failures(envoy, exp)
    client_mistakes(envoy, exp)

    # Three failovers from `dead` (connection refused) to openai-mock; then
    # Envoy has ejected `dead` and the fourth request goes straight on.
    text = "fail over please"
    reply = expected_reply(UPSTREAM["openai"], text)
    for _ in range(4):
        resp = _chat(envoy, "prom-smart", text, "beta")
        assert resp.status_code == 200, resp.text
        exp.reply("prom-smart", "openai-mock", "beta", {"input": words(text), "cached": 0, "output": words(reply)},
                  PRICES["openai-mock"])
    exp.add(("prom-smart", "openai-mock"), attempts=4, failovers=3)
    exp.add(("prom-smart", "dead"), attempts=3, failures_connect=3)
    return exp


def provider_failures(envoy, exp: Expected) -> None:
    """One failure of each class on single-target models (no failover, no
    health check): each is a request, an error and a failed attempt."""
    def failed(model, provider, status, counter, **kw):
        resp = _chat(envoy, model, f"provoke {counter}", **kw)
        got = resp.status if hasattr(resp, "status") else resp.status_code
        assert got == status, (counter, got)
        exp.add((model, provider, "none"), requests=1, errors=1)
        exp.add((model, provider), attempts=1, **{counter: 1})

    failed("prom-openai", "openai-mock", 500, "failures_5xx", headers={"x-mock-status": "500"})
    failed("prom-openai", "openai-mock", 503, "failures_connect", headers={"x-mock-reset": "1"})
    failed("prom-openai", "openai-mock", 504, "failures_timeout",
           headers={"x-mock-delay-ms": str(int(ROUTE_TIMEOUT_S * 1000) + 1000)})
    failed("prom-anthropic", "anthropic-mock", 502, "failures_malformed", headers={"x-mock-garbage": "1"})
    # The upstream cuts the stream after its first event (no content yet):
    # a connect/reset failure, and a duration sample but no TTFT.
    failed("prom-openai", "openai-mock", 200, "failures_connect", stream=True, headers={"x-mock-cut-after": "1"})


# Client mistakes: (body, headers, status, model label or "", reason).
MISTAKES = [
    (b"{not json", {}, 400, "", "invalid_json"),
    (json.dumps({"model": "prom-openai", "messages": "hi"}).encode(), {}, 400, "", "invalid_request"),
    (json.dumps({"model": "nobody-serves-this", "messages": [{"role": "user", "content": "x"}]}).encode(), {}, 404,
     "", "unknown_model"),
    (json.dumps({"model": "prom-anthropic", "messages": [{"role": "user", "content": "x"}],
                 "not_a_parameter": 1}).encode(), {}, 400, "prom-anthropic", "unsupported_parameter"),
    (json.dumps({"model": "prom-openai", "stream": True, "stream_options": "yes",
                 "messages": [{"role": "user", "content": "x"}]}).encode(), {}, 400, "prom-openai", "invalid_request"),
    (b'{"model": "prom-openai"}', {"content-encoding": "gzip"}, 415, "", "unsupported_content_encoding"),
]


def client_mistakes(envoy, exp: Expected) -> None:
    for body, headers, status, model, reason in MISTAKES:
        hdrs = {"content-type": "application/json", CONSUMER_HEADER: "alpha", **headers}
        resp = requests.post(envoy.gateway + "/v1/chat/completions", data=body, headers=hdrs,
                             timeout=support.HTTP_TIMEOUT)
        assert resp.status_code == status, (reason, resp.text)
        exp.rejections[(model, reason)] = exp.rejections.get((model, reason), 0) + 1


def _envoy_settled(envoy, want: int) -> bool:
    """Envoy's output shows all `want` requests, in the counters (the filter
    flushes them every second) and in request_duration_ms_count (Envoy merges
    histograms from the workers at each stats flush)."""
    totals: dict[str, float] = {}
    for n, labels, v in _samples(envoy.prometheus()):
        if labels.get("model", "").startswith("prom-"):
            totals[n] = totals.get(n, 0) + v
    return totals.get("modelmux_requests") == want and totals.get("modelmux_request_duration_ms_count") == want


_PROM_LINE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
_PROM_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _samples(text: str):
    for line in text.splitlines():
        m = _PROM_LINE.match(line) if line and not line.startswith("#") else None
        if m:
            yield m.group(1), dict(_PROM_LABEL.findall(m.group(2) or "")), float(m.group(3))


def _family(name: str) -> str:
    return re.sub(r"_(bucket|sum|count)$", "", name)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    workdir = tmp_path_factory.mktemp("prometheus")
    mock = support.MockProcess(workdir / "mock.log")
    envoy = prom = None
    try:
        mock.start()
        envoy = support.EnvoyProcess(workdir, "envoy", extra_args=["--concurrency", "2"])
        bootstrap = support.render_yaml(filter_config(mock, prom_env.free_port()))
        # Histograms reach the admin output at each stats flush (default 5 s).
        bootstrap = re.sub(r"(?m)^admin:", "stats_flush_interval: 0.5s\nadmin:", bootstrap, count=1)
        single = "route: { cluster_header: x-modelmux-cluster, timeout: 300s }"
        assert bootstrap.count(single) == 1
        envoy.start(bootstrap.replace(single, single.replace("300s", f"{ROUTE_TIMEOUT_S}s")))
        prom = PrometheusProcess(workdir, envoy.admin, prom_env.short_for(prom_env.ALERTS.read_text()))
        prom.start()
        # A first scrape before any traffic, so that rate() and increase() see it.
        support.wait_until(lambda: prom.query('modelmux_requests{model="prom-openai"}'), 30, 0.2,
                           what="a first scrape of modelmux_requests")
        expected = drive_traffic(envoy)
        want = sum(expected.counters["requests"].values())
        support.wait_until(lambda: _envoy_settled(envoy, want), 10, 0.1,
                           what=f"Envoy's output to show {want} requests")
        settled = time.time()
        # Two scrapes after the traffic: rate() over series that Envoy created
        # during it (e.g. upstream_rq_xx) needs two samples.
        support.wait_until(lambda: prom.scraped_after(settled + 1.2), 30, 0.2, what="two scrapes after the traffic")
        # Recording rules, then alerts (for: 1s) need a few evaluations.
        support.wait_until(lambda: len(_firing(prom, "ModelmuxProviderDown")) >= 3
                           and _firing(prom, "ModelmuxProviderEjected"),
                           30, 0.2, what="ModelmuxProviderDown and ModelmuxProviderEjected to fire")
        labels: dict[str, set[frozenset[str]]] = {}
        for n, ls, _ in _samples(envoy.prometheus()):
            labels.setdefault(_family(n), set()).add(frozenset(ls) - {"le"})
        yield Stack(prom, envoy, expected, labels)
    finally:
        for proc in (prom, envoy, mock):
            if proc is not None:
                proc.stop()


def _firing(prom: PrometheusProcess, name: str, **labels: str) -> list[dict[str, Any]]:
    return [a for a in prom.alerts() if a["labels"].get("alertname") == name and a["state"] == "firing"
            and all(a["labels"].get(k) == v for k, v in labels.items())]


def _check_returns_data(stack: Stack, queries: list[tuple[str, str]]) -> None:
    failures = []
    for where, expr in queries:
        try:
            result = stack.prom.query(expr)
        except prom_env.PromQLError as exc:
            failures.append(f"{where}: {expr}\n    error: {exc}")
            continue
        if not finite(result):
            failures.append(f"{where}: {expr}\n    returned no finite sample: {result[:3]}")
    assert not failures, f"{len(failures)} of {len(queries)} queries fail:\n" + "\n".join(failures)


# --------------------------------------------------------------------------


def test_promtool_checks_the_shipped_files():
    promtool = prom_env.binary("promtool")
    out = subprocess.run([promtool, "check", "rules", str(prom_env.ALERTS)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    # The demo config (it loads alerts.yaml relative to itself).
    out = subprocess.run([promtool, "check", "config", str(prom_env.DEMO_PROMETHEUS)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_demo_scrape_config_points_at_the_demo_admin():
    text = prom_env.DEMO_PROMETHEUS.read_text()
    admin = re.search(r'^ADMIN="([^"]+)"', (support.REPO / "scripts" / "run.sh").read_text(), re.M).group(1)
    port = re.search(r"admin:\s*\n\s*address:\s*\n\s*socket_address: \{ address: '([^']+)', port_value: (\d+) \}",
                     support.DEMO_YAML.read_text())
    assert port and f"{port.group(1)}:{port.group(2)}" == admin
    assert f'"{admin}"' in text and "metrics_path: /stats/prometheus" in text
    assert re.search(r"rule_files:\s*\n\s*- alerts\.yaml", text)


def test_every_rule_is_loaded_and_healthy(stack):
    rules = stack.prom.rules()
    in_file = re.findall(r"^\s*- (?:alert|record): (\S+)", prom_env.ALERTS.read_text(), re.M)
    assert sorted(r["name"] for r in rules) == sorted(in_file)
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not bad, bad
    for rule in rules:
        if rule["type"] == "alerting":
            assert rule["labels"].get("severity") in ("warning", "critical"), rule["name"]
            assert rule["annotations"].get("summary"), rule["name"]


def test_every_alert_and_recording_rule_returns_data(stack):
    rules = stack.prom.rules()
    queries = [(f"record {r['name']}", r["query"]) for r in rules if r["type"] == "recording"]
    for rule in rules:
        if rule["type"] == "alerting":
            for i, signal in enumerate(prom_env.rule_signals(rule["query"])):
                queries.append((f"alert {rule['name']} operand {i}", signal))
    _check_returns_data(stack, queries)


@pytest.mark.parametrize("values", [
    {"model": ".*", "provider": ".*", "consumer": ".*"},
    {"model": "prom-openai", "provider": "openai-mock", "consumer": "alpha"},
], ids=["all", "one-model"])
def test_every_dashboard_query_returns_data(stack, values):
    dash = prom_env.dashboard()
    queries = [(where, prom_env.substitute(expr, values)) for where, expr in prom_env.dashboard_targets(dash)]
    assert len(queries) >= 30
    _check_returns_data(stack, queries)


def test_dashboard_shape():
    dash = prom_env.dashboard()
    assert 36 <= dash["schemaVersion"] <= 41
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert set(prom_env.dashboard_variables(dash)) == {"model", "provider", "consumer"}
    titles = " | ".join(p["title"] for p in prom_env._panels(dash["panels"])).lower()
    for word in ("requests/s", "failures by class", "failover", "tokens/s by kind", "by model", "by provider",
                 "by consumer", "request duration", "time to first token", "time per output token",
                 "top spenders", "ejections"):
        assert word in titles, word
    for panel in prom_env._panels(dash["panels"]):
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    exprs = " ".join(e for _, e in prom_env.dashboard_targets(dash))
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}, " in exprs


def test_dashboard_variables_list_the_labels(stack):
    variables = prom_env.dashboard_variables(prom_env.dashboard())
    everything = {"model": ".*", "provider": ".*", "consumer": ".*"}
    want = {"model": {"prom-openai", "prom-anthropic", "prom-down", "prom-smart"},
            "provider": {"openai-mock", "anthropic-mock", "dead-hc", "dead"},
            "consumer": set(CONSUMERS) | {"other", "none"}}
    for name, query in variables.items():
        m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", prom_env.substitute(query, everything))
        assert m, query
        values = set(stack.prom.api(f"label/{m.group(2)}/values", **{"match[]": m.group(1)}))
        assert want[name] <= values, (name, values)


def _by(prom: PrometheusProcess, expr: str, labels: str) -> dict[tuple[str, ...], float]:
    names = labels.split(",")
    return {tuple(dict(k).get(n, "") for n in names): v for k, v in prom.values(expr).items() if v}


@pytest.mark.parametrize("counter", COUNTERS + PLAIN_COUNTERS)
def test_counters_match_the_traffic(stack, counter):
    name = f"modelmux_{counter}"
    exp = stack.expected
    levels = ["model,provider"] + (["model,provider,consumer"] if counter in COUNTERS else [])
    for level in levels:
        got = _by(stack.prom, f'sum by ({level}) ({name}{{model=~"prom-.*"}})', level)
        assert got == exp.per(counter, level), f"{name} by {level}"
    total = stack.prom.scalar(f'sum({name}{{model=~"prom-.*"}})') or 0.0
    assert total == sum(exp.per(counter, "model").values())


def test_rejections_match_the_traffic(stack):
    """Client mistakes: by reason, with the model once resolved, never the
    name a client sent (and, by test_counters_match_the_traffic, in no
    request, error, attempt or failure of any model × provider)."""
    got = _by(stack.prom, "sum by (model, reason) (modelmux_rejections)", "model,reason")
    assert got == {k: float(v) for k, v in stack.expected.rejections.items()}
    models = {s["metric"].get("model") for s in stack.prom.query("modelmux_rejections")}
    assert models == {None, "prom-openai", "prom-anthropic", "prom-down", "prom-smart"}, models


def test_clusters_series_names_modelmux_clusters(stack):
    got = {s["metric"]["cluster"] for s in stack.prom.query("modelmux_clusters")}
    assert got == {"openai_mock", "anthropic_mock", "dead_hc", "dead", "modelmux_prom-smart_0",
                   "modelmux_prom-smart_1"}, got


CONTRACT = {
    **{f"modelmux_{c}": {"model", "provider", "consumer"} for c in COUNTERS},
    **{f"modelmux_{c}": {"model", "provider"} for c in PLAIN_COUNTERS + (
        "failures_overloaded", "circuit_opened", "circuit_skips")},
    **{f"modelmux_{h}": {"model", "provider"} for h in ("request_duration_ms", "ttft_ms", "time_per_output_token_us")},
    "modelmux_clusters": {"cluster"},
    "modelmux_config_mismatch": set(),
    **{f"envoy_cluster_{n}": {"envoy_cluster_name"} for n in (
        "outlier_detection_ejections_active", "membership_healthy", "membership_total", "retry_or_shadow_abandoned")},
    "envoy_cluster_upstream_rq_xx": {"envoy_cluster_name", "envoy_response_code_class"},
}


def test_envoy_exports_the_series_the_rules_and_dashboard_use(stack):
    """The metric contract, against Envoy's own /stats/prometheus."""
    wrong = {name: sorted(map(sorted, stack.envoy_labels.get(name, set())))
             for name, labels in CONTRACT.items() if stack.envoy_labels.get(name) != {frozenset(labels)}}
    assert not wrong, f"series missing or with other labels than {CONTRACT}: {wrong}"
    # Refusals before a model was resolved have no model label.
    assert stack.envoy_labels.get("modelmux_rejections") == {frozenset({"reason"}), frozenset({"model", "reason"})}
    # And every series the shipped files read is in the contract.
    exprs = [e for _, e in prom_env.dashboard_targets(prom_env.dashboard())] + [r["query"] for r in stack.prom.rules()]
    label_names = {"envoy_cluster_name", "envoy_response_code_class"}
    used = {_family(n) for e in exprs for n in re.findall(r"\b(?:modelmux|envoy)_[a-z0-9_]+", e)} - label_names
    assert used and used <= set(CONTRACT) | {"modelmux_rejections"}, used - set(CONTRACT)


def test_cost_series_only_for_priced_targets(stack):
    """prom-down has no price and `dead` (prom-smart's first target) neither:
    no cost series, not even a zero."""
    series = stack.prom.query('modelmux_cost_micro_usd{model=~"prom-.*"}')
    pairs = {(s["metric"]["model"], s["metric"]["provider"]) for s in series}
    assert pairs == {("prom-openai", "openai-mock"), ("prom-anthropic", "anthropic-mock"),
                     ("prom-smart", "openai-mock")}, pairs
    consumers = {s["metric"]["consumer"] for s in series}
    assert consumers == set(CONSUMERS) | {"other", "none"}
    # The dashboard's USD: micro-USD / 1e6.
    usd = stack.prom.scalar('sum(modelmux_cost_micro_usd{model=~"prom-.*"}) / 1e6')
    assert usd == sum(stack.expected.per("cost_micro_usd", "model").values()) / 1e6


@pytest.mark.parametrize("histogram", ["request_duration_ms", "ttft_ms", "time_per_output_token_us"])
def test_histogram_counts_match_the_traffic(stack, histogram):
    """Every request is timed; TTFT and time per output token once per stream."""
    name = f"modelmux_{histogram}"
    if histogram == "request_duration_ms":
        expected = stack.expected.per("requests", "model,provider")
    else:
        expected = {k: float(v) for k, v in stack.expected.streams.items()}
    level = "model,provider"
    assert _by(stack.prom, f'sum by ({level}) ({name}_count{{model=~"prom-.*"}})', level) == expected
    # The +Inf bucket holds every sample.
    assert _by(stack.prom, f'sum by ({level}) ({name}_bucket{{model=~"prom-.*", le="+Inf"}})', level) == expected


def test_cluster_state_seen_by_prometheus(stack):
    healthy = stack.prom.values("envoy_cluster_membership_healthy")
    by_cluster = {dict(k)["envoy_cluster_name"]: v for k, v in healthy.items()}
    assert by_cluster["dead_hc"] == 0 and by_cluster["openai_mock"] == 1, by_cluster
    ejected = stack.prom.values("envoy_cluster_outlier_detection_ejections_active")
    ejected = {dict(k)["envoy_cluster_name"]: v for k, v in ejected.items() if v}
    assert ejected == {"modelmux_prom-smart_0": 1.0}


def test_provoked_alerts_fire(stack):
    down = _firing(stack.prom, "ModelmuxProviderDown")
    # The health-checked provider by its cluster; both dead providers by
    # their failed attempts, which needs no health check (SaaS providers).
    names = sorted(a["labels"].get("provider") or "cluster " + a["labels"]["envoy_cluster_name"] for a in down)
    assert names == ["cluster dead_hc", "dead", "dead-hc"], down
    assert {a["labels"]["severity"] for a in down} == {"critical"}
    ejected = _firing(stack.prom, "ModelmuxProviderEjected")
    assert [a["labels"]["envoy_cluster_name"] for a in ejected] == ["modelmux_prom-smart_0"], ejected
    # Nothing in the sequence is slow, abandoned or expensive.
    for name in ("ModelmuxTTFTHigh", "ModelmuxRetryAbandoned", "ModelmuxCostBurnRateOverBudget"):
        assert not _firing(stack.prom, name), name


def _promtool_cases() -> list[dict[str, Any]]:
    """Synthetic series for `promtool test rules`: each alert with the file's
    own `for:` and thresholds, firing when it should and not before."""
    healthy = 'envoy_cluster_membership_healthy{envoy_cluster_name="%s"}'
    total = 'envoy_cluster_membership_total{envoy_cluster_name="%s"}'
    pair = 'model="m",provider="p"'
    ttft = 'modelmux_ttft_ms_bucket{model="m",provider="p",le="%s"}'
    classes = ("429", "5xx", "connect", "timeout", "overloaded", "malformed")

    def attempts(labels, per_15s, failures):
        """Attempts and failures by class, every class present (0 unless given)."""
        out = [{"series": f"modelmux_attempts{{{labels}}}", "values": f"0+{per_15s}x100"}]
        for c in classes:
            out.append({"series": f"modelmux_failures_{c}{{{labels}}}", "values": f"0+{failures.get(c, 0)}x100"})
        return out

    def alert(name, at, *labels):
        return {"eval_time": at, "alertname": name, "exp_alerts": [{"exp_labels": l} for l in labels]}

    return [{
        "interval": "15s",
        "input_series": [
            {"series": healthy % "down", "values": "0x100"}, {"series": total % "down", "values": "1x100"},
            {"series": healthy % "up", "values": "1x100"}, {"series": total % "up", "values": "1x100"},
            {"series": healthy % "empty", "values": "0x100"}, {"series": total % "empty", "values": "0x100"},
            # Not modelmux's: down, ejecting, abandoning, and never alerted on.
            {"series": healthy % "other", "values": "0x100"}, {"series": total % "other", "values": "1x100"},
            *[{"series": f'modelmux_clusters{{cluster="{c}"}}', "values": "0x100"} for c in ("down", "up", "empty", "c")],
            # 1 attempt/s, 10% failing (2% 5xx, 8% malformed); a trickle (2/min)
            # that always fails; a SaaS provider (no health check) whose every
            # attempt is refused, and one whose every attempt is a 429 (not down).
            *attempts(pair, 15, {"5xx": 0.3, "malformed": 1.2}),
            *attempts('model="quiet",provider="p"', 0.5, {"connect": 0.5}),
            *attempts('model="m",provider="saas"', 15, {"connect": 15}),
            *attempts('model="m",provider="limited"', 15, {"429": 15}),
            # Client mistakes: rejections, never a provider's failure.
            {"series": 'modelmux_rejections{model="m",reason="invalid_request"}', "values": "0+100x100"},
            # One ejection at 30s, lifted at 45s.
            {"series": 'envoy_cluster_outlier_detection_ejections_active{envoy_cluster_name="c"}',
             "values": "0 0 1 0x100"},
            {"series": 'envoy_cluster_outlier_detection_ejections_active{envoy_cluster_name="other"}',
             "values": "0 0 1 0x100"},
            {"series": 'envoy_cluster_retry_or_shadow_abandoned{envoy_cluster_name="c"}', "values": "0 0 0 1x100"},
            {"series": 'envoy_cluster_retry_or_shadow_abandoned{envoy_cluster_name="other"}',
             "values": "0 0 0 1x100"},
            {"series": f"modelmux_exhausted{{{pair}}}", "values": "0+1x100"},
            # 10,000 micro-USD/s = 864 USD/day, over the 500 USD/day budget.
            {"series": f"modelmux_cost_micro_usd{{{pair},consumer=\"a\"}}", "values": "0+150000x400"},
            # Every stream's first token between 10 s and 30 s.
            {"series": ttft % "10000", "values": "0x100"},
            {"series": ttft % "30000", "values": "0+10x100"},
            {"series": ttft % "+Inf", "values": "0+10x100"},
        ],
        "alert_rule_test": [
            alert("ModelmuxProviderDown", "45s"),
            alert("ModelmuxProviderDown", "2m", {"severity": "critical", "envoy_cluster_name": "down"},
                  {"severity": "critical", "provider": "saas"}),
            alert("ModelmuxErrorRateHigh", "4m"),
            alert("ModelmuxErrorRateHigh", "11m", {"severity": "warning", "model": "m", "provider": "p"},
                  {"severity": "warning", "model": "m", "provider": "saas"},
                  {"severity": "warning", "model": "m", "provider": "limited"}),
            alert("ModelmuxProviderEjected", "15s"),
            alert("ModelmuxProviderEjected", "3m", {"severity": "warning", "envoy_cluster_name": "c"}),
            alert("ModelmuxProviderEjected", "6m"),
            alert("ModelmuxRetryAbandoned", "1m", {"severity": "warning", "envoy_cluster_name": "c"}),
            alert("ModelmuxRetryAbandoned", "10m"),
            alert("ModelmuxFailoverExhausted", "3m"),
            alert("ModelmuxFailoverExhausted", "7m", {"severity": "warning", "model": "m"}),
            alert("ModelmuxTTFTHigh", "8m"),
            alert("ModelmuxTTFTHigh", "20m", {"severity": "warning", "model": "m", "provider": "p"}),
            # rate(...[1h]) reaches the true rate once the series is an hour old.
            alert("ModelmuxCostBurnRateOverBudget", "40m"),
            alert("ModelmuxCostBurnRateOverBudget", "80m", {"severity": "warning"}),
        ],
    }]


def test_alert_durations_and_thresholds_with_promtool(tmp_path):
    """The real `for:` durations (the live test shortens them), by
    `promtool test rules` on synthetic series. Annotations are left out of
    the copy: promtool would compare their rendered text."""
    text = prom_env.ALERTS.read_text()
    text = re.sub(r"(?m)^\s+annotations:\s*\n(?:\s+(?:summary|description):.*\n)+", "", text)
    assert "annotations:" not in text
    (tmp_path / "alerts.yaml").write_text(text)
    tests = {"rule_files": ["alerts.yaml"], "evaluation_interval": "15s", "tests": _promtool_cases()}
    (tmp_path / "tests.yaml").write_text(json.dumps(tests, indent=1))
    out = subprocess.run([prom_env.binary("promtool"), "test", "rules", "tests.yaml"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    names = set(re.findall(r"^\s*- alert: (\S+)", prom_env.ALERTS.read_text(), re.M))
    assert names == {c["alertname"] for c in _promtool_cases()[0]["alert_rule_test"]}
