"""What reaches the providers: paths, credentials, model mapping, headers."""

from __future__ import annotations

import json

import pytest

from support import MOCK_ANTHROPIC_KEY, MOCK_OPENAI_KEY, expected_reply

CLIENT_SECRET = "client-secret-must-not-leak"


def body_json(req):
    """The mock records bodies either parsed or as text."""
    body = req["body"]
    return json.loads(body) if isinstance(body, str) else body


def one_request(mock, side):
    reqs = mock.requests(side)
    assert len(reqs) == 1, f"{side} mock saw {len(reqs)} requests: {reqs!r}"
    return reqs[0]


@pytest.mark.parametrize("stream", [False, True])
def test_openai_upstream_request(gateway, clean_mock, stream):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi there"}], "stream": stream}
    headers = {"authorization": f"Bearer {CLIENT_SECRET}"}
    if stream:
        result = gateway.chat_stream(body, headers=headers)
        assert result.status == 200 and result.done
    else:
        resp = gateway.chat(body, headers=headers)
        assert resp.status_code == 200, resp.text

    req = one_request(clean_mock, "openai")
    assert clean_mock.requests("anthropic") == []
    assert req["method"] == "POST"
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"].get("authorization") == f"Bearer {MOCK_OPENAI_KEY}"
    assert CLIENT_SECRET not in str(req["headers"])
    sent = body_json(req)
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == body["messages"]
    assert bool(sent.get("stream", False)) == stream


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_upstream_request(gateway, clean_mock, stream):
    body = {
        "model": "claude-sonnet",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi there"},
        ],
        "max_tokens": 50,
        "stream": stream,
    }
    headers = {"authorization": f"Bearer {CLIENT_SECRET}", "x-api-key": "client-supplied-key"}
    if stream:
        result = gateway.chat_stream(body, headers=headers)
        assert result.status == 200 and result.done
    else:
        resp = gateway.chat(body, headers=headers)
        assert resp.status_code == 200, resp.text

    req = one_request(clean_mock, "anthropic")
    assert clean_mock.requests("openai") == []
    assert req["method"] == "POST"
    assert req["path"] == "/v1/messages"
    hdrs = req["headers"]
    assert hdrs.get("x-api-key") == MOCK_ANTHROPIC_KEY
    assert hdrs.get("anthropic-version"), hdrs
    assert "authorization" not in hdrs, hdrs
    assert CLIENT_SECRET not in str(hdrs)
    sent = body_json(req)
    assert sent["model"] == "claude-sonnet-4-5"
    assert sent["max_tokens"] == 50
    assert "Be brief." in str(sent.get("system")), sent
    assert all(m["role"] in ("user", "assistant") for m in sent["messages"]), sent["messages"]
    assert bool(sent.get("stream", False)) == stream


@pytest.mark.parametrize("model,side", [("gpt-4o-mini", "openai"), ("claude-sonnet", "anthropic")])
def test_internal_headers_not_forwarded(gateway, clean_mock, model, side):
    """The routing header and Envoy's x-envoy-* headers stay inside the gateway."""
    resp = gateway.chat({"model": model, "messages": [{"role": "user", "content": "header check"}]})
    assert resp.status_code == 200, resp.text
    hdrs = one_request(clean_mock, side)["headers"]
    leaked = sorted(h for h in hdrs if h == "x-modelmux-cluster" or h.startswith("x-envoy-"))
    assert leaked == [], hdrs


def test_client_cannot_pick_cluster(gateway, clean_mock):
    """A client-supplied x-modelmux-cluster header must not override routing."""
    resp = gateway.chat(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "route check"}]},
        headers={"x-modelmux-cluster": "anthropic_mock"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == expected_reply("gpt-4o-mini", "route check")
    assert len(clean_mock.requests("openai")) == 1
    assert clean_mock.requests("anthropic") == []


@pytest.mark.parametrize("path", ["/_mock/requests", "/v1/_mock/requests", "/"])
def test_no_open_proxy_to_upstream(gateway, clean_mock, path):
    """Requests outside the gateway API must not be forwarded to a provider
    cluster, even when the client names one."""
    resp = gateway.request("GET", path, headers={"x-modelmux-cluster": "openai_mock"})
    assert resp.status_code >= 400, f"{path} answered {resp.status_code}: {resp.text[:300]!r}"
    assert clean_mock.requests("openai") == [] and clean_mock.requests("anthropic") == []
