"""What a bench case is: the request each Envoy gets (`Req`) and the case
around them (`Case`), plus how generated bodies are keyed. bench.py and
the case tables (`lib/dialects.py`, `lib/ingress.py`) share these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

# Paced connections by default: enough that each cycle (think + latency)
# is >= this many ms (see bench.py's paced_connections and bench/README.md).
PACED_MIN_CYCLE_MS = 2.5


@dataclass
class Req:
    path: str
    body: str  # key into the bodies dict
    shape: str  # a lib.shapes check_shape shape: openai, anthropic_sse, gemini, ...
    headers: dict[str, str] = field(default_factory=dict)
    # Upstream requests Envoy sends per response (2 when every request
    # fails over once); checked against Envoy's counters.
    upstream_per_response: int = 1


@dataclass
class Case:
    id: str
    title: str
    plain: Req
    modelmux: Req
    stream: bool = False
    # Filter features (bench.py's FEATURES) the case uses: the
    # `modelmux-before` Envoy runs it only if its filter has them all
    # (BENCH_BASELINE_FEATURES).
    needs: frozenset[str] = frozenset()
    # Shortest cycle (think + latency) per paced connection; longer when the
    # modelmux side's latency is long, so enough connections reach the rate.
    paced_cycle_ms: float = PACED_MIN_CYCLE_MS


def body_key(api: str, size: str, stream: bool) -> str:
    """Key of a generated body: `api` is "openai" (through the filter,
    passthrough model), "openai_<dialect>" (through the filter, translated
    to that dialect), a dialect's name (its native request), or one of
    lib/ingress.py's keys."""
    return f"{api}_{size}" + ("_stream" if stream else "")


class Native(Protocol):
    """A provider's native API as the plain Envoy is sent it: a
    `lib.dialects.Dialect`, or `lib.ingress.OPENAI`."""
    name: str
    title: str
    public_model: str
    headers: dict[str, str]
    shape: str
    stream_shape: str
    feature: str | None
    body: Callable[[str, bool], bytes]  # (user text, stream) -> request body
    path: Callable[[bool], str]  # stream -> request path


def native_req(d: Native, body: str, stream: bool) -> Req:
    """The native request to `d`'s mock with body key `body`, as the plain
    Envoy gets it for a case that reaches `d` through the filter."""
    return Req(d.path(stream), body, d.stream_shape if stream else d.shape, dict(d.headers))
