"""A minimal HTTP/2 cleartext (prior knowledge) client that can end a request
with trailers, which `requests` and the OpenAI SDK cannot do.

With trailers, the last DATA frame carries no END_STREAM; the trailing
HEADERS frame ends the stream. That is the shape that used to skip the
filter's body phase.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events


@dataclass
class H2Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    reset: int | None = None
    trailers: dict[str, str] = field(default_factory=dict)


def _send_body(conn: h2.connection.H2Connection, sock: socket.socket, sid: int, body: bytes,
               end: bool) -> None:
    view = memoryview(body)
    while view:
        size = min(len(view), conn.max_outbound_frame_size, conn.local_flow_control_window(sid))
        if size <= 0:
            raise RuntimeError("request body larger than the peer's flow-control window")
        conn.send_data(sid, bytes(view[:size]), end_stream=end and size == len(view))
        view = view[size:]
        sock.sendall(conn.data_to_send())
    if not body and end:
        conn.end_stream(sid)


def request(addr: tuple[str, int], method: str, path: str, headers: list[tuple[str, str]],
            body: bytes = b"", trailers: list[tuple[str, str]] | None = None,
            timeout: float = 30.0) -> H2Response:
    """One request on a fresh h2c connection; the body is ended by
    `trailers` when given, else by END_STREAM on its last DATA frame."""
    sock = socket.create_connection(addr, timeout=timeout)
    try:
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        sid = conn.get_next_available_stream_id()
        head = [(":method", method), (":path", path), (":scheme", "http"),
                (":authority", f"{addr[0]}:{addr[1]}"), *headers]
        conn.send_headers(sid, head, end_stream=False)
        sock.sendall(conn.data_to_send())
        _send_body(conn, sock, sid, body, end=trailers is None)
        if trailers is not None:
            conn.send_headers(sid, trailers, end_stream=True)
            sock.sendall(conn.data_to_send())
        return _read(conn, sock, sid)
    finally:
        sock.close()


def _read(conn: h2.connection.H2Connection, sock: socket.socket, sid: int) -> H2Response:
    resp = H2Response(status=0, headers={})
    body = bytearray()
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the response ended")
        for ev in conn.receive_data(chunk):
            if getattr(ev, "stream_id", sid) != sid:
                continue
            if isinstance(ev, h2.events.ResponseReceived):
                resp.headers = dict(ev.headers)
                resp.status = int(resp.headers.get(":status", "0"))
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, sid)
            elif isinstance(ev, h2.events.TrailersReceived):
                resp.trailers = dict(ev.headers)
            elif isinstance(ev, h2.events.StreamReset):
                resp.reset = ev.error_code
                resp.body = bytes(body)
                return resp
            elif isinstance(ev, h2.events.StreamEnded):
                resp.body = bytes(body)
                return resp
        sock.sendall(conn.data_to_send())
