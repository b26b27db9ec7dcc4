"""Usage and stream integrity against real Envoy: implausible usage is
clamped and counted as a provider fault, broken passthrough streams end with
an error event and no [DONE], `stream_options: null` still gets usage, a
client that leaves mid-stream is metered by estimate, and a translated reply
over the response buffer is an OpenAI error, not Envoy's bare text 500.

One stack of its own (mock + Envoy): a small listener buffer limit (64 KiB)
with the filter's `response_buffer_bytes` below it, and models no other test
uses, so counter deltas are this file's alone.
"""

from __future__ import annotations

import json
import re
import socket
import time

import pytest
import requests

import support

MAX_TOKENS = 10_000_000  # core/src/usage.rs MAX_TOKENS
LISTENER_BUFFER = 64 * 1024
RESPONSE_BUFFER = 32 * 1024
USER = [{"role": "user", "content": "count these five words"}]
MODELS = [
    {"name": "ui-openai", "targets": [{"provider": "openai-mock", "model": "gpt-4o-mini"}]},
    {"name": "ui-anthropic", "targets": [{"provider": "anthropic-mock", "model": "claude-sonnet-4-5"}]},
    {"name": "ui-smart", "targets": [{"provider": "openai-mock", "model": "gpt-4o-mini"},
                                     {"provider": "anthropic-mock", "model": "claude-sonnet-4-5"}]},
]


