"""Chat completions through both providers, non-streaming and streaming."""

from __future__ import annotations

import pytest

from support import expected_reply, finish_reasons, stream_text, words

MODELS = ["gpt-4o-mini", "claude-sonnet"]


def body(model: str, text: str, **extra):
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "An earlier question"},
            {"role": "assistant", "content": "An earlier answer"},
            {"role": "user", "content": text},
        ],
        **extra,
    }


def input_words(b) -> int:
    return sum(words(m["content"]) for m in b["messages"])


@pytest.mark.parametrize("model", MODELS)
def test_chat_completion(gateway, model):
    req = body(model, "What is the capital of France?", max_tokens=64)
    resp = gateway.chat(req)
    assert resp.status_code == 200, resp.text
    assert "application/json" in resp.headers.get("content-type", "")
    data = resp.json()
    want = expected_reply(gateway.upstream_model(model), "What is the capital of France?")

    assert data["object"] == "chat.completion"
    assert isinstance(data["id"], str) and data["id"]
    assert isinstance(data["created"], int)
    assert isinstance(data["model"], str) and data["model"]
    assert len(data["choices"]) == 1
    choice = data["choices"][0]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == want
    assert choice["finish_reason"] == "stop"
    assert data["usage"]["prompt_tokens"] == input_words(req)
    assert data["usage"]["completion_tokens"] == words(want)
    assert data["usage"]["total_tokens"] == input_words(req) + words(want)


@pytest.mark.parametrize("model", MODELS)
def test_chat_stream(gateway, model):
    text = "Stream me a short reply please"
    result = gateway.chat_stream(body(model, text, max_tokens=64))
    assert result.status == 200, result.raw[:500]
    assert result.error is None, f"stream broke: {result.error!r}"
    assert result.headers.get("content-type", "").startswith("text/event-stream")
    assert result.done, f"last data event is not [DONE]: {result.data[-3:]!r}"
    assert result.data.count("[DONE]") == 1

    chunks = result.chunks()
    assert chunks, "no chunks before [DONE]"
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk", chunk
        assert isinstance(chunk["created"], int), chunk
    assert len({c["id"] for c in chunks}) == 1, "all chunks of one completion share an id"
    # Without stream_options.include_usage every chunk carries a choice (naive
    # clients index choices[0]) and none carries usage.
    assert all(c.get("choices") for c in chunks), [c for c in chunks if not c.get("choices")]
    assert not [c for c in chunks if c.get("usage")], "usage chunk sent without include_usage"
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
    assert stream_text(chunks) == expected_reply(gateway.upstream_model(model), text)
    assert finish_reasons(chunks) == ["stop"]


@pytest.mark.parametrize("chunk_bytes", [1, 3])
@pytest.mark.parametrize("model", MODELS)
def test_stream_with_tiny_upstream_writes(gateway, model, chunk_bytes):
    """The upstream writes its SSE body in 1- or 3-byte pieces (splitting
    events and multi-byte UTF-8 characters); the client stream is unaffected."""
    text = "Fragmented upstream writes still work"
    result = gateway.chat_stream(body(model, text), headers={"x-mock-chunk-bytes": str(chunk_bytes)})
    assert result.status == 200, result.raw[:500]
    assert result.error is None, f"stream broke: {result.error!r}"
    assert result.done
    chunks = result.chunks()
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert stream_text(chunks) == expected_reply(gateway.upstream_model(model), text)
    assert finish_reasons(chunks) == ["stop"]


@pytest.mark.parametrize("chunk_bytes", [1, 3])
@pytest.mark.parametrize("model", MODELS)
def test_non_stream_with_tiny_upstream_writes(gateway, model, chunk_bytes):
    text = "Fragmented JSON body"
    resp = gateway.chat(body(model, text), headers={"x-mock-chunk-bytes": str(chunk_bytes)})
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == expected_reply(gateway.upstream_model(model), text)


@pytest.mark.parametrize("model", MODELS)
def test_stream_include_usage(gateway, model):
    text = "count my tokens"
    req = body(model, text, stream_options={"include_usage": True})
    result = gateway.chat_stream(req)
    assert result.status == 200 and result.done, result.raw[:500]
    chunks = result.chunks()
    usage_chunks = [c for c in chunks if c.get("usage")]
    assert len(usage_chunks) == 1, f"expected one usage chunk, got {usage_chunks!r}"
    usage_chunk = usage_chunks[0]
    assert usage_chunk is chunks[-1], "usage chunk is the last before [DONE]"
    assert usage_chunk["choices"] == []
    want = expected_reply(gateway.upstream_model(model), text)
    assert usage_chunk["usage"]["prompt_tokens"] == input_words(req)
    assert usage_chunk["usage"]["completion_tokens"] == words(want)
    assert usage_chunk["usage"]["total_tokens"] == input_words(req) + words(want)


