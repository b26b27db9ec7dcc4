"""Per-model/provider counters in Envoy's admin stats and Prometheus output.

Each test uses a model that no other test touches (see STATS_MODELS in
conftest.py) and compares counter deltas with values derived from the mock's
token rule (whitespace words of all message text in, of the reply out).
"""

from __future__ import annotations

import re
import time

import pytest

from support import expected_reply, words

COUNTERS = ("requests", "errors", "input_tokens", "output_tokens", "cached_tokens")


def stat_name(model: str, provider: str, counter: str) -> str:
    return f"wasmcustom.modelmux.m.{model.replace('.', '_')}.p.{provider.replace('.', '_')}.{counter}"


def snapshot(envoy, model, provider) -> dict[str, int]:
    stats = envoy.counters()
    return {c: stats.get(stat_name(model, provider, c), 0) for c in COUNTERS}


def wait_for_delta(envoy, model, provider, before, expected, timeout=5.0):
    """Counters may be bumped when the response stream finishes, a moment
    after the client got its last byte; poll briefly."""
    deadline = time.monotonic() + timeout
    while True:
        now = snapshot(envoy, model, provider)
        delta = {c: now[c] - before[c] for c in COUNTERS}
        if delta == expected or time.monotonic() > deadline:
            return now, delta
        time.sleep(0.1)


_PROM_LINE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
_PROM_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def prometheus_samples(text):
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _PROM_LINE.match(line)
        if m:
            yield m.group(1), dict(_PROM_LABEL.findall(m.group(2) or "")), float(m.group(3))


@pytest.mark.parametrize(
    "model,provider",
    [("stats-openai", "openai-mock"), ("stats-anthropic", "anthropic-mock")],
)
def test_counters_after_known_sequence(gateway, envoy, model, provider):
    upstream = gateway.upstream_model(model)
    before = snapshot(envoy, model, provider)

    exp_in = exp_out = 0
    texts = ["first question for the stats check", "second one", "a streamed question here"]
    system = "Reply like a mock would."
    for i, text in enumerate(texts):
        body = {
            "model": model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": text}],
        }
        reply = expected_reply(upstream, text)
        if i < 2:
            resp = gateway.chat(body)
            assert resp.status_code == 200, resp.text
            assert resp.json()["choices"][0]["message"]["content"] == reply
        else:
            result = gateway.chat_stream(body)
            assert result.status == 200 and result.done, result.raw[:500]
        exp_in += words(system) + words(text)
        exp_out += words(reply)

    resp = gateway.chat(
        {"model": model, "messages": [{"role": "user", "content": "this one fails"}]},
        headers={"x-mock-status": "429"},
    )
    assert resp.status_code == 429, resp.text

    expected = {"requests": 4, "errors": 1, "input_tokens": exp_in, "output_tokens": exp_out, "cached_tokens": 0}
    after, delta = wait_for_delta(envoy, model, provider, before, expected)
    assert delta == expected, f"counter deltas for {model}/{provider}: got {delta}, want {expected}"

    # Prometheus: model/provider become labels on modelmux_<counter>.
    samples = list(prometheus_samples(envoy.prometheus()))
    for counter in COUNTERS:
        name = f"modelmux_{counter}"
        matching = [v for n, labels, v in samples if n == name and labels == {"model": model, "provider": provider}]
        if not matching and after[counter] == 0:
            continue  # a counter that was never defined/bumped may be absent
        assert matching, (
            f"no Prometheus sample {name}{{model={model!r},provider={provider!r}}}; modelmux lines: "
            + repr([s for s in samples if "modelmux" in s[0]][:20])
        )
        assert matching == [after[counter]], (name, matching, after[counter])


@pytest.mark.parametrize(
    "model,provider",
    [("stats-cached-openai", "openai-mock"), ("stats-cached-anthropic", "anthropic-mock")],
)
def test_cached_tokens(gateway, envoy, model, provider):
    before = snapshot(envoy, model, provider)
    text = "a long enough prompt to have some cached prefix tokens in it"
    resp = gateway.chat(
        {"model": model, "messages": [{"role": "user", "content": text}]},
        headers={"x-mock-cached-tokens": "4"},
    )
    assert resp.status_code == 200, resp.text
    usage = resp.json()["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 4, usage
    reply = expected_reply(gateway.upstream_model(model), text)
    assert usage["completion_tokens"] == words(reply)

    expected = {
        "requests": 1,
        "errors": 0,
        # The counter agrees with what the client was told.
        "input_tokens": usage["prompt_tokens"],
        "output_tokens": words(reply),
        "cached_tokens": 4,
    }
    _, delta = wait_for_delta(envoy, model, provider, before, expected)
    assert delta == expected, f"counter deltas for {model}/{provider}: got {delta}, want {expected}"


def test_stats_names_visible_with_filter(gateway, envoy):
    """`/stats?filter=modelmux` lists the full dotted counter names."""
    gateway.chat({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})
    names = set(envoy.counters())
    for counter in ("requests", "input_tokens", "output_tokens"):
        assert stat_name("gpt-4o-mini", "openai-mock", counter) in names, sorted(names)


PROVIDER_SIDE = ("requests", "errors", "attempts", "failures_429", "failures_5xx", "failures_connect",
                 "failures_timeout", "failures_overloaded", "failures_malformed")


def test_client_mistakes_are_rejections_not_provider_errors(gateway, envoy):
    """A 400 decided before any upstream call moves modelmux_rejections with
    its reason and no series of any model × provider; a provider's 5xx moves
    that provider's failure class."""
    model, provider = "stats-anthropic", "anthropic-mock"

    def provider_side():
        stats = envoy.counters()
        return {c: stats.get(stat_name(model, provider, c), 0) for c in PROVIDER_SIDE}

    def rejections(reason, model=None):
        m = f"m.{model}." if model else ""
        return envoy.counters().get(f"wasmcustom.modelmux.{m}r.{reason}.rejections", 0)

    before = provider_side()
    before_json, before_param = rejections("invalid_json"), rejections("unsupported_parameter", model)
    assert gateway.chat(b"{not json").status_code == 400
    resp = gateway.chat({"model": model, "messages": [{"role": "user", "content": "x"}], "not_a_parameter": 1})
    assert resp.status_code == 400, resp.text
    time.sleep(1.5)  # counters are flushed once a second
    assert provider_side() == before
    assert rejections("invalid_json") == before_json + 1
    assert rejections("unsupported_parameter", model) == before_param + 1
    # Prometheus: the reason is a label; no model label before one was resolved.
    samples = [(labels, v) for n, labels, v in prometheus_samples(envoy.prometheus()) if n == "modelmux_rejections"]
    assert ({"reason": "invalid_json"}, before_json + 1) in samples, samples
    assert ({"model": model, "reason": "unsupported_parameter"}, before_param + 1) in samples, samples

    resp = gateway.chat({"model": model, "messages": [{"role": "user", "content": "x"}]},
                        headers={"x-mock-status": "500"})
    assert resp.status_code == 500, resp.text
    want = {**before, "requests": before["requests"] + 1, "errors": before["errors"] + 1,
            "attempts": before["attempts"] + 1, "failures_5xx": before["failures_5xx"] + 1}
    deadline = time.monotonic() + 5
    while provider_side() != want and time.monotonic() < deadline:
        time.sleep(0.1)
    assert provider_side() == want
