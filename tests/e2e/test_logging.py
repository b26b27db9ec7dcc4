"""What Envoy's output may hold: never a prompt, a reply, a client
credential or a provider key, with the wasm component logging at debug
(the suite's level) and on the error paths that quote request content in
their replies. And what the access log says about a request's paths: the
client's, and the provider's in its own field.
"""

from __future__ import annotations

import json
import time

import support

MARKER = "zebra-quartz-4471"
CLIENT_KEY = "client-secret-7310"


def test_no_prompt_reply_or_credential_in_envoy_output(gateway):
    headers = {"authorization": f"Bearer {CLIENT_KEY}", "x-api-key": CLIENT_KEY}
    prompt = {"role": "user", "content": f"say {MARKER}"}
    for model in ("gpt-4o-mini", "claude-sonnet"):
        ok = gateway.chat({"model": model, "messages": [prompt]}, headers=headers)
        assert ok.status_code == 200, ok.text
        stream = gateway.chat_stream({"model": model, "messages": [prompt]}, headers=headers)
        assert stream.status == 200
        # Rejections whose messages quote the request.
        bad = gateway.chat({"model": model, "messages": [prompt], f"x_{MARKER}": 1}, headers=headers)
        assert bad.status_code == 400 and MARKER in bad.text
    unknown = gateway.chat({"model": f"m-{MARKER}", "messages": [prompt]}, headers=headers)
    assert unknown.status_code == 404 and MARKER in unknown.text
    # The mock echoes the prompt, so the marker was in every reply body too.
    log = support.wait_until(lambda: gateway.envoy.log(), 5, what="envoy log")
    for secret in (MARKER, CLIENT_KEY, support.MOCK_OPENAI_KEY, support.MOCK_ANTHROPIC_KEY):
        assert secret not in log, f"{secret!r} appears in Envoy's output {gateway.envoy.log_path}"


def access_entries(gateway, rids: list[str]) -> dict[str, dict]:
    """The access log lines of these request ids (Envoy flushes the log
    every 10 s by default)."""

    def find():
        found = {}
        for raw in gateway.envoy.log().splitlines():
            if raw.startswith('{"'):
                entry = json.loads(raw)
                if entry.get("request_id") in rids:
                    found[entry["request_id"]] = entry
        return found if len(found) == len(rids) else None

    return support.wait_until(find, 20, what=f"access log lines {rids}")


def test_access_log_keeps_the_client_path_and_the_upstream_path_apart(gateway):
    """The filter rewrites `:path` for Anthropic; `%REQ(:PATH)%` would log
    `/v1/messages` as if the client had asked for it."""
    chat_id, health_id = (f"paths-{kind}-{time.monotonic_ns()}" for kind in ("chat", "health"))
    ok = gateway.chat({"model": "claude-sonnet", "messages": [{"role": "user", "content": "hi"}]},
                      headers={"x-request-id": chat_id})
    assert ok.status_code == 200, ok.text
    # A request the filter leaves to Envoy: its own path, nothing upstream.
    health = gateway.request("GET", "/healthz", headers={"x-request-id": health_id})
    assert health.status_code == 200
    entries = access_entries(gateway, [chat_id, health_id])
    chat = entries[chat_id]
    assert chat["path"] == "/v1/chat/completions"
    assert chat["upstream_path"] == "/v1/messages"
    assert chat["provider"] == "anthropic-mock"
    assert entries[health_id]["path"] == "/healthz"
    assert entries[health_id]["upstream_path"] is None
