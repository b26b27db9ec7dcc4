"""The native provider APIs the translated cases are measured against, one
`Dialect` each: which mock listener serves it, how the filter config and
the bootstrap templates name it, and the native request the plain Envoy
gets for the OpenAI request the filter translates.

bench.py builds its translated cases (1 KB, stream, 200 KB) from this
table, so every provider is measured the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .bodies import ANTHROPIC_MODEL, anthropic_body, bedrock_body, gemini_body


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
    # Replaces the default provider entry (host + api_key_env) of the
    # filter config; called with the dialect and its mock port.
    provider_doc: Callable[["Dialect", int], dict] | None = None

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
        if self.provider_doc is not None:
            return self.provider_doc(self, port)
        doc = {"name": self.provider, "type": self.kind, "cluster": self.cluster,
               "host": f"127.0.0.1:{port}", "api_key_env": self.key_env}
        if self.base_path is not None:
            doc["base_path"] = self.base_path
        return doc

    def filter_model(self) -> dict:
        return {"name": self.public_model,
                "targets": [{"provider": self.provider, "model": self.upstream_model}]}


# Every Anthropic Messages request carries it, whoever sends it.
ANTHROPIC_VERSION = "2023-06-01"

ANTHROPIC = Dialect(
    name="anthropic",
    title="Anthropic",
    kind="anthropic",
    key="mock-anthropic-key",
    public_model="claude-sonnet",
    upstream_model=ANTHROPIC_MODEL,
    body=anthropic_body,
    path=lambda stream: "/v1/messages",
    shape="anthropic",
    stream_shape="anthropic_sse",
    ids=("translate-1k", "stream-translate", "translate-200k"),
    default_port=19082,
    headers={"anthropic-version": ANTHROPIC_VERSION},
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

BEDROCK_MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"
# The mock's default AWS identity; the modelmux template hands these to the
# wasm VM as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, where the filter's
# SigV4 signer reads them.
BEDROCK_ACCESS_KEY_ID = "AKIDMOCKBEDROCK"
BEDROCK_SECRET_ACCESS_KEY = "mock-bedrock-secret"
BEDROCK_REGION = "us-east-1"


def bedrock_provider(d: Dialect, port: int) -> dict:
    """Signed in the filter (SigV4 over the translated body, so the 200 KB
    case measures hashing 200 KB in wasm). `host` is left at its default,
    bedrock-runtime.us-east-1.amazonaws.com: that :authority is what is
    signed, and the mock verifies against whatever host arrives, while
    `endpoint` sends the bytes to the local mock in plain text."""
    return {"name": d.provider, "type": d.kind, "cluster": d.cluster,
            "region": BEDROCK_REGION,
            "endpoint": {"address": f"127.0.0.1:{port}", "tls": False},
            "auth": {"type": "sigv4"}}


BEDROCK = Dialect(
    name="bedrock",
    title="Bedrock",
    kind="bedrock",
    # Plain Envoy authenticates with a Bedrock API key (bearer), as a client
    # without a signer would; the filter signs with SigV4 instead.
    key="mock-bedrock-key",
    public_model="bedrock-claude",
    upstream_model=BEDROCK_MODEL,
    body=bedrock_body,
    # The model id is one path segment, its ':' percent-encoded.
    path=lambda stream: (f"/model/{BEDROCK_MODEL.replace(':', '%3A')}/"
                         + ("converse-stream" if stream else "converse")),
    shape="bedrock",
    stream_shape="bedrock_eventstream",
    ids=("bedrock-1k", "stream-bedrock", "bedrock-200k"),
    default_port=19085,
    feature="bedrock",
    provider_doc=bedrock_provider,
)

# Every translated provider, in the order its cases appear.
DIALECTS = (ANTHROPIC, GEMINI, BEDROCK)
