"""Health-aware routing through real Envoy with two workers: outlier
ejection and recovery, Retry-After circuits in shared data, and weighted
splits that route around an ejected side. State learned on one worker must
hold on the other, so checks use fresh connections and assert that both
workers took some of them."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import failover_env as fe
import support

MODELS = [
    fe.model("eject", "oe", "an"),
    fe.model("ra", "ora", "an"),
    fe.model("split", "oa", "as", weights=[10, 90]),
    fe.model("hc", "dead-hc", "an-hc"),
    fe.model("ejhc", "oe-hc", "an-hc"),
]
EJECTION_MS = 3000
FAILOVER = {"attempt_timeout_ms": 2000, "consecutive_failures": 3, "ejection_ms": EJECTION_MS,
            "outlier_interval_ms": 500, "max_retry_after_s": 30}


@pytest.fixture(scope="module")
def pki(workdir):
    return fe.make_certs(workdir / "health")


@pytest.fixture(scope="module")
def hmock(workdir, pki):
    proc = fe.start_mock(workdir / "health", pki)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def gw(workdir, hmock, pki):
    envoy = fe.start_envoy(workdir, "envoy-health", fe.filter_config(hmock, pki, MODELS, FAILOVER))
    yield fe.Client(envoy, hmock)
    envoy.stop()


@pytest.fixture
def client(gw):
    gw.clear()
    yield gw
    for label in ("openai-eject", "openai-ra", "anthropic-split", "openai-ejhc"):
        gw.mock.fault(label, None)


def fan_out(client, model: str, n: int, fresh: bool = True) -> list[int]:
    """`n` requests on fresh connections (spread over both workers)."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: client.chat(model, fresh=fresh).status_code, range(n)))


def spread(client, before: list[int]) -> list[int]:
    after = client.worker_connections()
    return [a - b for a, b in zip(after, before)]


def test_a_failing_target_is_ejected_for_every_worker_then_returns(client):
    client.mock.fault("openai-eject", {"status": 503})
    for _ in range(3):
        assert client.chat("eject", fresh=True).status_code == 200
    ejected = f"cluster.{'modelmux_eject_0'}.outlier_detection.ejections_enforced_total"
    support.wait_until(lambda: client.stats().get(ejected, 0) >= 1, 5, what="ejection")
    client.clear()
    before = client.worker_connections()
    assert set(fan_out(client, "eject", 40)) == {200}
    per_worker = spread(client, before)
    assert len(per_worker) == 2 and all(n > 0 for n in per_worker), per_worker
    assert client.seen("openai-eject") == [], "an ejected target got new requests"
    client.mock.fault("openai-eject", None)
    started = time.monotonic()

    def back():
        client.chat("eject", fresh=True)
        return len(client.seen("openai-eject")) > 0

    support.wait_until(back, EJECTION_MS / 1000 + 10, interval=0.2, what="return after ejection")
    assert time.monotonic() - started < EJECTION_MS / 1000 + 5


def test_retry_after_keeps_a_target_out_that_long_on_every_worker(client):
    headers = {"x-mock-only": "openai-ra", "x-mock-status": "429", "x-mock-retry-after": "3"}
    tripped = time.monotonic()
    resp = client.chat("ra", headers=headers, fresh=True)
    assert resp.status_code == 200, resp.text
    assert len(client.seen("openai-ra")) == 1
    before = client.worker_connections()
    assert set(fan_out(client, "ra", 30)) == {200}
    per_worker = spread(client, before)
    assert len(per_worker) == 2 and all(n > 0 for n in per_worker), per_worker
    assert len(client.seen("openai-ra")) == 1, "the target asked for 3 s off but got requests"
    assert time.monotonic() - tripped < 3, "the check above took too long to mean anything"

    def back():
        client.chat("ra", fresh=True)
        return len(client.seen("openai-ra")) > 1

    support.wait_until(back, 10, interval=0.2, what="return after Retry-After")
    assert time.monotonic() - tripped >= 2.9
    time.sleep(1.2)
    assert client.counter("ra", "ora", "circuit_opened") >= 1
    assert client.counter("ra", "ora", "circuit_skips") >= 30


