//! Incremental decoder of the AWS event stream framing
//! (`application/vnd.amazon.eventstream`), as Bedrock's `ConverseStream`
//! sends it.
//!
//! A message is a 12-byte prelude (total length and headers length, both
//! u32 big-endian, then a CRC32 of those 8 bytes), the headers, the payload
//! and a CRC32 of everything before it. Each header is a name (u8 length),
//! a type byte and a typed value; only string values (type 7) are read,
//! every other type is skipped by its size so an unexpected header cannot
//! desynchronise the stream.
//!
//! Both checksums are verified: a flipped bit anywhere is a malformed
//! stream, never a garbled event. Only the message being received is kept,
//! and a prelude announcing more than [`MAX_MESSAGE_BYTES`] is rejected at
//! once, so a bad length cannot make the decoder buffer without bound.
//! Complete messages inside one chunk are decoded in place, without a copy.

/// Upper bound on one message.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

const PRELUDE: usize = 12;
/// Prelude plus the message CRC: a message without headers or payload.
const MIN_MESSAGE: usize = PRELUDE + 4;

/// Why a stream is not a valid event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStreamError {
    /// The prelude announces a message over [`MAX_MESSAGE_BYTES`].
    TooLarge(usize),
    /// The lengths in the prelude cannot describe a message.
    BadLengths,
    PreludeCrc,
    MessageCrc,
    /// The header block does not parse (truncated value, unknown type).
    BadHeaders,
}

/// One decoded message, borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    headers: &'a [u8],
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// The value of string header `name` (e.g. `:event-type`).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        let mut rest = self.headers;
        while !rest.is_empty() {
            let (h, tail) = next_header(rest).ok()?;
            if h.name == name.as_bytes() {
                return h.string;
            }
            rest = tail;
        }
        None
    }
}

struct Header<'a> {
    name: &'a [u8],
    string: Option<&'a str>,
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([*s.first()?, *s.get(1)?])))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

/// Splits the first header off a header block.
fn next_header(b: &[u8]) -> Result<(Header<'_>, &[u8]), EventStreamError> {
    let bad = EventStreamError::BadHeaders;
    let name_len = usize::from(*b.first().ok_or(bad)?);
    let name = b.get(1..1 + name_len).ok_or(bad)?;
    let at = 1 + name_len;
    let kind = *b.get(at).ok_or(bad)?;
    let at = at + 1;
    let (len, string) = match kind {
        0 | 1 => (0, false),
        2 => (1, false),
        3 => (2, false),
        4 => (4, false),
        5 | 8 => (8, false),
        6 | 7 => (2 + u16_at(b, at).ok_or(bad)?, kind == 7),
        9 => (16, false),
        _ => return Err(bad),
    };
    let value = b.get(at..at + len).ok_or(bad)?;
    let string = if string {
        let text = std::str::from_utf8(value.get(2..).ok_or(bad)?).map_err(|_| bad)?;
        Some(text)
    } else {
        None
    };
    let rest = b.get(at + len..).ok_or(bad)?;
    Ok((Header { name, string }, rest))
}

/// Checks a prelude and returns the message's total length.
fn prelude(p: &[u8]) -> Result<usize, EventStreamError> {
    let bad = EventStreamError::BadLengths;
    let total = u32_at(p, 0).ok_or(bad)? as usize;
    let headers = u32_at(p, 4).ok_or(bad)? as usize;
    let crc = u32_at(p, 8).ok_or(bad)?;
    if crc32(p.get(..8).ok_or(bad)?) != crc {
        return Err(EventStreamError::PreludeCrc);
    }
    if total > MAX_MESSAGE_BYTES {
        return Err(EventStreamError::TooLarge(total));
    }
    if total < MIN_MESSAGE || headers > total - MIN_MESSAGE {
        return Err(bad);
    }
    Ok(total)
}

/// Decodes one whole message (prelude already checked).
fn decode(m: &[u8]) -> Result<Message<'_>, EventStreamError> {
    let bad = EventStreamError::BadLengths;
    let body_end = m.len().checked_sub(4).ok_or(bad)?;
    let crc = u32_at(m, body_end).ok_or(bad)?;
    if crc32(m.get(..body_end).ok_or(bad)?) != crc {
        return Err(EventStreamError::MessageCrc);
    }
    let headers_len = u32_at(m, 4).ok_or(bad)? as usize;
    let headers = m.get(PRELUDE..PRELUDE + headers_len).ok_or(bad)?;
    let mut rest = headers;
    while !rest.is_empty() {
        rest = next_header(rest)?.1;
    }
    let payload = m.get(PRELUDE + headers_len..body_end).ok_or(bad)?;
    Ok(Message { headers, payload })
}

