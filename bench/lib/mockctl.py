"""Stored faults on a modelmux-mock listener (`/_mock/faults`): set, heal."""

from __future__ import annotations

import http.client
import json

from .errors import BenchError


def _call(port: int, method: str, body: bytes | None = None) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"content-type": "application/json"} if body is not None else {}
        conn.request(method, "/_mock/faults", body=body, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        raise BenchError(f"mock :{port} {method} /_mock/faults failed: {exc!r}") from None
    finally:
        conn.close()
    if resp.status != 200:
        raise BenchError(f"mock :{port} {method} /_mock/faults answered {resp.status}: {text}")
    return json.loads(text) if text else {}


def set_fault(port: int, **fault) -> dict:
    """Store a fault on the listener, e.g. set_fault(p, status=503, rate=0.5);
    returns the fault as the mock stored it."""
    return _call(port, "PUT", json.dumps(fault).encode())


def clear_fault(port: int) -> None:
    _call(port, "DELETE")
