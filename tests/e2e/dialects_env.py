"""One gateway in front of every provider kind, for the client dialects.

The mock serves OpenAI, Anthropic, Gemini and Bedrock (API key), plus a
second OpenAI listener (`down`) whose stored fault answers every request
503, so model `fo` always fails over to Anthropic. Each public model has
one target except `fo`; `TARGETS` says what each one is.
"""

from __future__ import annotations

from typing import Any

import support

LISTENERS = ["gemini=gemini@127.0.0.1:0", "bedrock=bedrock@127.0.0.1:0", "down=openai@127.0.0.1:0"]
MOCK_BEDROCK_KEY = "mock-bedrock-key"
BEDROCK_MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"

# public model -> (mock label, upstream model)
TARGETS = {
    "claude": ("anthropic", "claude-sonnet-4-5"),
    "gpt": ("openai", "gpt-4o-mini"),
    "gem": ("gemini", "gemini-2.5-flash"),
    "br": ("bedrock", BEDROCK_MODEL),
}
KEYS = {
    "MOCK_OPENAI_KEY": support.MOCK_OPENAI_KEY,
    "MOCK_ANTHROPIC_KEY": support.MOCK_ANTHROPIC_KEY,
    "MOCK_GEMINI_KEY": support.MOCK_GEMINI_KEY,
    "MOCK_BEDROCK_KEY": MOCK_BEDROCK_KEY,
}


def config(mock: support.MockProcess) -> dict[str, Any]:
    host = lambda label: f"127.0.0.1:{mock.ports[label]}"  # noqa: E731
    providers = [
        {"name": "openai", "type": "openai", "cluster": "openai", "host": host("openai"),
         "api_key_env": "MOCK_OPENAI_KEY"},
        {"name": "down", "type": "openai", "cluster": "down", "host": host("down"),
         "api_key_env": "MOCK_OPENAI_KEY"},
        {"name": "anthropic", "type": "anthropic", "cluster": "anthropic", "host": host("anthropic"),
         "api_key_env": "MOCK_ANTHROPIC_KEY"},
        {"name": "gemini", "type": "gemini", "cluster": "gemini", "host": host("gemini"),
         "api_key_env": "MOCK_GEMINI_KEY"},
        {"name": "bedrock", "type": "bedrock", "region": "us-east-1", "cluster": "bedrock",
         "endpoint": {"address": host("bedrock"), "tls": False}, "api_key_env": "MOCK_BEDROCK_KEY"},
    ]
    models = [{"name": name, "targets": [{"provider": label, "model": model}]}
              for name, (label, model) in TARGETS.items()]
    models.append({"name": "fo", "targets": [{"provider": "down", "model": "gpt-4o-mini"},
                                             {"provider": "anthropic", "model": "claude-sonnet-4-5"}]})
    return {"providers": providers, "models": models}


def start(workdir) -> tuple[support.EnvoyProcess, support.MockProcess]:
    mock = support.MockProcess(workdir / "dialects-mock.log", listeners=LISTENERS).start()
    try:
        mock.fault("down", {"status": 503})
        envoy = support.EnvoyProcess(workdir, "dialects-envoy")
        envoy.start(support.render_yaml(config(mock), KEYS))
    except Exception:
        mock.stop()
        raise
    return envoy, mock


def last_request(mock: support.MockProcess, label: str) -> dict[str, Any]:
    seen = mock.requests(label)
    assert seen, f"the {label} mock saw no request"
    return seen[-1]
