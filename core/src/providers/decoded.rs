//! The translator of every provider whose responses are decoded: it buffers
//! or frames the body, asks the provider's [`Codec`] for neutral events, and
//! hands them to the client's [`Encoder`].
//!
//! Streams are translated event by event as the framer completes them, so
//! the output is the same however the body was split, and nothing is kept
//! but the framer's unfinished event and the codec's small per-block state.
//! A stream that breaks (bad framing, an invalid known event, an end before
//! the reply completed) ends with one error event and nothing after it.

use crate::error::ApiError;
use crate::events::{Encoder, Event, Reply};
use crate::providers::{
    status_failure, BodyEdit, BodyMode, Cause, Failure, HeaderEdit, HeaderLookup, Outcome,
    Translator,
};
use crate::sse::SseFramer;
use crate::usage::Usage;

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// A decoding failure and what kind of failure it is.
pub type Rejection = (Cause, ApiError);

/// One provider's response format, for one exchange.
pub trait Codec: std::fmt::Debug {
    /// The provider's name in error messages (`anthropic`).
    fn name(&self) -> &'static str;
    /// The status the client sees for an upstream error status.
    fn client_status(&self, upstream: u16) -> u16 {
        upstream
    }
    /// Translates a buffered error response (status is the upstream's).
    fn error(&self, status: u16, body: &[u8]) -> ApiError;
    /// Decodes a whole 2xx body. `Err` when it is an error object
    /// (`Cause::ErrorEvent`) or not the provider's response shape
    /// (`Cause::Malformed`, a 502): required fields are required.
    fn reply<'b>(&self, body: &'b [u8]) -> Result<Reply<'b>, Rejection>;
    /// Decodes the data of one SSE event into events.
    fn stream_event(&mut self, data: &str, emit: &mut dyn FnMut(Event<'_>));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    Done,
    Failed,
}

#[derive(Debug)]
enum State {
    Sent,
    Whole { status: u16, buf: Vec<u8> },
    Streaming { framer: SseFramer, phase: Phase },
    Finished,
}

/// A decoded exchange with one provider.
#[derive(Debug)]
pub struct Decoded<C> {
    codec: C,
    encoder: Box<dyn Encoder>,
    stream: bool,
    state: State,
    usage: Usage,
    failure: Option<Failure>,
    content: bool,
    streamed: u64,
}

impl<C: Codec> Decoded<C> {
    pub fn new(codec: C, encoder: Box<dyn Encoder>, stream: bool) -> Self {
        Decoded {
            codec,
            encoder,
            stream,
            state: State::Sent,
            usage: Usage::default(),
            failure: None,
            content: false,
            streamed: 0,
        }
    }

    fn whole(&mut self, status: u16, body: &[u8]) -> BodyEdit {
        if !(200..300).contains(&status) {
            let err = self.codec.error(status, body);
            return BodyEdit::Replace(self.encoder.error(&err));
        }
        let encoded = self.codec.reply(body).and_then(|r| {
            self.usage = r.usage;
            self.encoder.reply(&r).map_err(|e| (Cause::Malformed, e))
        });
        match encoded {
            Ok(json) => BodyEdit::Replace(json),
            Err((cause, e)) => {
                self.failure = Some(Failure {
                    cause,
                    status: e.status,
                    retry_after_ms: None,
                });
                BodyEdit::Fail {
                    status: e.status,
                    body: self.encoder.error(&e),
                }
            }
        }
    }

    fn push_stream(&mut self, data: &[u8], end: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let State::Streaming { framer, phase } = &mut self.state else {
            return out;
        };
        let name = self.codec.name();
        let mut sink = Sink {
            encoder: &mut *self.encoder,
            out: &mut out,
            phase,
            usage: &mut self.usage,
            failure: &mut self.failure,
            content: &mut self.content,
            streamed: &mut self.streamed,
        };
        if *sink.phase == Phase::Open {
            let codec = &mut self.codec;
            let mut res = framer.push(data, |ev| sink.feed(codec, &ev.data));
            if end && res.is_ok() && !framer.is_idle() {
                // Be lenient about a missing final blank line.
                res = framer.push(b"\n\n", |ev| sink.feed(codec, &ev.data));
            }
            if let Err(e) = res {
                let msg = format!("Provider {name} sent a malformed event stream ({e:?}).");
                sink.fail(Cause::Malformed, ApiError::new(502, "server_error", msg));
            }
        }
        if end && *sink.phase == Phase::Open {
            let msg = format!("Provider {name} ended the stream before the reply was complete.");
            sink.fail(Cause::Truncated, ApiError::new(502, "server_error", msg));
        }
        if *sink.phase != Phase::Open {
            *framer = SseFramer::new();
        }
        out
    }
}

/// Where decoded events go: the encoder, plus the exchange's bookkeeping.
struct Sink<'s> {
    encoder: &'s mut dyn Encoder,
    out: &'s mut Vec<u8>,
    phase: &'s mut Phase,
    usage: &'s mut Usage,
    failure: &'s mut Option<Failure>,
    content: &'s mut bool,
    streamed: &'s mut u64,
}