class Stack:
    def __init__(self, mock: support.MockProcess, envoy: support.EnvoyProcess):
        self.mock, self.envoy, self.url = mock, envoy, envoy.gateway

    def chat(self, body, headers=None, **kwargs) -> requests.Response:
        hdrs = {"content-type": "application/json", "authorization": "Bearer client-secret", **(headers or {})}
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return requests.post(self.url + "/v1/chat/completions", data=data, headers=hdrs,
                             timeout=support.HTTP_TIMEOUT, **kwargs)

    def stream(self, body, headers=None) -> support.SSEResult:
        return support.read_sse(self.chat({**body, "stream": True}, headers, stream=True))

    def stat(self, model: str, counter: str) -> int:
        """`counter` of `model`, summed over its targets (a failover model
        is served by whichever target the rotation put first)."""
        prefix, suffix = f"wasmcustom.modelmux.m.{model}.p.", f".{counter}"
        return sum(v for k, v in self.envoy.counters().items()
                   if k.startswith(prefix) and k.endswith(suffix) and k.count(".") == prefix.count(".") + 1)

    def wait_stat(self, model: str, counter: str, want, timeout: float = 5.0) -> int:
        """Counters are flushed on the filter's one-second tick: poll."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.stat(model, counter)
            if want(v) or time.monotonic() > deadline:
                return v
            time.sleep(0.1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    workdir = tmp_path_factory.mktemp("usage-integrity")
    mock = support.MockProcess(workdir / "mock.log").start()
    envoy = None
    try:
        cfg = support.test_filter_config(mock.ports["openai"], mock.ports["anthropic"], MODELS)
        cfg["response_buffer_bytes"] = RESPONSE_BUFFER
        bootstrap = support.render_yaml(cfg)
        assert "per_connection_buffer_limit_bytes: 10485760" in bootstrap
        bootstrap = bootstrap.replace("per_connection_buffer_limit_bytes: 10485760",
                                      f"per_connection_buffer_limit_bytes: {LISTENER_BUFFER}")
        envoy = support.EnvoyProcess(workdir, "envoy").start(bootstrap)
        yield Stack(mock, envoy)
    finally:
        if envoy:
            envoy.stop()
        mock.stop()


# ---- implausible usage -------------------------------------------------------

@pytest.mark.parametrize("model", ["ui-openai", "ui-anthropic"])
@pytest.mark.parametrize("reported,counted", [
    ("18446744073709551615", MAX_TOKENS),
    ("-3", 0),
    ("1.5", 1),
])
def test_implausible_usage_is_clamped_and_counted(stack, model, reported, counted):
    before = {c: stack.stat(model, c) for c in ("output_tokens", "implausible_usage", "errors")}
    resp = stack.chat({"model": model, "messages": USER}, headers={"x-mock-output-tokens": reported})
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"].startswith("Mock reply")
    faults = stack.wait_stat(model, "implausible_usage", lambda v: v > before["implausible_usage"])
    assert faults - before["implausible_usage"] == 1
    assert stack.stat(model, "output_tokens") - before["output_tokens"] == counted
    assert stack.stat(model, "errors") == before["errors"]


def test_implausible_usage_in_a_passthrough_stream(stack):
    before = stack.stat("ui-openai", "implausible_usage")
    out_before = stack.stat("ui-openai", "output_tokens")
    res = stack.stream({"model": "ui-openai", "messages": USER},
                       headers={"x-mock-output-tokens": "18446744073709551615"})
    assert res.status == 200 and res.done, res.raw[-300:]
    assert stack.wait_stat("ui-openai", "implausible_usage", lambda v: v > before) == before + 1
    assert stack.stat("ui-openai", "output_tokens") - out_before == MAX_TOKENS


# ---- broken passthrough streams --------------------------------------------------

@pytest.mark.parametrize("fault", [
    {"x-mock-big-event-bytes": str(4 * 1024 * 1024 + 64)},
    {"x-mock-bad-utf8": "1"},
])
def test_broken_passthrough_stream_ends_with_an_error_and_no_done(stack, fault):
    res = stack.stream({"model": "ui-openai", "messages": USER}, headers=fault)
    assert res.status == 200
    assert res.error is None, res.error
    assert not res.done
    assert "[DONE]" not in res.data
    chunks = res.chunks()
    assert chunks[-1]["error"]["type"] == "server_error", chunks[-1]
    assert sum(1 for c in chunks if "error" in c) == 1
    # The event before the bad one went through; nothing after the error.
    assert "error" not in chunks[0]


# ---- stream_options: null ------------------------------------------------------

def test_null_stream_options_is_replaced_and_usage_counted(stack):
    stack.mock.clear()
    before = stack.stat("ui-openai", "output_tokens")
    body = json.dumps({"model": "ui-openai", "messages": USER, "stream": True, "stream_options": None})
    res = support.read_sse(stack.chat(body, stream=True))
    assert res.status == 200 and res.done
    # The client did not ask for usage: it sees no usage chunk.
    assert all(not c.get("usage") for c in res.chunks())
    [sent] = stack.mock.requests("openai")
    assert sent["raw_body"].count('"stream_options"') == 1, sent["raw_body"]
    assert sent["body"]["stream_options"] == {"include_usage": True}
    after = stack.wait_stat("ui-openai", "output_tokens", lambda v: v > before)
    assert after - before == support.words(support.expected_reply("gpt-4o-mini", USER[0]["content"]))


def test_duplicate_stream_options_is_a_400_naming_it(stack):
    raw = ('{"model":"ui-openai","messages":[{"role":"user","content":"hi"}],"stream":true,'
           '"stream_options":null,"stream_options":{"include_usage":false}}')
    resp = stack.chat(raw)
    err = support.assert_openai_error(resp, 400)
    assert err["param"] == "stream_options", err
    assert "Duplicate key" in err["message"]


# ---- client gone mid-stream ----------------------------------------------------

def _leave_after_first_content(stack: Stack, model: str) -> None:
    """A raw HTTP/1.1 client that reads the first content chunk, then resets."""
    body = json.dumps({"model": model, "messages": USER, "stream": True}).encode()
    host, port = stack.url.removeprefix("http://").rsplit(":", 1)
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
            f"authorization: Bearer client-secret\r\nx-mock-event-delay-ms: 300\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(head + body)
        seen = b""
        while not re.search(rb'"content":"[^"]', seen):
            piece = s.recv(65536)
            assert piece, seen
            seen += piece
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


@pytest.mark.parametrize("model", ["ui-openai", "ui-smart"])
def test_client_gone_mid_stream_is_metered_by_estimate(stack, model):
    before = {c: stack.stat(model, c) for c in
              ("estimated_output_tokens", "estimated_input_tokens", "usage_estimated", "output_tokens")}
    _leave_after_first_content(stack, model)
    n = stack.wait_stat(model, "usage_estimated", lambda v: v > before["usage_estimated"], timeout=10)
    assert n == before["usage_estimated"] + 1
    assert stack.stat(model, "estimated_output_tokens") > before["estimated_output_tokens"]
    assert stack.stat(model, "estimated_input_tokens") > before["estimated_input_tokens"]
    # The provider's usage never arrived: only the estimate counts.
    assert stack.stat(model, "output_tokens") == before["output_tokens"]


# ---- replies over the response buffer --------------------------------------------

@pytest.mark.parametrize("model", ["ui-anthropic", "ui-smart"])
def test_reply_over_the_buffer_is_an_openai_json_error(stack, model):
    resp = stack.chat({"model": model, "messages": USER}, headers={"x-mock-pad-bytes": str(4 * LISTENER_BUFFER)})
    err = support.assert_openai_error(resp, 502, "response_too_large")
    assert err["type"] == "server_error"
    assert str(RESPONSE_BUFFER) in err["message"]
    assert resp.headers.get("content-length") == str(len(resp.content))
    # Under the limit the same reply is fine.
    ok = stack.chat({"model": model, "messages": USER}, headers={"x-mock-pad-bytes": str(RESPONSE_BUFFER // 2)})
    assert ok.status_code == 200, ok.text
