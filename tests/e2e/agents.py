"""Run the real coding agents (Claude Code, Codex) against a base URL.

The agents are npm packages pinned in tests/agents (`npm ci` there, done by
scripts/bootstrap.sh when node is installed). Each run gets a fresh HOME (and
CODEX_HOME) under a temporary directory and an environment built from
scratch, so no user config, login or key leaks in and the agent talks to
nothing but `base_url`:

* Claude Code: `ANTHROPIC_BASE_URL` + `ANTHROPIC_API_KEY`, with
  `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1` (no telemetry, update checks
  or feedback calls), then `claude -p PROMPT`. It sends `POST
  /v1/messages?beta=true`, streaming, with `x-api-key`.
* Codex: a `model_providers.mock` entry with `base_url` and `wire_api =
  "responses"` in `$CODEX_HOME/config.toml`, the key in the provider's
  `env_key` variable, then `codex exec --skip-git-repo-check PROMPT`. It
  sends `POST {base_url}/responses`, streaming, with `Authorization: Bearer`.
  Its shell tool runs in Codex's read-only sandbox (bundled bubblewrap).

Both print the final answer on stdout; Codex prints its transcript (prompt,
commands run, answer) on stderr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AGENTS_DIR = REPO / "tests" / "agents"
CLAUDE_BIN = AGENTS_DIR / "node_modules" / ".bin" / "claude"
CODEX_BIN = AGENTS_DIR / "node_modules" / ".bin" / "codex"

DEFAULT_TIMEOUT = 120.0
CODEX_KEY_VAR = "MODELMUX_AGENT_KEY"


@dataclass
class AgentRun:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return f"exit {self.exit_code} after {self.seconds:.1f}s\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr[-4000:]}"


def missing_reason() -> str | None:
    """Why the agents cannot run here, or None when they can."""
    if shutil.which("node") is None:
        return "node is not installed (the agents are npm packages)"
    for binary in (CLAUDE_BIN, CODEX_BIN):
        if not binary.exists():
            return f"{binary} is missing; run scripts/bootstrap.sh (npm ci in tests/agents)"
    return None


def _base_env(home: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "TMPDIR": str(home),
        "NO_COLOR": "1",
    }
    return env


def _run(cmd: list[str], env: dict[str, str], workdir: Path, timeout: float) -> AgentRun:
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode("utf-8", "replace")
        err = (exc.stderr or b"").decode("utf-8", "replace")
        return AgentRun(-1, out, err + f"\n[timed out after {timeout}s]", time.monotonic() - started)
    return AgentRun(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        time.monotonic() - started,
    )


def run_claude(
    base_url: str,
    prompt: str,
    workdir: Path,
    key: str,
    model: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    extra_env: dict[str, str] | None = None,
) -> AgentRun:
    """`claude -p PROMPT` in `workdir` against `base_url` (no `/v1`)."""
    with tempfile.TemporaryDirectory(prefix="claude-home-") as home:
        env = _base_env(Path(home))
        env.update(
            {
                "ANTHROPIC_BASE_URL": base_url,
                "ANTHROPIC_API_KEY": key,
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                "DISABLE_AUTOUPDATER": "1",
            }
        )
        env.update(extra_env or {})
        cmd = [str(CLAUDE_BIN), "-p", prompt]
        if model:
            cmd += ["--model", model]
        return _run(cmd, env, workdir, timeout)


def codex_config(base_url: str, model: str, extra: str = "") -> str:
    """`config.toml` pointing Codex at `base_url` (ending in `/v1`);
    `extra` is more top-level TOML (before the tables)."""
    return (
        f'model = "{model}"\n'
        f"{extra}"
        'model_provider = "mock"\n'
        "\n"
        "[model_providers.mock]\n"
        'name = "modelmux test provider"\n'
        f'base_url = "{base_url}"\n'
        f'env_key = "{CODEX_KEY_VAR}"\n'
        'wire_api = "responses"\n'
    )


def run_codex(
    base_url: str,
    prompt: str,
    workdir: Path,
    key: str,
    model: str = "gpt-mock",
    timeout: float = DEFAULT_TIMEOUT,
    extra_env: dict[str, str] | None = None,
    sandbox: str | None = None,
    config: str = "",
) -> AgentRun:
    """`codex exec --skip-git-repo-check PROMPT` in `workdir` against `base_url` (with `/v1`).

    `sandbox` is Codex's `--sandbox` (default `read-only`, which runs shell
    commands under its bundled bubblewrap; `danger-full-access` where user
    namespaces are not available)."""
    with tempfile.TemporaryDirectory(prefix="codex-home-") as home:
        codex_home = Path(home) / "codex"
        codex_home.mkdir()
        (codex_home / "config.toml").write_text(codex_config(base_url, model, config))
        env = _base_env(Path(home))
        env.update({"CODEX_HOME": str(codex_home), CODEX_KEY_VAR: key})
        env.update(extra_env or {})
        cmd = [str(CODEX_BIN), "exec", "--skip-git-repo-check"]
        if sandbox:
            cmd += ["--sandbox", sandbox]
        cmd.append(prompt)
        return _run(cmd, env, workdir, timeout)
