"""A real Prometheus for the e2e suite, and the PromQL the repository ships.

`PrometheusProcess` runs Debian's `prometheus` (or $MODELMUX_PROMETHEUS) on a
free loopback port with a generated config that scrapes one Envoy admin's
/stats/prometheus every second and loads a copy of envoy/prometheus/alerts.yaml.
The rest reads the shipped files: every `expr` of the Grafana dashboard (with
its template variables substituted) and the operands of the alert rules.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any, Iterator

import requests

import support

DASHBOARD = support.REPO / "envoy" / "grafana" / "modelmux.json"
ALERTS = support.REPO / "envoy" / "prometheus" / "alerts.yaml"
DEMO_PROMETHEUS = support.REPO / "envoy" / "prometheus" / "prometheus.yml"

INSTALL_HINT = "run `make bootstrap` (scripts/bootstrap.sh installs Debian's prometheus package)"


def binary(name: str) -> str | None:
    """`prometheus` / `promtool`: $MODELMUX_PROMETHEUS / $MODELMUX_PROMTOOL, else PATH."""
    override = os.environ.get(f"MODELMUX_{name.upper()}")
    if override:
        return override if Path(override).exists() else None
    return shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def short_for(rules_text: str, duration: str = "1s") -> str:
    """The rules with every `for:` shortened, so a test sees alerts fire."""
    return re.sub(r"(?m)^(\s+for:\s*)\S+\s*$", lambda m: m.group(1) + duration, rules_text)


class PrometheusProcess:
    def __init__(self, workdir: Path, admin: str, rules_text: str, interval: str = "1s"):
        self.workdir = workdir
        self.admin = admin.removeprefix("http://")
        self.rules_text = rules_text
        self.interval = interval
        self.proc: subprocess.Popen | None = None
        self.url = ""

    @property
    def log_path(self) -> Path:
        return self.workdir / "prometheus.log"

    def start(self) -> "PrometheusProcess":
        exe = binary("prometheus")
        if exe is None:
            raise RuntimeError(f"prometheus not found; {INSTALL_HINT}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "alerts.yaml").write_text(self.rules_text)
        config = self.workdir / "prometheus.yml"
        # JSON is YAML: no YAML library needed.
        config.write_text(json.dumps({
            "global": {"scrape_interval": self.interval, "scrape_timeout": self.interval,
                       "evaluation_interval": self.interval},
            "rule_files": [str(self.workdir / "alerts.yaml")],
            "scrape_configs": [{"job_name": "modelmux", "metrics_path": "/stats/prometheus",
                                "static_configs": [{"targets": [self.admin]}]}],
        }, indent=2))
        for _ in range(3):  # the free port may be taken in between
            port = free_port()
            cmd = [exe, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                   f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, preexec_fn=support._die_with_parent)
            finally:
                log.close()
            self.url = f"http://127.0.0.1:{port}"
            try:
                support.wait_until(self._ready, support.STARTUP_TIMEOUT, what="prometheus /-/ready")
                return self
            except (TimeoutError, RuntimeError):
                self.stop()
                if "address already in use" not in support.tail(self.log_path, 5):
                    raise RuntimeError(f"prometheus did not start; log {self.log_path}:\n{support.tail(self.log_path)}")
        raise RuntimeError(f"prometheus found no free port; log {self.log_path}:\n{support.tail(self.log_path)}")

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {self.proc.returncode}")
        return requests.get(self.url + "/-/ready", timeout=2).status_code == 200

    def stop(self) -> None:
        support.stop_process(self.proc)

    # -- HTTP API ----------------------------------------------------------

    def api(self, path: str, **params) -> Any:
        resp = requests.get(self.url + "/api/v1/" + path, params=params, timeout=support.HTTP_TIMEOUT)
        body = resp.json()
        if body.get("status") != "success":
            raise PromQLError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant vector result of `expr` now (a scalar becomes one sample)."""
        data = self.api("query", query=expr)
        if data["resultType"] == "vector":
            return data["result"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        raise PromQLError(f"{expr}: unexpected result type {data['resultType']}")

    def values(self, expr: str) -> dict[tuple, float]:
        return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in self.query(expr)}

    def scalar(self, expr: str) -> float | None:
        result = self.query(expr)
        assert len(result) <= 1, (expr, result)
        return float(result[0]["value"][1]) if result else None

    def rules(self) -> list[dict[str, Any]]:
        return [rule for group in self.api("rules")["groups"] for rule in group["rules"]]

    def alerts(self) -> list[dict[str, Any]]:
        return self.api("alerts")["alerts"]

    def scraped_after(self, when: float) -> bool:
        """Has the target been scraped (successfully) since the wall clock `when`?"""
        for target in self.api("targets")["activeTargets"]:
            if target["health"] == "up" and _parse_time(target["lastScrape"]) > when:
                return True
        return False


