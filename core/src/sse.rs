//! Incremental Server-Sent Events framer.
//!
//! Upstream bodies arrive in arbitrary pieces: an event, a line or a UTF-8
//! character can be split anywhere. The framer keeps only the unfinished line
//! and the fields of the event being built, so memory is bounded by the
//! largest single event (`MAX_EVENT_BYTES`), not by the stream.
//! Lines may end in `\n`, `\r\n` or `\r` as the SSE spec allows.

/// Upper bound on one event (fields plus the unfinished line).
pub const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// One dispatched event. `data` joins multiple `data:` lines with `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// An event grew past `MAX_EVENT_BYTES`.
    TooLarge,
    /// A complete line was not valid UTF-8.
    InvalidUtf8,
}

#[derive(Debug, Default)]
pub struct SseFramer {
    line: Vec<u8>,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// The previous chunk ended in `\r`; a leading `\n` belongs to it.
    pending_cr: bool,
}

impl SseFramer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; calls `emit` for every event completed by them.
    pub fn push<F>(&mut self, mut chunk: &[u8], mut emit: F) -> Result<(), SseError>
    where
        F: FnMut(SseEvent),
    {
        if self.pending_cr {
            self.pending_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (head, tail) = chunk.split_at(pos);
            let is_cr = tail.first() == Some(&b'\r');
            let mut rest = tail.get(1..).unwrap_or(&[]);
            if is_cr {
                match rest.first() {
                    Some(b'\n') => rest = rest.get(1..).unwrap_or(&[]),
                    None => self.pending_cr = true,
                    _ => {}
                }
            }
            self.extend_line(head)?;
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, &mut emit)?;
            self.line = line;
            self.line.clear();
            chunk = rest;
        }
        self.extend_line(chunk)
    }

    /// True when no partial event is pending (a clean end of stream).
    pub fn is_idle(&self) -> bool {
        self.line.is_empty() && !self.has_data && self.event.is_none()
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + self.data.len() + bytes.len() > MAX_EVENT_BYTES {
            return Err(SseError::TooLarge);
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line<F: FnMut(SseEvent)>(
        &mut self,
        line: &[u8],
        emit: &mut F,
    ) -> Result<(), SseError> {
        if line.is_empty() {
            if self.has_data {
                emit(SseEvent {
                    event: self.event.take(),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event = None;
            self.has_data = false;
            return Ok(());
        }
        if line.first() == Some(&b':') {
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::InvalidUtf8)?;
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            _ => {}
        }
        Ok(())
    }
}

/// Appends one `data:` event (OpenAI style, no event name) to `out`.
pub fn write_data_event(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_all(input: &[u8], split: &[usize]) -> Vec<SseEvent> {
        let mut f = SseFramer::new();
        let mut out = Vec::new();
        let mut last = 0;
        for &s in split.iter().chain(std::iter::once(&input.len())) {
            f.push(&input[last..s], |e| out.push(e)).unwrap();
            last = s;
        }
        out
    }

    const STREAM: &str = "event: message_start\ndata: {\"a\":\"h\u{e9}llo \u{2713}\"}\n\n: comment\r\ndata: line1\r\ndata: line2\r\n\r\nevent: x\rdata: y\r\r";

    #[test]
    fn parses_fields_and_line_endings() {
        let ev = frame_all(STREAM.as_bytes(), &[]);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[0].event.as_deref(), Some("message_start"));
        assert_eq!(ev[0].data, "{\"a\":\"h\u{e9}llo \u{2713}\"}");
        assert_eq!(ev[1].event, None);
        assert_eq!(ev[1].data, "line1\nline2");
        assert_eq!(ev[2].event.as_deref(), Some("x"));
        assert_eq!(ev[2].data, "y");
    }

    #[test]
    fn every_byte_split_gives_same_events() {
        let bytes = STREAM.as_bytes();
        let whole = frame_all(bytes, &[]);
        for i in 0..=bytes.len() {
            assert_eq!(frame_all(bytes, &[i]), whole, "split at {i}");
        }
        let all: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(frame_all(bytes, &all), whole);
    }

    #[test]
    fn rejects_oversized_event() {
        let mut f = SseFramer::new();
        let big = vec![b'a'; MAX_EVENT_BYTES + 1];
        assert_eq!(f.push(&big, |_| {}), Err(SseError::TooLarge));
    }

    #[test]
    fn idle_tracks_partial_events() {
        let mut f = SseFramer::new();
        f.push(b"data: x\n", |_| {}).unwrap();
        assert!(!f.is_idle());
        f.push(b"\n", |_| {}).unwrap();
        assert!(f.is_idle());
    }
}
