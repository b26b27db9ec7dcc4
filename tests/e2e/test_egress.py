"""What crosses the gateway, against real Envoy: the request headers every
provider kind receives, and the response headers a client gets back.

One mock serves every kind (OpenAI, a preset, Azure, Anthropic, Gemini,
Vertex, Bedrock, Cohere); one Envoy, rendered by `modelmux render`, has a
single-target model per provider and failover pairs across kinds. Each
request carries everything a client might send (credentials, cookies, its
OpenAI account, the consumer header, internal and arbitrary headers); each
mock's request log (`/_mock/requests`) must show only the allowlist plus
the provider's own headers. Response headers a provider might add are
injected with the mock's stored `headers` fault.
"""

from __future__ import annotations

import json

import pytest
import requests

import support

PROJECT = "mock-project"
LISTENERS = [
    "gemini=gemini@127.0.0.1:0",
    "azure=azure@127.0.0.1:0",
    "groq=openai:/openai/v1@127.0.0.1:0",
    "vertex=vertex@127.0.0.1:0",
    "cohere=cohere@127.0.0.1:0",
    "bedrock=bedrock@127.0.0.1:0",
]

# provider (= mock label) -> (type, upstream model, key variable)
PROVIDERS = {
    "openai": ("openai", "gpt-4o-mini", "MOCK_OPENAI_KEY"),
    "groq": ("groq", "llama-3.3-70b-versatile", "MOCK_OPENAI_KEY"),
    "azure": ("azure", "gpt-4o-deployment", "MOCK_AZURE_KEY"),
    "anthropic": ("anthropic", "claude-sonnet-4-5", "MOCK_ANTHROPIC_KEY"),
    "gemini": ("gemini", "gemini-2.5-flash", "MOCK_GEMINI_KEY"),
    "vertex": ("vertex", "gemini-2.5-flash", None),
    "bedrock": ("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", "MOCK_BEDROCK_KEY"),
    "cohere": ("cohere", "command-a-03-2025", "MOCK_COHERE_KEY"),
}
KEYS = {
    "MOCK_OPENAI_KEY": support.MOCK_OPENAI_KEY,
    "MOCK_ANTHROPIC_KEY": support.MOCK_ANTHROPIC_KEY,
    "MOCK_GEMINI_KEY": support.MOCK_GEMINI_KEY,
    "MOCK_AZURE_KEY": support.MOCK_AZURE_KEY,
    "MOCK_BEDROCK_KEY": "mock-bedrock-key",
    "MOCK_COHERE_KEY": "mock-cohere-key",
}
# Failover pairs: (first, which fails; second, which serves).
PAIRS = [
    ("openai", "anthropic"),
    ("anthropic", "gemini"),
    ("gemini", "azure"),
    ("azure", "cohere"),
    ("cohere", "bedrock"),
    ("bedrock", "vertex"),
    ("vertex", "groq"),
    ("groq", "openai"),
]

SENSITIVE = {
    "cookie": "session=client-cookie",
    "proxy-authorization": "Basic client-proxy",
    "authorization": "Bearer client-secret",
    "x-internal-token": "client-internal",
    "openai-organization": "org-client",
    "openai-project": "proj-client",
    "x-team": "search-team",
    "x-envoy-foo": "client-envoy-foo",
    "x-random": "client-random",
    # Envoy keeps a client's value; the filter lets only a scheme through.
    "x-forwarded-proto": "client-proto-text",
}
# The kinds' documented client-settable protocol headers (sent to all).
PROTOCOL = {
    "anthropic": {"anthropic-beta": "mock-beta-2025"},
    "azure": {"x-ms-client-request-id": "client-corr-1"},
    "cohere": {"x-client-name": "egress-test"},
}
# Allowed by the operator: globally (`x-trace-*`) and for anthropic only.
OPERATOR = {"x-trace-id": "trace-1", "x-an-extra": "an-only"}
CLIENT_HEADERS = {"content-type": "application/json", "accept": "application/json",
                  **SENSITIVE, **OPERATOR, **{k: v for h in PROTOCOL.values() for k, v in h.items()}}

