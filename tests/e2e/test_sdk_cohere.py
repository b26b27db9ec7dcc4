"""The official cohere SDK (ClientV2) against the Cohere mock itself (no
gateway): chat, typed streaming events, tools and a tool result turn,
response_format, embeddings (float and base64) and the SDK's error classes.

If the SDK accepts what the mock sends and the values are the mock's
deterministic ones, gateway tests can rely on the same mock. This module
starts its own mock process and needs neither Envoy nor the session
fixtures.
"""

from __future__ import annotations

import base64
import struct

import cohere
import pytest
from cohere.core.api_error import ApiError

from support import MockProcess, WEATHER_TOOL, expected_embedding, expected_reply, words

MOCK_COHERE_KEY = "mock-cohere-key"  # the mock's default --cohere-key
MODEL = "command-a-03-2025"


@pytest.fixture(scope="module")
def co_mock(tmp_path_factory) -> MockProcess:
    log = tmp_path_factory.mktemp("mock-cohere") / "mock.log"
    proc = MockProcess(log, listeners=["cohere=cohere@127.0.0.1:0"])
    try:
        proc.start()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot start the mock: {exc}", pytrace=False)
    yield proc
    proc.stop()


def client(mock: MockProcess, key: str = MOCK_COHERE_KEY) -> cohere.ClientV2:
    return cohere.ClientV2(api_key=key, base_url=mock.url("cohere", ""), max_retries=0)


def last_request(mock: MockProcess) -> dict:
    log = mock.requests("cohere")
    assert log, "no request reached the cohere mock"
    return log[-1]


def test_chat(co_mock):
    text = "Say hello to the harbour"
    resp = client(co_mock).chat(model=MODEL, messages=[{"role": "user", "content": text}])
    assert resp.finish_reason == "COMPLETE"
    assert resp.message.content[0].type == "text"
    assert resp.message.content[0].text == expected_reply(MODEL, text)
    assert resp.usage.billed_units.input_tokens == words(text)
    assert resp.usage.tokens.output_tokens == words(expected_reply(MODEL, text))
    assert last_request(co_mock)["path"] == "/v2/chat"


def test_chat_stream_typed_events(co_mock):
    text = "Stream me a reply"
    events = list(client(co_mock).chat_stream(model=MODEL, messages=[{"role": "user", "content": text}]))
    types = [e.type for e in events]
    assert types[0] == "message-start"
    assert types[1] == "content-start"
    assert types[-2:] == ["content-end", "message-end"]
    streamed = "".join(e.delta.message.content.text for e in events if e.type == "content-delta")
    assert streamed == expected_reply(MODEL, text)
    end = events[-1]
    assert end.delta.finish_reason == "COMPLETE"
    assert end.delta.usage.billed_units.input_tokens == words(text)


def test_tools_and_tool_result_turn(co_mock):
    co = client(co_mock)
    question = {"role": "user", "content": "Weather in Paris?"}
    resp = co.chat(model=MODEL, messages=[question], tools=[WEATHER_TOOL])
    assert resp.finish_reason == "TOOL_CALL"
    call = resp.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert call.function.arguments == '{"city":"mock-city"}'
    assert resp.message.tool_plan
    history = [
        question,
        {"role": "assistant", "tool_plan": resp.message.tool_plan, "tool_calls": resp.message.tool_calls},
        {"role": "tool", "tool_call_id": call.id, "content": "18C and cloudy"},
    ]
    resp = co.chat(model=MODEL, messages=history, tools=[WEATHER_TOOL])
    assert resp.finish_reason == "COMPLETE"
    assert resp.message.content[0].text == "Tool result received: 18C and cloudy"

    events = list(co.chat_stream(model=MODEL, messages=[question], tools=[WEATHER_TOOL]))
    starts = [e for e in events if e.type == "tool-call-start"]
    assert [s.delta.message.tool_calls.function.name for s in starts] == ["get_weather"]
    args = "".join(
        e.delta.message.tool_calls.function.arguments for e in events if e.type == "tool-call-delta"
    )
    assert args == '{"city":"mock-city"}'
    assert events[-1].delta.finish_reason == "TOOL_CALL"


def test_response_format_json_schema(co_mock):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    resp = client(co_mock).chat(
        model=MODEL,
        messages=[{"role": "user", "content": "Give the capital as JSON"}],
        response_format={"type": "json_object", "json_schema": schema},
    )
    assert resp.finish_reason == "COMPLETE"
    body = last_request(co_mock)["body"]
    assert body["response_format"] == {"type": "json_object", "json_schema": schema}


def test_embed_float_and_base64(co_mock):
    texts = ["alpha beta", "gamma"]
    resp = client(co_mock).embed(
        model="embed-v4.0",
        texts=texts,
        input_type="search_document",
        embedding_types=["float", "base64"],
        output_dimension=256,
    )
    assert resp.embeddings.float_ == [expected_embedding(t, 256) for t in texts]
    decoded = list(struct.unpack("<256f", base64.b64decode(resp.embeddings.base64[0])))
    want = list(struct.unpack("<256f", struct.pack("<256f", *expected_embedding(texts[0], 256))))
    assert decoded == want
    assert resp.meta.billed_units.input_tokens == 3


def test_embed_requires_input_type(co_mock):
    with pytest.raises(cohere.BadRequestError) as err:
        client(co_mock).embed(
            model="embed-v4.0",
            texts=["x"],
            input_type=None,  # omitted by the SDK
            embedding_types=["float"],
        )
    assert "input_type" in err.value.body["message"]


def test_wrong_key_is_unauthorized(co_mock):
    with pytest.raises(cohere.UnauthorizedError) as err:
        client(co_mock, key="not-the-key").chat(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert err.value.status_code == 401
    assert err.value.body["message"] == "invalid api token"


def test_unknown_field_is_bad_request(co_mock):
    with pytest.raises(cohere.BadRequestError) as err:
        client(co_mock).chat(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            request_options={"additional_body_parameters": {"bogus_field": 1}},
        )
    assert "bogus_field" in err.value.body["message"]


def test_injected_status_keeps_cohere_error_shape(co_mock):
    with pytest.raises(ApiError) as err:
        client(co_mock).chat(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            request_options={"additional_headers": {"x-mock-status": "503"}},
        )
    assert err.value.status_code == 503
    assert isinstance(err.value.body["message"], str)
