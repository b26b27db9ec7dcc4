"""`make run` (scripts/run.sh) refuses to start over a running instance: a
port it needs that is already taken is named, rather than the health checks
being answered by the old instance and the banner announcing it."""

from __future__ import annotations

import os
import socket
import subprocess

import support


def test_a_taken_port_is_named_and_nothing_starts():
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("127.0.0.1", 9901))
    except OSError:
        holder.close()
        holder = None  # already taken by something else: the same situation
    if holder is not None:
        holder.listen(1)
    try:
        env = {**os.environ, "MODELMUX_SKIP_BUILD": "1"}
        out = subprocess.run(["bash", str(support.REPO / "scripts" / "run.sh")], env=env,
                             capture_output=True, text=True, timeout=60)
    finally:
        if holder is not None:
            holder.close()
    assert out.returncode == 1, out.stderr
    assert "port 127.0.0.1:9901 is taken" in out.stderr
    assert "demo is up" not in out.stderr
