//! The AWS event stream encoding (`application/vnd.amazon.eventstream`)
//! and how a stream of frames goes on the wire with the shared faults.
//!
//! A frame is `total length (u32 BE) | headers length (u32 BE) | CRC32 of
//! those 8 bytes | headers | payload | CRC32 of everything before`, CRC32
//! being the IEEE/zlib one. Each header is `name length (u8) | name | type
//! (7 = string) | value length (u16 BE) | value`. Bedrock frames carry
//! `:event-type` (or `:exception-type`), `:content-type:
//! application/json` and `:message-type` (`event` or `exception`).
//!
//! Frames go out as HTTP/1.1 chunks, one chunk per frame (or pieces of
//! `x-mock-chunk-bytes`, which then split frames across chunks), so cut,
//! delay and chunking faults behave as for SSE on the other mocks.

use std::io::{self, Write};
use std::time::Duration;

use serde_json::Value;

use crate::faults::{reason, Body, Faults, Response};

pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

const STRING_TYPE: u8 = 7;

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

static CRC_TABLE: [u32; 256] = crc_table();

/// CRC32 (IEEE 802.3, as zlib computes it).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        let i = usize::from((c as u8) ^ b);
        c = CRC_TABLE.get(i).copied().unwrap_or(0) ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

fn be32(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes()
}

/// One frame with string headers and a payload.
pub fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut head = Vec::new();
    for (name, value) in headers {
        head.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        head.extend_from_slice(name.as_bytes());
        head.push(STRING_TYPE);
        head.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_be_bytes());
        head.extend_from_slice(value.as_bytes());
    }
    let total = 12 + head.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&be32(total));
    out.extend_from_slice(&be32(head.len()));
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
    let message_crc = crc32(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

/// An `event` frame of type `kind` with a JSON payload.
pub fn event(kind: &str, payload: &Value) -> Vec<u8> {
    let headers = [
        (":event-type", kind),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ];
    frame(&headers, payload.to_string().as_bytes())
}

/// An `exception` frame of type `kind` (`throttlingException`, ...).
pub fn exception(kind: &str, payload: &Value) -> Vec<u8> {
    let headers = [
        (":exception-type", kind),
        (":content-type", "application/json"),
        (":message-type", "exception"),
    ];
    frame(&headers, payload.to_string().as_bytes())
}

/// 200 with these frames as an event stream.
pub fn response(frames: Vec<Vec<u8>>) -> Response {
    Response::sse(frames).with_header("content-type", CONTENT_TYPE.into())
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

/// Writes an event stream response (headers from `resp`, which include the
/// content type) applying `faults`. `Ok(false)` when the connection must
/// be closed afterwards.
pub fn write_response<W: Write>(
    w: &mut W,
    resp: &Response,
    faults: &Faults,
    close: bool,
) -> io::Result<bool> {
    if faults.delay_ms > 0 {
        std::thread::sleep(Duration::from_millis(faults.delay_ms));
    }
    let Body::Sse(frames) = &resp.body else {
        return Ok(false);
    };
    let close = close || resp.close;
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (name, value) in &resp.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    crate::faults::push_extra_headers(&mut head, faults);
    head.push_str("transfer-encoding: chunked\r\n");
    if close {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    w.flush()?;
    let count = faults.cut_after.unwrap_or(frames.len()).min(frames.len());
    let pieces: Vec<&[u8]> = match faults.chunk_bytes {
        0 => frames.iter().take(count).map(Vec::as_slice).collect(),
        n => {
            let all: Vec<u8> = frames.iter().take(count).flatten().copied().collect();
            return write_pieces(w, all.chunks(n), faults, close);
        }
    };
    write_pieces(w, pieces.into_iter(), faults, close)
}

fn write_pieces<'a, W: Write>(
    w: &mut W,
    pieces: impl Iterator<Item = &'a [u8]>,
    faults: &Faults,
    close: bool,
) -> io::Result<bool> {
    for (i, piece) in pieces.enumerate() {
        if i > 0 && faults.event_delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(faults.event_delay_ms));
        }
        write_chunk(w, piece)?;
    }
    if faults.cut_after.is_some() {
        w.flush()?;
        return Ok(false);
    }
    w.write_all(b"0\r\n\r\n")?;
    w.flush()?;
    Ok(!close)
}