# What every provider may receive besides its own headers.
COMMON = {"host", ":authority", "content-length", "content-type", "accept", "x-request-id", "x-trace-id",
          # Envoy's own (http or https); its router finds no route without it.
          "x-forwarded-proto"}
# The provider's own headers (credential, version) as each kind sends them.
OWN = {
    "openai": {"authorization"},
    "groq": {"authorization"},
    "azure": {"api-key"},
    "anthropic": {"x-api-key", "anthropic-version"},
    "gemini": {"x-goog-api-key"},
    "vertex": {"authorization"},
    "bedrock": {"authorization"},
    "cohere": {"authorization"},
}
ALLOWED = {
    label: COMMON | OWN[label] | set(PROTOCOL.get(label, {})) | ({"x-an-extra"} if label == "anthropic" else set())
    for label in PROVIDERS
}

# Response headers a provider might send, and which of them a client sees.
HOSTILE_REPLY = {
    "set-cookie": "sid=provider; Path=/",
    "location": "https://evil.example/",
    "x-envoy-foo": "1",
    "x-modelmux-provider": "forged",
    "x-modelmux-status": "418",
    "x-random-reply": "1",
    "x-ratelimit-remaining-requests": "42",
    "anthropic-ratelimit-requests-remaining": "41",
}
REPLY_GONE = ["set-cookie", "location", "x-envoy-foo", "x-modelmux-status", "x-random-reply"]


def provider_entry(label: str, mock: support.MockProcess) -> dict:
    kind, _, key = PROVIDERS[label]
    port = mock.ports[label]
    entry = {"name": label, "type": kind, "cluster": f"eg_{label}"}
    if key:
        entry["api_key_env"] = key
    if kind == "vertex":
        entry.update({"project": PROJECT, "location": "us-central1",
                      "endpoint": {"address": f"127.0.0.1:{port}", "tls": False},
                      "auth": {"source": "metadata", "cluster": "eg_metadata",
                               "endpoint": {"address": f"127.0.0.1:{port}"}}})
    elif kind == "bedrock":
        entry.update({"region": "us-east-1", "endpoint": {"address": f"127.0.0.1:{port}", "tls": False}})
    else:
        entry["host"] = f"127.0.0.1:{port}"
    if label == "anthropic":
        entry["headers"] = {"request": ["x-an-extra"]}
    return entry


def target(label: str) -> dict:
    return {"provider": label, "model": PROVIDERS[label][1]}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("egress")
    mock = support.MockProcess(tmp / "egress-mock.log", listeners=LISTENERS,
                               extra_args=["--vertex-project", PROJECT]).start()
    models = [{"name": f"one-{label}", "targets": [target(label)]} for label in PROVIDERS]
    models += [{"name": f"fo-{a}-{b}", "targets": [target(a), target(b)]} for a, b in PAIRS]
    config = {
        "providers": [provider_entry(label, mock) for label in PROVIDERS],
        "models": models,
        "consumers": {"header": "x-team", "allowed": ["search-team"]},
        "headers": {"request": ["x-trace-*"]},
        "failover": {"attempt_timeout_ms": 3000, "consecutive_failures": 1000000},
    }
    envoy = support.EnvoyProcess(tmp, "egress-envoy")
    try:
        envoy.start(support.render_yaml(config, KEYS))
        support.wait_until(
            lambda: envoy.counters().get("wasmcustom.modelmux.p.vertex.token_refreshes", 0) >= 1,
            20, what="the Vertex token")
    except Exception:
        envoy.stop()
        mock.stop()
        raise
    yield envoy, mock
    envoy.stop()
    mock.stop()


@pytest.fixture
def gw(env):
    envoy, mock = env
    mock.clear()
    yield envoy, mock
    for label in mock.labels:
        mock.fault(label, None)


def chat(envoy, model: str, stream: bool = False) -> requests.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hello"}], "stream": stream}
    return requests.post(envoy.gateway + "/v1/chat/completions", json=body, headers=CLIENT_HEADERS,
                         timeout=support.HTTP_TIMEOUT, stream=stream)


