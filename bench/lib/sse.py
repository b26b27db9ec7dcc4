"""Server-sent events of a whole response body, as the SSE spec groups
them: a blank line ends an event, `event:` names it, `data:` lines join
with newlines, `:` lines are comments. Streams whose consumers check the
`event:` name against the payload (Responses, Anthropic) need the grouping;
a list of `data:` lines is not enough."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(r"\r\n|\r|\n")


@dataclass
class Event:
    name: str | None  # the `event:` field; None when absent ("message")
    data: str


def events(body: bytes) -> list[Event]:
    out: list[Event] = []
    name: str | None = None
    data: list[str] | None = None
    for line in _LINE.split(body.decode(errors="replace")):
        if not line:
            if data is not None:
                out.append(Event(name, "\n".join(data)))
            name, data = None, None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data = [*(data or []), value]
    if data is not None:  # no blank line after the last event
        out.append(Event(name, "\n".join(data)))
    return out
