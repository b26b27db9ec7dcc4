"""Envoy must refuse to start when the filter configuration is invalid, and
the log must say which field is wrong."""

from __future__ import annotations

import copy

import pytest

import support
from support import EnvoyProcess


def undefined_provider(cfg):
    cfg["models"][0]["targets"][0]["provider"] = "no-such-provider"
    return cfg, ["models[0].targets[0].provider"]


def unknown_top_level_field(cfg):
    cfg["bogus_setting"] = True
    return cfg, ["bogus_setting"]


def unknown_provider_field(cfg):
    cfg["providers"][1]["api_key"] = "inline-keys-are-not-supported"
    return cfg, ["providers[1]", "api_key"]


def broken_json(_cfg):
    return '{"providers": [', []


CASES = {
    "undefined-provider": undefined_provider,
    "unknown-top-level-field": unknown_top_level_field,
    "unknown-provider-field": unknown_provider_field,
    "broken-json": broken_json,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_filter_config_fails_startup(workdir, mock, case):
    base = support.test_filter_config(mock.ports["openai"], mock.ports["anthropic"])
    cfg, needles = CASES[case](copy.deepcopy(base))
    envoy = EnvoyProcess(workdir / "bad-config", f"envoy-{case}")
    envoy.launch(support.render_bootstrap(cfg, mock.ports["openai"], mock.ports["anthropic"]))
    try:
        status, came_up = envoy.wait_exit_or_ready(timeout=support.STARTUP_TIMEOUT)
        log = envoy.log()
        assert not came_up and status is not None, (
            f"envoy started (ready={came_up}) with an invalid filter config; "
            f"log {envoy.log_path}:\n{support.tail(envoy.log_path)}"
        )
        assert status != 0, f"envoy exited 0; log:\n{support.tail(envoy.log_path)}"
        for needle in needles:
            assert needle in log, f"{needle!r} not in envoy log {envoy.log_path}:\n{support.tail(envoy.log_path)}"
    finally:
        envoy.stop()
