"""Claude Code and Codex through the gateway, to every listed provider.

Claude Code speaks Anthropic Messages: to Anthropic it is a passthrough, to
OpenAI, Gemini and Bedrock it is translated. Codex speaks the Responses
API: to OpenAI a passthrough, to Anthropic and Gemini translated. Each
agent answers a plain prompt, then runs one tool turn the mock steers with
`MOCK_CALL` (mock/src/magic.rs): Claude Code reads a file with its Read
tool, Codex runs `cat` through its shell tool, and both continue after the
tool result. Assertions are on what the CLI printed and on what the
provider's mock received (its own wire format, its own key, never the
client's).

Needs node and tests/agents/node_modules (scripts/bootstrap.sh); skipped
with the reason otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import agents
import dialects_env as de
from support import expected_reply

REASON = agents.missing_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

SECRET = "modelmux-agent-secret-51c9"
CLIENT_KEY = "agent-client-key-0c1e"
# public model -> what the provider's mock must have received
NATIVE = {
    "anthropic": ("/v1/messages", "x-api-key"),
    "openai": ("/v1/chat/completions", "authorization"),
    "gemini": (":streamGenerateContent", "x-goog-api-key"),
    "bedrock": ("/converse-stream", "authorization"),
}
CLAUDE_MODELS = ["claude", "gpt", "gem", "br"]
CODEX_MODELS = ["gpt", "claude", "gem"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    envoy, mock = de.start(tmp_path_factory.mktemp("agents"))
    yield envoy, mock
    envoy.stop()
    mock.stop()


@pytest.fixture
def workdir(tmp_path, env) -> Path:
    env[1].clear()
    (tmp_path / "notes.txt").write_text(f"{SECRET}\n")
    return tmp_path


def provider_requests(env, model: str) -> list[dict]:
    label = de.TARGETS[model][0]
    seen = env[1].requests(label)
    assert seen, f"the {label} mock saw no request"
    for req in seen:
        assert CLIENT_KEY not in json.dumps(req["headers"]), req["headers"]
    return seen


def check_native(env, model: str, passthrough_path: str) -> list[dict]:
    label, upstream = de.TARGETS[model]
    seen = provider_requests(env, model)
    path, key_header = NATIVE[label]
    for req in seen:
        want = passthrough_path if label in ("anthropic", "openai") and passthrough_path else path
        assert want in req["path"], (req["path"], want)
        assert key_header in req["headers"], req["headers"].keys()
    if label in ("anthropic", "openai"):
        assert seen[-1]["body"]["model"] == upstream
    return seen


# --------------------------------------------------------------------------
# Claude Code


def claude(env, model: str, prompt: str, workdir: Path) -> agents.AgentRun:
    run = agents.run_claude(env[0].gateway, prompt, workdir, CLIENT_KEY, model=model)
    assert run.exit_code == 0, run.describe()
    return run


@pytest.mark.parametrize("model", CLAUDE_MODELS)
def test_claude_code_plain_prompt(env, workdir, model):
    prompt = "say hello MOCK_TEXT"
    run = claude(env, model, prompt, workdir)
    assert run.stdout.strip() == expected_reply(de.TARGETS[model][1], prompt), run.describe()
    check_native(env, model, "/v1/messages" if model == "claude" else "")


@pytest.mark.parametrize("model", CLAUDE_MODELS)
def test_claude_code_reads_a_file(env, workdir, model):
    args = {"file_path": str(workdir / "notes.txt")}
    prompt = f"show the notes MOCK_CALL Read {json.dumps(args)}"
    run = claude(env, model, prompt, workdir)
    assert run.stdout.startswith("Tool result received: "), run.describe()
    assert f"1\t{SECRET}" in run.stdout
    seen = check_native(env, model, "/v1/messages" if model == "claude" else "")
    assert len(seen) == 2, [r["path"] for r in seen]
    # The second request carries the file's content back as the tool result.
    assert SECRET in json.dumps(seen[1]["body"])


# --------------------------------------------------------------------------
# Codex


# Codex offers OpenAI's built-in `web_search` tool on every request. Only
# OpenAI runs it; elsewhere the gateway refuses it by name (a 400), so the
# README tells Codex users to switch it off for other providers.
NO_WEB_SEARCH = 'web_search = "disabled"\n'


def codex(env, model: str, prompt: str, workdir: Path) -> agents.AgentRun:
    config = "" if model == "gpt" else NO_WEB_SEARCH
    run = agents.run_codex(env[0].gateway + "/v1", prompt, workdir, CLIENT_KEY, model=model, config=config)
    assert run.exit_code == 0, run.describe()
    return run


def test_codex_with_web_search_gets_the_refusal_by_name(env, workdir):
    run = agents.run_codex(env[0].gateway + "/v1", "say hello MOCK_TEXT", workdir, CLIENT_KEY, model="claude")
    assert run.exit_code != 0
    assert "The tool `web_search` runs on the provider's side" in run.stderr, run.describe()
    assert env[1].requests("anthropic") == []


@pytest.mark.parametrize("model", CODEX_MODELS)
def test_codex_plain_prompt(env, workdir, model):
    prompt = "say hello MOCK_TEXT"
    run = codex(env, model, prompt, workdir)
    assert run.stdout.strip() == expected_reply(de.TARGETS[model][1], prompt), run.describe()
    check_native(env, model, "/v1/responses" if model == "gpt" else "")


@pytest.mark.parametrize("model", CODEX_MODELS)
def test_codex_runs_a_shell_command(env, workdir, model):
    args = {"cmd": "cat notes.txt"}
    prompt = f"show the notes MOCK_CALL exec_command {json.dumps(args)}"
    run = codex(env, model, prompt, workdir)
    assert run.stdout.startswith("Tool result received: "), run.describe()
    assert SECRET in run.stdout
    seen = check_native(env, model, "/v1/responses" if model == "gpt" else "")
    assert len(seen) == 2, [r["path"] for r in seen]
    assert SECRET in json.dumps(seen[1]["body"])
