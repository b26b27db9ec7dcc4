//! Responses and per-request fault injection (`x-mock-*` request headers).
//!
//! Header faults reach every provider a gateway forwards the request to, so
//! `x-mock-only: LABEL[,LABEL]` scopes them to the named listeners: a
//! failover test can break the first provider and let the second answer.
//! Listeners with a stored fault (see `persist`) get it from there instead.

use std::io::{self, Write};
use std::time::Duration;

use crate::http::Request;

/// Response body: a complete JSON document or a list of rendered SSE events.
#[derive(Debug, Clone)]
pub enum Body {
    Json(Vec<u8>),
    Sse(Vec<Vec<u8>>),
    /// No response at all: the connection is closed right after the request.
    Reset,
}

/// A response ready to be written, before faults are applied.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
    /// Close the connection after this response (`connection: close`).
    pub close: bool,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Json(serde_json::to_vec(value).unwrap_or_default()),
            close: false,
        }
    }

    /// A JSON body already serialized (kept byte for byte).
    pub fn raw_json(status: u16, bytes: Vec<u8>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Json(bytes),
            close: false,
        }
    }

    /// 200 with a body that is not JSON.
    pub fn garbage() -> Response {
        Response {
            status: 200,
            headers: Vec::new(),
            body: Body::Json(b"<html><body>502 Bad Gateway</body></html>".to_vec()),
            close: false,
        }
    }

    pub fn sse(events: Vec<Vec<u8>>) -> Response {
        Response {
            status: 200,
            headers: Vec::new(),
            body: Body::Sse(events),
            close: false,
        }
    }

    /// Close the connection without answering.
    pub fn reset() -> Response {
        Response {
            status: 0,
            headers: Vec::new(),
            body: Body::Reset,
            close: true,
        }
    }

    /// The same response followed by closing the connection.
    pub fn closing(mut self) -> Response {
        self.close = true;
        self
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Response {
        self.headers.push((name, value));
        self
    }
}

/// Fault-injection settings read from the request headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// `x-mock-status`: answer with this status and a native error body.
    pub status: Option<u16>,
    /// `x-mock-delay-ms`: sleep before sending the response head.
    pub delay_ms: u64,
    /// `x-mock-chunk-bytes`: write the body in writes of this many bytes.
    pub chunk_bytes: usize,
    /// `x-mock-cut-after`: send this many SSE events (or half the JSON) then close.
    pub cut_after: Option<usize>,
    /// `x-mock-stream-error: 1`: emit an in-stream error event.
    pub stream_error: bool,
    /// `x-mock-cached-tokens`: cached prompt tokens reported in usage.
    pub cached_tokens: u64,
    /// `x-mock-event-delay-ms`: pause between SSE writes, like a model
    /// producing tokens; lets tests see whether the gateway streams.
    pub event_delay_ms: u64,
    /// `x-mock-garbage: 1`: answer 200 with a body that is not the API's
    /// JSON (what a misbehaving proxy in front of a provider might send).
    pub garbage: bool,
    /// `x-mock-retry-after`: `retry-after` header on the injected error.
    pub retry_after: Option<String>,
    /// `x-mock-reset: 1`: close the connection without answering.
    pub reset: bool,
    /// `x-mock-overloaded: 1`: 200 whose body (or first event) is an
    /// overloaded error, the way providers fail behind a 2xx.
    pub overloaded: bool,
    /// Extra response headers (stored faults only: `headers`), written
    /// after the response's own; for tests of what a gateway passes on.
    pub headers: Vec<(String, String)>,
}

fn flag(req: &Request, name: &str) -> bool {
    req.header(name)
        .is_some_and(|v| matches!(v.trim(), "1" | "true"))
}

