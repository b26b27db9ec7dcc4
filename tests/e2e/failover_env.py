"""Fixtures' building blocks for the failover and health suites.

One mock process serves every provider the failover configs use: the two
default listeners plus labelled extras (a second OpenAI, dedicated listeners
for the ejection, Retry-After and split tests, and a TLS pair). Each suite
starts its own Envoy with `--concurrency 2` from a config rendered by
`modelmux render`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import requests

import support

LISTENERS = [
    "openai-b=openai@127.0.0.1:0",
    "openai-eject=openai@127.0.0.1:0",
    "openai-ra=openai@127.0.0.1:0",
    "openai-ejhc=openai@127.0.0.1:0",
    "anthropic-split=anthropic@127.0.0.1:0",
    "openai-tls=openai@127.0.0.1:0+tls",
    "anthropic-tls=anthropic@127.0.0.1:0+tls",
]

TLS_NAMES = {"openai-tls": "openai.mock.test", "anthropic-tls": "anthropic.mock.test"}

# provider name -> (mock label, type)
PROVIDERS = {
    "oa": ("openai", "openai"),
    "an": ("anthropic", "anthropic"),
    "ob": ("openai-b", "openai"),
    "oe": ("openai-eject", "openai"),
    "ora": ("openai-ra", "openai"),
    "as": ("anthropic-split", "anthropic"),
    "ot": ("openai-tls", "openai"),
    "at": ("anthropic-tls", "anthropic"),
    # Nothing listens on its port: connections are refused.
    "dead": (None, "openai"),
    # The same two, with active health checks.
    "dead-hc": (None, "openai"),
    "an-hc": ("anthropic", "anthropic"),
    # Health-checked and ejectable: its health path passes while it fails.
    "oe-hc": ("openai-ejhc", "openai"),
}

HEALTH_CHECKED = {"dead-hc", "an-hc", "oe-hc"}

KEYS = {"openai": "MOCK_OPENAI_KEY", "anthropic": "MOCK_ANTHROPIC_KEY"}
UPSTREAM_MODEL = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5"}


def make_certs(workdir: Path) -> Path:
    out = workdir / "pki"
    subprocess.run(
        ["bash", str(support.REPO / "scripts" / "gen-cert.sh"), str(out), *TLS_NAMES.values()],
        check=True, capture_output=True,
    )
    return out


def start_mock(workdir: Path, pki: Path) -> support.MockProcess:
    proc = support.MockProcess(
        workdir / "failover-mock.log",
        listeners=LISTENERS,
        extra_args=["--tls-cert", str(pki / "server.crt"), "--tls-key", str(pki / "server.key")],
    )
    return proc.start()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provider(name: str, mock: support.MockProcess, pki: Path, dead_port: int) -> dict[str, Any]:
    label, kind = PROVIDERS[name]
    entry: dict[str, Any] = {"name": name, "type": kind, "cluster": f"c_{name}", "api_key_env": KEYS[kind]}
    if label in TLS_NAMES:
        entry["host"] = TLS_NAMES[label]
        entry["endpoint"] = {"address": f"127.0.0.1:{mock.ports[label]}", "tls": True,
                             "ca_file": str(pki / "ca.crt")}
    else:
        port = dead_port if label is None else mock.ports[label]
        entry["host"] = f"127.0.0.1:{port}"
        entry["endpoint"] = {"tls": False}
    if name in HEALTH_CHECKED:
        entry["health_check"] = {"path": "/_mock/health", "interval_ms": 200}
    return entry


def model(name: str, *targets: str, weights: list[int] | None = None) -> dict[str, Any]:
    out = []
    for i, t in enumerate(targets):
        target = {"provider": t, "model": UPSTREAM_MODEL[PROVIDERS[t][1]]}
        if weights:
            target["weight"] = weights[i]
        out.append(target)
    return {"name": name, "targets": out}


def filter_config(mock, pki, models: list[dict], failover: dict[str, Any]) -> dict[str, Any]:
    used = {t["provider"] for m in models for t in m["targets"]}
    dead = free_port()
    return {
        "providers": [provider(n, mock, pki, dead) for n in PROVIDERS if n in used],
        "models": models,
        "failover": failover,
        # The mock's x-mock-* fault headers must reach it through the allowlist.
        "headers": {"request": ["x-mock-*"]},
    }


def start_envoy(workdir: Path, name: str, cfg: dict[str, Any]) -> support.EnvoyProcess:
    proc = support.EnvoyProcess(workdir, name, extra_args=["--concurrency", "2"])
    return proc.start(support.render_yaml(cfg))


class Client:
    """The gateway under test, plus what each mock listener received."""

    def __init__(self, envoy: support.EnvoyProcess, mock: support.MockProcess):
        self.envoy = envoy
        self.mock = mock

    def chat(self, model: str, stream: bool = False, headers: dict[str, str] | None = None,
             text: str = "hello", fresh: bool = False) -> requests.Response:
        body = {"model": model, "messages": [{"role": "user", "content": text}]}
        if stream:
            body["stream"] = True
        hdrs = {"content-type": "application/json", "authorization": "Bearer client-secret"}
        hdrs.update(headers or {})
        if fresh:
            hdrs["connection"] = "close"
        return requests.post(self.envoy.gateway + "/v1/chat/completions", json=body, headers=hdrs,
                             timeout=support.HTTP_TIMEOUT, stream=stream)

    def seen(self, label: str) -> list[dict[str, Any]]:
        """Requests a listener received (TLS listeners are asked over TLS)."""
        if label in TLS_NAMES:
            raise ValueError("use seen_tls")
        return [r for r in self.mock.requests(label) if r["path"].startswith("/v1/")]

    def clear(self) -> None:
        self.mock.clear()

    def stats(self) -> dict[str, int]:
        resp = requests.get(self.envoy.admin + "/stats", timeout=support.HTTP_TIMEOUT)
        out = {}
        for line in resp.text.splitlines():
            name, sep, value = line.partition(": ")
            if sep and value.isdigit():
                out[name] = int(value)
        return out

    def counter(self, model: str, provider: str, name: str) -> int:
        return self.stats().get(f"wasmcustom.modelmux.m.{model}.p.{provider}.{name}", 0)

    def worker_connections(self) -> list[int]:
        stats = self.stats()
        return [v for k, v in sorted(stats.items())
                if k.startswith("listener.") and ".worker_" in k and k.endswith("downstream_cx_total")]


def seen_tls(mock: support.MockProcess, pki: Path, label: str) -> list[dict[str, Any]]:
    url = f"https://127.0.0.1:{mock.ports[label]}/_mock/requests"
    resp = requests.get(url, verify=str(pki / "ca.crt"), timeout=support.HTTP_TIMEOUT)
    resp.raise_for_status()
    return [r for r in resp.json() if r["path"].startswith("/v1/")]
