"""HTTP/2 requests whose body is ended by trailers, through real Envoy.

The last DATA frame of such a request has no END_STREAM, so a filter that
waits for end-of-stream in its body phase never routes it; the trailers
phase then let it through with the client's own headers: the client's
`x-modelmux-cluster` picked the cluster and its `Authorization` reached the
provider. Every request here also spoofs the routing headers, and each test
asserts what each mock received.
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

import failover_env as fe
import h2client
import support

MODELS = [
    fe.model("h2-gpt", "oa"),
    fe.model("h2-claude", "an"),
    fe.model("h2-smart", "oa", "an"),
    {"name": "h2-embed", "targets": [{"provider": "oa", "model": "text-embedding-3-small"}]},
]
FAILOVER = {"attempt_timeout_ms": 3000, "consecutive_failures": 1000000}
TRAILERS = [("x-checksum", "sha256=abc"), ("x-modelmux-cluster", "c_an")]


@pytest.fixture(scope="module")
def gw(workdir):
    mock = support.MockProcess(workdir / "trailers-mock.log").start()
    cfg = fe.filter_config(mock, None, MODELS, FAILOVER)
    envoy = support.EnvoyProcess(workdir, "envoy-trailers", extra_args=["--concurrency", "2"])
    envoy.start(support.render_yaml(cfg))
    yield fe.Client(envoy, mock)
    envoy.stop()
    mock.stop()


@pytest.fixture
def client(gw):
    gw.clear()
    for label in ("openai", "anthropic"):
        gw.mock.fault(label, None)
    return gw


def spoofed(cluster: str) -> list[tuple[str, str]]:
    """A client that names the cluster, the retry policy and a credential."""
    return [
        ("content-type", "application/json"),
        ("authorization", "Bearer client-secret"),
        ("x-api-key", "client-secret"),
        ("x-modelmux-cluster", cluster),
        ("x-modelmux-failover", "1"),
        ("x-envoy-max-retries", "7"),
        ("x-request-id", "client-chosen-id"),
    ]


def send(client, path: str, body: dict, cluster: str, trailers=TRAILERS) -> h2client.H2Response:
    url = urlparse(client.envoy.gateway)
    return h2client.request((url.hostname, url.port), "POST", path, spoofed(cluster),
                            json.dumps(body).encode(), trailers=trailers)


def chat_body(model: str) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "hello over h2"}]}


def assert_clean(req: dict) -> None:
    """Nothing the client used to steer or authenticate reached the provider."""
    headers = req["headers"]
    assert "client-secret" not in json.dumps(headers), headers
    for name in headers:
        assert not name.startswith("x-modelmux-"), name
    assert "x-envoy-max-retries" not in headers


@pytest.mark.parametrize("model,label,other,cluster", [
    ("h2-gpt", "openai", "anthropic", "c_an"),
    ("h2-claude", "anthropic", "openai", "c_oa"),
])
def test_chat_ended_by_trailers_is_routed_by_the_filter(client, model, label, other, cluster):
    resp = send(client, "/v1/chat/completions", chat_body(model), cluster)
    assert resp.status == 200, resp.body[:500]
    reply = json.loads(resp.body)
    assert reply["object"] == "chat.completion"
    assert client.seen(other) == [], "the client's x-modelmux-cluster was honoured"
    [req] = client.seen(label)
    fe_kind = "openai" if label == "openai" else "anthropic"
    assert req["path"] == ("/v1/chat/completions" if fe_kind == "openai" else "/v1/messages")
    if fe_kind == "openai":
        assert req["headers"]["authorization"] == f"Bearer {support.MOCK_OPENAI_KEY}"
    else:
        assert req["headers"]["x-api-key"] == support.MOCK_ANTHROPIC_KEY
    assert req["body"]["model"] == fe.UPSTREAM_MODEL[fe_kind]
    assert_clean(req)


def test_embeddings_ended_by_trailers_are_routed_by_the_filter(client):
    body = {"model": "h2-embed", "input": ["one", "two"]}
    resp = send(client, "/v1/embeddings", body, "c_an")
    assert resp.status == 200, resp.body[:500]
    reply = json.loads(resp.body)
    assert [d["embedding"] for d in reply["data"]] == [support.expected_embedding(t) for t in ("one", "two")]
    assert client.seen("anthropic") == []
    [req] = client.seen("openai")
    assert req["path"] == "/v1/embeddings"
    assert req["headers"]["authorization"] == f"Bearer {support.MOCK_OPENAI_KEY}"
    assert req["body"]["model"] == "text-embedding-3-small"
    assert_clean(req)


def test_failover_attempts_ended_by_trailers_are_each_translated(client):
    client.mock.fault("openai", {"status": 503})
    # The rotation cluster of the model's second target, named by the client.
    resp = send(client, "/v1/chat/completions", chat_body("h2-smart"), "modelmux_h2-smart_1")
    assert resp.status == 200, resp.body[:500]
    assert json.loads(resp.body)["object"] == "chat.completion"
    [first] = client.seen("openai")
    [second] = client.seen("anthropic")
    assert first["headers"]["authorization"] == f"Bearer {support.MOCK_OPENAI_KEY}"
    assert second["headers"]["x-api-key"] == support.MOCK_ANTHROPIC_KEY
    assert second["path"] == "/v1/messages" and second["body"]["model"] == "claude-sonnet-4-5"
    for req in (first, second):
        assert_clean(req)
    # The record id the filter issued, the same on both attempts; never the
    # client's x-request-id.
    ids = {first["headers"]["x-request-id"], second["headers"]["x-request-id"]}
    assert len(ids) == 1 and "client-chosen-id" not in ids


def test_a_bad_body_ended_by_trailers_is_an_openai_400(client):
    url = urlparse(client.envoy.gateway)
    resp = h2client.request((url.hostname, url.port), "POST", "/v1/chat/completions",
                            spoofed("c_oa"), b'{"model": "h2-gpt", "messages": [', trailers=TRAILERS)
    assert resp.status == 400, resp.body[:300]
    assert json.loads(resp.body)["error"]["type"] == "invalid_request_error"
    assert client.seen("openai") == [] and client.seen("anthropic") == []


def test_without_trailers_over_h2_is_unchanged(client):
    resp = send(client, "/v1/chat/completions", chat_body("h2-claude"), "c_oa", trailers=None)
    assert resp.status == 200, resp.body[:300]
    assert client.seen("openai") == []
    [req] = client.seen("anthropic")
    assert_clean(req)


def test_a_compressed_body_is_a_415_in_openai_format(client):
    headers = [*spoofed("c_oa"), ("content-encoding", "gzip")]
    url = urlparse(client.envoy.gateway)
    resp = h2client.request((url.hostname, url.port), "POST", "/v1/chat/completions", headers,
                            b"\x1f\x8b\x08\x00", trailers=None)
    assert resp.status == 415, resp.body[:300]
    err = json.loads(resp.body)["error"]
    assert err["code"] == "unsupported_content_encoding"
    assert client.seen("openai") == [] and client.seen("anthropic") == []


def test_record_ids_are_issued_per_request_on_every_worker(client):
    # The same client id on every request, over fresh connections that
    # Envoy spreads over its two workers: each record gets its own id.
    for _ in range(12):
        resp = client.chat("h2-smart", headers={"x-request-id": "same"}, fresh=True)
        assert resp.status_code == 200, resp.text
    ids = [r["headers"]["x-request-id"] for r in client.seen("openai")]
    assert len(ids) == 12 and len(set(ids)) == 12, ids
    assert "same" not in ids
    assert sum(client.worker_connections()) >= 12