@pytest.mark.parametrize("model", MODELS)
def test_unicode_and_delay(gateway, model):
    text = "Grüße aus Köln — 東京 🚀"
    resp = gateway.chat(body(model, text), headers={"x-mock-delay-ms": "300"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == expected_reply(gateway.upstream_model(model), text)


def test_keepalive_connection_reused_across_models(gateway):
    """Several requests on one client connection, alternating providers."""
    for i in range(6):
        model = MODELS[i % 2]
        resp = gateway.chat(body(model, f"request number {i}"))
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["message"]["content"] == expected_reply(
            gateway.upstream_model(model), f"request number {i}"
        )


@pytest.mark.parametrize("model", MODELS)
def test_large_request_body(gateway, model):
    """A ~400 KB prompt arrives at the filter in many body chunks."""
    text = " ".join(f"w{i}" for i in range(80_000))
    req = {"model": model, "messages": [{"role": "user", "content": text}]}
    resp = gateway.chat(req, timeout=60)
    assert resp.status_code == 200, resp.text[:500]
    data = resp.json()
    want = expected_reply(gateway.upstream_model(model), text)
    assert data["choices"][0]["message"]["content"] == want
    assert data["usage"]["prompt_tokens"] == 80_000


def test_concurrent_mixed_requests(gateway):
    """Interleaved streams and plain requests on both providers stay separate."""
    import requests
    from concurrent.futures import ThreadPoolExecutor

    from support import HTTP_TIMEOUT, read_sse

    def one(i):
        model = MODELS[i % 2]
        text = f"concurrent request {i} " + "pad " * (i % 5)
        text = text.strip()
        body_ = {"model": model, "messages": [{"role": "user", "content": text}]}
        headers = {"content-type": "application/json", "x-mock-delay-ms": str(20 * (i % 4))}
        want = expected_reply(gateway.upstream_model(model), text)
        if i % 3 == 0:
            resp = requests.post(
                gateway.url + "/v1/chat/completions",
                json={**body_, "stream": True},
                headers={**headers, "x-mock-chunk-bytes": "7"},
                stream=True,
                timeout=HTTP_TIMEOUT,
            )
            result = read_sse(resp)
            assert result.status == 200 and result.done, (i, result.raw[:300])
            return stream_text(result.chunks()) == want, i
        resp = requests.post(gateway.url + "/v1/chat/completions", json=body_, headers=headers, timeout=HTTP_TIMEOUT)
        assert resp.status_code == 200, (i, resp.text)
        return resp.json()["choices"][0]["message"]["content"] == want, i

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(24)))
    assert [i for ok, i in results if not ok] == []


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", MODELS)
def test_max_tokens_finish_reason_length(gateway, model, stream):
    """The mock cuts its reply to max_tokens words and reports a length stop
    (Anthropic: stop_reason max_tokens), which must become finish_reason "length"."""
    req = {"model": model, "max_tokens": 3, "messages": [{"role": "user", "content": "a long answer please"}]}
    if stream:
        result = gateway.chat_stream(req)
        assert result.status == 200 and result.done, result.raw[:500]
        content, finishes = stream_text(result.chunks()), finish_reasons(result.chunks())
    else:
        resp = gateway.chat(req)
        assert resp.status_code == 200, resp.text
        choice = resp.json()["choices"][0]
        content, finishes = choice["message"]["content"], [choice["finish_reason"]]
    assert content == "Mock reply \u2713"
    assert finishes == ["length"]


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-sonnet"])
def test_stream_reaches_client_incrementally(gateway, model):
    """The mock pauses 150 ms between events; a gateway that buffered the
    stream would deliver the first token only when the last one is sent."""
    import time

    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": "one two three four"}]}
    start = time.monotonic()
    resp = gateway.chat(body, headers={"x-mock-event-delay-ms": "150"}, stream=True)
    assert resp.status_code == 200
    first_text = None
    for line in resp.iter_lines():
        if first_text is None and line.startswith(b"data: {") and b'"content":"' in line and b'"content":""' not in line:
            first_text = time.monotonic() - start
    total = time.monotonic() - start
    assert first_text is not None
    assert total > 1.0, f"mock pacing not applied (stream took {total:.2f}s)"
    assert first_text < total / 2, f"first token at {first_text:.2f}s of {total:.2f}s: stream was buffered"
