"""Session fixtures: one mock provider process and one Envoy+modelmux gateway.

Paths can be overridden with MODELMUX_ENVOY, MODELMUX_WASM and MODELMUX_MOCK
(the Makefile exports them). Logs and rendered configs live in a pytest temp
directory; when a test fails, the tails of the Envoy and mock logs are added to
its report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

import support
from support import EnvoyProcess, MockProcess

# Models the tests add on top of the demo's gpt-4o-mini / claude-sonnet. Each
# is used by exactly one stats test, so its counters start from a known state.
STATS_MODELS = [
    {"name": "stats-openai", "targets": [{"provider": "openai-mock", "model": "gpt-4o-mini"}]},
    {"name": "stats-anthropic", "targets": [{"provider": "anthropic-mock", "model": "claude-sonnet-4-5"}]},
    {"name": "stats-cached-openai", "targets": [{"provider": "openai-mock", "model": "gpt-4o-mini"}]},
    {"name": "stats-cached-anthropic", "targets": [{"provider": "anthropic-mock", "model": "claude-sonnet-4-5"}]},
]

# Logs to show when a test fails (name -> path), filled by the fixtures.
_LOGS: dict[str, Path] = {}


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("modelmux-e2e")


@pytest.fixture(scope="session")
def mock(workdir) -> MockProcess:
    proc = MockProcess(workdir / "mock.log")
    _LOGS["mock"] = proc.log_path
    try:
        proc.start()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot start the mock: {exc}", pytrace=False)
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def filter_config(mock) -> dict[str, Any]:
    return support.test_filter_config(mock.ports["openai"], mock.ports["anthropic"], STATS_MODELS)


@pytest.fixture(scope="session")
def envoy(workdir, mock, filter_config) -> EnvoyProcess:
    proc = EnvoyProcess(workdir, "envoy")
    _LOGS["envoy"] = proc.log_path
    try:
        proc.start(support.render_bootstrap(filter_config, mock.ports["openai"], mock.ports["anthropic"]))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot start envoy: {exc}", pytrace=False)
    yield proc
    proc.stop()


class Gateway:
    """Thin HTTP client for the gateway under test."""

    def __init__(self, envoy: EnvoyProcess, mock: MockProcess, filter_config: dict[str, Any]):
        self.envoy = envoy
        self.mock = mock
        self.url = envoy.gateway
        self.admin = envoy.admin
        self.filter_config = filter_config
        self.session = requests.Session()

    def upstream_model(self, model: str) -> str:
        for entry in self.filter_config["models"]:
            if entry["name"] == model:
                return entry["targets"][0]["model"]
        raise KeyError(model)

    def provider_type(self, model: str) -> str:
        for entry in self.filter_config["models"]:
            if entry["name"] == model:
                provider = entry["targets"][0]["provider"]
                return next(p["type"] for p in self.filter_config["providers"] if p["name"] == provider)
        raise KeyError(model)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", support.HTTP_TIMEOUT)
        return self.session.request(method, self.url + path, **kwargs)

    def chat(self, body: Any, headers: dict[str, str] | None = None, **kwargs) -> requests.Response:
        """POST /v1/chat/completions with a JSON body (dict) or raw bytes/str."""
        hdrs = {"content-type": "application/json", "authorization": "Bearer client-secret"}
        hdrs.update(headers or {})
        if isinstance(body, (dict, list)):
            kwargs["json"] = body
        else:
            kwargs["data"] = body
        return self.request("POST", "/v1/chat/completions", headers=hdrs, **kwargs)

    def chat_stream(self, body: dict, headers: dict[str, str] | None = None) -> support.SSEResult:
        body = {**body, "stream": True}
        resp = self.chat(body, headers=headers, stream=True)
        return support.read_sse(resp)


@pytest.fixture(scope="session")
def gateway(envoy, mock, filter_config) -> Gateway:
    return Gateway(envoy, mock, filter_config)


@pytest.fixture
def clean_mock(mock) -> MockProcess:
    """The mock with its request logs emptied."""
    mock.clear()
    return mock


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        for name, path in list(_LOGS.items()):
            report.sections.append((f"{name} log tail ({path})", support.tail(path, 40)))