/// Frames an event stream incrementally, however the bytes are split.
#[derive(Debug, Default)]
pub struct EventStreamDecoder {
    /// The unfinished message (empty between messages).
    buf: Vec<u8>,
    /// Its total length, once its prelude is in and checked.
    total: Option<usize>,
}

impl EventStreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// True when no partial message is pending (a clean end of stream).
    pub fn is_idle(&self) -> bool {
        self.buf.is_empty()
    }

    /// Feeds bytes; calls `emit` for every message completed by them.
    pub fn push<F>(&mut self, mut data: &[u8], mut emit: F) -> Result<(), EventStreamError>
    where
        F: FnMut(Message<'_>),
    {
        if !self.buf.is_empty() {
            if !self.fill(&mut data)? {
                return Ok(());
            }
            let done = decode(&self.buf).map(&mut emit);
            self.buf.clear();
            self.total = None;
            done?;
        }
        while !data.is_empty() {
            let total = match data.get(..PRELUDE) {
                Some(p) => prelude(p)?,
                None => break,
            };
            let Some(message) = data.get(..total) else {
                break;
            };
            emit(decode(message)?);
            data = data.get(total..).unwrap_or_default();
        }
        if !data.is_empty() {
            self.buf.extend_from_slice(data);
            if self.buf.len() >= PRELUDE {
                self.total = Some(prelude(&self.buf)?);
            }
        }
        Ok(())
    }

    /// Moves bytes of `data` into the pending message; `true` when it is
    /// complete.
    fn fill(&mut self, data: &mut &[u8]) -> Result<bool, EventStreamError> {
        loop {
            let want = self.total.unwrap_or(PRELUDE);
            let take = want.saturating_sub(self.buf.len()).min(data.len());
            let (head, tail) = data.split_at(take);
            self.buf.extend_from_slice(head);
            *data = tail;
            if self.buf.len() < want {
                return Ok(false);
            }
            match self.total {
                Some(_) => return Ok(true),
                None => self.total = Some(prelude(&self.buf)?),
            }
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as event stream
/// checksums use.
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| {
        let i = usize::from((crc as u8) ^ b);
        CRC_TABLE.get(i).copied().unwrap_or(0) ^ (crc >> 8)
    })
}

const CRC_TABLE: [u32; 256] = crc_table();

// Evaluated at compile time (an index out of bounds fails the build);
// `get_mut` is not callable in a `const fn` yet.
#[allow(clippy::indexing_slicing)]
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

/// Encodes a message with string headers (tests, mocks and fixtures).
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = (MIN_MESSAGE + h.len() + payload.len()) as u32;
    let mut m = Vec::with_capacity(total as usize);
    m.extend_from_slice(&total.to_be_bytes());
    m.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&m);
    m.extend_from_slice(&prelude_crc.to_be_bytes());
    m.extend_from_slice(&h);
    m.extend_from_slice(payload);
    let crc = crc32(&m);
    m.extend_from_slice(&crc.to_be_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(stream: &[u8], cuts: &[usize]) -> Result<Vec<(String, Vec<u8>)>, EventStreamError> {
        let mut d = EventStreamDecoder::new();
        let mut got = Vec::new();
        let mut from = 0;
        for &to in cuts.iter().chain(std::iter::once(&stream.len())) {
            d.push(&stream[from..to], |m| {
                let ev = m.header(":event-type").unwrap_or("?").to_string();
                got.push((ev, m.payload.to_vec()));
            })?;
            from = to;
        }
        assert!(d.is_idle(), "a whole stream leaves nothing pending");
        Ok(got)
    }

    fn sample() -> Vec<u8> {
        let mut s = encode(
            &[(":event-type", "messageStart"), (":message-type", "event")],
            br#"{"role":"assistant"}"#,
        );
        s.extend(encode(
            &[(":event-type", "contentBlockDelta")],
            "{\"t\":\"é\"}".as_bytes(),
        ));
        s.extend(encode(&[], b""));
        s
    }

    #[test]
    fn crc32_matches_the_ieee_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn decodes_the_same_at_every_split() {
        let s = sample();
        let whole = messages(&s, &[]).unwrap();
        assert_eq!(whole.len(), 3);
        assert_eq!(
            whole[0],
            (
                "messageStart".to_string(),
                br#"{"role":"assistant"}"#.to_vec()
            )
        );
        assert_eq!(whole[1].0, "contentBlockDelta");
        assert_eq!(whole[2], ("?".to_string(), Vec::new()));
        for cut in 0..=s.len() {
            assert_eq!(messages(&s, &[cut]).unwrap(), whole, "cut at {cut}");
        }
        let bytes: Vec<usize> = (1..s.len()).collect();
        assert_eq!(messages(&s, &bytes).unwrap(), whole, "byte at a time");
    }

    /// A message with every header type, values skipped by their sizes.
    #[test]
    fn skips_every_header_type() {
        let mut h = Vec::new();
        let mut add = |name: &str, kind: u8, value: &[u8]| {
            h.push(name.len() as u8);
            h.extend_from_slice(name.as_bytes());
            h.push(kind);
            h.extend_from_slice(value);
        };
        add("t", 0, &[]);
        add("f", 1, &[]);
        add("b", 2, &[7]);
        add("s", 3, &[0, 1]);
        add("i", 4, &[0, 0, 0, 1]);
        add("l", 5, &[0; 8]);
        add("by", 6, &[0, 3, 0xff, 0xfe, 0x07]);
        add("ts", 8, &[0; 8]);
        add("u", 9, &[0; 16]);
        add(":event-type", 7, &[0, 4, b'm', b'e', b't', b'a']);
        let total = (16 + h.len() + 2) as u32;
        let mut m = total.to_be_bytes().to_vec();
        m.extend_from_slice(&(h.len() as u32).to_be_bytes());
        let c = crc32(&m);
        m.extend_from_slice(&c.to_be_bytes());
        m.extend_from_slice(&h);
        m.extend_from_slice(b"{}");
        let c = crc32(&m);
        m.extend_from_slice(&c.to_be_bytes());
        let got = messages(&m, &[]).unwrap();
        assert_eq!(got, vec![("meta".to_string(), b"{}".to_vec())]);
        // An unknown header type is malformed.
        let bad_type = m.iter().position(|&b| b == 9).unwrap();
        let mut bad = m.clone();
        bad[bad_type] = 10;
        let body_end = bad.len() - 4;
        let c = crc32(&bad[..body_end]);
        bad[body_end..].copy_from_slice(&c.to_be_bytes());
        assert_eq!(messages(&bad, &[]), Err(EventStreamError::BadHeaders));
    }

    #[test]
    fn rejects_corrupt_checksums() {
        let s = encode(&[(":event-type", "x")], b"payload");
        let mut prelude = s.clone();
        prelude[2] ^= 1;
        assert_eq!(messages(&prelude, &[]), Err(EventStreamError::PreludeCrc));
        let mut body = s.clone();
        let last = body.len() - 6;
        body[last] ^= 0x20;
        assert_eq!(messages(&body, &[]), Err(EventStreamError::MessageCrc));
        assert_eq!(messages(&body, &[3]), Err(EventStreamError::MessageCrc));
        let mut crc = s;
        let end = crc.len() - 1;
        crc[end] ^= 1;
        assert_eq!(messages(&crc, &[20]), Err(EventStreamError::MessageCrc));
    }

    #[test]
    fn rejects_oversized_and_impossible_lengths() {
        let mut m = ((MAX_MESSAGE_BYTES + 1) as u32).to_be_bytes().to_vec();
        m.extend_from_slice(&0u32.to_be_bytes());
        let c = crc32(&m);
        m.extend_from_slice(&c.to_be_bytes());
        let mut d = EventStreamDecoder::new();
        // Rejected from the prelude alone, before any payload arrives.
        assert_eq!(d.push(&m[..6], |_| {}), Ok(()));
        let want = Err(EventStreamError::TooLarge(MAX_MESSAGE_BYTES + 1));
        assert_eq!(d.push(&m[6..], |_| {}), want);
        let mut small = 8u32.to_be_bytes().to_vec();
        small.extend_from_slice(&0u32.to_be_bytes());
        let c = crc32(&small);
        small.extend_from_slice(&c.to_be_bytes());
        assert_eq!(messages(&small, &[]), Err(EventStreamError::BadLengths));
    }

    #[test]
    fn a_truncated_message_stays_pending() {
        let s = encode(&[(":event-type", "x")], b"payload");
        let mut d = EventStreamDecoder::new();
        let mut n = 0;
        d.push(&s[..s.len() - 1], |_| n += 1).unwrap();
        assert_eq!(n, 0);
        assert!(!d.is_idle());
    }
}
