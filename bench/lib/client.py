"""Closed-loop HTTP/1.1 load: `concurrency` threads, each with its own
keep-alive connection, send POSTs until `n` have been sent, and every
response is classified by a caller-supplied check.

Threads rather than asyncio: http.client's blocking I/O releases the GIL, so
32 threads keep 32 requests in flight with the stdlib alone.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

# check(request_index, status, headers, body) -> None on success, else a short
# failure kind such as "http_503" or "invalid_body".
Check = Callable[[int, int, dict[str, str], bytes], "str | None"]
# make(request_index) -> (path, headers, body)
Make = Callable[[int], tuple[str, dict[str, str], bytes]]


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # successes only
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def successes(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_load(port: int, n: int, concurrency: int, make: Make, check: Check,
             timeout: float = 30.0) -> LoadResult:
    """Send `n` requests to 127.0.0.1:`port` with `concurrency` in flight."""
    lock = threading.Lock()
    next_index = [0]
    result = LoadResult(requests=n)

    def take() -> int | None:
        with lock:
            i = next_index[0]
            if i >= n:
                return None
            next_index[0] = i + 1
            return i

    def record(kind: str | None, ms: float) -> None:
        with lock:
            if kind is None:
                result.latencies_ms.append(ms)
            else:
                result.failures[kind] = result.failures.get(kind, 0) + 1

    def connect() -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def worker() -> None:
        conn: http.client.HTTPConnection | None = None
        while (i := take()) is not None:
            path, headers, body = make(i)
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = connect()
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                hdrs = {k.lower(): v for k, v in resp.getheaders()}
                kind = check(i, resp.status, hdrs, data)
                if resp.will_close:
                    conn.close()
                    conn = None
            except socket.timeout:
                kind = "timeout"
            except (OSError, http.client.HTTPException) as exc:
                kind = f"conn_{type(exc).__name__}"
            if kind is not None and conn is not None and kind.startswith(("conn_", "timeout")):
                conn.close()
                conn = None
            record(kind, (time.perf_counter() - t0) * 1000)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    return result
