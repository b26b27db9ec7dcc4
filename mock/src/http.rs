//! Minimal, strict HTTP/1.1 request parser (std only).

use std::io::{self, BufRead, Read, Write};

const MAX_LINE: u64 = 64 * 1024;
const MAX_HEADERS: usize = 128;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// One parsed HTTP request. Header names are lowercased.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub keep_alive: bool,
}

impl Request {
    /// First value of a header (name must be given in lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Request path without the query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Transport failure or EOF in the middle of a request: just close.
    Io,
    /// The peer sent something that is not valid HTTP/1.1: answer 400 and close.
    Malformed(String),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Io
    }
}

fn malformed<T>(msg: &str) -> Result<T, ReadError> {
    Err(ReadError::Malformed(msg.to_string()))
}

/// Reads one line (without the line terminator). `Ok(None)` on clean EOF.
fn read_line<R: BufRead>(r: &mut R) -> Result<Option<Vec<u8>>, ReadError> {
    let mut buf = Vec::new();
    let n = r.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        if n as u64 >= MAX_LINE {
            return malformed("line too long");
        }
        return Err(ReadError::Io);
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(buf))
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Reads the next request from the connection. `Ok(None)` when the peer
/// closed the connection between requests. `early` receives the interim
/// `100 Continue` response when the client asks for it.
pub fn read_request<R: BufRead, W: Write>(
    r: &mut R,
    early: &mut W,
) -> Result<Option<Request>, ReadError> {
    // Tolerate empty lines before the request line (RFC 9112 section 2.2).
    let line = loop {
        match read_line(r)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let Ok(line) = String::from_utf8(line) else {
        return malformed("request line is not UTF-8");
    };
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return malformed("bad request line");
    };
    if !is_token(method) || !(target.starts_with('/') || target == "*") {
        return malformed("bad request line");
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return malformed("unsupported HTTP version"),
    };
    let headers = read_headers(r)?;
    let mut req = Request {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body: Vec::new(),
        keep_alive: false,
    };
    req.keep_alive = keep_alive(&req, http11);
    if http11 && header_has_token(&req, "expect", "100-continue") {
        early.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        early.flush()?;
    }
    req.body = read_body(r, &req)?;
    Ok(Some(req))
}

fn read_headers<R: BufRead>(r: &mut R) -> Result<Vec<(String, String)>, ReadError> {
    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(r)? else {
            return Err(ReadError::Io);
        };
        if line.is_empty() {
            return Ok(headers);
        }
        if headers.len() >= MAX_HEADERS {
            return malformed("too many headers");
        }
        let Ok(line) = String::from_utf8(line) else {
            return malformed("header is not UTF-8");
        };
        let Some((name, value)) = line.split_once(':') else {
            return malformed("header without colon");
        };
        if !is_token(name) {
            return malformed("bad header name");
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
}

fn header_has_token(req: &Request, name: &str, token: &str) -> bool {
    req.headers
        .iter()
        .filter(|(n, _)| n == name)
        .flat_map(|(_, v)| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn keep_alive(req: &Request, http11: bool) -> bool {
    if header_has_token(req, "connection", "close") {
        return false;
    }
    http11 || header_has_token(req, "connection", "keep-alive")
}

fn read_body<R: BufRead>(r: &mut R, req: &Request) -> Result<Vec<u8>, ReadError> {
    let te: Vec<&str> = header_values(req, "transfer-encoding");
    let cl: Vec<&str> = header_values(req, "content-length");
    if !te.is_empty() {
        if !cl.is_empty() {
            return malformed("both content-length and transfer-encoding");
        }
        if te.len() != 1 || !te[0].eq_ignore_ascii_case("chunked") {
            return malformed("unsupported transfer-encoding");
        }
        return read_chunked(r);
    }
    let Some(first) = cl.first() else {
        return Ok(Vec::new());
    };
    if cl.iter().any(|v| v != first) || !first.bytes().all(|b| b.is_ascii_digit()) {
        return malformed("bad content-length");
    }
    let len: usize = match first.parse() {
        Ok(n) if n <= MAX_BODY => n,
        _ => return malformed("content-length too large or invalid"),
    };
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(body)
}

fn header_values<'a>(req: &'a Request, name: &str) -> Vec<&'a str> {
    req.headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn read_chunked<R: BufRead>(r: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let Some(line) = read_line(r)? else {
            return Err(ReadError::Io);
        };
        let text = String::from_utf8_lossy(&line);
        let size_str = text.split(';').next().unwrap_or("").trim();
        if size_str.is_empty() || !size_str.bytes().all(|b| b.is_ascii_hexdigit()) {
            return malformed("bad chunk size");
        }
        let size = match usize::from_str_radix(size_str, 16) {
            Ok(n) if n <= MAX_BODY && body.len() + n <= MAX_BODY => n,
            _ => return malformed("chunk too large"),
        };
        if size == 0 {
            break;
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        match read_line(r)? {
            Some(l) if l.is_empty() => {}
            _ => return malformed("missing CRLF after chunk data"),
        }
    }
    // Trailers (ignored) up to the final empty line.
    loop {
        match read_line(r)? {
            Some(l) if l.is_empty() => return Ok(body),
            Some(_) => continue,
            None => return Err(ReadError::Io),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(raw: &str) -> Result<Option<Request>, ReadError> {
        let mut sink = Vec::new();
        read_request(&mut Cursor::new(raw.as_bytes().to_vec()), &mut sink)
    }

    #[test]
    fn content_length_body() {
        let req = parse(
            "POST /v1/x?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Y: z \r\n\r\nhello",
        )
        .unwrap()
        .unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.path(), "/v1/x");
        assert_eq!(req.header("x-y"), Some("z"));
        assert_eq!(req.body, b"hello");
        assert!(req.keep_alive);
    }

    #[test]
    fn chunked_body() {
        let raw = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n";
        let req = parse(raw).unwrap().unwrap();
        assert_eq!(req.body, b"abcde");
        assert!(!req.keep_alive);
    }

    #[test]
    fn malformed_inputs() {
        for raw in [
            "GARBAGE\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ] {
            assert!(matches!(parse(raw), Err(ReadError::Malformed(_))), "{raw}");
        }
    }

    #[test]
    fn eof_between_requests() {
        assert!(parse("").unwrap().is_none());
        assert!(matches!(parse("GET / HTTP/1.1\r\n"), Err(ReadError::Io)));
    }

    #[test]
    fn expect_continue() {
        let mut sink = Vec::new();
        let raw = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx";
        read_request(&mut Cursor::new(raw.as_bytes().to_vec()), &mut sink).unwrap();
        assert_eq!(sink, b"HTTP/1.1 100 Continue\r\n\r\n");
    }
}
