//! Incremental Server-Sent Events framer.
//!
//! Upstream bodies arrive in arbitrary pieces: an event, a line or a UTF-8
//! character can be split anywhere. The framer keeps only the unfinished line
//! and the fields of the event being built, so memory is bounded by the
//! largest single event (`MAX_EVENT_BYTES`), not by the stream.
//! Lines may end in `\n`, `\r\n` or `\r` as the SSE spec allows.
//!
//! An event over the limit, or a line that is not UTF-8, is reported once
//! and then dropped whole: the framer skips, storing nothing, up to the next
//! blank line (the event boundary) and frames what follows normally, so one
//! bad event never leaves it broken. Where the error is reported does not
//! depend on how the body was split.

/// Upper bound on one event (fields plus the unfinished line).
pub const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// One dispatched event. `data` joins multiple `data:` lines with `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseError {
    /// An event grew past `MAX_EVENT_BYTES`.
    TooLarge,
    /// A complete line was not valid UTF-8.
    InvalidUtf8,
}

/// What the framer found, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    Event(SseEvent),
    /// An event was dropped; framing resumes after its blank line.
    Error(SseError),
}

#[derive(Debug, Default)]
pub struct SseFramer {
    line: Vec<u8>,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// The previous chunk ended in `\r`; a leading `\n` belongs to it.
    pending_cr: bool,
    /// Dropping a bad event up to its blank line.
    skipping: bool,
    /// While skipping: the current line has bytes (so it is not blank).
    skip_line_bytes: bool,
}