class PromQLError(RuntimeError):
    pass


def _parse_time(stamp: str) -> float:
    # 2026-12-01T23:20:01.123456789Z (Go's RFC 3339 with nanoseconds)
    from datetime import datetime, timezone

    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", stamp)
    if not m:
        return 0.0
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    tz = timezone.utc if m.group(3) == "Z" else datetime.strptime(m.group(3).replace(":", ""), "%z").tzinfo
    frac = float("0." + m.group(2)) if m.group(2) else 0.0
    return base.replace(tzinfo=tz).timestamp() + frac


def finite(result: list[dict[str, Any]]) -> list[float]:
    out = []
    for sample in result:
        value = float(sample["value"][1])
        if math.isfinite(value):
            out.append(value)
    return out


# --------------------------------------------------------------------------
# The dashboard's queries
# --------------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])  # collapsed rows nest theirs


def dashboard_targets(dash: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title / refId, expr) of every query in the dashboard."""
    out = []
    for panel in _panels(dash["panels"]):
        for target in panel.get("targets") or []:
            if "expr" in target:
                out.append((f"{panel['title']} / {target.get('refId', '?')}", target["expr"]))
    return out


def dashboard_variables(dash: dict[str, Any]) -> dict[str, str]:
    """Query variables: name -> their label_values(...) query."""
    out = {}
    for var in dash["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]
            out[var["name"]] = query["query"] if isinstance(query, dict) else query
    return out


# Grafana's built-ins, with values that suit a Prometheus that has scraped for
# under a minute.
BUILTINS = {"__rate_interval": "30s", "__interval": "1s", "__range": "5m"}


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replaces $name and ${name} (the longest names first); `$1` (a
    label_replace group) is no variable and stays, as in Grafana."""
    values = {**BUILTINS, **values}

    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name.isdigit():
            return m.group(0)
        if name not in values:
            raise KeyError(f"unknown template variable ${name} in {expr}")
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", repl, expr)


# --------------------------------------------------------------------------
# PromQL, just enough to take alert conditions apart
# --------------------------------------------------------------------------

_COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
_SET_OPS = ("and", "or", "unless")


def _top_level(expr: str) -> Iterator[tuple[int, str]]:
    """(index, char) of the characters outside (), {}, [] and strings."""
    depth = 0
    quote = ""
    i = 0
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif depth == 0:
            yield i, c
        i += 1


def strip_parens(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")"):
        depth = 0
        for i, c in enumerate(expr):
            depth += c == "("
            depth -= c == ")"
            if depth == 0 and i < len(expr) - 1:
                return expr  # `(a) + (b)`
        expr = expr[1:-1].strip()
    return expr


def split_set_ops(expr: str) -> list[str]:
    """`a and b or c` -> [a, b, c] (top level only; their modifiers dropped)."""
    parts, start = [], 0
    top = dict(_top_level(expr))
    i = 0
    while i < len(expr):
        for op in _SET_OPS:
            end = i + len(op)
            if (i in top and expr[i:end] == op and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] in "_:"))
                    and end < len(expr) and not (expr[end].isalnum() or expr[end] in "_:")):
                parts.append(expr[start:i])
                rest = expr[end:].lstrip()
                skip = len(expr[end:]) - len(rest)
                m = re.match(r"(on|ignoring)\s*\([^)]*\)\s*", rest)
                start = end + skip + (m.end() if m else 0)
                i = start - 1
                break
        i += 1
    parts.append(expr[start:])
    return [strip_parens(p) for p in parts]


def condition_sides(expr: str) -> tuple[str, str | None]:
    """`lhs > rhs` -> (lhs, rhs); an expression without a top-level comparison -> (expr, None)."""
    expr = strip_parens(expr)
    positions = [i for i, _ in _top_level(expr)]
    for i in positions:
        for op in _COMPARISONS:
            if expr.startswith(op, i):
                rhs = expr[i + len(op):].strip()
                rhs = re.sub(r"^bool\b\s*", "", rhs)
                rhs = re.sub(r"^(on|ignoring)\s*\([^)]*\)\s*(group_left|group_right)?\s*(\([^)]*\))?\s*", "", rhs)
                return strip_parens(expr[:i]), strip_parens(rhs)
    return expr, None


def rule_signals(expr: str) -> list[str]:
    """The expressions an alert compares: every operand of its set operators and
    both sides of each comparison that are not plain numbers."""
    out = []
    for part in split_set_ops(expr):
        lhs, rhs = condition_sides(part)
        out.append(lhs)
        if rhs is not None and not re.fullmatch(r"[0-9.eE+-]+", rhs):
            out.append(rhs)
    return out
