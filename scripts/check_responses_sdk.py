"""Checks the Responses encoder's output against the openai Python SDK.

    RESPONSES_SDK_FIXTURES=/tmp/rf cargo test -p modelmux-core write_sdk_fixtures
    .venv/bin/python scripts/check_responses_sdk.py /tmp/rf

Every `*.json` must validate as `openai.types.responses.Response`; every
event of every `*.sse` as a `ResponseStreamEvent`. Each stream is also
served over HTTP to the SDK's own `client.responses.stream()` helper,
whose accumulated final response must equal the terminal event's.
"""

import http.server
import json
import pathlib
import sys
import threading

import openai
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

EVENT = TypeAdapter(ResponseStreamEvent)


def sse_events(raw: bytes):
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        data = json.loads(lines["data"])
        assert lines["event"] == data["type"], block
        yield data


def serve(body: bytes, content_type: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check_stream(path: pathlib.Path):
    raw = path.read_bytes()
    events = list(sse_events(raw))
    for data in events:
        EVENT.validate_python(data)
    last = events[-1]
    server = serve(raw, "text/event-stream")
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_port}/v1", api_key="x")
    try:
        with client.responses.stream(model="m", input="hi") as stream:
            for _ in stream:
                pass
            if last["type"] == "response.completed":
                final = stream.get_final_response()
                assert final.model_dump(exclude_none=True, mode="json") == Response.model_validate(
                    last["response"]
                ).model_dump(exclude_none=True, mode="json"), path
    except openai.APIError as e:
        assert last["type"] == "response.failed", (path, e)
    finally:
        server.shutdown()
    print(f"ok {path.name}: {len(events)} events, ends {last['type']}")


def check_reply(path: pathlib.Path):
    body = json.loads(path.read_text())
    Response.model_validate(body)
    server = serve(path.read_bytes(), "application/json")
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_port}/v1", api_key="x")
    try:
        r = client.responses.create(model="m", input="hi")
        assert r.id == body["id"]
        assert r.output_text == "".join(
            c["text"] for i in body["output"] if i["type"] == "message" for c in i["content"]
        )
    finally:
        server.shutdown()
    print(f"ok {path.name}: {r.status}")


def main():
    d = pathlib.Path(sys.argv[1])
    files = sorted(d.iterdir())
    assert files, d
    for p in files:
        (check_stream if p.suffix == ".sse" else check_reply)(p)


if __name__ == "__main__":
    main()