def api_requests(mock, label: str) -> list[dict]:
    return [r for r in mock.requests(label) if not r["path"].startswith(("/computeMetadata", "/token"))]


def assert_only_allowed(req: dict, label: str) -> None:
    headers = req["headers"]
    extra = set(headers) - ALLOWED[label]
    assert not extra, f"{label} received headers outside its allowlist: {sorted(extra)}"
    dumped = json.dumps(headers)
    for value in SENSITIVE.values():
        assert value not in dumped, (label, value, headers)
    assert headers.get("x-trace-id") == "trace-1", headers
    for name, value in PROTOCOL.get(label, {}).items():
        assert headers.get(name) == value, (label, name, headers)
    assert ("x-an-extra" in headers) == (label == "anthropic"), headers
    for name in OWN[label]:
        assert headers.get(name), (label, name, headers)


@pytest.mark.parametrize("label", sorted(PROVIDERS))
def test_a_provider_receives_only_its_allowlist(gw, label):
    envoy, mock = gw
    resp = chat(envoy, f"one-{label}")
    assert resp.status_code == 200, resp.text
    (req,) = api_requests(mock, label)
    assert_only_allowed(req, label)


@pytest.mark.parametrize("first,second", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_every_failover_attempt_receives_only_its_allowlist(gw, first, second):
    envoy, mock = gw
    mock.fault(first, {"status": 503})
    resp = chat(envoy, f"fo-{first}-{second}")
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("x-modelmux-provider") == second
    (tried,) = api_requests(mock, first)
    (served,) = api_requests(mock, second)
    assert_only_allowed(tried, first)
    assert_only_allowed(served, second)


def assert_reply_filtered(resp: requests.Response) -> None:
    for name in REPLY_GONE:
        assert name not in resp.headers, (name, dict(resp.headers))
    assert resp.headers.get("retry-after") == "7", dict(resp.headers)
    assert resp.headers.get("x-ratelimit-remaining-requests") == "42"
    assert resp.headers.get("anthropic-ratelimit-requests-remaining") == "41"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("label", sorted(PROVIDERS))
def test_a_single_target_reply_reaches_the_client_through_the_allowlist(gw, label, stream):
    envoy, mock = gw
    mock.fault(label, {"headers": {**HOSTILE_REPLY, "retry-after": "7"}})
    resp = chat(envoy, f"one-{label}", stream=stream)
    assert resp.status_code == 200, "a forged x-modelmux-status must not change the status"
    assert "x-modelmux-provider" not in resp.headers
    assert_reply_filtered(resp)
    if stream:
        result = support.read_sse(resp)
        assert result.done, result.raw[-300:]
    else:
        assert resp.json()["object"] == "chat.completion"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("first,second", PAIRS[:3], ids=[f"{a}-{b}" for a, b in PAIRS[:3]])
def test_a_failover_reply_reaches_the_client_through_the_allowlist(gw, first, second, stream):
    envoy, mock = gw
    # The failing attempt forges a success marker; the serving one a failure.
    mock.fault(first, {"status": 503, "headers": {**HOSTILE_REPLY, "x-modelmux-status": "200"}})
    mock.fault(second, {"headers": {**HOSTILE_REPLY, "retry-after": "7"}})
    resp = chat(envoy, f"fo-{first}-{second}", stream=stream)
    assert resp.status_code == 200
    assert resp.headers.get("x-modelmux-provider") == second
    assert_reply_filtered(resp)
    if stream:
        assert support.read_sse(resp).done


def test_every_target_failing_keeps_the_real_status_not_a_forged_one(gw):
    envoy, mock = gw
    for label in ("openai", "anthropic"):
        mock.fault(label, {"status": 429, "headers": {"x-modelmux-status": "200", "set-cookie": "sid=1"}})
    resp = chat(envoy, "fo-openai-anthropic")
    support.assert_openai_error(resp, 429)
    assert "set-cookie" not in resp.headers and "x-modelmux-status" not in resp.headers