impl Sink<'_> {
    fn feed<C: Codec>(&mut self, codec: &mut C, data: &str) {
        codec.stream_event(data, &mut |ev| self.emit(ev));
    }

    fn emit(&mut self, ev: Event<'_>) {
        if *self.phase != Phase::Open {
            return;
        }
        *self.streamed = self.streamed.saturating_add(ev.generated_bytes());
        match &ev {
            Event::Usage(u) => self.usage.merge_max(*u),
            Event::Text(t) | Event::Reasoning(t) if !t.is_empty() => *self.content = true,
            Event::ToolStart { .. } => *self.content = true,
            Event::End => *self.phase = Phase::Done,
            Event::Error(e) => {
                *self.phase = Phase::Failed;
                *self.failure = Some(Failure {
                    cause: Cause::ErrorEvent,
                    status: e.status,
                    retry_after_ms: None,
                });
            }
            _ => {}
        }
        self.encoder.event(ev, self.out);
    }

    fn fail(&mut self, cause: Cause, err: ApiError) {
        let status = err.status;
        self.emit(Event::Error(err));
        if let Some(f) = self.failure.as_mut() {
            f.cause = cause;
            f.status = status;
        }
    }
}

impl<C: Codec> Translator for Decoded<C> {
    fn response_headers(&mut self, status: u16, headers: HeaderLookup<'_>) -> HeaderEdit {
        let ok = (200..300).contains(&status);
        if ok && self.stream {
            self.state = State::Streaming {
                framer: SseFramer::new(),
                phase: Phase::Open,
            };
            return HeaderEdit {
                mode: BodyMode::Stream,
                status: None,
                content_type: Some(EVENT_STREAM),
                drop_content_length: true,
            };
        }
        let client = self.codec.client_status(status);
        if !ok {
            self.failure = Some(status_failure(client, headers));
        }
        self.state = State::Whole {
            status,
            buf: Vec::new(),
        };
        HeaderEdit {
            mode: BodyMode::Buffer,
            status: (client != status).then_some(client),
            content_type: Some(JSON),
            drop_content_length: true,
        }
    }

    fn response_body(&mut self, data: &[u8], end: bool) -> BodyEdit {
        match &mut self.state {
            State::Sent | State::Finished => BodyEdit::Keep,
            State::Whole { buf, .. } if !end => {
                buf.extend_from_slice(data);
                BodyEdit::Replace(Vec::new())
            }
            State::Whole { status, buf } => {
                let status = *status;
                let mut whole = std::mem::take(buf);
                self.state = State::Finished;
                if whole.is_empty() {
                    return self.whole(status, data);
                }
                whole.extend_from_slice(data);
                self.whole(status, &whole)
            }
            State::Streaming { .. } => BodyEdit::Replace(self.push_stream(data, end)),
        }
    }

    fn outcome(&self) -> Outcome {
        Outcome {
            usage: self.usage,
            failure: self.failure,
            content: self.content || matches!(self.state, State::Finished),
            streamed: self.streamed,
        }
    }
}
