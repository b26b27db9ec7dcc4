"""Claude Code and Codex against the mock providers directly (no gateway).

Claude Code talks to the Anthropic mock's `/v1/messages`, Codex to the
OpenAI mock's `/v1/responses`. Each agent answers a plain prompt, then runs
one tool turn the mock steers with `MOCK_CALL` (see mock/src/magic.rs):
Claude Code reads a file with its Read tool, Codex runs `cat` through its
shell tool, and both continue after the tool result to the mock's
`Tool result received: ...` answer. The assertions are on what the CLI
prints and on what the mock received, so a mock that answers wrongly (or
rejects what the agents send) fails them.

Needs node and tests/agents/node_modules (scripts/bootstrap.sh); skipped
with the reason otherwise. Starts its own mock; needs no Envoy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import agents
from support import MOCK_ANTHROPIC_KEY, MOCK_OPENAI_KEY, MockProcess, expected_reply

REASON = agents.missing_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

CLAUDE_MODEL = "claude-mock-agent"
CODEX_MODEL = "gpt-mock-agent"
SECRET = "modelmux-agent-secret-7f3a"


@pytest.fixture(scope="module")
def agent_mock(tmp_path_factory) -> MockProcess:
    log = tmp_path_factory.mktemp("mock-agents") / "mock.log"
    proc = MockProcess(log)
    try:
        proc.start()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot start the mock: {exc}", pytrace=False)
    yield proc
    proc.stop()


@pytest.fixture
def workdir(tmp_path, agent_mock) -> Path:
    agent_mock.clear()
    (tmp_path / "notes.txt").write_text(f"{SECRET}\n")
    return tmp_path


def user_texts(message: dict) -> list[str]:
    content = message["content"]
    if isinstance(content, str):
        return [content]
    return [b["text"] for b in content if b.get("type") in ("text", "input_text")]


# --------------------------------------------------------------------------
# Claude Code -> Anthropic mock
# --------------------------------------------------------------------------


def claude(mock: MockProcess, prompt: str, workdir: Path) -> agents.AgentRun:
    run = agents.run_claude(mock.url("anthropic", ""), prompt, workdir, MOCK_ANTHROPIC_KEY, model=CLAUDE_MODEL)
    assert run.exit_code == 0, run.describe()
    return run


def check_claude_request(req: dict) -> dict:
    assert (req["method"], req["path"]) == ("POST", "/v1/messages?beta=true")
    headers = req["headers"]
    assert headers["x-api-key"] == MOCK_ANTHROPIC_KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert "claude-code-20250219" in headers["anthropic-beta"].split(",")
    body = req["body"]
    assert body["model"] == CLAUDE_MODEL
    assert body["stream"] is True
    assert {"Read", "Bash"} <= {t["name"] for t in body["tools"]}
    return body


def test_claude_plain_prompt(agent_mock, workdir):
    prompt = "say hello MOCK_TEXT"
    run = claude(agent_mock, prompt, workdir)
    assert run.stdout.strip() == expected_reply(CLAUDE_MODEL, prompt)
    log = agent_mock.requests("anthropic")
    assert len(log) == 1, [r["path"] for r in log]
    body = check_claude_request(log[0])
    first = body["messages"][0]
    assert first["role"] == "user"
    assert user_texts(first)[-1] == prompt


def test_claude_reads_a_file(agent_mock, workdir):
    path = str(workdir / "notes.txt")
    args = {"file_path": path}
    prompt = f"show the notes MOCK_CALL Read {json.dumps(args)}"
    run = claude(agent_mock, prompt, workdir)
    # Claude Code's Read returns `cat -n` style lines; the mock echoes them.
    assert run.stdout.startswith("Tool result received: "), run.describe()
    assert f"1\t{SECRET}" in run.stdout
    log = agent_mock.requests("anthropic")
    assert len(log) == 2, [r["path"] for r in log]
    check_claude_request(log[0])
    turns = [m for m in check_claude_request(log[1])["messages"] if m["role"] != "system"]
    call, result = turns[-2], turns[-1]
    assert call["role"] == "assistant"
    # Claude Code asks for adaptive thinking with display "omitted": the mock
    # opened its answer with an empty, signed thinking block, which must come
    # back first in the assistant turn (the mock checks the signature).
    first = call["content"][0]
    assert (first["type"], first["thinking"]) == ("thinking", ""), call["content"]
    assert first["signature"].startswith("mocksig-")
    tool_use = [b for b in call["content"] if b["type"] == "tool_use"]
    assert [(b["name"], b["input"]) for b in tool_use] == [("Read", args)]
    assert result["role"] == "user"
    results = [b for b in result["content"] if b["type"] == "tool_result"]
    assert [b["tool_use_id"] for b in results] == [tool_use[0]["id"]]
    content = results[0]["content"]
    text = content if isinstance(content, str) else " ".join(b.get("text", "") for b in content)
    assert SECRET in text
    assert not results[0].get("is_error", False)


# --------------------------------------------------------------------------
# Codex -> OpenAI mock /v1/responses
# --------------------------------------------------------------------------


def codex(mock: MockProcess, prompt: str, workdir: Path) -> agents.AgentRun:
    run = agents.run_codex(mock.url("openai", "/v1"), prompt, workdir, MOCK_OPENAI_KEY, model=CODEX_MODEL)
    assert run.exit_code == 0, run.describe()
    return run


def check_codex_request(req: dict) -> dict:
    assert (req["method"], req["path"]) == ("POST", "/v1/responses")
    assert req["headers"]["authorization"] == f"Bearer {MOCK_OPENAI_KEY}"
    body = req["body"]
    assert body["model"] == CODEX_MODEL
    assert body["stream"] is True
    assert "exec_command" in {t.get("name") for t in body["tools"]}
    return body


def test_codex_plain_prompt(agent_mock, workdir):
    prompt = "say hello MOCK_TEXT"
    run = codex(agent_mock, prompt, workdir)
    assert run.stdout.strip() == expected_reply(CODEX_MODEL, prompt)
    log = agent_mock.requests("openai")
    assert len(log) == 1, [r["path"] for r in log]
    body = check_codex_request(log[0])
    last = body["input"][-1]
    assert (last["type"], last["role"]) == ("message", "user")
    assert user_texts(last) == [prompt]


def test_codex_runs_a_shell_command(agent_mock, workdir):
    args = {"cmd": "cat notes.txt"}
    prompt = f"show the notes MOCK_CALL exec_command {json.dumps(args)}"
    run = codex(agent_mock, prompt, workdir)
    assert run.stdout.startswith("Tool result received: "), run.describe()
    assert SECRET in run.stdout
    log = agent_mock.requests("openai")
    assert len(log) == 2, [r["path"] for r in log]
    check_codex_request(log[0])
    items = check_codex_request(log[1])["input"]
    # Codex sends `include: ["reasoning.encrypted_content"]`, so the mock
    # answered with a reasoning item first; Codex must send it back as is
    # (the mock rejects content it did not issue).
    reasoning = [i for i in items if i.get("type") == "reasoning"]
    assert len(reasoning) == 1, reasoning
    assert reasoning[0]["id"].startswith("rs_mock_")
    assert reasoning[0]["encrypted_content"].startswith("mockenc-")
    assert items.index(reasoning[0]) == len(items) - 3
    call, output = items[-2], items[-1]
    assert call["type"] == "function_call"
    assert call["name"] == "exec_command"
    assert json.loads(call["arguments"]) == args
    assert output["type"] == "function_call_output"
    assert output["call_id"] == call["call_id"]
    assert SECRET in output["output"]
