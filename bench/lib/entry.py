"""How a bench script runs: SIGTERM unwinds (so `finally` stops the
processes it started), a BenchError is one line on stderr and exit 1."""

from __future__ import annotations

import signal
import sys
from typing import Callable

from .errors import BenchError


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def run(main: Callable[[], int], name: str) -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"{name}: FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