impl SseFramer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; calls `emit` for every event completed by them. Stops
    /// emitting at the first error, which it returns; the framer itself is
    /// ready for more bytes (see the module docs).
    pub fn push<F>(&mut self, chunk: &[u8], mut emit: F) -> Result<(), SseError>
    where
        F: FnMut(SseEvent),
    {
        let mut first = None;
        self.push_items(chunk, |item| match item {
            SseItem::Event(ev) if first.is_none() => emit(ev),
            SseItem::Event(_) => {}
            SseItem::Error(e) => {
                first.get_or_insert(e);
            }
        });
        first.map_or(Ok(()), Err)
    }

    /// Feeds bytes; calls `emit` for every event and error, in order.
    pub fn push_items<F>(&mut self, mut chunk: &[u8], mut emit: F)
    where
        F: FnMut(SseItem),
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
            if self.skipping {
                self.skip_line(head);
            } else if self.extend_line(head, &mut emit) {
                let line = std::mem::take(&mut self.line);
                if let Err(e) = self.process_line(&line, &mut emit) {
                    self.start_skipping(false);
                    emit(SseItem::Error(e));
                }
                self.line = line;
                self.line.clear();
            } else {
                // The oversized line ends here; skip to the blank line.
                self.skip_line_bytes = false;
            }
            chunk = rest;
        }
        if self.skipping {
            self.skip_line_bytes |= !chunk.is_empty();
        } else {
            self.extend_line(chunk, &mut emit);
        }
    }

    /// True when no partial event is pending (a clean end of stream).
    pub fn is_idle(&self) -> bool {
        self.line.is_empty() && !self.has_data && self.event.is_none() && !self.skipping
    }

    /// A complete line while skipping: a blank one ends the bad event.
    fn skip_line(&mut self, head: &[u8]) {
        if head.is_empty() && !self.skip_line_bytes {
            self.skipping = false;
        }
        self.skip_line_bytes = false;
    }

    /// Drops the event being built; `mid_line`: bytes of the current line
    /// are still to come.
    fn start_skipping(&mut self, mid_line: bool) {
        self.line = Vec::new();
        self.data = String::new();
        self.event = None;
        self.has_data = false;
        self.skipping = true;
        self.skip_line_bytes = mid_line;
    }

    /// Appends to the unfinished line; `false` when that made the event
    /// too large (reported, and skipping begun).
    fn extend_line<F: FnMut(SseItem)>(&mut self, bytes: &[u8], emit: &mut F) -> bool {
        if self.line.len() + self.data.len() + bytes.len() > MAX_EVENT_BYTES {
            self.start_skipping(true);
            emit(SseItem::Error(SseError::TooLarge));
            return false;
        }
        self.line.extend_from_slice(bytes);
        true
    }

    fn process_line<F: FnMut(SseItem)>(
        &mut self,
        line: &[u8],
        emit: &mut F,
    ) -> Result<(), SseError> {
        if line.is_empty() {
            if self.has_data {
                emit(SseItem::Event(SseEvent {
                    event: self.event.take(),
                    data: std::mem::take(&mut self.data),
                }));
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

/// Appends a framed event as it came: its name, and one `data:` line per
/// line of its data.
pub fn write_event(out: &mut Vec<u8>, ev: &SseEvent) {
    if let Some(name) = &ev.event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    for line in ev.data.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
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

    /// Every item of `input` fed cut at `cuts`.
    fn items(input: &[u8], cuts: &[usize]) -> Vec<SseItem> {
        let mut f = SseFramer::new();
        let mut out = Vec::new();
        let mut last = 0;
        for &s in cuts.iter().chain(std::iter::once(&input.len())) {
            f.push_items(&input[last..s], |i| out.push(i));
            last = s;
        }
        assert!(f.is_idle());
        out
    }

    fn data(d: &str) -> SseItem {
        SseItem::Event(SseEvent {
            event: None,
            data: d.to_string(),
        })
    }

    #[test]
    fn resyncs_after_a_bad_event_at_every_split() {
        let big = "x".repeat(MAX_EVENT_BYTES);
        let cases: Vec<(Vec<u8>, SseError)> = vec![
            (
                format!("data: a\n\ndata: {big}\ndata: more\r\n\r\ndata: b\n\n").into_bytes(),
                SseError::TooLarge,
            ),
            (
                [&b"data: a\n\ndata: ok\ndata: \xff\xfe\nid: 1\n\ndata: b\n\n"[..]].concat(),
                SseError::InvalidUtf8,
            ),
        ];
        for (input, err) in cases {
            let want = vec![data("a"), SseItem::Error(err), data("b")];
            assert_eq!(items(&input, &[]), want);
            // Cuts around each interesting byte (a full sweep of 4 MiB
            // would take minutes): the start, the bad line, the end.
            let n = input.len();
            let cuts = (0..40).chain(n.saturating_sub(40)..n).chain([
                MAX_EVENT_BYTES / 2,
                MAX_EVENT_BYTES - 1,
                MAX_EVENT_BYTES + 9,
            ]);
            for cut in cuts.filter(|c| *c <= n) {
                assert_eq!(items(&input, &[cut]), want, "{err:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn small_bad_event_resyncs_at_every_byte_split() {
        let input = b"data: a\r\rdata: \xc3\r\nevent: x\r\n\r\n: c\ndata: b\r\r";
        let want = vec![data("a"), SseItem::Error(SseError::InvalidUtf8), data("b")];
        for cut in 0..=input.len() {
            assert_eq!(items(input, &[cut]), want, "cut at {cut}");
        }
        let all: Vec<usize> = (1..input.len()).collect();
        assert_eq!(items(input, &all), want);
    }

    #[test]
    fn push_stops_at_the_first_error() {
        let mut f = SseFramer::new();
        let mut seen = Vec::new();
        let r = f.push(b"data: a\n\ndata: \xff\n\ndata: b\n\n", |e| {
            seen.push(e.data)
        });
        assert_eq!(
            (r, seen),
            (Err(SseError::InvalidUtf8), vec!["a".to_string()])
        );
        let mut seen = Vec::new();
        assert_eq!(f.push(b"data: c\n\n", |e| seen.push(e.data)), Ok(()));
        assert_eq!(seen, ["c"]);
    }

    #[test]
    fn write_event_round_trips() {
        let ev = SseEvent {
            event: Some("x".into()),
            data: "l1\nl2".into(),
        };
        let mut out = Vec::new();
        write_event(&mut out, &ev);
        assert_eq!(frame_all(&out, &[]), vec![ev]);
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
