//! End-to-end tests: real listeners on port 0, raw HTTP over loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{json, Value};

use crate::server::{spawn, Provider};

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// HTTP chunks for chunked bodies, else one element.
    pub chunks: Vec<Vec<u8>>,
    /// Whether a chunked body ended with the zero-length chunk.
    pub complete: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body(&self) -> Vec<u8> {
        self.chunks.concat()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body()).unwrap()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body()).unwrap()
    }
}

pub fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    BufReader::new(s)
}

fn line<R: BufRead>(r: &mut R) -> String {
    let mut l = String::new();
    r.read_line(&mut l).unwrap();
    l.trim_end_matches(['\r', '\n']).to_string()
}

pub fn read_response<R: BufRead>(r: &mut R) -> Resp {
    let status_line = line(r);
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let l = line(r);
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(':').unwrap();
        headers.push((n.to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut resp = Resp {
        status,
        headers,
        chunks: Vec::new(),
        complete: true,
    };
    if resp.header("transfer-encoding") == Some("chunked") {
        resp.complete = false;
        loop {
            let size_line = line(r);
            if size_line.is_empty() {
                break; // EOF: stream was cut
            }
            let size = usize::from_str_radix(&size_line, 16).unwrap();
            if size == 0 {
                assert_eq!(line(r), "");
                resp.complete = true;
                break;
            }
            let mut data = vec![0; size];
            r.read_exact(&mut data).unwrap();
            assert_eq!(line(r), "");
            resp.chunks.push(data);
        }
    } else {
        let len: usize = resp.header("content-length").unwrap().parse().unwrap();
        let mut data = Vec::new();
        r.by_ref().take(len as u64).read_to_end(&mut data).unwrap();
        resp.complete = data.len() == len;
        resp.chunks.push(data);
    }
    resp
}

/// Writes one request with a body (no response read).
pub fn send<S: Read + Write>(
    r: &mut BufReader<S>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) {
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: mock\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    r.get_mut().write_all(raw.as_bytes()).unwrap();
}

pub fn post<S: Read + Write>(
    r: &mut BufReader<S>,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Resp {
    send(r, "POST", path, headers, &body.to_string());
    read_response(r)
}

pub fn simple<S: Read + Write>(r: &mut BufReader<S>, method: &str, path: &str) -> Resp {
    let raw = format!("{method} {path} HTTP/1.1\r\nHost: mock\r\n\r\n");
    r.get_mut().write_all(raw.as_bytes()).unwrap();
    read_response(r)
}

pub const OA_AUTH: (&str, &str) = ("Authorization", "Bearer mock-openai-key");

#[test]
fn openai_json_and_sse_over_keepalive() {
    let (addr, _) = spawn(Provider::OpenAi, "127.0.0.1:0", "mock-openai-key").unwrap();
    let mut c = connect(addr);
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "ping pong"}]});
    let resp = post(&mut c, "/v1/chat/completions", &[OA_AUTH], &body);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let v = resp.json();
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Mock reply ✓ from gpt-4o: ping pong"
    );

    // Same connection, streamed, split into 3-byte HTTP chunks (cuts the ✓).
    let mut body = body;
    body["stream"] = json!(true);
    let resp = post(
        &mut c,
        "/v1/chat/completions",
        &[OA_AUTH, ("x-mock-chunk-bytes", "3")],
        &body,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    assert!(resp.complete);
    assert!(resp.chunks.iter().all(|c| c.len() <= 3));
    let text = String::from_utf8(resp.body()).unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"));
    let content: String = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(content, "Mock reply ✓ from gpt-4o: ping pong");

    // Cut stream: first 2 events then the socket closes without the final chunk.
    let resp = post(
        &mut c,
        "/v1/chat/completions",
        &[OA_AUTH, ("x-mock-cut-after", "2")],
        &body,
    );
    assert!(!resp.complete);
    assert_eq!(resp.chunks.len(), 2);
}

#[test]
fn anthropic_stream_introspection_and_errors() {
    let (addr, _) = spawn(Provider::Anthropic, "127.0.0.1:0", "ak").unwrap();
    let mut c = connect(addr);
    let headers = [
        ("x-api-key", "ak"),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    let body = json!({"model": "claude", "max_tokens": 50, "stream": true,
        "messages": [{"role": "user", "content": "hi"}]});
    let resp = post(&mut c, "/v1/messages", &headers, &body);
    assert_eq!(resp.status, 200);
    assert!(resp.complete);
    let text = String::from_utf8(resp.body()).unwrap();
    assert!(text.starts_with("event: message_start\ndata: {"));
    assert!(text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));

    let resp = post(&mut c, "/v1/messages", &headers[..1], &body);
    assert_eq!(resp.status, 400);
    let resp = simple(&mut c, "GET", "/_mock/requests");
    let log = resp.json();
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/v1/messages");
    assert_eq!(log[0]["headers"]["anthropic-version"], "2023-06-01");
    assert_eq!(log[0]["body"]["model"], "claude");
    assert_eq!(simple(&mut c, "DELETE", "/_mock/requests").status, 200);
    assert_eq!(simple(&mut c, "GET", "/_mock/requests").json(), json!([]));
    assert_eq!(
        simple(&mut c, "GET", "/_mock/health").json(),
        json!({"ok": true})
    );
    assert_eq!(simple(&mut c, "GET", "/v1/other").status, 404);

    // Chunked request body.
    let payload =
        json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "a b"}]})
            .to_string();
    let (a, b) = payload.split_at(10);
    let raw = format!(
        "POST /v1/messages HTTP/1.1\r\nx-api-key: ak\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    c.get_mut().write_all(raw.as_bytes()).unwrap();
    let resp = read_response(&mut c);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["stop_reason"], "max_tokens");

    // Malformed HTTP gets a 400 and the connection is closed.
    c.get_mut().write_all(b"NOT HTTP\r\n\r\n").unwrap();
    let resp = read_response(&mut c);
    assert_eq!(resp.status, 400);
    assert_eq!(resp.header("connection"), Some("close"));
    let mut rest = Vec::new();
    assert_eq!(c.read_to_end(&mut rest).unwrap(), 0);
}
