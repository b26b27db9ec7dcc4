"""Response validation: is a body the chat completion, Anthropic message,
Responses `response` (lib/responses.py), Gemini response, Bedrock Converse
answer or stream a client expects? `check_shape` raises ValueError if not;
`event_text` is the text one stream event carries."""

from __future__ import annotations

import json

from . import eventstream, responses


def sse_data(body: bytes) -> list[str]:
    return [
        line[5:].strip()
        for line in body.decode(errors="replace").splitlines()
        if line.startswith("data:")
    ]


def check_shape(shape: str, headers: dict[str, str], body: bytes) -> str:
    """Raise ValueError unless `body` looks right; return a short description."""
    check = _CHECKS.get(shape)
    if check is None:
        raise ValueError(f"unknown shape {shape}")
    return check(headers, body)


def event_stream(headers: dict[str, str]) -> None:
    if not headers.get("content-type", "").startswith("text/event-stream"):
        raise ValueError(f"content-type is {headers.get('content-type')!r}")


def check_openai(headers: dict[str, str], body: bytes) -> str:
    doc = json.loads(body)
    if doc.get("object") != "chat.completion":
        raise ValueError(f"object is {doc.get('object')!r}, want 'chat.completion'")
    content = doc["choices"][0]["message"]["content"]
    if not isinstance(content, str) or not content:
        raise ValueError("choices[0].message.content is empty")
    return f"chat.completion, {len(content)} chars of content"


def check_anthropic(headers: dict[str, str], body: bytes) -> str:
    doc = json.loads(body)
    if doc.get("type") != "message":
        raise ValueError(f"type is {doc.get('type')!r}, want 'message'")
    text = doc["content"][0]["text"]
    if not isinstance(text, str) or not text:
        raise ValueError("content[0].text is empty")
    return f"message, {len(text)} chars of text"


def check_openai_sse(headers: dict[str, str], body: bytes) -> str:
    event_stream(headers)
    data = sse_data(body)
    if not data or data[-1] != "[DONE]":
        raise ValueError("stream does not end with 'data: [DONE]'")
    chunks = [json.loads(d) for d in data[:-1]]
    if any(c.get("object") != "chat.completion.chunk" for c in chunks):
        raise ValueError("a data event is not a chat.completion.chunk")
    content = [openai_delta_text(c) for c in chunks]
    if not any(content):
        raise ValueError("no chunk carries delta.content")
    return f"{len(chunks)} chunks + [DONE], {sum(len(c) for c in content)} chars"


def check_anthropic_sse(headers: dict[str, str], body: bytes) -> str:
    event_stream(headers)
    events = [json.loads(d) for d in sse_data(body)]
    types = [e.get("type") for e in events]
    if not types or types[0] != "message_start" or types[-1] != "message_stop":
        raise ValueError(f"event types {types[:3]}...{types[-2:]} not message_start..message_stop")
    text = [anthropic_delta_text(e) for e in events]
    if not any(text):
        raise ValueError("no content_block_delta with text")
    return f"{len(events)} events, {sum(len(t) for t in text)} chars"


def check_gemini(headers: dict[str, str], body: bytes) -> str:
    doc = json.loads(body)
    text = gemini_text(doc)
    if not text:
        raise ValueError("candidates[0].content.parts carry no text")
    finish = doc["candidates"][0].get("finishReason")
    if not finish:
        raise ValueError("candidates[0] has no finishReason")
    return f"GenerateContentResponse, {len(text)} chars of text, {finish}"


def check_gemini_sse(headers: dict[str, str], body: bytes) -> str:
    event_stream(headers)
    chunks = [json.loads(d) for d in sse_data(body)]
    if not chunks:
        raise ValueError("no data events")
    if any("candidates" not in c for c in chunks):
        raise ValueError("a data event has no candidates (an error?)")
    if not chunks[-1]["candidates"][0].get("finishReason"):
        raise ValueError("the last chunk has no finishReason")
    text = [gemini_text(c) for c in chunks]
    if not any(text):
        raise ValueError("no chunk carries text")
    return f"{len(chunks)} chunks, {sum(len(t) for t in text)} chars"


