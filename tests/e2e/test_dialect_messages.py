"""The official `anthropic` SDK through the gateway to every provider kind.

Claude (Anthropic) is the passthrough; OpenAI, Gemini and Bedrock are
translated from the Messages request and back into Anthropic's response
and event stream. `fo` fails over from a 503 to Anthropic.
"""

from __future__ import annotations

import json
import time

import anthropic
import pytest
import requests

import dialects_env as de
import support
from support import expected_reply, words

WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city"],
}
MODELS = sorted(de.TARGETS)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    envoy, mock = de.start(tmp_path_factory.mktemp("dialect-messages"))
    yield envoy, mock
    envoy.stop()
    mock.stop()


@pytest.fixture
def claude(env):
    envoy, mock = env
    mock.clear()
    c = anthropic.Anthropic(base_url=envoy.gateway, api_key="client-secret", max_retries=0, timeout=30)
    yield c
    c.close()


def upstream(model: str) -> str:
    return de.TARGETS[model][1]


@pytest.mark.parametrize("model", MODELS)
def test_create(claude, env, model):
    msg = claude.messages.create(model=model, max_tokens=100, system="be brief",
                                 messages=[{"role": "user", "content": "hello there friend"}])
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.content[0].type == "text"
    assert msg.content[0].text == expected_reply(upstream(model), "hello there friend")
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens >= words(msg.content[0].text)
    assert msg.usage.input_tokens >= 3
    label = de.TARGETS[model][0]
    sent = de.last_request(env[1], label)
    assert "client-secret" not in json.dumps(sent["headers"])


@pytest.mark.parametrize("model", MODELS)
def test_stream(claude, model):
    with claude.messages.stream(model=model, max_tokens=100,
                                messages=[{"role": "user", "content": "stream this please"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == expected_reply(upstream(model), "stream this please")
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens >= words(text)


@pytest.mark.parametrize("model", MODELS)
def test_tool_loop(claude, model):
    tools = [{"name": "weather", "description": "forecast", "input_schema": WEATHER}]
    prompt = 'forecast MOCK_CALL weather {"city": "Oslo", "days": 3}'
    with claude.messages.stream(model=model, max_tokens=100, tools=tools,
                                messages=[{"role": "user", "content": prompt}]) as stream:
        call = stream.get_final_message()
    assert call.stop_reason == "tool_use"
    use = [b for b in call.content if b.type == "tool_use"][0]
    assert (use.name, use.input) == ("weather", {"city": "Oslo", "days": 3})
    history = [
        {"role": "user", "content": prompt},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in call.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]},
    ]
    msg = claude.messages.create(model=model, max_tokens=100, tools=tools, messages=history)
    assert msg.content[-1].text == "Tool result received: sunny"


@pytest.mark.parametrize("model", ["claude", "gem", "gpt", "br"])
def test_count_tokens(claude, env, model):
    messages = [{"role": "user", "content": "count these words please"}]
    count = claude.messages.count_tokens(model=model, system="be brief", messages=messages)
    assert count.input_tokens > 0
    mock = env[1]
    if model == "claude":
        sent = de.last_request(mock, "anthropic")
        assert sent["path"] == "/v1/messages/count_tokens"
        assert sent["body"]["model"] == upstream(model)
    elif model == "gem":
        assert de.last_request(mock, "gemini")["path"].endswith(":countTokens")
    elif model == "br":
        sent = de.last_request(mock, "bedrock")
        assert sent["path"].endswith("/count-tokens")
        converse = sent["body"]["input"]["converse"]
        assert converse["system"] == [{"text": "be brief"}]
    else:
        # No counter at OpenAI: the gateway's estimate, no upstream call.
        assert mock.requests("openai") == []


def test_failover_answers_in_messages_format(claude, env):
    msg = claude.messages.create(model="fo", max_tokens=50,
                                 messages=[{"role": "user", "content": "fail over please"}])
    assert msg.content[0].text == expected_reply("claude-sonnet-4-5", "fail over please")
    assert len(env[1].requests("down")) >= 1


def test_unknown_model_and_bad_request_are_anthropic_errors(claude, env):
    with pytest.raises(anthropic.NotFoundError) as err:
        claude.messages.create(model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert err.value.body["type"] == "error"
    assert err.value.body["error"]["type"] == "not_found_error"
    envoy, _ = env
    resp = requests.post(envoy.gateway + "/v1/messages", timeout=30,
                         headers={"anthropic-version": "2023-06-01", "x-api-key": "k"},
                         json={"model": "gem", "messages": [{"role": "user", "content": "x"}]})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in body["error"]["message"]


def test_models_list_in_anthropic_format(claude):
    page = claude.models.list()
    ids = [m.id for m in page.data]
    assert ids[:4] == ["claude", "gpt", "gem", "br"]
    assert all(m.type == "model" for m in page.data)


def test_claude_code_session_id_is_in_the_access_log_not_in_stats(env):
    envoy, _ = env
    rid, session = f"session-{time.monotonic_ns()}", f"cc-sess-{time.monotonic_ns()}"
    resp = requests.post(envoy.gateway + "/v1/messages", timeout=30,
                         headers={"anthropic-version": "2023-06-01", "x-api-key": "k",
                                  "x-request-id": rid, "x-claude-code-session-id": session},
                         json={"model": "claude", "max_tokens": 20,
                               "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 200, resp.text

    def entry():
        for raw in envoy.log().splitlines():
            if raw.startswith('{"') and json.loads(raw).get("request_id") == rid:
                return json.loads(raw)
        return None

    line = support.wait_until(entry, 20, what="the access log line")
    assert line["claude_code_session_id"] == session
    assert line["path"] == "/v1/messages"
    assert session not in envoy.prometheus()
