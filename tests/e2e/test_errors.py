"""Request validation, unknown routes/models and upstream failures."""

from __future__ import annotations

import json

import pytest
import requests

from support import assert_openai_error, expected_reply, finish_reasons

MODELS = ["gpt-4o-mini", "claude-sonnet"]
USER = [{"role": "user", "content": "hello"}]


# --- requests the gateway must reject itself (never reaching a provider) ---

INVALID_BODIES = {
    "malformed-json": b'{"model": "gpt-4o-mini", "messages": [',
    "not-an-object": b'["gpt-4o-mini"]',
    "empty-body": b"",
    "missing-model": {"messages": USER},
    "missing-messages": {"model": "gpt-4o-mini"},
    "model-not-string": {"model": 42, "messages": USER},
    "messages-not-array": {"model": "gpt-4o-mini", "messages": "hello"},
    "message-not-object": {"model": "gpt-4o-mini", "messages": ["hello"]},
    "stream-not-bool": {"model": "gpt-4o-mini", "messages": USER, "stream": "yes"},
    "anthropic-missing-messages": {"model": "claude-sonnet"},
    "anthropic-messages-not-array": {"model": "claude-sonnet", "messages": {"role": "user"}},
    "anthropic-message-not-object": {"model": "claude-sonnet", "messages": ["hello"]},
    "anthropic-content-wrong-type": {"model": "claude-sonnet", "messages": [{"role": "user", "content": 7}]},
}


@pytest.mark.parametrize("case", sorted(INVALID_BODIES))
def test_invalid_request_is_400(gateway, clean_mock, case):
    resp = gateway.chat(INVALID_BODIES[case])
    err = assert_openai_error(resp, 400)
    assert err["type"] == "invalid_request_error", err
    leaked = clean_mock.requests("openai") + clean_mock.requests("anthropic")
    assert leaked == [], f"invalid request was forwarded to a provider (the 400 came from upstream): {leaked!r}"


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_model_is_404(gateway, clean_mock, stream):
    resp = gateway.chat({"model": "no-such-model", "messages": USER, "stream": stream})
    err = assert_openai_error(resp, 404, code="model_not_found")
    assert "no-such-model" in err["message"]
    assert clean_mock.requests("openai") == [] and clean_mock.requests("anthropic") == []


def test_list_models(gateway, clean_mock, filter_config):
    resp = gateway.request("GET", "/v1/models", headers={"authorization": "Bearer client-secret"})
    assert resp.status_code == 200, resp.text
    assert "application/json" in resp.headers.get("content-type", "")
    data = resp.json()
    assert data["object"] == "list"
    ids = [m["id"] for m in data["data"]]
    assert sorted(ids) == sorted(m["name"] for m in filter_config["models"])
    for entry in data["data"]:
        assert entry["object"] == "model", entry
        assert isinstance(entry["created"], int), entry
        assert isinstance(entry["owned_by"], str) and entry["owned_by"], entry
    assert clean_mock.requests("openai") == [] and clean_mock.requests("anthropic") == []


@pytest.mark.parametrize(
    "method,path",
    [
        ("POST", "/v1/completions"),
        ("POST", "/v1/audio/speech"),
        ("GET", "/v1/files"),
        ("POST", "/v1/images/generations"),
        ("GET", "/v1/models/gpt-4o-mini/extra"),
        ("GET", "/v1/chat/completions/abc"),
    ],
)
def test_unknown_v1_route_is_404(gateway, clean_mock, method, path):
    resp = gateway.request(
        method,
        path,
        headers={"content-type": "application/json", "authorization": "Bearer client-secret"},
        data=json.dumps({"model": "gpt-4o-mini", "input": "hi"}) if method == "POST" else None,
    )
    assert_openai_error(resp, 404)
    assert clean_mock.requests("openai") == [] and clean_mock.requests("anthropic") == []


# --- upstream failures -----------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("status", [429, 500])
@pytest.mark.parametrize("model", MODELS)
def test_upstream_error_status_and_shape(gateway, model, status, stream):
    resp = gateway.chat(
        {"model": model, "messages": USER, "stream": stream},
        headers={"x-mock-status": str(status)},
    )
    assert_openai_error(resp, status)