impl Faults {
    pub fn from_request(req: &Request) -> Faults {
        let num = |name: &str| req.header(name).and_then(|v| v.trim().parse::<u64>().ok());
        Faults {
            status: num("x-mock-status")
                .filter(|s| (100..=999).contains(s))
                .and_then(|s| u16::try_from(s).ok()),
            delay_ms: num("x-mock-delay-ms").unwrap_or(0),
            chunk_bytes: num("x-mock-chunk-bytes")
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0),
            cut_after: num("x-mock-cut-after").and_then(|n| usize::try_from(n).ok()),
            stream_error: flag(req, "x-mock-stream-error"),
            cached_tokens: num("x-mock-cached-tokens").unwrap_or(0),
            event_delay_ms: num("x-mock-event-delay-ms").unwrap_or(0),
            garbage: flag(req, "x-mock-garbage"),
            retry_after: req
                .header("x-mock-retry-after")
                .map(|v| v.trim().to_string()),
            reset: flag(req, "x-mock-reset"),
            overloaded: flag(req, "x-mock-overloaded"),
            headers: Vec::new(),
        }
    }

    /// The header faults that apply on the listener `label`: `None` when the
    /// request has no `x-mock-*` fault header or `x-mock-only` excludes it.
    pub fn for_listener(req: &Request, label: &str) -> Option<Faults> {
        let any = req
            .headers
            .iter()
            .any(|(n, _)| n.starts_with("x-mock-") && n != "x-mock-only");
        if !any || !applies_to(req, label) {
            return None;
        }
        Some(Faults::from_request(req))
    }

    /// The injected error status, if it is an error status (>= 300).
    pub fn error_status(&self) -> Option<u16> {
        self.status.filter(|s| *s >= 300)
    }
}

/// Whether `x-mock-only` (absent: every listener) names `label`.
pub fn applies_to(req: &Request, label: &str) -> bool {
    let mut lists = req
        .headers
        .iter()
        .filter(|(n, _)| n == "x-mock-only")
        .peekable();
    if lists.peek().is_none() {
        return true;
    }
    lists.any(|(_, v)| v.split(',').any(|l| l.trim() == label))
}

/// Adds `retry-after` (and for OpenAI `retry-after-ms` when the value is a
/// whole number of seconds) to an injected error response.
pub fn with_retry_after(resp: Response, faults: &Faults, millis: bool) -> Response {
    let Some(value) = &faults.retry_after else {
        return resp;
    };
    let ms = value.parse::<u64>().ok().filter(|_| millis);
    let resp = resp.with_header("retry-after", value.clone());
    match ms {
        Some(secs) => resp.with_header("retry-after-ms", secs.saturating_mul(1000).to_string()),
        None => resp,
    }
}

/// How one provider's mock answers injected faults.
pub struct FaultReplies {
    /// The native error body for a status.
    pub error: fn(u16) -> Response,
    /// A 200 with the provider's overloaded error (`true`: as a stream).
    pub overloaded: fn(bool) -> Response,
    /// Also send `retry-after-ms` (OpenAI does).
    pub retry_after_ms: bool,
    /// Whether the request asks for a stream (the body's `"stream": true`
    /// for OpenAI and Anthropic, the method for Gemini).
    pub stream: fn(&Request) -> bool,
}

/// The response an injected fault replaces the real one with, if any.
pub fn injected(req: &Request, faults: &Faults, replies: &FaultReplies) -> Option<Response> {
    if faults.reset {
        return Some(Response::reset());
    }
    let resp = match faults.error_status() {
        Some(status) => (replies.error)(status),
        None if faults.overloaded => (replies.overloaded)((replies.stream)(req)),
        None if faults.garbage => return Some(Response::garbage()),
        None => return None,
    };
    Some(with_retry_after(resp, faults, replies.retry_after_ms))
}

/// Whether the request body asks for a stream (`"stream": true`); used by
/// injected faults that run before the body is validated.
pub fn wants_stream(req: &Request) -> bool {
    serde_json::from_slice::<serde_json::Value>(&req.body)
        .is_ok_and(|v| v.get("stream") == Some(&serde_json::Value::Bool(true)))
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "Status",
    }
}

/// Writes `resp` applying `faults`. Returns `Ok(false)` when the connection
/// must be closed afterwards (cut responses or `close` requested).
pub fn write_response<W: Write>(
    w: &mut W,
    resp: &Response,
    faults: &Faults,
    close: bool,
) -> io::Result<bool> {
    if faults.delay_ms > 0 {
        std::thread::sleep(Duration::from_millis(faults.delay_ms));
    }
    if matches!(resp.body, Body::Reset) {
        return Ok(false);
    }
    let close = close || resp.close;
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (name, value) in &resp.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    push_extra_headers(&mut head, faults);
    match &resp.body {
        Body::Json(bytes) => {
            head.push_str("content-type: application/json\r\n");
            head.push_str(&format!("content-length: {}\r\n", bytes.len()));
        }
        Body::Sse(_) => {
            head.push_str("content-type: text/event-stream\r\n");
            head.push_str("cache-control: no-cache\r\n");
            head.push_str("transfer-encoding: chunked\r\n");
        }
        Body::Reset => {}
    }
    if close {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    let complete = match &resp.body {
        Body::Json(bytes) => write_json(w, bytes, faults)?,
        Body::Sse(events) => write_sse(w, events, faults)?,
        Body::Reset => false,
    };
    w.flush()?;
    Ok(complete && !close)
}

/// The fault's extra headers (validated when the fault was stored).
pub fn push_extra_headers(head: &mut String, faults: &Faults) {
    for (name, value) in &faults.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
}

fn write_json<W: Write>(w: &mut W, bytes: &[u8], faults: &Faults) -> io::Result<bool> {
    let (body, complete) = match faults.cut_after {
        Some(_) => (&bytes[..bytes.len() / 2], false),
        None => (bytes, true),
    };
    if faults.chunk_bytes == 0 {
        w.write_all(body)?;
    } else {
        for piece in body.chunks(faults.chunk_bytes) {
            w.write_all(piece)?;
            w.flush()?;
        }
    }
    Ok(complete)
}

fn write_chunk<W: Write>(w: &mut W, data: &[u8]) -> io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    w.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
    w.write_all(data)?;
    w.write_all(b"\r\n")?;
    w.flush()
}

