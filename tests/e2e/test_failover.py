"""Cross-provider failover within one client request, through real Envoy
(`--concurrency 2`): every failure class, both directions, JSON and streams,
what each provider received, and the client's status when all fail.

Ejection is switched off here (`consecutive_failures` is huge) so that every
request really tries the first target; test_health.py covers ejection.
"""

from __future__ import annotations

import json
import time

import pytest

import failover_env as fe
import support

MODELS = [
    fe.model("oa-an", "oa", "an"),
    fe.model("an-oa", "an", "oa"),
    fe.model("tri", "oa", "an", "ob"),
    fe.model("refused", "dead", "an"),
    fe.model("tls", "ot", "at"),
    # Its first rotation's YAML is tampered with below (endpoint metadata
    # naming a provider the filter does not know).
    fe.model("mismatch", "oa", "an"),
]

FAILOVER = {"attempt_timeout_ms": 1500, "json_timeout_ms": 8000, "consecutive_failures": 1000000,
            "retry_buffer_bytes": 65536}


@pytest.fixture(scope="module")
def pki(workdir):
    return fe.make_certs(workdir)


@pytest.fixture(scope="module")
def fmock(workdir, pki):
    proc = fe.start_mock(workdir, pki)
    yield proc
    proc.stop()


def tamper(yaml: str) -> str:
    """Points the first endpoint of `modelmux_mismatch_0` at provider `ghost`."""
    at = yaml.index("name: modelmux_mismatch_0")
    meta = yaml.index("modelmux: { provider: oa }", at)
    return yaml[:meta] + "modelmux: { provider: ghost }" + yaml[meta + len("modelmux: { provider: oa }"):]


@pytest.fixture(scope="module")
def gw(workdir, fmock, pki):
    cfg = fe.filter_config(fmock, pki, MODELS, FAILOVER)
    envoy = support.EnvoyProcess(workdir, "envoy-failover", extra_args=["--concurrency", "2"])
    envoy.start(tamper(support.render_yaml(cfg)))
    yield fe.Client(envoy, fmock)
    envoy.stop()


@pytest.fixture
def client(gw):
    gw.clear()
    return gw


# fault name -> headers that make the first target fail that way
FAULTS = {
    "429": {"x-mock-status": "429"},
    "500": {"x-mock-status": "500"},
    "502": {"x-mock-status": "502"},
    "503": {"x-mock-status": "503"},
    "504": {"x-mock-status": "504"},
    "529": {"x-mock-status": "529"},
    "overloaded-2xx": {"x-mock-overloaded": "1"},
    "reset": {"x-mock-reset": "1"},
    "timeout": {"x-mock-delay-ms": "3000"},
}

# A slow non-streamed reply is waited for, not failed over (see
# test_slow_json_reply_is_waited_for): "timeout" is a failure for streams only.
CASES = [(fault, stream) for fault in sorted(FAULTS) for stream in (False, True)
         if stream or fault != "timeout"]

DIRECTIONS = {
    # model -> (first label, second label, second kind)
    "oa-an": ("openai", "anthropic", "anthropic"),
    "an-oa": ("anthropic", "openai", "openai"),
}


def reply_text(resp, stream: bool) -> str:
    if stream:
        result = support.read_sse(resp)
        assert result.status == 200, result.raw[:500]
        assert result.done, f"stream did not end with [DONE]: {result.raw[-300:]!r}"
        return support.stream_text(result.chunks())
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["object"] == "chat.completion", body
    return body["choices"][0]["message"]["content"]


def assert_native(req: dict, kind: str) -> None:
    """The request is in `kind`'s wire format with `kind`'s key only."""
    headers = req["headers"]
    body = req["body"]
    assert "client-secret" not in json.dumps(headers)
    if kind == "openai":
        assert req["path"] == "/v1/chat/completions"
        assert headers.get("authorization") == f"Bearer {support.MOCK_OPENAI_KEY}"
        assert "x-api-key" not in headers and "anthropic-version" not in headers
        assert body["model"] == "gpt-4o-mini"
    else:
        assert req["path"] == "/v1/messages"
        assert headers.get("x-api-key") == support.MOCK_ANTHROPIC_KEY
        assert "authorization" not in headers
        assert body["model"] == "claude-sonnet-4-5" and "max_tokens" in body


@pytest.mark.parametrize("fault,stream", CASES,
                         ids=[f"{f}-{'stream' if s else 'json'}" for f, s in CASES])
@pytest.mark.parametrize("model", sorted(DIRECTIONS))
def test_failure_fails_over(client, model, fault, stream):
    first, second, kind = DIRECTIONS[model]
    headers = {"x-mock-only": first, **FAULTS[fault]}
    resp = client.chat(model, stream=stream, headers=headers)
    text = reply_text(resp, stream)
    assert text == support.expected_reply(fe.UPSTREAM_MODEL[kind], "hello"), text
    assert resp.headers.get("x-modelmux-provider") == {"openai": "oa", "anthropic": "an"}[second]
    assert "x-modelmux-status" not in resp.headers
    tried, served = client.seen(first), client.seen(second)
    assert len(tried) == 1 and len(served) == 1, (tried, served)
    assert_native(tried[0], "openai" if first == "openai" else "anthropic")
    assert_native(served[0], kind)
    if stream and kind == "openai":
        assert served[0]["body"]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("model", sorted(DIRECTIONS))
