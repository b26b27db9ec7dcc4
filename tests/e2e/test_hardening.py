"""Envoy's protections in the rendered bootstrap, on real Envoy 1.40: a
slowloris client is cut by the request timeouts long before the 300 s idle
timeout, those timeouts never cut a long response, and connections past the
global limit are refused.

The gateway is rendered by `modelmux render` with short limits
(`--request-timeout-ms 1500 --request-headers-timeout-ms 1500
--max-connections 4`) so the suite stays fast.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time

import pytest
import requests

import support

TIMEOUT_S = 1.5
MAX_CONNECTIONS = 4


def render(filter_config: dict, *flags: str) -> str:
    """`modelmux render` with extra flags, listener and admin on port 0."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(filter_config, f)
    try:
        cmd = [str(support.CLI_BIN), "render", "--config", f.name, "--listen", "127.0.0.1:0",
               "--admin", "127.0.0.1:0", "--wasm", str(support.WASM_FILE), *flags]
        for name, value in support.DEMO_KEYS.items():
            cmd += ["--key", f"{name}={value}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    finally:
        os.unlink(f.name)
    return out.stdout


@pytest.fixture(scope="module")
def gw(workdir, mock):
    cfg = support.test_filter_config(mock.ports["openai"], mock.ports["anthropic"])
    yaml = render(cfg, "--request-timeout-ms", str(int(TIMEOUT_S * 1000)),
                  "--request-headers-timeout-ms", str(int(TIMEOUT_S * 1000)),
                  "--max-connections", str(MAX_CONNECTIONS))
    envoy = support.EnvoyProcess(workdir, "envoy-hardening")
    envoy.start(yaml)
    yield envoy
    envoy.stop()


def address(envoy) -> tuple[str, int]:
    host, port = envoy.gateway.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def read_until_closed(sock: socket.socket, limit: float) -> bytes:
    """Everything the gateway sends until it closes (or `limit` seconds)."""
    sock.settimeout(0.2)
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"still open after {limit}s; got {data[:200]!r}")


def chat_head(length: int) -> bytes:
    return (b"POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(length).encode() + b"\r\n\r\n")


def test_slowloris_body_is_cut_by_the_request_timeout(gw):
    """Headers at once, then the body a byte every 0.2 s: without a request
    timeout the stream idle timeout (300 s) never fires, as bytes keep
    coming. With it, a 408 and a closed connection after ~1.5 s."""
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * 200}]})
    with socket.create_connection(address(gw)) as sock:
        sock.sendall(chat_head(len(body)))
        started = time.monotonic()
        sent = 0
        reply = b""
        sock.settimeout(0.2)
        while time.monotonic() - started < 10:
            try:
                sock.sendall(body[sent].encode())
                sent += 1
                reply = sock.recv(65536)
                if reply or sent >= len(body):
                    break
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        elapsed = time.monotonic() - started
    assert sent < len(body), "the whole body went through"
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert TIMEOUT_S - 0.3 <= elapsed < TIMEOUT_S + 3, elapsed


def test_slowloris_headers_are_cut_by_the_headers_timeout(gw):
    with socket.create_connection(address(gw)) as sock:
        started = time.monotonic()
        head = chat_head(10)
        sock.settimeout(0.2)
        closed = False
        for byte in head[:-4]:
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(65536) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if time.monotonic() - started > 10:
                break
        elapsed = time.monotonic() - started
    assert closed, "a request head sent a byte every 0.2 s was never cut"
    assert elapsed < TIMEOUT_S + 3, elapsed


def test_the_request_timeout_never_cuts_a_long_response(gw):
    """request_timeout ends once the request has gone upstream: a stream
    and a slow non-streamed reply, both longer than it, complete."""
    base = gw.gateway + "/v1/chat/completions"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a b c d e f"}],
            "stream": True}
    started = time.monotonic()
    resp = requests.post(base, json=body, headers={"x-mock-event-delay-ms": "400", "connection": "close"},
                         stream=True, timeout=support.HTTP_TIMEOUT)
    result = support.read_sse(resp)
    assert result.status == 200 and result.done, result.raw[-300:]
    assert time.monotonic() - started > TIMEOUT_S + 0.5
    body["stream"] = False
    started = time.monotonic()
    resp = requests.post(base, json=body, headers={"x-mock-delay-ms": "2500", "connection": "close"},
                         timeout=support.HTTP_TIMEOUT)
    assert resp.status_code == 200, resp.text
    assert time.monotonic() - started > TIMEOUT_S + 0.5


def test_connections_past_the_limit_are_refused(gw):
    held = []
    try:
        for _ in range(MAX_CONNECTIONS):
            held.append(socket.create_connection(address(gw)))
        # Let the overload manager see them (it refreshes every 250 ms).
        time.sleep(0.5)
        with socket.create_connection(address(gw)) as extra:
            extra.sendall(b"GET /v1/models HTTP/1.1\r\nhost: gw\r\n\r\n")
            assert read_until_closed(extra, 5) == b"", "a connection past the limit was served"
        # The held ones still work.
        held[0].sendall(b"GET /v1/models HTTP/1.1\r\nhost: gw\r\n\r\n")
        held[0].settimeout(5)
        assert held[0].recv(65536).startswith(b"HTTP/1.1 200")
        stats = requests.get(gw.admin + "/stats?filter=global_cx_overflow", timeout=5).text
        gateway = [line for line in stats.splitlines() if not line.startswith("listener.admin.")]
        assert any(line.endswith(": 1") for line in gateway), stats
    finally:
        for s in held:
            s.close()
    # Below the limit again: served.
    def served():
        resp = requests.get(gw.gateway + "/v1/models", headers={"connection": "close"}, timeout=5)
        return resp.status_code == 200
    support.wait_until(served, 5, what="a connection once below the limit")


def test_http2_clients_get_bounded_streams_and_windows(gw):
    import h2.config
    import h2.connection
    import h2.events

    sock = socket.create_connection(address(gw), timeout=10)
    try:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        settings = None
        deadline = time.monotonic() + 10
        while settings is None and time.monotonic() < deadline:
            for ev in conn.receive_data(sock.recv(65536)):
                if isinstance(ev, h2.events.RemoteSettingsChanged):
                    settings = {k: v.new_value for k, v in ev.changed_settings.items()}
            sock.sendall(conn.data_to_send())
    finally:
        sock.close()
    assert settings is not None, "no SETTINGS from Envoy"
    assert settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] == 100
    assert settings[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] == 65536