def test_weighted_split_holds_and_routes_around_an_ejected_side(client):
    time.sleep(1.2)
    base = client.stats()
    sessions = [requests.Session() for _ in range(8)]

    def one(i):
        body = {"model": "split", "messages": [{"role": "user", "content": "hi"}]}
        return sessions[i % 8].post(client.envoy.gateway + "/v1/chat/completions", json=body,
                                    timeout=support.HTTP_TIMEOUT).status_code

    before = client.worker_connections()
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(1000))) == {200}
    time.sleep(1.5)
    now = client.stats()

    def attempts(p):
        key = f"wasmcustom.modelmux.m.split.p.{p}.attempts"
        return now.get(key, 0) - base.get(key, 0)

    share = attempts("oa") / (attempts("oa") + attempts("as"))
    assert attempts("oa") + attempts("as") == 1000
    assert 0.07 <= share <= 0.13, f"openai share {share:.3f}, configured 0.10"
    assert all(n > 0 for n in spread(client, before))
    # Eject the 90% side: everything goes to the other side.
    client.mock.fault("anthropic-split", {"status": 503})
    ejected = "cluster.modelmux_split_1.outlier_detection.ejections_enforced_total"
    support.wait_until(lambda: (one(0), client.stats().get(ejected, 0) >= 1)[1], 10, what="ejection")
    client.clear()
    assert set(fan_out(client, "split", 50)) == {200}
    assert client.seen("anthropic-split") == []
    assert len(client.seen("openai")) == 50


def test_active_health_checks_take_a_dead_target_out_before_any_request(client):
    unhealthy = "cluster.modelmux_hc_0.health_check.failure"
    support.wait_until(lambda: client.stats().get(unhealthy, 0) >= 2, 10, what="health check failures")
    time.sleep(1.2)
    base = client.stats()
    assert set(fan_out(client, "hc", 20)) == {200}
    time.sleep(1.5)
    now = client.stats()
    key = "wasmcustom.modelmux.m.hc.p.{}.attempts"
    assert now.get(key.format("dead-hc"), 0) - base.get(key.format("dead-hc"), 0) == 0
    assert now.get(key.format("an-hc"), 0) - base.get(key.format("an-hc"), 0) == 20


def test_a_passing_health_check_does_not_end_an_ejection_early(client):
    """Health checks every 200 ms pass while the target is ejected; it must
    stay out for failover.ejection_ms (Envoy's default would uneject it at
    the next passing check), then come back."""
    client.mock.fault("openai-ejhc", {"status": 503})
    for _ in range(3):
        assert client.chat("ejhc", fresh=True).status_code == 200
    ejected = "cluster.modelmux_ejhc_0.outlier_detection.ejections_enforced_total"
    support.wait_until(lambda: client.stats().get(ejected, 0) >= 1, 5, what="ejection")
    ejected_at = time.monotonic()
    client.mock.fault("openai-ejhc", None)
    passed = "cluster.modelmux_ejhc_0.health_check.success"
    base = client.stats().get(passed, 0)
    time.sleep(max(0.0, 1.5 - (time.monotonic() - ejected_at)))
    assert client.stats().get(passed, 0) - base >= 3, "health checks did not pass meanwhile"
    client.clear()
    assert set(fan_out(client, "ejhc", 20)) == {200}
    assert client.seen("openai-ejhc") == [], "a passing health check ended the ejection early"
    assert time.monotonic() - ejected_at < EJECTION_MS / 1000 - 0.5, "too slow to mean anything"

    def back():
        client.chat("ejhc", fresh=True)
        return len(client.seen("openai-ejhc")) > 0

    support.wait_until(back, EJECTION_MS / 1000 + 10, interval=0.2, what="return after ejection")
    assert time.monotonic() - ejected_at < EJECTION_MS / 1000 + 5


def test_no_provider_key_in_envoy_output(gw):
    log = gw.envoy.log()
    assert log
    for key in (support.MOCK_OPENAI_KEY, support.MOCK_ANTHROPIC_KEY):
        assert key not in log, f"provider key {key!r} appears in Envoy's output {gw.envoy.log_path}"


def test_healthz_and_a_json_404_for_paths_outside_v1(client):
    """Requests the filter does not route get Envoy's own answers from the
    rendered routes; routed traffic (failover and single-target) is not
    affected by them."""
    health = requests.get(client.envoy.gateway + "/healthz", timeout=support.HTTP_TIMEOUT)
    assert health.status_code == 200, health.text
    body = {"model": "eject", "messages": [{"role": "user", "content": "hi"}]}
    for path in ("/chat/completions", "/", "/v2/models"):
        resp = requests.post(client.envoy.gateway + path, json=body, timeout=support.HTTP_TIMEOUT)
        assert resp.status_code == 404, (path, resp.status_code, resp.text)
        assert resp.headers["content-type"] == "application/json"
        error = resp.json()["error"]
        assert error["code"] == "unknown_url" and error["type"] == "invalid_request_error"
        assert "/v1/chat/completions" in error["message"]
    assert client.mock.requests("openai-eject") == [], "an unknown path reached a provider"
    assert client.chat("eject").status_code == 200
    assert client.chat("eject", stream=True).status_code == 200
