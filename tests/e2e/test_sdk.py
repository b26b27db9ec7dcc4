"""The official `openai` Python SDK against the gateway."""

from __future__ import annotations

import json

import openai
import pytest
from openai import OpenAI

from support import WEATHER_TOOL, expected_reply, words

MODELS = ["gpt-4o-mini", "claude-sonnet"]

@pytest.fixture(scope="module")
def client(gateway):
    c = OpenAI(base_url=gateway.url + "/v1", api_key="client-secret", max_retries=0, timeout=30)
    yield c
    c.close()


@pytest.mark.parametrize("model", MODELS)
def test_sdk_chat(client, gateway, model):
    completion = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "Say hello from the SDK"},
        ],
        max_tokens=32,
    )
    want = expected_reply(gateway.upstream_model(model), "Say hello from the SDK")
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == want
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens == words("Answer briefly.") + words("Say hello from the SDK")
    assert completion.usage.completion_tokens == words(want)


@pytest.mark.parametrize("model", MODELS)
def test_sdk_stream(client, gateway, model):
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Stream through the SDK"}],
        stream=True,
    )
    parts, finishes = [], []
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert "".join(parts) == expected_reply(gateway.upstream_model(model), "Stream through the SDK")
    assert finishes == ["stop"]


@pytest.mark.parametrize("model", MODELS)
def test_sdk_stream_include_usage(client, gateway, model):
    messages = [{"role": "user", "content": "Usage please, five words"}]
    stream = client.chat.completions.create(
        model=model, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1, usage_chunks
    assert usage_chunks[0] is chunks[-1]
    assert usage_chunks[0].choices == []
    want = expected_reply(gateway.upstream_model(model), "Usage please, five words")
    assert usage_chunks[0].usage.prompt_tokens == words("Usage please, five words")
    assert usage_chunks[0].usage.completion_tokens == words(want)
    assert usage_chunks[0].usage.total_tokens == words("Usage please, five words") + words(want)


@pytest.mark.parametrize("model", MODELS)
def test_sdk_tools(client, model):
    messages = [{"role": "user", "content": "Weather in Rome?"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "mock-city"}

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 25C"})
    second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "Tool result received: sunny, 25C"
    assert second.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", MODELS)
def test_sdk_tools_stream(client, model):
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Weather in Rome?"}], tools=[WEATHER_TOOL], stream=True
    )
    name, args, ids, finishes = "", "", set(), []
    for chunk in stream:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                if tc.id:
                    ids.add(tc.id)
                if tc.function and tc.function.name:
                    name += tc.function.name
                if tc.function and tc.function.arguments:
                    args += tc.function.arguments
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert len(ids) == 1
    assert name == "get_weather"
    assert json.loads(args) == {"city": "mock-city"}
    assert finishes == ["tool_calls"]


def test_sdk_models_list(client, filter_config):
    ids = sorted(m.id for m in client.models.list())
    assert ids == sorted(m["name"] for m in filter_config["models"])


def test_sdk_models_retrieve(client):
    listed = {m.id: m for m in client.models.list()}
    got = client.models.retrieve("claude-sonnet")
    assert got.id == "claude-sonnet" and got.object == "model"
    assert got.created == listed["claude-sonnet"].created
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("no-such-model")
    assert info.value.code == "model_not_found"


def test_sdk_unknown_model(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 404
    assert info.value.code == "model_not_found"


@pytest.mark.parametrize("model", MODELS)
def test_sdk_rate_limit_error(client, model):
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-mock-status": "429"},
        )
    assert info.value.status_code == 429


@pytest.mark.parametrize("model", MODELS)
def test_sdk_stream_error_raises(client, model):
    """A mid-stream upstream error surfaces as an exception in the SDK."""
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "fail midway"}],
        stream=True,
        extra_headers={"x-mock-stream-error": "1"},
    )
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass
