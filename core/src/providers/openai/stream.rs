//! Usage extraction from an OpenAI SSE stream.
//!
//! Events are re-emitted as the framer completes them, so the client only
//! ever sees whole events whatever the upstream's chunking. When modelmux
//! injected `include_usage`, the usage-only chunk (`choices: []`) is left
//! out; the `usage: null` fields the upstream adds to every other chunk are
//! left alone (clients ignore them).
//!
//! A stream that breaks (an event over the framer's limit, a line that is
//! not UTF-8, an end without `[DONE]`) ends with one OpenAI error event and
//! nothing after it, no `[DONE]`: SDKs treat a stream that just stops, or
//! that ends in `[DONE]`, as complete. The bytes of generated text are
//! counted as they go by, for the usage estimate of a stream that ends
//! without the provider's usage (see `session::estimate`).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::WireUsage;
use crate::error::ApiError;
use crate::openai::request::opt_str;
use crate::providers::{BodyEdit, Cause};
use crate::sse::{write_data_event, write_event, SseError, SseEvent, SseFramer, SseItem};
use crate::usage::Usage;

#[derive(Deserialize)]
struct ChunkProbe<'a> {
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(borrow, default)]
    choices: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ChoiceProbe<'a> {
    #[serde(borrow, default)]
    delta: Option<DeltaProbe<'a>>,
}

#[derive(Deserialize)]
struct DeltaProbe<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCallProbe<'a>>>,
}

#[derive(Deserialize)]
struct ToolCallProbe<'a> {
    #[serde(borrow, default)]
    function: Option<FunctionProbe<'a>>,
}

#[derive(Deserialize)]
struct FunctionProbe<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    /// `[DONE]` went by.
    Done,
    /// An error event ended the stream; the rest is dropped.
    Failed,
}

#[derive(Debug)]
pub struct UsageStream {
    framer: SseFramer,
    strip_usage: bool,
    usage: Usage,
    phase: Phase,
    failure: Option<Cause>,
    content: bool,
    streamed: u64,
}

impl UsageStream {
    pub fn new(strip_usage: bool) -> Self {
        UsageStream {
            framer: SseFramer::new(),
            strip_usage,
            usage: Usage::default(),
            phase: Phase::Open,
            failure: None,
            content: false,
            streamed: 0,
        }
    }

    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// A chunk with content (text, reasoning or a tool call) went by.
    pub fn content(&self) -> bool {
        self.content
    }

    /// Bytes of generated text (content, reasoning, tool calls) so far.
    pub fn streamed(&self) -> u64 {
        self.streamed
    }

    /// Why the stream failed: an error event, bad framing, or no `[DONE]`.
    pub fn failure(&self) -> Option<Cause> {
        self.failure
    }

    pub fn push(&mut self, data: &[u8], end: bool) -> BodyEdit {
        let mut out = Vec::new();
        if self.phase == Phase::Failed {
            return BodyEdit::Replace(out);
        }
        let mut framer = std::mem::take(&mut self.framer);
        framer.push_items(data, |item| self.item(item, &mut out));
        if end && !framer.is_idle() {
            // Be lenient about a missing final blank line.
            framer.push_items(b"\n\n", |item| self.item(item, &mut out));
        }
        self.framer = framer;
        if end && self.phase == Phase::Open {
            let msg = "The provider ended the stream before it was complete.";
            self.fail(Cause::Truncated, msg, &mut out);
        }
        BodyEdit::Replace(out)
    }

    fn item(&mut self, item: SseItem, out: &mut Vec<u8>) {
        if self.phase == Phase::Failed {
            return;
        }
        match item {
            SseItem::Event(ev) => self.event(&ev, out),
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

    fn event(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        if ev.data == "[DONE]" {
            self.phase = Phase::Done;
        } else if let Ok(probe) = serde_json::from_str::<ChunkProbe<'_>>(&ev.data) {
            if probe.error.is_some() {
                // The provider's own error event ends the stream.
                self.failure.get_or_insert(Cause::ErrorEvent);
                self.phase = Phase::Failed;
            }
            if let Some(choices) = probe.choices {
                let (bytes, content) = generated(choices.get());
                self.streamed = self.streamed.saturating_add(bytes);
                self.content |= content;
            }
            if let Some(u) = &probe.usage {
                self.usage.merge_max(u.to_usage());
                let usage_only = probe.choices.is_none_or(|c| c.get().trim() == "[]");
                if self.strip_usage && usage_only {
                    return;
                }
            }
        }
        write_event(out, ev);
    }

    fn fail(&mut self, cause: Cause, msg: &str, out: &mut Vec<u8>) {
        self.phase = Phase::Failed;
        self.failure.get_or_insert(cause);
        write_data_event(out, &ApiError::new(502, "server_error", msg).to_json());
    }
}

/// Bytes of generated text in a chunk's `choices`, and whether it carries
/// content: non-empty text or reasoning, or a tool call (the role-only
/// first chunk and empty deltas do not count).
fn generated(choices: &str) -> (u64, bool) {
    let Ok(choices) = serde_json::from_str::<Vec<ChoiceProbe<'_>>>(choices) else {
        return (0, false);
    };
    let (mut bytes, mut content) = (0usize, false);
    let len = |s: &Option<Cow<'_, str>>| s.as_deref().map_or(0, str::len);
    for delta in choices.iter().filter_map(|c| c.delta.as_ref()) {
        let text = len(&delta.content) + len(&delta.reasoning_content);
        bytes += text;
        content |= text > 0;
        for call in delta.tool_calls.iter().flatten() {
            content = true;
            if let Some(f) = &call.function {
                bytes += len(&f.name) + len(&f.arguments);
            }
        }
    }
    (u64::try_from(bytes).unwrap_or(u64::MAX), content)
}
