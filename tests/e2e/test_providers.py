"""The official `openai` SDK through the gateway to every newer provider.

One mock serves Gemini, Azure OpenAI (both URL styles) and three
OpenAI-compatible presets, each preset on its own documented base path
(Groq `/openai/v1`, DeepSeek at the root, Mistral and Together `/v1`), so the preset's
defaults are what routes the request. A dedicated Envoy is rendered by
`modelmux render` from the filter JSON below.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import time
from typing import Any

import openai
import pytest
from openai import OpenAI

import support
from support import WEATHER_TOOL, expected_embedding_f32, expected_reply, words

LISTENERS = [
    "gemini=gemini@127.0.0.1:0",
    "azure=azure@127.0.0.1:0",
    "groq=openai:/openai/v1@127.0.0.1:0",
    "deepseek=openai:@127.0.0.1:0",
    "mistral=openai:/v1@127.0.0.1:0",
    "together=openai:/v1@127.0.0.1:0",
]

KEYS = {
    "MOCK_OPENAI_KEY": support.MOCK_OPENAI_KEY,
    "MOCK_ANTHROPIC_KEY": support.MOCK_ANTHROPIC_KEY,
    "MOCK_GEMINI_KEY": support.MOCK_GEMINI_KEY,
    "MOCK_AZURE_KEY": support.MOCK_AZURE_KEY,
}

# model name -> (provider, upstream model)
CHAT = {
    "gem": ("gemini", "gemini-2.5-flash"),
    "gem3": ("gemini", "gemini-3-pro-preview"),
    "az": ("azure", "gpt-4o-deployment"),
    "az1": ("azure-v1", "gpt-4o-deployment"),
    "groq": ("groq", "llama-3.3-70b-versatile"),
    "deepseek": ("deepseek", "deepseek-chat"),
    "mistral": ("mistral", "mistral-small-latest"),
    "together": ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
}
# USD per million tokens on the `gem` target (for the cost fields).
PRICE = {"input": 0.3, "output": 2.5}

# Anthropic features that need the translation (thinking, structured
# output, prompt caching), on the mock's default Anthropic listener.
ANTHROPIC = {"claude": ("anthropic", "claude-sonnet-4-5")}
EMBED = {
    "gem-embed": ("gemini", "gemini-embedding-001"),
    "az-embed": ("azure", "embedding-deployment"),
    "az1-embed": ("azure-v1", "embedding-deployment"),
    "mistral-embed": ("mistral", "mistral-embed"),
    "together-embed": ("together", "BAAI/bge-base-en-v1.5"),
}

def providers(mock: support.MockProcess) -> list[dict[str, Any]]:
    host = lambda label: f"127.0.0.1:{mock.ports[label]}"  # noqa: E731
    return [
        {"name": "anthropic", "type": "anthropic", "cluster": "anthropic", "host": host("anthropic"),
         "api_key_env": "MOCK_ANTHROPIC_KEY"},
        {"name": "gemini", "type": "gemini", "cluster": "gemini", "host": host("gemini"),
         "api_key_env": "MOCK_GEMINI_KEY"},
        {"name": "azure", "type": "azure", "cluster": "azure", "host": host("azure"),
         "api_key_env": "MOCK_AZURE_KEY"},
        {"name": "azure-v1", "type": "azure", "cluster": "azure-v1", "host": host("azure"),
         "api_key_env": "MOCK_AZURE_KEY", "api_style": "v1"},
        {"name": "groq", "type": "groq", "cluster": "groq", "host": host("groq"),
         "api_key_env": "MOCK_OPENAI_KEY"},
        {"name": "deepseek", "type": "deepseek", "cluster": "deepseek", "host": host("deepseek"),
         "api_key_env": "MOCK_OPENAI_KEY"},
        {"name": "mistral", "type": "mistral", "cluster": "mistral", "host": host("mistral"),
         "api_key_env": "MOCK_OPENAI_KEY"},
        {"name": "together", "type": "together", "cluster": "together", "host": host("together"),
         "api_key_env": "MOCK_OPENAI_KEY"},
    ]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("providers")
    mock = support.MockProcess(workdir / "providers-mock.log", listeners=LISTENERS).start()
    models = [{"name": name, "targets": [{"provider": p, "model": m}]}
              for name, (p, m) in {**CHAT, **EMBED, **ANTHROPIC}.items()]
    for m in models:
        if m["name"] == "gem":
            m["targets"][0]["price"] = PRICE
    config = {"providers": providers(mock), "models": models,
              "consumers": {"header": "x-team", "allowed": ["alpha"]}}
    envoy = support.EnvoyProcess(workdir, "providers-envoy")
    try:
        envoy.start(support.render_yaml(config, KEYS))
    except Exception:
        mock.stop()
        raise
    yield envoy, mock
    envoy.stop()
    mock.stop()


@pytest.fixture(scope="module")
def client(env):
    envoy, _ = env
    c = OpenAI(base_url=envoy.gateway + "/v1", api_key="client-secret", max_retries=0, timeout=30)
    yield c
    c.close()


def last_request(mock: support.MockProcess, label: str) -> dict[str, Any]:
    seen = mock.requests(label)
    assert seen, f"the {label} mock saw no request"
    return seen[-1]


@pytest.mark.parametrize("model", sorted(CHAT))
def test_chat(client, model):
    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": "Answer briefly."},
                  {"role": "user", "content": "Say hello from the SDK"}],
        max_tokens=64,
    )
    want = expected_reply(CHAT[model][1], "Say hello from the SDK")
    # Translated replies name the public model; passthroughs keep the upstream's.
    assert completion.model == (model if CHAT[model][0] == "gemini" else CHAT[model][1])
    assert completion.choices[0].message.content == want
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens >= words(want)
    assert completion.usage.prompt_tokens >= words("Say hello from the SDK")


@pytest.mark.parametrize("model", sorted(CHAT))
def test_stream(client, model):
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Stream through the SDK"}],
        stream=True, stream_options={"include_usage": True},
    )
    text, finishes, usage = "", [], None
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
        if chunk.usage is not None:
            usage = chunk.usage
    assert text == expected_reply(CHAT[model][1], "Stream through the SDK")
    assert finishes == ["stop"]
    assert usage is not None and usage.completion_tokens >= words(text)


@pytest.mark.parametrize("model", sorted(CHAT))
def test_tools_round_trip(client, model):
    messages = [{"role": "user", "content": "Weather in Rome?"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.id and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "mock-city"}
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 25C"})
    second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "Tool result received: sunny, 25C"


def test_gemini3_thought_signature_survives_the_round_trip(client, env):
    """Gemini 3 rejects a function call sent back without its signature."""
    _, mock = env
    messages = [{"role": "user", "content": "Weather in Rome?"}]
    first = client.chat.completions.create(model="gem3", messages=messages, tools=[WEATHER_TOOL])
    msg = first.choices[0].message.model_dump(exclude_none=True)
    sig = msg["tool_calls"][0]["extra_content"]["google"]["thought_signature"]
    assert sig
    messages += [msg, {"role": "tool", "tool_call_id": msg["tool_calls"][0]["id"], "content": "rainy"}]
    client.chat.completions.create(model="gem3", messages=messages, tools=[WEATHER_TOOL])
    body = last_request(mock, "gemini")["body"]
    parts = [p for c in body["contents"] for p in c["parts"] if "functionCall" in p]
    assert parts and parts[0]["thoughtSignature"] == sig


@pytest.mark.parametrize("model", sorted(CHAT))
def test_tools_stream(client, model):
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Weather in Rome?"}],
        tools=[WEATHER_TOOL], stream=True,
    )
    name, args, ids, finishes = "", "", set(), []
    for chunk in stream:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                ids.add(tc.id) if tc.id else None
                name += (tc.function and tc.function.name) or ""
                args += (tc.function and tc.function.arguments) or ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert len(ids) == 1 and name == "get_weather"
    assert json.loads(args) == {"city": "mock-city"}
    assert finishes == ["tool_calls"]


@pytest.mark.parametrize("model", sorted(EMBED))
@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_embeddings(client, model, encoding):
    texts = ["hello big world", "second input"]
    got = client.embeddings.create(model=model, input=texts, dimensions=4, encoding_format=encoding)
    assert [d.index for d in got.data] == [0, 1]
    for d, text in zip(got.data, texts):
        want = expected_embedding_f32(text, 4)
        # Asked for base64 explicitly, the SDK hands over the string as sent.
        vec = d.embedding if encoding == "float" else list(
            struct.unpack("<4f", base64.b64decode(d.embedding)))
        assert vec == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize("model", sorted(EMBED))
def test_embeddings_sdk_default(client, model):
    """The SDK asks for base64 unasked and decodes it: every provider must answer it."""
    got = client.embeddings.create(model=model, input="hello big world")
    assert got.data[0].embedding == pytest.approx(expected_embedding_f32("hello big world"), abs=1e-6)


def test_embeddings_on_a_chat_only_model_is_a_400(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="groq", input="hi")
    assert "embeddings" in str(info.value)


def test_gemini_content_filter_and_blocked_prompt(client):
    filtered = client.chat.completions.create(
        model="gem", messages=[{"role": "user", "content": "please MOCK_CONTENT_FILTER"}])
    assert filtered.choices[0].finish_reason == "content_filter"
    # A blocked prompt is a 2xx from Gemini: an empty content_filter
    # completion with the prompt's usage, in JSON and in streams.
    blocked = client.chat.completions.create(
        model="gem", messages=[{"role": "user", "content": "please MOCK_PROMPT_FILTER"}])
    assert blocked.choices[0].finish_reason == "content_filter"
    assert not blocked.choices[0].message.content
    assert blocked.usage.prompt_tokens > 0 and blocked.usage.completion_tokens == 0
    chunks = list(client.chat.completions.create(
        model="gem", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "please MOCK_PROMPT_FILTER"}]))
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] \
        == ["content_filter"]
    assert chunks[-1].usage.prompt_tokens > 0


@pytest.mark.parametrize("model", ["az", "az1"])
def test_azure_content_filters(client, model):
    filtered = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "please MOCK_CONTENT_FILTER"}])
    assert filtered.choices[0].finish_reason == "content_filter"
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "please MOCK_PROMPT_FILTER"}])
    assert info.value.code == "content_filter"


def test_provider_keys_never_cross(client, env):
    _, mock = env
    client.chat.completions.create(model="gem", messages=[{"role": "user", "content": "hi"}])
    gem = last_request(mock, "gemini")["headers"]
    assert gem.get("x-goog-api-key") == support.MOCK_GEMINI_KEY
    assert "authorization" not in gem and "api-key" not in gem
    client.chat.completions.create(model="az", messages=[{"role": "user", "content": "hi"}])
    az = last_request(mock, "azure")["headers"]
    assert az.get("api-key") == support.MOCK_AZURE_KEY
    assert "authorization" not in az and "x-goog-api-key" not in az
    client.chat.completions.create(model="groq", messages=[{"role": "user", "content": "hi"}])
    groq = last_request(mock, "groq")
    assert groq["path"] == "/openai/v1/chat/completions"
    assert groq["headers"].get("authorization") == f"Bearer {support.MOCK_OPENAI_KEY}"


def test_anthropic_thinking_survives_a_tool_round_trip(client):
    """The mock rejects a tool turn that does not open with its signed thinking."""
    messages = [{"role": "user", "content": "Weather in Rome?"}]
    first = client.chat.completions.create(
        model="claude", messages=messages, tools=[WEATHER_TOOL], reasoning_effort="low")
    msg = first.choices[0].message.model_dump(exclude_none=True)
    assert msg["reasoning_content"].startswith("Mock thinking")
    (block,) = msg["thinking_blocks"]
    assert block["type"] == "thinking" and block["signature"].startswith("mocksig-")
    messages += [msg, {"role": "tool", "tool_call_id": msg["tool_calls"][0]["id"], "content": "sunny, 25C"}]
    second = client.chat.completions.create(
        model="claude", messages=messages, tools=[WEATHER_TOOL], reasoning_effort="low")
    assert second.choices[0].message.content == "Tool result received: sunny, 25C"


def test_anthropic_streamed_thinking_reassembles_into_a_valid_next_turn(client):
    messages = [{"role": "user", "content": "Weather in Rome?"}]
    stream = client.chat.completions.create(
        model="claude", messages=messages, tools=[WEATHER_TOOL], reasoning_effort="low", stream=True)
    reasoning, blocks, call = "", [], {"id": "", "name": "", "arguments": ""}
    for chunk in stream:
        for choice in chunk.choices:
            extra = choice.delta.model_dump()
            reasoning += extra.get("reasoning_content") or ""
            blocks += extra.get("thinking_blocks") or []
            for tc in choice.delta.tool_calls or []:
                call["id"] += tc.id or ""
                call["name"] += (tc.function and tc.function.name) or ""
                call["arguments"] += (tc.function and tc.function.arguments) or ""
    assert reasoning.startswith("Mock thinking") and len(blocks) == 1
    assistant = {"role": "assistant", "content": None, "reasoning_content": reasoning,
                 "thinking_blocks": blocks,
                 "tool_calls": [{"id": call["id"], "type": "function",
                                 "function": {"name": call["name"], "arguments": call["arguments"]}}]}
    messages += [assistant, {"role": "tool", "tool_call_id": call["id"], "content": "rainy"}]
    second = client.chat.completions.create(
        model="claude", messages=messages, tools=[WEATHER_TOOL], reasoning_effort="low")
    assert second.choices[0].message.content == "Tool result received: rainy"


def test_anthropic_json_schema_and_cache_control(client, env):
    _, mock = env
    schema = {"type": "object", "properties": {"reply": {"type": "string"}},
              "required": ["reply"], "additionalProperties": False}
    got = client.chat.completions.create(
        model="claude",
        messages=[{"role": "system", "content": "Long shared instructions.",
                   "cache_control": {"type": "ephemeral"}},
                  {"role": "user", "content": "Give me JSON"}],
        response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": schema}},
    )
    assert json.loads(got.choices[0].message.content)["reply"] == expected_reply("claude-sonnet-4-5", "Give me JSON")
    body = last_request(mock, "anthropic")["body"]
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}


def test_preset_quirks_reach_the_wire(client, env):
    """Mistral: `max_tokens` only, no `stream_options`, `user` dropped; Groq: `logprobs` refused."""
    _, mock = env
    client.chat.completions.create(
        model="mistral", messages=[{"role": "user", "content": "hi"}],
        max_completion_tokens=20, user="someone")
    body = last_request(mock, "mistral")["body"]
    assert body["max_tokens"] == 20 and "max_completion_tokens" not in body and "user" not in body
    list(client.chat.completions.create(
        model="mistral", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert "stream_options" not in last_request(mock, "mistral")["body"]
    before = len(mock.requests("groq"))
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="groq", messages=[{"role": "user", "content": "hi"}], logprobs=True)
    assert info.value.param == "logprobs"
    assert len(mock.requests("groq")) == before


def test_access_log_carries_tokens_cost_and_ttft(client, env):
    envoy, _ = env
    rid = f"log-{time.monotonic_ns()}"
    stream = client.chat.completions.create(
        model="gem", messages=[{"role": "user", "content": "Stream for the access log"}],
        stream=True, stream_options={"include_usage": True}, extra_headers={"x-request-id": rid})
    usage = [c.usage for c in stream if c.usage is not None][0]

    def line():
        for raw in envoy.log().splitlines():
            if raw.startswith('{"') and rid in raw:
                return json.loads(raw)
        return None

    entry = support.wait_until(line, 10, what="access log line")
    assert entry["model"] == "gem" and entry["provider"] == "gemini"
    assert entry["upstream_model"] == "gemini-2.5-flash"
    assert int(entry["input_tokens"]) == usage.prompt_tokens
    assert int(entry["output_tokens"]) == usage.completion_tokens
    nano = usage.prompt_tokens * 300 + usage.completion_tokens * 2500
    assert entry["cost_usd"] == f"{nano // 10**9}.{nano % 10**9:09d}"
    assert int(entry["ttft_ms"]) >= 0
    assert "Stream for the access log" not in json.dumps(entry)


def test_prometheus_series_carry_consumer_and_histograms(client, env):
    """Labels come from the bootstrap's stats_tags; histograms are native."""
    envoy, _ = env
    for team in ["alpha", "mallory"]:
        client.chat.completions.create(
            model="gem", messages=[{"role": "user", "content": "count me"}],
            extra_headers={"x-team": team})
    want_in = words("count me")

    def value_in(lines, name, **labels):
        for ln in lines:
            if not ln.startswith(name + "{"):
                continue
            got = dict(re.findall(r'([a-z_]+)="([^"]*)"', ln.split("}")[0]))
            if got == labels:
                return float(ln.rsplit(" ", 1)[1])
        return None

    def flushed():
        lines = envoy.prometheus().splitlines()
        ok = all((value_in(lines, "modelmux_requests", consumer=c, model="gem", provider="gemini") or 0) >= 1
                 for c in ["alpha", "other"])
        return lines if ok else None

    lines = support.wait_until(flushed, 10, what="consumer series flushed")
    text = "\n".join(lines)

    def value(name, **labels):
        return value_in(lines, name, **labels)

    assert value("modelmux_requests", consumer="alpha", model="gem", provider="gemini") >= 1
    assert value("modelmux_requests", consumer="other", model="gem", provider="gemini") >= 1
    assert "mallory" not in text
    assert value("modelmux_input_tokens", consumer="other", model="gem", provider="gemini") == want_in
    assert value("modelmux_cost_micro_usd", consumer="other", model="gem", provider="gemini") is not None
    assert not any(ln.startswith("modelmux_cost_micro_usd{") and 'model="gem3"' in ln for ln in lines)
    assert any(ln.startswith("modelmux_request_duration_ms_bucket{") and 'model="gem"' in ln for ln in lines)
    assert any(ln.startswith("# TYPE modelmux_request_duration_ms histogram") for ln in lines)
