"""What Envoy's output may hold: never a prompt, a reply, a client
credential or a provider key, with the wasm component logging at debug
(the suite's level) and on the error paths that quote request content in
their replies.
"""

from __future__ import annotations

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