def test_slow_json_reply_is_waited_for(client, model):
    """A non-streamed reply slower than attempt_timeout_ms (1.5 s) is not
    abandoned and replayed on the next target (which would bill it too):
    the client gets the first target's answer, the second hears nothing."""
    first, second, _ = DIRECTIONS[model]
    started = time.monotonic()
    resp = client.chat(model, headers={"x-mock-only": first, "x-mock-delay-ms": "3000"})
    assert time.monotonic() - started >= 3.0
    kind = "openai" if first == "openai" else "anthropic"
    assert reply_text(resp, False) == support.expected_reply(fe.UPSTREAM_MODEL[kind], "hello")
    assert resp.headers.get("x-modelmux-provider") == {"openai": "oa", "anthropic": "an"}[first]
    assert len(client.seen(first)) == 1
    assert client.seen(second) == [], "a slow non-streamed reply must not be replayed elsewhere"


@pytest.fixture(scope="module")
def opted_in(workdir, fmock, pki):
    """A gateway whose operator asked for per-attempt timeouts on
    non-streamed requests too (failover.json_attempt_timeout_ms)."""
    cfg = fe.filter_config(fmock, pki, [fe.model("oa-an", "oa", "an")],
                           {**FAILOVER, "json_attempt_timeout_ms": 1500})
    envoy = fe.start_envoy(workdir, "envoy-failover-json-attempt", cfg)
    yield fe.Client(envoy, fmock)
    envoy.stop()


def test_json_attempt_timeout_opts_in_to_failing_over_slow_replies(opted_in):
    opted_in.clear()
    resp = opted_in.chat("oa-an", headers={"x-mock-only": "openai", "x-mock-delay-ms": "3000"})
    assert reply_text(resp, False) == support.expected_reply("claude-sonnet-4-5", "hello")
    assert len(opted_in.seen("openai")) == 1 and len(opted_in.seen("anthropic")) == 1
    # The upstream filter classes the abandoned attempt against the JSON
    # route's own attempt timeout.
    support.wait_until(lambda: opted_in.counter("oa-an", "oa", "failures_timeout") == 1, 5,
                       what="failures_timeout for the abandoned attempt")


def test_refused_connection_fails_over(client):
    resp = client.chat("refused")
    assert reply_text(resp, False) == support.expected_reply("claude-sonnet-4-5", "hello")
    assert len(client.seen("anthropic")) == 1


def test_openai_to_anthropic_and_back_never_leaks_a_key(client):
    headers = {"x-mock-only": "openai,anthropic", "x-mock-status": "503"}
    resp = client.chat("tri", headers=headers)
    assert reply_text(resp, False) == support.expected_reply("gpt-4o-mini", "hello")
    (a,), (b,), (c,) = client.seen("openai"), client.seen("anthropic"), client.seen("openai-b")
    assert_native(a, "openai")
    assert_native(b, "anthropic")
    assert_native(c, "openai")


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_every_target_failing_returns_the_last_real_status(client, stream):
    headers = {"x-mock-only": "openai,anthropic", "x-mock-status": "429"}
    resp = client.chat("oa-an", stream=stream, headers=headers)
    err = support.assert_openai_error(resp, 429)
    assert "x-modelmux-status" not in resp.headers
    assert len(client.seen("openai")) == 1 and len(client.seen("anthropic")) == 1
    assert err["message"], err
    resp = client.chat("an-oa", headers={"x-mock-only": "anthropic,openai", "x-mock-status": "503"})
    support.assert_openai_error(resp, 503)


def test_every_target_refusing_is_an_openai_error(client):
    resp = client.chat("refused", headers={"x-mock-only": "anthropic", "x-mock-reset": "1"})
    err = support.assert_openai_error(resp, 503)
    assert err["type"] == "server_error"


@pytest.mark.parametrize("model", sorted(DIRECTIONS))
def test_no_failover_after_the_first_byte(client, model):
    """A provider that fails mid-stream, after content reached the client:
    the stream ends with an OpenAI error event and no [DONE]; the second
    target is never asked (the response had started)."""
    first, second, _ = DIRECTIONS[model]
    # Paced, so content reaches the client before the error does (an error
    # that arrives together with the first content still fails over).
    headers = {"x-mock-only": first, "x-mock-stream-error": "1", "x-mock-event-delay-ms": "150"}
    resp = client.chat(model, stream=True, headers=headers)
    result = support.read_sse(resp)
    assert result.status == 200
    assert not result.done
    payloads = [json.loads(d) for d in result.data]
    assert support.stream_text([p for p in payloads if "choices" in p]), payloads
    assert "error" in payloads[-1], payloads[-1]
    assert client.seen(second) == [], "a stream already under way must not be retried"


