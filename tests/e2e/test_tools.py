"""Tool calling round trips through both providers."""

from __future__ import annotations

import json

import pytest

from support import finish_reasons, stream_tool_calls, stream_text

MODELS = ["gpt-4o-mini", "claude-sonnet"]

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "enum": ["c", "f"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Current time in a timezone",
            "parameters": {
                "type": "object",
                "properties": {"tz": {"type": "string"}},
                "required": ["tz"],
            },
        },
    },
]

QUESTION = [
    {"role": "system", "content": "Use tools when helpful."},
    {"role": "user", "content": "What is the weather in Paris?"},
]
TOOL_RESULT = "18 degrees and sunny"


def check_tool_call(call):
    assert isinstance(call["id"], str) and call["id"], call
    assert call["type"] == "function", call
    assert call["function"]["name"] == "get_weather", call
    # The mock fills required string arguments with "mock-<name>".
    assert json.loads(call["function"]["arguments"]) == {"city": "mock-city"}, call


def follow_up(model, call):
    return {
        "model": model,
        "tools": TOOLS,
        "messages": [
            *QUESTION,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": call["function"]["arguments"]},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call["id"], "content": TOOL_RESULT},
        ],
    }


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_round_trip(gateway, model):
    resp = gateway.chat({"model": model, "messages": QUESTION, "tools": TOOLS})
    assert resp.status_code == 200, resp.text
    choice = resp.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls", choice
    assert choice["message"]["role"] == "assistant"
    calls = choice["message"]["tool_calls"]
    assert len(calls) == 1, calls
    check_tool_call(calls[0])

    resp = gateway.chat(follow_up(model, calls[0]))
    assert resp.status_code == 200, resp.text
    choice = resp.json()["choices"][0]
    assert choice["message"]["content"] == f"Tool result received: {TOOL_RESULT}"
    assert choice["finish_reason"] == "stop"
    assert not choice["message"].get("tool_calls")


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_round_trip_streaming(gateway, model):
    result = gateway.chat_stream({"model": model, "messages": QUESTION, "tools": TOOLS})
    assert result.status == 200 and result.error is None and result.done, result.raw[:800]
    chunks = result.chunks()
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    calls = stream_tool_calls(chunks)
    assert len(calls) == 1, calls
    check_tool_call(calls[0])
    assert finish_reasons(chunks) == ["tool_calls"]

    result = gateway.chat_stream(follow_up(model, calls[0]))
    assert result.status == 200 and result.error is None and result.done, result.raw[:800]
    chunks = result.chunks()
    assert stream_text(chunks) == f"Tool result received: {TOOL_RESULT}"
    assert finish_reasons(chunks) == ["stop"]


@pytest.mark.parametrize("model", MODELS)
def test_tool_choice_none_style_request_still_answers(gateway, model):
    """Tools are offered but the last message is an assistant/tool exchange:
    the reply is text, not another tool call."""
    call = {"id": "call_fixed_1", "function": {"name": "get_weather", "arguments": json.dumps({"city": "Oslo"})}}
    resp = gateway.chat(follow_up(model, call))
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == f"Tool result received: {TOOL_RESULT}"
