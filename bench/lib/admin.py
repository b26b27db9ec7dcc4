"""Envoy admin `/stats`, parsed into {name: int} (counters and gauges)."""

from __future__ import annotations

from urllib.parse import quote

from .errors import BenchError
from .procs import http_get


def stats(admin_port: int, regex: str) -> dict[str, int]:
    """Every stat whose name matches `regex` (Envoy's `filter=`), with an
    integer value; histograms are skipped."""
    try:
        status, text = http_get(admin_port, f"/stats?filter={quote(regex)}")
    except OSError as exc:
        raise BenchError(f"admin /stats on port {admin_port} failed: {exc}") from None
    if status != 200:
        raise BenchError(f"admin /stats on port {admin_port} answered {status}")
    out: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        value = value.strip()
        if sep and value.lstrip("-").isdigit():
            out[name.strip()] = int(value)
    return out
