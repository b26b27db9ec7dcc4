"""Failover on the Istio path, live: `modelmux render --istio` output, its
EnvoyFilter patches applied (tests/istio/istio_patch.py, Istio's merge
semantics) to a bootstrap shaped like an Istio ingress gateway's, run by real
Envoy in front of the mock providers. A failover model whose first target
refuses connections or fails must be served by the second, streamed or not,
through the rotation clusters and the failover routes the patches add; the
routes inserted after the VirtualService's answer /healthz and unknown paths.

The module is loaded from the built file instead of the HTTPS URL (nothing
serves it here); everything else is the rendered manifest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import pytest
import requests
import yaml

import failover_env as fe
import support

sys.path.insert(0, str(support.REPO / "tests" / "istio"))
from istio_patch import apply, istio_like_bootstrap, local_module  # noqa: E402

MODELS = [fe.model("refused", "dead", "an"), fe.model("oa-an", "oa", "an")]
FAILOVER = {"attempt_timeout_ms": 1500, "json_timeout_ms": 8000, "consecutive_failures": 1000000,
            "retry_buffer_bytes": 65536}


def render_istio(cfg: dict) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(cfg, f)
        f.flush()
        out = subprocess.run(
            [str(support.CLI_BIN), "render", "--istio", "--config", f.name,
             "--wasm-url", "https://modules.invalid/modelmux.wasm", "--wasm", str(support.WASM_FILE)],
            capture_output=True, text=True, check=True,
        )
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None]


def gateway_bootstrap(docs: list[dict]) -> str:
    (vs,) = [d for d in docs if d["kind"] == "VirtualService"]
    boot, contexts = istio_like_bootstrap(vs)
    cfg = local_module(apply(boot, contexts, [d for d in docs if d["kind"] == "EnvoyFilter"]),
                       str(support.WASM_FILE))
    # Loopback, any port, and the name the harness waits for.
    gateway = cfg["static_resources"]["listeners"][0]
    gateway["name"] = "gateway"
    gateway["address"]["socket_address"] = {"address": "127.0.0.1", "port_value": 0}
    cfg["static_resources"]["listeners"][1]["address"]["socket_address"]["address"] = "127.0.0.1"
    cfg["static_resources"]["listeners"][1]["address"]["socket_address"]["port_value"] = 0
    return json.dumps(cfg)


@pytest.fixture(scope="module")
def client(workdir):
    mock = support.MockProcess(workdir / "istio-mock.log").start()
    cfg = fe.filter_config(mock, workdir, MODELS, FAILOVER)
    keys = {"MOCK_OPENAI_KEY": support.MOCK_OPENAI_KEY, "MOCK_ANTHROPIC_KEY": support.MOCK_ANTHROPIC_KEY}
    envoy = support.EnvoyProcess(workdir, "envoy-istio", extra_args=["--concurrency", "2"], env=keys)
    envoy.start(gateway_bootstrap(render_istio(cfg)))
    yield fe.Client(envoy, mock)
    envoy.stop()
    mock.stop()


def reply(resp, stream: bool) -> str:
    if stream:
        result = support.read_sse(resp)
        assert result.status == 200, result.raw[:500]
        assert result.done
        return support.stream_text(result.chunks())
    assert resp.status_code == 200, resp.text
    return resp.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_refused_first_target_fails_over(client, stream):
    client.clear()
    text = reply(client.chat("refused", stream=stream), stream)
    assert text == support.expected_reply("claude-sonnet-4-5", "hello")
    assert len(client.seen("anthropic")) == 1


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_503_from_the_first_target_fails_over(client, stream):
    client.clear()
    resp = client.chat("oa-an", stream=stream, headers={"x-mock-only": "openai", "x-mock-status": "503"})
    assert reply(resp, stream) == support.expected_reply("claude-sonnet-4-5", "hello")
    assert (len(client.seen("openai")), len(client.seen("anthropic"))) == (1, 1)
    assert resp.headers.get("x-modelmux-provider") == "an"


def test_local_routes_follow_the_virtual_service_route(client):
    health = requests.get(client.envoy.gateway + "/healthz", timeout=support.HTTP_TIMEOUT)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    support.assert_openai_error(
        requests.get(client.envoy.gateway + "/nowhere", timeout=support.HTTP_TIMEOUT), 404, "unknown_url")
