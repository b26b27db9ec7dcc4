"""What an OpenAI Responses answer must look like for the bench to accept
it: a `response` object, or the typed event stream that ends in one.

A stream passes when it runs from `response.created` (sequence number 0)
to `response.completed`, its sequence numbers go up by one with no gap,
each `event:` name is its payload's `type`, and the text of its
`response.output_text.delta` events is the output text of the completed
response. A stream cut short, reordered or re-numbered, or one whose
final object disagrees with what was streamed, fails."""

from __future__ import annotations

import json

from . import sse


def output_text(doc: dict) -> str:
    """The output_text parts of a response's message items, joined."""
    parts = []
    for item in doc.get("output") or []:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        for part in item.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "output_text" \
                    and isinstance(part.get("text"), str):
                parts.append(part["text"])
    return "".join(parts)


def check_object(doc: dict, where: str = "") -> str:
    if doc.get("object") != "response":
        raise ValueError(f"{where}object is {doc.get('object')!r}, want 'response'")
    if doc.get("status") != "completed":
        raise ValueError(f"{where}status is {doc.get('status')!r}, want 'completed'")
    text = output_text(doc)
    if not text:
        raise ValueError(f"{where}output has no message with output_text")
    return text


def check_response(headers: dict[str, str], body: bytes) -> str:
    del headers
    doc = json.loads(body)
    if not isinstance(doc, dict):
        raise ValueError("body is not a JSON object")
    text = check_object(doc)
    return f"response, completed, {len(text)} chars of output_text"


def delta_text(event: dict) -> str:
    """The text a `response.output_text.delta` event carries."""
    if event.get("type") != "response.output_text.delta":
        return ""
    delta = event.get("delta")
    return delta if isinstance(delta, str) else ""


def check_stream(headers: dict[str, str], body: bytes) -> str:
    if not headers.get("content-type", "").startswith("text/event-stream"):
        raise ValueError(f"content-type is {headers.get('content-type')!r}")
    raw = sse.events(body)
    docs = [json.loads(e.data) for e in raw]
    if not docs or any(not isinstance(d, dict) for d in docs):
        raise ValueError("no events, or an event that is not a JSON object")
    types = [d.get("type") for d in docs]
    if types[0] != "response.created" or types[-1] != "response.completed":
        raise ValueError(f"event types {types[:2]}...{types[-2:]} "
                         "not response.created..response.completed")
    for e, t in zip(raw, types):
        if e.name is not None and e.name != t:
            raise ValueError(f"event: {e.name!r} carries type {t!r}")
    seq = [d.get("sequence_number") for d in docs]
    if seq != list(range(len(docs))):
        raise ValueError(f"sequence_number {seq[:4]}... is not 0, 1, 2, ... without gaps")
    streamed = "".join(delta_text(d) for d in docs)
    if not streamed:
        raise ValueError("no response.output_text.delta with text")
    final = check_object(docs[-1].get("response") or {}, "response.completed: ")
    if final != streamed:
        raise ValueError(f"response.completed has {len(final)} chars of output_text, "
                         f"the deltas {len(streamed)}")
    return f"{len(docs)} events, {len(streamed)} chars"
