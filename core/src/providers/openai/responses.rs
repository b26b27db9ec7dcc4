//! Responses passthrough: a client speaking OpenAI Responses to kind
//! `openai` (and to Azure) reaches `{base_path}/responses` with its body as
//! sent, only `model` spliced (at the probe's span) when the upstream name
//! differs. Presets are translated instead (see `translate.rs`): chat
//! completions is what every preset serves, while the Responses surfaces
//! some of them added are partial (stateless, subsets of the tools and
//! events).
//!
//! Usage is observed, never re-encoded:
//! * JSON: the last `"usage"` key in the last [`RESPONSE_TAIL`] bytes. The
//!   response object puts `usage` after `output` and `tools`; only `user`
//!   and `metadata` (at most 16 pairs of 64 + 512 characters) follow it.
//! * Streams: `response.completed`, `response.incomplete` and
//!   `response.failed` carry the whole response, usage included. Events
//!   are re-emitted whole as the framer completes them (as the chat
//!   passthrough does), so memory is bounded by one event whatever the
//!   split.
//!
//! Failures are classified as for chat so failover works: an error status
//! is `Status` (its body normalised to OpenAI's envelope); an `error` event
//! or `response.failed` is `ErrorEvent`; bad framing is `Malformed`; a
//! stream that ends before a terminal event is `Truncated` and gets an
//! `error` event appended, in the Responses shape. `response.incomplete`
//! (the output limit was hit) is a complete answer, not a failure.

use std::borrow::Cow;

use serde::Deserialize;

use super::WireUsage;
use super::{model_edit, splice, tail::TailScan, CompletionDetails, Normalize, PromptDetails};
use crate::openai::request::opt_str;
use crate::providers::{
    status_failure, BodyEdit, BodyMode, Cause, ChatInput, Failure, HeaderEdit, HeaderLookup,
    Outbound, Outcome, Started, TargetCtx, Translator,
};
use crate::sse::{write_event, SseError, SseEvent, SseFramer, SseItem};
use crate::usage::{Count, Usage};

/// Bytes of the end of a JSON response kept to find its `usage`.
pub const RESPONSE_TAIL: usize = 32 * 1024;

/// Starts a Responses passthrough to `path`.
pub(crate) fn passthrough(
    path: String,
    normalize: Normalize,
    input: &ChatInput<'_>,
    target: TargetCtx<'_>,
) -> Started {
    let p = input.probe;
    let body = model_edit(&p.model, p.model_span.clone(), target.model)?
        .map(|edit| splice(input.body, vec![edit]));
    let out = Outbound {
        path,
        headers: vec![("content-type", "application/json".to_string())],
        body,
    };
    Ok((Box::new(ResponsesExchange::new(p.stream, normalize)), out))
}

/// Responses usage (`input_tokens`, `output_tokens` and their details).
#[derive(Debug, Default, Deserialize)]
struct RespUsage {
    #[serde(default)]
    input_tokens: Option<Count>,
    #[serde(default)]
    output_tokens: Option<Count>,
    #[serde(default)]
    input_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    output_tokens_details: Option<CompletionDetails>,
}

impl RespUsage {
    fn into_usage(self) -> Usage {
        WireUsage {
            prompt_tokens: self.input_tokens,
            completion_tokens: self.output_tokens,
            prompt_tokens_details: self.input_tokens_details,
            completion_tokens_details: self.output_tokens_details,
        }
        .to_usage()
    }
}

/// What a stream event says, as far as accounting goes.
#[derive(Deserialize)]
struct EventProbe<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    response: Option<ResponseProbe>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    delta: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ResponseProbe {
    #[serde(default)]
    usage: Option<RespUsage>,
}

#[derive(Debug)]
enum State {
    Sent,
    Whole,
    Tail(TailScan),
    Streaming(Box<StreamScan>),
}

/// One Responses exchange, observed.
#[derive(Debug)]
pub struct ResponsesExchange {
    stream: bool,
    normalize: Normalize,
    state: State,
    status: u16,
    usage: Usage,
    failure: Option<Failure>,
}

impl ResponsesExchange {
    fn new(stream: bool, normalize: Normalize) -> Self {
        ResponsesExchange {
            stream,
            normalize,
            state: State::Sent,
            status: 0,
            usage: Usage::default(),
            failure: None,
        }
    }
}

