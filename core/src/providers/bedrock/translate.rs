//! The Bedrock exchange: whole JSON bodies are decoded like every other
//! translated provider's; streams are AWS event-stream frames, decoded as
//! they complete (so any split gives the same output) and written by the
//! client's encoder. A broken frame (either CRC, bad lengths) is a
//! malformed stream; a body that ends mid-frame or before `messageStop` is
//! truncated. Either ends the output with one error event.

use super::response::{client_status, reply, translate_error};
use super::stream::StreamDecoder;
use crate::error::ApiError;
use crate::events::{Encoder, Event};
use crate::eventstream::EventStreamDecoder;
use crate::providers::{
    status_failure, BodyEdit, BodyMode, Cause, Failure, HeaderEdit, HeaderLookup, Outcome,
    Translator,
};
use crate::usage::Usage;

#[derive(Debug)]
enum State {
    Sent,
    Whole {
        /// Bedrock's `x-amzn-requestid`, the reply id.
        id: String,
        status: u16,
        errortype: Option<String>,
        buf: Vec<u8>,
    },
    Streaming {
        frames: EventStreamDecoder,
        decoder: StreamDecoder,
    },
    Finished,
}

/// One Converse exchange.
#[derive(Debug)]
pub struct BedrockChat {
    encoder: Box<dyn Encoder>,
    stream: bool,
    state: State,
    usage: Usage,
    failure: Option<Failure>,
    content: bool,
    streamed: u64,
    /// The stream has ended or failed: nothing more is written.
    closed: bool,
}

impl BedrockChat {
    pub fn new(encoder: Box<dyn Encoder>, stream: bool) -> Self {
        BedrockChat {
            encoder,
            stream,
            state: State::Sent,
            usage: Usage::default(),
            failure: None,
            content: false,
            streamed: 0,
            closed: false,
        }
    }

    fn whole(&mut self, id: &str, status: u16, errortype: Option<&str>, body: &[u8]) -> BodyEdit {
        if !(200..300).contains(&status) {
            let err = translate_error(status, errortype, body);
            return BodyEdit::Replace(self.encoder.error(&err));
        }
        let encoded = reply(body).and_then(|mut r| {
            r.id = std::borrow::Cow::Borrowed(id);
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
        let State::Streaming { frames, decoder } = &mut self.state else {
            return out;
        };
        let mut sink = Sink {
            encoder: &mut *self.encoder,
            out: &mut out,
            closed: &mut self.closed,
            usage: &mut self.usage,
            failure: &mut self.failure,
            content: &mut self.content,
            streamed: &mut self.streamed,
        };
        if !*sink.closed {
            let res = frames.push(data, |msg| {
                decoder.message(&msg, &mut |ev| sink.emit(ev));
            });
            if let Err(e) = res {
                let msg = format!("Provider bedrock sent a malformed event stream ({e:?}).");
                sink.fail(Cause::Malformed, ApiError::new(502, "server_error", msg));
            }
        }
        if end && !*sink.closed && frames.is_idle() {
            decoder.finish(&mut |ev| sink.emit(ev));
        }
        if end && !*sink.closed {
            let msg = "Provider bedrock ended the stream before the reply was complete.";
            sink.fail(Cause::Truncated, ApiError::new(502, "server_error", msg));
        }
        if *sink.closed {
            *frames = EventStreamDecoder::new();
        }
        out
    }
}

/// Where decoded events go: the encoder, plus the exchange's bookkeeping.
struct Sink<'s> {
    encoder: &'s mut dyn Encoder,
    out: &'s mut Vec<u8>,
    closed: &'s mut bool,
    usage: &'s mut Usage,
    failure: &'s mut Option<Failure>,
    content: &'s mut bool,
    streamed: &'s mut u64,
}

impl Sink<'_> {
    fn emit(&mut self, ev: Event<'_>) {
        if *self.closed {
            return;
        }
        *self.streamed = self.streamed.saturating_add(ev.generated_bytes());
        match &ev {
            Event::Usage(u) => self.usage.merge_max(*u),
            Event::Text(t) | Event::Reasoning(t) if !t.is_empty() => *self.content = true,
            Event::ToolStart { .. } => *self.content = true,
            Event::End => *self.closed = true,
            Event::Error(e) => {
                *self.closed = true;
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

impl Translator for BedrockChat {
    fn response_headers(&mut self, status: u16, headers: HeaderLookup<'_>) -> HeaderEdit {
        let ok = (200..300).contains(&status);
        let id = headers("x-amzn-requestid").unwrap_or_default();
        if ok && self.stream {
            self.state = State::Streaming {
                frames: EventStreamDecoder::new(),
                decoder: StreamDecoder::new(id),
            };
            return HeaderEdit {
                mode: BodyMode::Stream,
                status: None,
                content_type: Some("text/event-stream"),
                drop_content_length: true,
            };
        }
        let client = client_status(status);
        if !ok {
            self.failure = Some(status_failure(client, headers));
        }
        self.state = State::Whole {
            id,
            status,
            errortype: headers("x-amzn-errortype"),
            buf: Vec::new(),
        };
        HeaderEdit {
            mode: BodyMode::Buffer,
            status: (client != status).then_some(client),
            content_type: Some("application/json"),
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
            State::Whole {
                id,
                status,
                errortype,
                buf,
            } => {
                let id = std::mem::take(id);
                let status = *status;
                let errortype = errortype.take();
                let mut whole = std::mem::take(buf);
                whole.extend_from_slice(data);
                self.state = State::Finished;
                self.whole(&id, status, errortype.as_deref(), &whole)
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
