"""Stats for the Messages and Responses dialects: a request counts once,
with the tokens the client was told, on the passthrough and on the
translated path, for JSON and streams."""

from __future__ import annotations

import time

import anthropic
import openai
import pytest

import dialects_env as de

COUNTERS = ("requests", "errors", "input_tokens", "output_tokens")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    envoy, mock = de.start(tmp_path_factory.mktemp("dialect-stats"))
    yield envoy, mock
    envoy.stop()
    mock.stop()


def snapshot(envoy, model: str) -> dict[str, int]:
    provider = de.TARGETS[model][0]
    stats = envoy.counters()
    return {c: stats.get(f"wasmcustom.modelmux.m.{model}.p.{provider}.{c}", 0) for c in COUNTERS}


def delta_when(envoy, model, before, want, timeout=8.0):
    deadline = time.monotonic() + timeout
    while True:
        now = snapshot(envoy, model)
        delta = {c: now[c] - before[c] for c in COUNTERS}
        if delta == want or time.monotonic() > deadline:
            return delta
        time.sleep(0.1)


@pytest.mark.parametrize("model", ["claude", "gpt"])
def test_messages_requests_and_tokens_count_once(env, model):
    envoy, _ = env
    c = anthropic.Anthropic(base_url=envoy.gateway, api_key="k", max_retries=0, timeout=30)
    before = snapshot(envoy, model)
    msgs = [{"role": "user", "content": "count my tokens please"}]
    one = c.messages.create(model=model, max_tokens=50, messages=msgs)
    with c.messages.stream(model=model, max_tokens=50, messages=msgs) as s:
        two = s.get_final_message()
    seen_in = sum(m.usage.input_tokens + (m.usage.cache_read_input_tokens or 0)
                  + (m.usage.cache_creation_input_tokens or 0) for m in (one, two))
    seen_out = one.usage.output_tokens + two.usage.output_tokens
    want = {"requests": 2, "errors": 0, "input_tokens": seen_in, "output_tokens": seen_out}
    assert delta_when(envoy, model, before, want) == want
    c.close()


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_responses_requests_and_tokens_count_once(env, model):
    envoy, _ = env
    c = openai.OpenAI(base_url=envoy.gateway + "/v1", api_key="k", max_retries=0, timeout=30)
    before = snapshot(envoy, model)
    one = c.responses.create(model=model, input="count my tokens please", store=False)
    with c.responses.stream(model=model, input="count my tokens please", store=False) as s:
        two = s.get_final_response()
    want = {"requests": 2, "errors": 0,
            "input_tokens": one.usage.input_tokens + two.usage.input_tokens,
            "output_tokens": one.usage.output_tokens + two.usage.output_tokens}
    assert delta_when(envoy, model, before, want) == want
    c.close()