impl Translator for ResponsesExchange {
    fn response_headers(&mut self, status: u16, headers: HeaderLookup<'_>) -> HeaderEdit {
        self.status = status;
        let ok = (200..300).contains(&status);
        let (mode, content_type, drop_content_length) = if ok && self.stream {
            self.state = State::Streaming(Box::default());
            (BodyMode::Stream, None, true)
        } else if ok {
            self.state = State::Tail(TailScan::with_capacity(RESPONSE_TAIL));
            (BodyMode::Tail(RESPONSE_TAIL), None, false)
        } else {
            self.failure = Some(status_failure(status, headers));
            self.state = State::Whole;
            (BodyMode::Buffer, Some("application/json"), true)
        };
        HeaderEdit {
            mode,
            status: None,
            content_type,
            drop_content_length,
        }
    }

    fn response_body(&mut self, data: &[u8], end: bool) -> BodyEdit {
        match &mut self.state {
            State::Sent => BodyEdit::Keep,
            State::Whole => match (self.normalize)(self.status, data) {
                None => BodyEdit::Keep,
                Some(body) => BodyEdit::Replace(body),
            },
            State::Tail(t) => {
                t.push(data);
                if end {
                    if let Some(u) = t.find::<RespUsage>() {
                        self.usage = u.into_usage();
                    }
                }
                BodyEdit::Keep
            }
            State::Streaming(s) => {
                let out = s.push(data, end);
                self.usage = s.usage;
                if let Some(cause) = s.failure {
                    self.failure.get_or_insert(Failure {
                        cause,
                        status: 502,
                        retry_after_ms: None,
                    });
                }
                BodyEdit::Replace(out)
            }
        }
    }

    fn outcome(&self) -> Outcome {
        let (content, streamed) = match &self.state {
            State::Streaming(s) => (s.content, s.streamed),
            _ => (false, 0),
        };
        Outcome {
            usage: self.usage,
            failure: self.failure,
            content,
            streamed,
        }
    }
}

/// The stream observer: frames events, reads the accounting ones, and
/// re-emits every event whole.
#[derive(Debug, Default)]
struct StreamScan {
    framer: SseFramer,
    usage: Usage,
    /// A terminal event went by.
    done: bool,
    /// The stream broke; nothing more is forwarded.
    broken: bool,
    failure: Option<Cause>,
    content: bool,
    streamed: u64,
}

impl StreamScan {
    fn push(&mut self, data: &[u8], end: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if self.broken {
            return out;
        }
        let mut framer = std::mem::take(&mut self.framer);
        framer.push_items(data, |item| self.item(item, &mut out));
        if end && !self.broken && !framer.is_idle() {
            // Be lenient about a missing final blank line.
            framer.push_items(b"\n\n", |item| self.item(item, &mut out));
        }
        self.framer = framer;
        if end && !self.done && !self.broken {
            let msg = "The provider ended the stream before the response was complete.";
            self.fail(Cause::Truncated, msg, &mut out);
        }
        out
    }

    fn item(&mut self, item: SseItem, out: &mut Vec<u8>) {
        if self.broken {
            return;
        }
        match item {
            SseItem::Event(ev) => {
                self.observe(&ev);
                write_event(out, &ev);
            }
            SseItem::Error(e) => {
                let msg = match e {
                    SseError::TooLarge => {
                        "The provider sent a stream event larger than the gateway accepts."
                    }
                    SseError::InvalidUtf8 => "The provider sent a stream event that is not UTF-8.",
                };
                self.fail(Cause::Malformed, msg, out);
            }
        }
    }

    fn observe(&mut self, ev: &SseEvent) {
        let Ok(probe) = serde_json::from_str::<EventProbe<'_>>(&ev.data) else {
            return;
        };
        let kind = probe.kind.as_deref().or(ev.event.as_deref()).unwrap_or("");
        match kind {
            "response.completed" | "response.incomplete" | "response.failed" => {
                self.done = true;
                if let Some(u) = probe.response.and_then(|r| r.usage) {
                    self.usage.merge_max(u.into_usage());
                }
                if kind == "response.failed" {
                    self.failure.get_or_insert(Cause::ErrorEvent);
                }
            }
            "error" => {
                self.done = true;
                self.failure.get_or_insert(Cause::ErrorEvent);
            }
            k if k.ends_with(".delta") => {
                let n = probe.delta.as_deref().map_or(0, str::len);
                self.streamed = self
                    .streamed
                    .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
                self.content |= n > 0;
            }
            _ => {}
        }
    }

    fn fail(&mut self, cause: Cause, msg: &str, out: &mut Vec<u8>) {
        self.broken = true;
        self.failure.get_or_insert(cause);
        let data = serde_json::json!({
            "type": "error",
            "code": "server_error",
            "message": msg,
            "param": null,
        });
        let ev = SseEvent {
            event: Some("error".to_string()),
            data: data.to_string(),
        };
        write_event(out, &ev);
    }
}

#[cfg(test)]
#[path = "responses_tests.rs"]
mod tests;