@pytest.mark.parametrize("model", MODELS)
def test_stream_cut_by_upstream(gateway, model):
    """The upstream sends 3 SSE events and then drops the connection: the
    client must not see a clean end of stream ([DONE]); the gateway keeps
    serving afterwards."""
    result = gateway.chat_stream(
        {"model": model, "messages": [{"role": "user", "content": "this reply will be cut short by the mock"}]},
        headers={"x-mock-cut-after": "3"},
    )
    assert "[DONE]" not in result.data, f"truncated upstream stream was presented as complete: {result.data!r}"
    if result.status == 200:
        # Truncated before completion: no finish_reason may have been sent.
        chunks = [json.loads(d) for d in result.data if d.startswith("{")]
        assert all(
            choice.get("finish_reason") in (None, "")
            for c in chunks
            for choice in c.get("choices") or []
        ), chunks

    # Same connection pool, next request is fine (both providers).
    for follow_model in MODELS:
        resp = gateway.chat({"model": follow_model, "messages": [{"role": "user", "content": "after the cut"}]})
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["message"]["content"] == expected_reply(
            gateway.upstream_model(follow_model), "after the cut"
        )


@pytest.mark.parametrize("cut_after", [0, 1])
@pytest.mark.parametrize("model", MODELS)
def test_non_stream_cut_by_upstream(gateway, model, cut_after):
    """The upstream drops the connection part-way through a JSON body: the
    client must not receive something that looks like a complete reply."""
    body = {"model": model, "messages": [{"role": "user", "content": "this reply will be cut short"}]}
    try:
        resp = gateway.chat(body, headers={"x-mock-cut-after": str(cut_after)})
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
        pass  # the gateway reset the client stream: fine
    else:
        assert resp.status_code >= 500, f"cut upstream reply surfaced as {resp.status_code}: {resp.text[:300]!r}"
    resp = gateway.chat({**body, "messages": [{"role": "user", "content": "next one"}]})
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("model", MODELS)
def test_stream_error_event(gateway, model):
    """An upstream error event in the middle of a stream reaches the client as
    an OpenAI-style `data: {"error": {...}}` event, and the stream is not
    presented as complete."""
    result = gateway.chat_stream(
        {"model": model, "messages": [{"role": "user", "content": "stream that fails midway"}]},
        headers={"x-mock-stream-error": "1"},
    )
    assert result.status == 200, result.raw[:500]
    assert "[DONE]" not in result.data, result.data
    payloads = [json.loads(d) for d in result.data]
    errors = [p for p in payloads if "error" in p]
    assert len(errors) == 1, payloads
    assert errors[0] is payloads[-1], "the error event ends the stream"
    err = errors[0]["error"]
    assert isinstance(err.get("message"), str) and err["message"], err
    assert isinstance(err.get("type"), str) and err["type"], err
    assert "stop" not in finish_reasons([p for p in payloads if "error" not in p])


def test_unusable_anthropic_success_becomes_502(gateway, envoy):
    """A 200 whose body is not a Messages response can't be translated: the
    client gets a 502 OpenAI error, not a 200 with an error inside."""
    resp = gateway.chat(
        {"model": "claude-sonnet", "messages": USER}, headers={"x-mock-garbage": "1"}
    )
    err = assert_openai_error(resp, 502)
    assert err["type"] == "server_error"
    assert "not a message" in err["message"]
    assert resp.headers.get("content-length") == str(len(resp.content))


@pytest.mark.parametrize("status", [200, 429])
def test_translated_buffered_reply_has_exact_length(gateway, status):
    headers = {} if status == 200 else {"x-mock-status": str(status)}
    resp = gateway.chat({"model": "claude-sonnet", "messages": USER}, headers=headers)
    assert resp.status_code == status, resp.text
    assert "transfer-encoding" not in resp.headers
    assert resp.headers.get("content-length") == str(len(resp.content))
    resp.json()


def test_body_over_buffer_limit_is_openai_413(gateway, clean_mock):
    """Envoy refuses a body above the listener's buffer limit (10 MiB in the
    demo config) before the filter can route it; the client still gets an
    OpenAI-shaped error."""
    huge = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * (11 * 1024 * 1024)}]}
    resp = gateway.chat(huge)
    err = assert_openai_error(resp, 413)
    assert err["message"].startswith("gateway returned HTTP 413"), err
    assert err["type"] == "invalid_request_error"
    assert resp.headers.get("content-length") == str(len(resp.content))
    assert clean_mock.requests("openai") == []