def check_bedrock(headers: dict[str, str], body: bytes) -> str:
    doc = json.loads(body)
    text = bedrock_text(doc)
    if not text:
        raise ValueError("output.message.content carries no text")
    if not doc.get("stopReason"):
        raise ValueError("no stopReason")
    return f"Converse, {len(text)} chars of text, {doc['stopReason']}"


def bedrock_text(doc: dict) -> str:
    try:
        content = doc["output"]["message"]["content"]
    except (KeyError, TypeError):
        return ""
    return "".join(b["text"] for b in content
                   if isinstance(b, dict) and isinstance(b.get("text"), str))


def check_bedrock_stream(headers: dict[str, str], body: bytes) -> str:
    """A ConverseStream answer: event messages from messageStart to
    metadata (after messageStop), none an exception, some text deltas."""
    ctype = headers.get("content-type", "")
    if not ctype.startswith("application/vnd.amazon.eventstream"):
        raise ValueError(f"content-type is {ctype!r}")
    msgs = eventstream.messages(body)
    types = [h.get(":event-type") or h.get(":exception-type") for h, _ in msgs]
    if any(h.get(":message-type") != "event" for h, _ in msgs):
        raise ValueError(f"a message is not an event: {types}")
    if not types or types[0] != "messageStart" or "messageStop" not in types \
            or types[-1] != "metadata":
        raise ValueError(f"event types {types[:3]}...{types[-2:]} not messageStart..metadata")
    text = [bedrock_event_text(h, p) for h, p in msgs]
    if not any(text):
        raise ValueError("no contentBlockDelta with text")
    return f"{len(msgs)} events, {sum(len(t) for t in text)} chars"


def bedrock_event_text(headers: dict[str, str], payload: bytes) -> str:
    """The text a ConverseStream `contentBlockDelta` event carries."""
    if headers.get(":event-type") != "contentBlockDelta":
        return ""
    try:
        text = json.loads(payload)["delta"].get("text")
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""
    return text if isinstance(text, str) else ""


def openai_delta_text(chunk: dict) -> str:
    try:
        content = chunk["choices"][0]["delta"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""
    return content if isinstance(content, str) else ""


def gemini_text(doc: dict) -> str:
    """The text parts (not thoughts) of a GenerateContentResponse's first
    candidate, joined."""
    try:
        parts = doc["candidates"][0]["content"]["parts"]
    except (KeyError, IndexError, TypeError):
        return ""
    return "".join(p["text"] for p in parts
                   if isinstance(p, dict) and isinstance(p.get("text"), str)
                   and not p.get("thought"))


def anthropic_delta_text(event: dict) -> str:
    if event.get("type") != "content_block_delta":
        return ""
    text = (event.get("delta") or {}).get("text")
    return text if isinstance(text, str) else ""


_CHECKS = {
    "openai": check_openai,
    "anthropic": check_anthropic,
    "responses": responses.check_response,
    "gemini": check_gemini,
    "bedrock": check_bedrock,
    "openai_sse": check_openai_sse,
    "anthropic_sse": check_anthropic_sse,
    "responses_sse": responses.check_stream,
    "gemini_sse": check_gemini_sse,
    "bedrock_eventstream": check_bedrock_stream,
}

_EVENT_TEXT = {
    "openai_sse": openai_delta_text,
    "anthropic_sse": anthropic_delta_text,
    "responses_sse": responses.delta_text,
    "gemini_sse": gemini_text,
}


def event_text(shape: str, data: bytes) -> str:
    """The content text one `data:` payload of a `shape` stream carries
    ("" for `[DONE]`, non-JSON and events without text)."""
    if data == b"[DONE]":
        return ""
    try:
        doc = json.loads(data)
    except ValueError:
        return ""
    return _EVENT_TEXT[shape](doc) if isinstance(doc, dict) else ""
