"""The client dialects besides OpenAI chat (Anthropic Messages at
`/v1/messages`, OpenAI Responses at `/v1/responses`) and the routes the
bench measures through them, one `Route` each.

A route is a client dialect and the provider the filter sends it to. The
filter gets the client's request for that provider's public model; the
plain Envoy gets the equivalent native request, straight to the provider's
mock, so both rows are the same conversation. When the client's dialect is
the provider's own (Messages → Anthropic), the filter passes the body
through and only rewrites the model.

Every route gets a 1 KB case (`<dialect>-<provider>-1k`), and a stream case
for TTFT (`stream-<dialect>-<provider>`) when `Route.stream` says so. Plain
Envoy never sees `/v1/responses`: no route goes Responses → OpenAI (the
issue's rows are the three below).

These cases need the `dialects` feature of the filter: an older filter
(BENCH_BASELINE_WASM) answers these paths 404, so unless
BENCH_BASELINE_FEATURES lists `dialects` its modelmux-before rows read
n/a."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .bodies import messages_body, openai_body, responses_body
from .cases import Case, Native, Req, body_key, native_req
from .dialects import ANTHROPIC, ANTHROPIC_VERSION

FEATURE = "dialects"
# The report's note on these rows' plain baselines.
NOTE = ("Messages and Responses cases: the filter gets the client's request (Anthropic "
        "Messages at `/v1/messages`, OpenAI Responses at `/v1/responses`) for the "
        "provider's model; plain gets the same conversation as the provider's native "
        "request. Messages->Anthropic is a passthrough (only the model is rewritten); "
        "the others translate the request and the answer.")
SIZE = "1k"


@dataclass(frozen=True)
class Ingress:
    """A dialect the client speaks to the gateway."""
    name: str  # in case ids and body keys
    title: str  # in case titles: "{title}->{provider}"
    path: str
    body: Callable[[str, str, bool], bytes]  # (model, user text, stream)
    shape: str  # check_shape of the filter's answer
    stream_shape: str  # ... and of its stream
    native: str  # the provider (Native.name) this dialect is the API of
    headers: dict[str, str] = field(default_factory=dict)


MESSAGES = Ingress("messages", "Messages", "/v1/messages", messages_body, "anthropic",
                   "anthropic_sse", native="anthropic",
                   headers={"anthropic-version": ANTHROPIC_VERSION})
RESPONSES = Ingress("responses", "Responses", "/v1/responses", responses_body, "responses",
                    "responses_sse", native="openai")


@dataclass(frozen=True)
class OpenAiChat:
    """The OpenAI mock as a provider of the routes: its native request is
    the chat request of the passthrough cases. (Not a lib.dialects Dialect:
    bench.py configures the OpenAI mock and provider itself.)"""
    name: str = "openai"
    title: str = "OpenAI"
    public_model: str = "gpt-4o-mini"
    shape: str = "openai"
    stream_shape: str = "openai_sse"
    feature: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, user: str, stream: bool) -> bytes:
        return openai_body(self.public_model, user, stream)

    def path(self, stream: bool) -> str:
        del stream
        return "/v1/chat/completions"


OPENAI = OpenAiChat()


@dataclass(frozen=True)
class Route:
    ingress: Ingress
    provider: Native
    stream: bool  # also a stream case, measured for TTFT

    @property
    def passthrough(self) -> bool:
        return self.ingress.native == self.provider.name

    @property
    def needs(self) -> frozenset[str]:
        return frozenset({FEATURE, *([self.provider.feature] if self.provider.feature else [])})

    def case_id(self, stream: bool) -> str:
        pair = f"{self.ingress.name}-{self.provider.name}"
        return f"stream-{pair}" if stream else f"{pair}-{SIZE}"

    def filter_key(self, stream: bool) -> str:
        return body_key(f"{self.ingress.name}_{self.provider.name}", SIZE, stream)

    def plain_key(self, stream: bool) -> str:
        return body_key(f"native_{self.provider.name}", SIZE, stream)

    def variants(self) -> tuple[bool, ...]:
        return (False, True) if self.stream else (False,)


# Messages → Anthropic is the passthrough; the other two translate both ways.
ROUTES = (
    Route(MESSAGES, ANTHROPIC, stream=False),
    Route(MESSAGES, OPENAI, stream=True),
    Route(RESPONSES, ANTHROPIC, stream=True),
)


def bodies(text: str) -> dict[str, bytes]:
    """Every route's bodies for the 1 KB user text: the client's request
    for the provider's public model, and the native request plain gets."""
    out = {}
    for r in ROUTES:
        for stream in r.variants():
            out[r.filter_key(stream)] = r.ingress.body(r.provider.public_model, text, stream)
            out[r.plain_key(stream)] = r.provider.body(text, stream)
    return out


def case(r: Route, stream: bool) -> Case:
    i = r.ingress
    how = " (passthrough)" if r.passthrough else ""
    return Case(
        r.case_id(stream),
        f"1 KB chat, {'stream, ' if stream else ''}{i.title}->{r.provider.title}{how}",
        plain=native_req(r.provider, r.plain_key(stream), stream),
        modelmux=Req(i.path, r.filter_key(stream), i.stream_shape if stream else i.shape,
                     dict(i.headers)),
        stream=stream,
        needs=r.needs,
    )


def cases(stream: bool) -> list[Case]:
    """The 1 KB cases (stream False) or the stream cases, in ROUTES order."""
    return [case(r, stream) for r in ROUTES if stream in r.variants()]
