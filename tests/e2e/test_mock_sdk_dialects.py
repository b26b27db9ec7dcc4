"""The official SDKs against the mocks' agent dialects (no gateway).

`anthropic` talks to the Anthropic mock's Messages API (create, stream,
tools, count_tokens) and `openai` to the OpenAI mock's Responses API
(create, stream, function calls, structured output). If the SDKs accept
what the mocks send and get the mock's deterministic values back, gateway
tests for `/v1/messages` and `/v1/responses` can rely on the same mocks.

Starts its own mock process; needs neither Envoy nor the session fixtures.
"""

from __future__ import annotations

import json

import anthropic
import openai
import pytest

from support import MOCK_ANTHROPIC_KEY, MOCK_OPENAI_KEY, MockProcess, expected_reply, words

WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city"],
}


@pytest.fixture(scope="module")
def dialect_mock(tmp_path_factory) -> MockProcess:
    log = tmp_path_factory.mktemp("mock-dialects") / "mock.log"
    proc = MockProcess(log)
    try:
        proc.start()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot start the mock: {exc}", pytrace=False)
    yield proc
    proc.stop()


@pytest.fixture
def claude(dialect_mock) -> anthropic.Anthropic:
    dialect_mock.clear()
    return anthropic.Anthropic(base_url=dialect_mock.url("anthropic", ""), api_key=MOCK_ANTHROPIC_KEY, max_retries=0)


@pytest.fixture
def oai(dialect_mock) -> openai.OpenAI:
    dialect_mock.clear()
    return openai.OpenAI(base_url=dialect_mock.url("openai", "/v1"), api_key=MOCK_OPENAI_KEY, max_retries=0)


# --------------------------------------------------------------------------
# Anthropic Messages (anthropic SDK)
# --------------------------------------------------------------------------


def test_messages_create_and_count_tokens(claude):
    messages = [{"role": "user", "content": "hello there friend"}]
    msg = claude.messages.create(model="claude-x", max_tokens=100, system="be brief", messages=messages)
    assert msg.content[0].type == "text"
    assert msg.content[0].text == expected_reply("claude-x", "hello there friend")
    assert (msg.stop_reason, msg.usage.input_tokens) == ("end_turn", 5)
    count = claude.messages.count_tokens(model="claude-x", system="be brief", messages=messages)
    assert count.input_tokens == msg.usage.input_tokens
    with pytest.raises(anthropic.BadRequestError) as err:
        claude.messages.count_tokens(model="claude-x", messages=messages, extra_body={"max_tokens": 5})
    assert err.value.body["error"]["message"] == "max_tokens: Extra inputs are not permitted"


def test_messages_stream_text(claude):
    with claude.messages.stream(
        model="claude-x", max_tokens=100, messages=[{"role": "user", "content": "stream this please"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == expected_reply("claude-x", "stream this please")
    assert final.content[0].text == text
    assert final.usage.output_tokens == words(text)


def test_messages_tool_loop(claude):
    tools = [{"name": "weather", "description": "forecast", "input_schema": WEATHER}]
    prompt = 'forecast MOCK_CALL weather {"city": "Oslo", "days": 3}'
    with claude.messages.stream(
        model="claude-x", max_tokens=100, tools=tools, messages=[{"role": "user", "content": prompt}]
    ) as stream:
        call = stream.get_final_message()
    assert call.stop_reason == "tool_use"
    use = call.content[0]
    assert (use.type, use.name, use.input) == ("tool_use", "weather", {"city": "Oslo", "days": 3})
    history = [
        {"role": "user", "content": prompt},
        {"role": "assistant", "content": [use.model_dump(exclude_none=True)]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]},
    ]
    msg = claude.messages.create(model="claude-x", max_tokens=100, tools=tools, messages=history)
    assert msg.content[0].text == "Tool result received: sunny"
    text = claude.messages.create(
        model="claude-x", max_tokens=100, tools=tools,
        messages=[{"role": "user", "content": "just chat MOCK_TEXT"}],
    )
    assert text.content[0].text == expected_reply("claude-x", "just chat MOCK_TEXT")


# --------------------------------------------------------------------------
# OpenAI Responses (openai SDK)
# --------------------------------------------------------------------------


def test_responses_create(oai, dialect_mock):
    resp = oai.responses.create(model="gpt-x", input="hello there", instructions="be brief", store=False)
    assert resp.status == "completed"
    assert resp.output_text == expected_reply("gpt-x", "hello there")
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (4, words(resp.output_text))
    body = dialect_mock.requests("openai")[-1]["body"]
    assert body == {"model": "gpt-x", "input": "hello there", "instructions": "be brief", "store": False}


def test_responses_stream(oai):
    events = []
    with oai.responses.stream(model="gpt-x", input=[{"role": "user", "content": "stream it"}]) as stream:
        for event in stream:
            events.append(event)
        final = stream.get_final_response()
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == expected_reply("gpt-x", "stream it")
    assert final.output_text == deltas
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"


def test_responses_function_call_loop(oai):
    tools = [{"type": "function", "name": "weather", "description": "forecast", "parameters": WEATHER, "strict": False}]
    prompt = 'forecast MOCK_CALL weather {"city": "Oslo"}'
    with oai.responses.stream(model="gpt-x", input=prompt, tools=tools) as stream:
        args = "".join(e.delta for e in stream if e.type == "response.function_call_arguments.delta")
        first = stream.get_final_response()
    call = first.output[0]
    assert (call.type, call.name) == ("function_call", "weather")
    assert json.loads(call.arguments) == json.loads(args) == {"city": "Oslo"}
    second = oai.responses.create(
        model="gpt-x",
        tools=tools,
        input=[
            {"role": "user", "content": prompt},
            call.model_dump(exclude_none=True),
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )
    assert second.output_text == "Tool result received: sunny"


def test_responses_structured_output(oai):
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
        "additionalProperties": False,
    }
    resp = oai.responses.create(
        model="gpt-x",
        input="plan a trip",
        text={"format": {"type": "json_schema", "name": "trip", "schema": schema, "strict": True}},
    )
    assert json.loads(resp.output_text) == {"city": "mock-city", "days": 1}


def test_responses_errors_in_openai_shape(oai):
    with pytest.raises(openai.BadRequestError) as err:
        oai.responses.create(model="gpt-x", input="hi", extra_body={"frobnicate": True})
    assert err.value.body == {
        "message": "Unknown parameter: 'frobnicate'.",
        "type": "invalid_request_error",
        "param": "frobnicate",
        "code": "unknown_parameter",
    }
    with pytest.raises(openai.BadRequestError) as err:
        oai.responses.create(model="gpt-x", input=[{"type": "function_call_output", "call_id": "nope", "output": "x"}])
    assert err.value.body["param"] == "input"
