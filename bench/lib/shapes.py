"""Response validation: is a body the chat completion, Anthropic message or
event stream a client expects? `check_shape` raises ValueError if not."""

from __future__ import annotations

import json


def sse_data(body: bytes) -> list[str]:
    return [
        line[5:].strip()
        for line in body.decode(errors="replace").splitlines()
        if line.startswith("data:")
    ]


def check_shape(shape: str, headers: dict[str, str], body: bytes) -> str:
    """Raise ValueError unless `body` looks right; return a short description."""
    if shape == "openai":
        doc = json.loads(body)
        if doc.get("object") != "chat.completion":
            raise ValueError(f"object is {doc.get('object')!r}, want 'chat.completion'")
        content = doc["choices"][0]["message"]["content"]
        if not isinstance(content, str) or not content:
            raise ValueError("choices[0].message.content is empty")
        return f"chat.completion, {len(content)} chars of content"
    if shape == "anthropic":
        doc = json.loads(body)
        if doc.get("type") != "message":
            raise ValueError(f"type is {doc.get('type')!r}, want 'message'")
        text = doc["content"][0]["text"]
        if not isinstance(text, str) or not text:
            raise ValueError("content[0].text is empty")
        return f"message, {len(text)} chars of text"
    if shape == "openai_sse":
        if not headers.get("content-type", "").startswith("text/event-stream"):
            raise ValueError(f"content-type is {headers.get('content-type')!r}")
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
    if shape == "anthropic_sse":
        if not headers.get("content-type", "").startswith("text/event-stream"):
            raise ValueError(f"content-type is {headers.get('content-type')!r}")
        events = [json.loads(d) for d in sse_data(body)]
        types = [e.get("type") for e in events]
        if not types or types[0] != "message_start" or types[-1] != "message_stop":
            raise ValueError(f"event types {types[:3]}...{types[-2:]} not message_start..message_stop")
        text = [anthropic_delta_text(e) for e in events]
        if not any(text):
            raise ValueError("no content_block_delta with text")
        return f"{len(events)} events, {sum(len(t) for t in text)} chars"
    raise ValueError(f"unknown shape {shape}")


def openai_delta_text(chunk: dict) -> str:
    try:
        content = chunk["choices"][0]["delta"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""
    return content if isinstance(content, str) else ""


def anthropic_delta_text(event: dict) -> str:
    if event.get("type") != "content_block_delta":
        return ""
    text = (event.get("delta") or {}).get("text")
    return text if isinstance(text, str) else ""
