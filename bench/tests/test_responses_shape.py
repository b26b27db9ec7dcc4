"""The Responses shape checks accept a well-formed answer and reject each
way one can be wrong. The answers are built here, from the documented
event sequence, not recorded."""

import json

import pytest

from lib.shapes import check_shape, event_text

SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}


def response(status="completed", texts=("Hello", " there")):
    return {
        "id": "resp_1", "object": "response", "status": status, "model": "claude-sonnet",
        "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "".join(texts),
                                 "annotations": []}]}],
        "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
    }


def stream_events(texts=("Hello", " there")):
    started = {**response(texts=texts), "status": "in_progress", "output": []}
    item = {"type": "message", "id": "msg_1", "role": "assistant", "content": []}
    events = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0,
         "content_index": 0, "part": {"type": "output_text", "text": ""}},
        *({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
           "content_index": 0, "delta": t} for t in texts),
        {"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0,
         "content_index": 0, "text": "".join(texts)},
        {"type": "response.completed", "response": response(texts=texts)},
    ]
    for i, e in enumerate(events):
        e["sequence_number"] = i
    return events


def sse(events, names=True, eol="\n"):
    out = []
    for e in events:
        if names:
            out.append(f"event: {e['type']}")
        out.append(f"data: {json.dumps(e)}")
        out.append("")
    return (eol.join(out) + eol).encode()


def test_response_object_passes():
    assert check_shape("responses", JSON, json.dumps(response()).encode()).startswith(
        "response, completed, 11 chars")


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(object="chat.completion"), "object"),
    (lambda d: d.update(status="incomplete"), "status"),
    (lambda d: d.update(output=[]), "output_text"),
    (lambda d: d["output"][0]["content"][0].update(type="refusal"), "output_text"),
    (lambda d: d["output"][0].update(type="reasoning"), "output_text"),
])
def test_response_object_rejects(change, message):
    doc = response()
    change(doc)
    with pytest.raises(ValueError, match=message):
        check_shape("responses", JSON, json.dumps(doc).encode())


@pytest.mark.parametrize("names", [True, False])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_stream_passes(names, eol):
    assert check_shape("responses_sse", SSE, sse(stream_events(), names, eol)) == \
        "8 events, 11 chars"


def drop(i):
    def change(events):
        del events[i]
        for n, e in enumerate(events):
            e["sequence_number"] = n
    return change


def renumber_from(start):
    def change(events):
        for n, e in enumerate(events):
            e["sequence_number"] = start + n
    return change


@pytest.mark.parametrize("change, message", [
    (drop(-1), "response.completed"),                      # cut short
    (drop(0), "response.created"),
    (renumber_from(1), "sequence_number"),
    (lambda ev: ev[4].update(sequence_number=7), "sequence_number"),  # a gap
    (lambda ev: ev.insert(3, ev[2]), "sequence_number"),   # a repeat
    (lambda ev: ev[-1]["response"].update(status="failed"), "status"),
    (lambda ev: ev[-1]["response"]["output"][0]["content"][0].update(text="Hello"),
     "output_text"),                                       # final disagrees with deltas
    (lambda ev: [e.update(delta="") for e in ev if "delta" in e], "delta"),
])
def test_stream_rejects(change, message):
    events = stream_events()
    change(events)
    with pytest.raises(ValueError, match=message):
        check_shape("responses_sse", SSE, sse(events))


def test_stream_rejects_event_name_not_its_type():
    body = sse(stream_events()).replace(b"event: response.in_progress",
                                        b"event: response.created", 1)
    with pytest.raises(ValueError, match="carries type"):
        check_shape("responses_sse", SSE, body)


def test_stream_rejects_json_content_type():
    with pytest.raises(ValueError, match="content-type"):
        check_shape("responses_sse", JSON, sse(stream_events()))


def test_event_text_is_the_output_text_delta():
    events = stream_events()
    texts = [event_text("responses_sse", json.dumps(e).encode()) for e in events]
    assert texts == ["", "", "", "", "Hello", " there", "", ""]

