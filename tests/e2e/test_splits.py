"""Weighted splits through real Envoy with two workers: each split model keeps
its share over the whole run and over every 100 consecutive requests of it,
with other split models' requests interleaved in a fixed pattern.

Requests go one at a time, in a fixed order, over eight keep-alive
connections taken in turn; the connections land on both workers (checked),
so each worker's picks are interleaved with the other's. Sending one at a
time keeps the order in which the filter picked exact, so the windows are
measured on the real sequence. `x-modelmux-provider` (the filter's own
header on split models) names the target that served each request; what
each mock listener received must agree with it.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests

import failover_env as fe
import support

# Repeats of PATTERN: every model gets 1000 requests or more.
ROUNDS = 1000
WINDOW = 100
CONNECTIONS = 8
# Requests between reads of the mock's logs (it keeps its latest 200).
MOCK_LOG = 150


def demo_split() -> tuple[list[dict], dict]:
    """The demo's 10/90 model and its providers, pointed at the mock."""
    demo = support.demo_filter_config()
    split = next(m for m in demo["models"] if m["name"] == "split")
    used = {t["provider"] for t in split["targets"]}
    return [p for p in demo["providers"] if p["name"] in used], split


MODELS = [
    fe.model("half", "oa", "ob", weights=[50, 50]),
    fe.model("tri", "oa", "ob", "an", weights=[1, 2, 7]),
]
# The order requests are sent in, repeated (length prime to CONNECTIONS, so
# every connection carries every model): the demo's split gets most of the
# traffic, as in the report of it sending 0 of 100 to its 10% side.
PATTERN = ["split", "half", "split", "tri", "split"]
# Mock listener of each provider, for the cross-check.
LABELS = {"oa": "openai", "ob": "openai-b", "an": "anthropic",
          "openai-mock": "openai", "anthropic-mock": "anthropic"}


@pytest.fixture(scope="module")
def gw(workdir):
    pki = fe.make_certs(workdir / "splits")
    mock = fe.start_mock(workdir / "splits", pki)
    cfg = fe.filter_config(mock, pki, MODELS, {"attempt_timeout_ms": 5000})
    providers, split = demo_split()
    for p in providers:
        p["host"] = f"127.0.0.1:{mock.ports[LABELS[p['name']]]}"
    cfg["providers"] += providers
    cfg["models"].append(split)
    envoy = fe.start_envoy(workdir, "envoy-splits", cfg)
    yield fe.Client(envoy, mock), cfg
    envoy.stop()
    mock.stop()


def shares(cfg: dict, model: str) -> dict[str, float]:
    targets = next(m for m in cfg["models"] if m["name"] == model)["targets"]
    total = sum(t["weight"] for t in targets)
    return {t["provider"]: 100.0 * t["weight"] / total for t in targets}


def worst(seq: list[str], want: dict[str, float], window: int) -> float:
    """Largest distance, in points, of a target's share of any `window`
    consecutive requests from its configured share."""
    out = 0.0
    for start in range(len(seq) - window + 1):
        counts = Counter(seq[start:start + window])
        for provider, share in want.items():
            out = max(out, abs(100.0 * counts[provider] / window - share))
    return out


def collect(client: fe.Client, received: Counter) -> None:
    """Adds what each mock listener received since the last call, then
    clears the logs (the mock keeps only its latest requests)."""
    for label in ("openai", "openai-b", "anthropic"):
        received[label] += len(client.seen(label))
    client.clear()


def sessions_on_both_workers(client: fe.Client) -> list[requests.Session]:
    """Eight open connections, not all on one worker (reopened otherwise)."""
    for _ in range(5):
        before = client.worker_connections()
        sessions = [requests.Session() for _ in range(CONNECTIONS)]
        for s in sessions:
            # Answered by the filter itself: opens the connection, moves no split.
            resp = s.get(client.envoy.gateway + "/v1/models", timeout=support.HTTP_TIMEOUT)
            assert resp.status_code == 200
        per_worker = [a - b for a, b in zip(client.worker_connections(), before)]
        if len(per_worker) == 2 and all(n > 0 for n in per_worker):
            return sessions
        for s in sessions:
            s.close()
    pytest.fail(f"connections never spread over both workers: {per_worker}")


def test_every_split_keeps_its_share_overall_and_in_every_window(gw):
    client, cfg = gw
    client.clear()
    sessions = sessions_on_both_workers(client)
    opened = client.worker_connections()
    hdrs = {"content-type": "application/json", "authorization": "Bearer client-secret"}
    served: dict[str, list[str]] = {m: [] for m in PATTERN}
    received: Counter = Counter()
    started = time.monotonic()
    for i in range(ROUNDS * len(PATTERN)):
        if i % MOCK_LOG == 0:
            collect(client, received)
        model = PATTERN[i % len(PATTERN)]
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        resp = sessions[i % CONNECTIONS].post(client.envoy.gateway + "/v1/chat/completions",
                                              json=body, headers=hdrs, timeout=support.HTTP_TIMEOUT)
        assert resp.status_code == 200, resp.text
        served[model].append(resp.headers["x-modelmux-provider"])
    elapsed = time.monotonic() - started
    collect(client, received)
    # Every request stayed on its connection, so on the worker it started on.
    assert client.worker_connections() == opened

    # The header agrees with what each mock listener received.
    assert received == Counter(LABELS[p] for seq in served.values() for p in seq)

    report, bad = [], []
    for model, seq in served.items():
        want = shares(cfg, model)
        overall, window = worst(seq, want, len(seq)), worst(seq, want, WINDOW)
        report.append(f"{model} {sorted(want.items())}: overall off by {overall:.1f} points, "
                      f"worst window of {WINDOW} by {window:.1f}")
        if overall > 3.0 or window > 5.0:
            bad.append(model)
    print(f"\n{len(PATTERN) * ROUNDS} requests in {elapsed:.1f} s\n" + "\n".join(report))
    assert not bad, "\n".join(report)