def test_a_stream_cut_after_the_first_byte_is_not_retried(client):
    headers = {"x-mock-only": "openai", "x-mock-cut-after": "2", "x-mock-event-delay-ms": "150"}
    resp = client.chat("oa-an", stream=True, headers=headers)
    result = support.read_sse(resp)
    assert not result.done
    assert client.seen("anthropic") == []


def test_client_errors_are_not_retried(client):
    resp = client.chat("oa-an", headers={"x-mock-only": "openai", "x-mock-status": "400"})
    support.assert_openai_error(resp, 400)
    assert client.seen("anthropic") == []


def test_failover_over_tls_with_per_endpoint_sni(client, fmock, pki):
    before = len(fe.seen_tls(fmock, pki, "anthropic-tls"))
    resp = client.chat("tls", headers={"x-mock-only": "openai-tls", "x-mock-status": "503"})
    assert reply_text(resp, False) == support.expected_reply("claude-sonnet-4-5", "hello")
    tried = fe.seen_tls(fmock, pki, "openai-tls")[-1]
    served = fe.seen_tls(fmock, pki, "anthropic-tls")
    assert len(served) == before + 1
    assert tried["sni"] == "openai.mock.test"
    assert served[-1]["sni"] == "anthropic.mock.test"
    assert served[-1]["headers"].get(":authority", served[-1]["headers"].get("host")) == "anthropic.mock.test"
    assert_native(tried, "openai")
    assert_native(served[-1], "anthropic")


def test_a_body_over_the_retry_buffer_is_refused_not_silently_unretried(client):
    resp = client.chat("oa-an", text="x " * 40000)
    err = support.assert_openai_error(resp, 413)
    assert "failover buffer" in err["message"]
    assert client.seen("openai") == [] and client.seen("anthropic") == []
    assert "over the retry buffer" in client.envoy.log()
    # Just under the limit, failover still works and nothing is abandoned.
    resp = client.chat("oa-an", text="x " * 30000, headers={"x-mock-only": "openai", "x-mock-status": "503"})
    assert resp.status_code == 200, resp.text
    abandoned = sum(v for k, v in client.stats().items() if k.endswith("retry_or_shadow_abandoned"))
    assert abandoned == 0


def test_stats_count_attempts_failures_and_failovers(client):
    time.sleep(1.2)
    base = client.stats()
    for _ in range(3):
        assert client.chat("oa-an", headers={"x-mock-only": "openai", "x-mock-status": "429"}).status_code == 200
    assert client.chat("oa-an").status_code == 200
    time.sleep(1.5)
    now = client.stats()

    def delta(provider, name):
        key = f"wasmcustom.modelmux.m.oa-an.p.{provider}.{name}"
        return now.get(key, 0) - base.get(key, 0)

    assert delta("oa", "attempts") == 4
    assert delta("oa", "failures_429") == 3
    assert delta("an", "attempts") == 3
    assert delta("an", "failovers") == 3
    assert delta("an", "requests") == 3
    assert delta("oa", "requests") == 1
    assert delta("an", "input_tokens") == 3
    assert delta("oa", "exhausted") + delta("an", "exhausted") == 0


def access_lines(client) -> list[dict]:
    return [json.loads(raw) for raw in client.envoy.log().splitlines() if raw.startswith('{"')]


def test_access_log_shows_model_provider_attempts_and_status(client):
    rid = f"access-log-{time.monotonic_ns()}"
    resp = client.chat("oa-an", headers={"x-mock-only": "openai", "x-mock-status": "503", "x-request-id": rid})
    assert resp.status_code == 200

    def line():
        return next((e for e in access_lines(client) if e.get("request_id") == rid), None)

    entry = support.wait_until(line, 10, what="access log line")
    assert entry["model"] == "oa-an"
    assert entry["provider"] == "an"
    assert str(entry["attempts"]) == "2"
    assert str(entry["status"]) == "200"
    # The client's path; the serving (Anthropic) attempt's apart.
    assert entry["path"] == "/v1/chat/completions"
    assert entry["upstream_path"] == "/v1/messages"
    # What the serving attempt used, as counted by the filter.
    usage = resp.json()["usage"]
    assert entry["upstream_model"] == "claude-sonnet-4-5"
    assert str(entry["input_tokens"]) == str(usage["prompt_tokens"])
    assert str(entry["output_tokens"]) == str(usage["completion_tokens"])


def test_an_endpoint_the_config_does_not_know_is_an_error_not_a_guess(client):
    resp = client.chat("mismatch")
    err = support.assert_openai_error(resp, 502, code="gateway_config_mismatch")
    assert "configuration" in err["message"]
    assert client.seen("openai") == [] and client.seen("anthropic") == []
    assert "metadata modelmux.provider is `ghost`" in client.envoy.log()
    time.sleep(1.2)
    assert client.stats().get("wasmcustom.modelmux.config_mismatch", 0) >= 1


def test_no_provider_key_in_envoy_output(gw):
    """Runs last in this module: nothing above may have logged a key."""
    log = gw.envoy.log()
    assert log, "empty envoy log"
    for key in (support.MOCK_OPENAI_KEY, support.MOCK_ANTHROPIC_KEY):
        assert key not in log, f"provider key {key!r} appears in Envoy's output {gw.envoy.log_path}"
