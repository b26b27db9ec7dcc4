"""The native provider APIs the translated cases are measured against, one
`Dialect` each: which mock listener serves it, how the filter config and
the bootstrap templates name it, and the native request the plain Envoy
gets for the OpenAI request the filter translates.

bench.py builds its translated cases (1 KB, stream, 200 KB) from this
table, so every provider is measured the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .bodies import anthropic_body, gemini_body


@dataclass(frozen=True)
class Dialect:
    name: str  # the mock listener's label, body and provider names
    title: str  # in case titles: "OpenAI->{title}"
    kind: str  # the filter's provider `type` and the mock's listener kind
    key: str  # the key the mock checks (the plain route adds it)
    public_model: str  # the model the OpenAI request names
    upstream_model: str  # the model the filter sends
    # The native request: body builder (user text, stream) and path (stream).
    body: Callable[[str, bool], bytes]
    path: Callable[[bool], str]
    shape: str  # check_shape of a native answer
    stream_shape: str  # ... and of a native stream
    ids: tuple[str, str, str]  # case ids: 1 KB chat, stream, 200 KB prompt
    default_port: int  # mock port (BENCH_<NAME>_PORT overrides)
    headers: dict[str, str] = field(default_factory=dict)  # native, besides the key
    base_path: str | None = None  # filter `base_path`; None: the kind's default
    # A filter feature an older filter (BENCH_BASELINE_WASM) may lack; its
    # cases then have no modelmux-before row. None: every filter has it.
    feature: str | None = None
    # The mock starts this kind's listener with --<kind>-addr (its default
    # listener) rather than with --listen LABEL=KIND@ADDR.
    default_listener: bool = False

    @property
    def provider(self) -> str:
        return f"{self.name}-mock"

    @property
    def cluster(self) -> str:
        return f"{self.name}_mock"

    @property
    def key_env(self) -> str:
        return f"MOCK_{self.name.upper()}_KEY"

    @property
    def token(self) -> str:
        """Prefix of the template tokens @@<TOKEN>_PORT@@ and @@<TOKEN>_KEY@@."""
        return self.name.upper()

    def mock_args(self, port: int) -> list[str]:
        addr = f"127.0.0.1:{port}"
        listen = ([f"--{self.kind}-addr", addr] if self.default_listener
                  else ["--listen", f"{self.name}={self.kind}@{addr}"])
        return [*listen, f"--{self.kind}-key", self.key]

    def filter_provider(self, port: int) -> dict:
        doc = {"name": self.provider, "type": self.kind, "cluster": self.cluster,
               "host": f"127.0.0.1:{port}", "api_key_env": self.key_env}
        if self.base_path is not None:
            doc["base_path"] = self.base_path
        return doc

    def filter_model(self) -> dict:
        return {"name": self.public_model,
                "targets": [{"provider": self.provider, "model": self.upstream_model}]}


ANTHROPIC = Dialect(
    name="anthropic",
    title="Anthropic",
    kind="anthropic",
    key="mock-anthropic-key",
    public_model="claude-sonnet",
    upstream_model="claude-sonnet-4-5",
    body=anthropic_body,
    path=lambda stream: "/v1/messages",
    shape="anthropic",
    stream_shape="anthropic_sse",
    ids=("translate-1k", "stream-translate", "translate-200k"),
    default_port=19082,
    headers={"anthropic-version": "2023-06-01"},
    base_path="/v1",
    default_listener=True,
)

GEMINI_MODEL = "gemini-2.5-flash"

GEMINI = Dialect(
    name="gemini",
    title="Gemini",
    kind="gemini",
    key="mock-gemini-key",
    public_model="gemini-flash",
    upstream_model=GEMINI_MODEL,
    body=gemini_body,
    path=lambda stream: (f"/v1beta/models/{GEMINI_MODEL}:streamGenerateContent?alt=sse"
                         if stream else f"/v1beta/models/{GEMINI_MODEL}:generateContent"),
    shape="gemini",
    stream_shape="gemini_sse",
    ids=("gemini-1k", "stream-gemini", "gemini-200k"),
    default_port=19084,
    feature="gemini",
)

# Every translated provider, in the order its cases appear.
DIALECTS = (ANTHROPIC, GEMINI)