fn write_sse<W: Write>(w: &mut W, events: &[Vec<u8>], faults: &Faults) -> io::Result<bool> {
    let count = faults.cut_after.unwrap_or(events.len()).min(events.len());
    let events = &events[..count];
    let pause = || {
        if faults.event_delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(faults.event_delay_ms));
        }
    };
    w.flush()?;
    if faults.chunk_bytes == 0 {
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                pause();
            }
            write_chunk(w, event)?;
        }
    } else {
        let all: Vec<u8> = events.concat();
        for (i, piece) in all.chunks(faults.chunk_bytes).enumerate() {
            if i > 0 {
                pause();
            }
            write_chunk(w, piece)?;
        }
    }
    if faults.cut_after.is_some() {
        return Ok(false);
    }
    w.write_all(b"0\r\n\r\n")?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults() -> Faults {
        Faults::default()
    }

    #[test]
    fn json_response_and_cut() {
        let resp = Response::json(200, &serde_json::json!({"a": "bcdefgh"}));
        let mut out = Vec::new();
        assert!(write_response(&mut out, &resp, &faults(), false).unwrap());
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("content-length: 15\r\n"));
        assert!(text.ends_with("\r\n\r\n{\"a\":\"bcdefgh\"}"));

        let mut out = Vec::new();
        let cut = Faults {
            cut_after: Some(0),
            ..faults()
        };
        assert!(!write_response(&mut out, &resp, &cut, false).unwrap());
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("content-length: 15\r\n"));
        assert!(text.ends_with("\r\n\r\n{\"a\":\"b"));
    }

    #[test]
    fn sse_chunking_and_cut() {
        let resp = Response::sse(vec![b"data: 1\n\n".to_vec(), b"data: 2\n\n".to_vec()]);
        let mut out = Vec::new();
        assert!(write_response(&mut out, &resp, &faults(), false).unwrap());
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("\r\n\r\n9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\n\r\n"));

        let mut out = Vec::new();
        let f = Faults {
            chunk_bytes: 4,
            cut_after: Some(1),
            ..faults()
        };
        assert!(!write_response(&mut out, &resp, &f, false).unwrap());
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("\r\n\r\n4\r\ndata\r\n4\r\n: 1\n\r\n1\r\n\n\r\n"));
    }

    #[test]
    fn extra_headers_are_written_after_the_responses_own() {
        let resp = Response::json(200, &serde_json::json!({})).with_header("x-own", "1".into());
        let f = Faults {
            headers: vec![("set-cookie".into(), "sid=1".into())],
            ..faults()
        };
        let mut out = Vec::new();
        assert!(write_response(&mut out, &resp, &f, false).unwrap());
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\nx-own: 1\r\nset-cookie: sid=1\r\n"),
            "{text}"
        );
    }

    #[test]
    fn parse_fault_headers() {
        let req = Request {
            method: "POST".into(),
            target: "/".into(),
            headers: vec![
                ("x-mock-status".into(), "429".into()),
                ("x-mock-chunk-bytes".into(), "3".into()),
                ("x-mock-stream-error".into(), "1".into()),
                ("x-mock-cached-tokens".into(), "7".into()),
            ],
            body: Vec::new(),
            keep_alive: true,
        };
        let f = Faults::from_request(&req);
        assert_eq!(f.error_status(), Some(429));
        assert_eq!(f.chunk_bytes, 3);
        assert!(f.stream_error);
        assert_eq!(f.cached_tokens, 7);
        assert_eq!(f.cut_after, None);
    }
}
