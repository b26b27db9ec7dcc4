//! Anthropic SSE events → OpenAI `chat.completion.chunk` events, incrementally.
//!
//! Each event is translated as soon as the framer completes it, so the
//! output for a body is the same however the body was split, and nothing
//! but the framer's unfinished event and one small record per tool block is
//! kept. Anthropic numbers content blocks across text and tools; OpenAI
//! numbers tool calls only, so tool blocks get their own 0-based counter.

use super::errors;
use super::response::{finish_reason, usage_from_wire};
use super::wire::{BlockType, DeltaType, EventKind, EventType, StreamEvent};
use super::Meta;
use crate::error::ApiError;
use crate::openai::{
    ChatCompletionChunk, ChunkChoice, CompletionUsage, Delta, FinishReason, FunctionDelta,
    ToolCallDelta, CHUNK_OBJECT,
};
use crate::sse::{write_data_event, SseFramer};
use crate::usage::Usage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    /// `message_stop` seen and `[DONE]` sent.
    Done,
    /// An error chunk was sent; nothing follows it.
    Failed,
}

/// A tool block of the current message.
#[derive(Debug)]
struct ToolSlot {
    /// Anthropic content block index.
    block: u64,
    /// OpenAI tool call index.
    call: u32,
    /// Some argument text was sent for it.
    has_args: bool,
}

#[derive(Debug)]
pub(super) struct StreamState {
    framer: SseFramer,
    id: String,
    tools: Vec<ToolSlot>,
    finish_sent: bool,
    usage: Usage,
    phase: Phase,
}

impl StreamState {
    pub fn new() -> Self {
        StreamState {
            framer: SseFramer::new(),
            id: String::new(),
            tools: Vec::new(),
            finish_sent: false,
            usage: Usage::default(),
            phase: Phase::Open,
        }
    }

    pub fn usage(&self) -> Usage {
        self.usage
    }

    pub fn failed(&self) -> bool {
        self.phase == Phase::Failed
    }

    /// Translates the events completed by `data`; `end` closes the stream.
    pub fn push(&mut self, meta: &Meta, data: &[u8], end: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if self.phase == Phase::Open {
            let mut framer = std::mem::take(&mut self.framer);
            let mut res = framer.push(data, |ev| self.on_event(meta, &ev.data, &mut out));
            if end && res.is_ok() && !framer.is_idle() {
                // Be lenient about a missing final blank line.
                res = framer.push(b"\n\n", |ev| self.on_event(meta, &ev.data, &mut out));
            }
            self.framer = framer;
            if let Err(e) = res {
                let msg = format!("Provider anthropic sent a malformed event stream ({e:?}).");
                self.fail(&mut out, &ApiError::new(502, "server_error", msg));
            }
        }
        if end && self.phase == Phase::Open {
            let msg = "Provider anthropic ended the stream before the message was complete.";
            self.fail(&mut out, &ApiError::new(502, "server_error", msg));
        }
        if self.phase != Phase::Open {
            self.framer = SseFramer::new();
        }
        out
    }

    fn on_event(&mut self, meta: &Meta, data: &str, out: &mut Vec<u8>) {
        if self.phase != Phase::Open {
            return;
        }
        let ev: StreamEvent<'_> = match serde_json::from_str(data) {
            Ok(ev) => ev,
            Err(e) => {
                // Unknown event types may have any shape; known ones may not.
                let known = serde_json::from_str::<EventKind>(data)
                    .is_ok_and(|k| k.kind != EventType::Unknown);
                if known {
                    let msg = format!("Provider anthropic sent an invalid event: {e}");
                    self.fail(out, &ApiError::new(502, "server_error", msg));
                }
                return;
            }
        };
        match ev.kind {
            EventType::MessageStart => self.on_message_start(meta, ev, out),
            EventType::ContentBlockStart => self.on_block_start(meta, ev, out),
            EventType::ContentBlockDelta => self.on_block_delta(meta, ev, out),
            EventType::ContentBlockStop => self.on_block_stop(meta, ev, out),
            EventType::MessageDelta => self.on_message_delta(meta, ev, out),
            EventType::MessageStop => self.on_message_stop(meta, out),
            EventType::Error => self.fail(out, &errors::from_stream_event(ev.error.as_ref())),
            EventType::Ping | EventType::Unknown => {}
        }
    }

    fn on_message_start(&mut self, meta: &Meta, ev: StreamEvent<'_>, out: &mut Vec<u8>) {
        if let Some(m) = ev.message {
            self.id = m.id.into_owned();
            if let Some(u) = &m.usage {
                self.usage.merge_max(usage_from_wire(u));
            }
        }
        let delta = Delta {
            role: Some("assistant"),
            content: Some(""),
            tool_calls: None,
        };
        self.write_delta(meta, out, delta);
    }

    fn on_block_start(&mut self, meta: &Meta, ev: StreamEvent<'_>, out: &mut Vec<u8>) {
        let (Some(block_index), Some(block)) = (ev.index, ev.content_block) else {
            return;
        };
        match block.kind {
            BlockType::Text => self.write_text(meta, out, block.text.as_deref()),
            BlockType::ToolUse => {
                let call = u32::try_from(self.tools.len()).unwrap_or(u32::MAX);
                self.tools.push(ToolSlot {
                    block: block_index,
                    call,
                    has_args: false,
                });
                let calls = [ToolCallDelta {
                    index: call,
                    id: Some(block.id.as_deref().unwrap_or("")),
                    kind: Some("function"),
                    function: FunctionDelta {
                        name: Some(block.name.as_deref().unwrap_or("")),
                        arguments: Some(""),
                    },
                }];
                self.write_calls(meta, out, &calls);
            }
            // Thinking and server-side tool blocks have no chat equivalent.
            BlockType::Unknown => {}
        }
    }

    fn on_block_delta(&mut self, meta: &Meta, ev: StreamEvent<'_>, out: &mut Vec<u8>) {
        let (Some(block_index), Some(delta)) = (ev.index, ev.delta) else {
            return;
        };
        match delta.kind {
            Some(DeltaType::TextDelta) => self.write_text(meta, out, delta.text.as_deref()),
            Some(DeltaType::InputJsonDelta) => {
                let json = delta.partial_json.as_deref().unwrap_or("");
                if !json.is_empty() {
                    self.write_args(meta, out, block_index, json);
                }
            }
            Some(DeltaType::Unknown) | None => {}
        }
    }

    /// A tool without parameters may stream no argument text at all;
    /// OpenAI clients parse `arguments` as JSON, so send `{}`.
    fn on_block_stop(&mut self, meta: &Meta, ev: StreamEvent<'_>, out: &mut Vec<u8>) {
        let Some(block_index) = ev.index else { return };
        let silent = self
            .tools
            .iter()
            .any(|t| t.block == block_index && !t.has_args);
        if silent {
            self.write_args(meta, out, block_index, "{}");
        }
    }

    fn on_message_delta(&mut self, meta: &Meta, ev: StreamEvent<'_>, out: &mut Vec<u8>) {
        if let Some(u) = &ev.usage {
            self.usage.merge_max(usage_from_wire(u));
        }
        if let Some(reason) = ev.delta.and_then(|d| d.stop_reason) {
            self.write_finish(meta, out, finish_reason(Some(reason)));
        }
    }

    fn on_message_stop(&mut self, meta: &Meta, out: &mut Vec<u8>) {
        self.write_finish(meta, out, FinishReason::Stop);
        if meta.include_usage {
            let usage = CompletionUsage::from_usage(&self.usage);
            self.write_chunk(meta, out, &[], Some(Some(usage)));
        }
        write_data_event(out, b"[DONE]");
        self.phase = Phase::Done;
    }

    /// Sends `err` as an OpenAI error event, which the OpenAI SDKs raise as
    /// an `APIError`. No `[DONE]` follows, so clients that ignore the error
    /// key still see an unfinished stream rather than a clean end.
    fn fail(&mut self, out: &mut Vec<u8>, err: &ApiError) {
        write_data_event(out, &err.to_json());
        self.phase = Phase::Failed;
    }

    fn write_text(&self, meta: &Meta, out: &mut Vec<u8>, text: Option<&str>) {
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            let delta = Delta {
                content: Some(text),
                ..Delta::default()
            };
            self.write_delta(meta, out, delta);
        }
    }

    fn write_args(&mut self, meta: &Meta, out: &mut Vec<u8>, block_index: u64, json: &str) {
        let Some(slot) = self.tools.iter_mut().find(|t| t.block == block_index) else {
            return;
        };
        slot.has_args = true;
        let calls = [ToolCallDelta {
            index: slot.call,
            function: FunctionDelta {
                name: None,
                arguments: Some(json),
            },
            ..ToolCallDelta::default()
        }];
        self.write_calls(meta, out, &calls);
    }

    fn write_calls(&self, meta: &Meta, out: &mut Vec<u8>, calls: &[ToolCallDelta<'_>]) {
        let delta = Delta {
            tool_calls: Some(calls),
            ..Delta::default()
        };
        self.write_delta(meta, out, delta);
    }

    /// Sends the finish reason once, even if Anthropic never sent one.
    fn write_finish(&mut self, meta: &Meta, out: &mut Vec<u8>, reason: FinishReason) {
        if self.finish_sent {
            return;
        }
        self.finish_sent = true;
        let choices = [ChunkChoice {
            finish_reason: Some(reason),
            ..ChunkChoice::default()
        }];
        self.write_chunk(meta, out, &choices, meta.include_usage.then_some(None));
    }

    fn write_delta(&self, meta: &Meta, out: &mut Vec<u8>, delta: Delta<'_>) {
        let choices = [ChunkChoice {
            delta,
            ..ChunkChoice::default()
        }];
        self.write_chunk(meta, out, &choices, meta.include_usage.then_some(None));
    }

    fn write_chunk(
        &self,
        meta: &Meta,
        out: &mut Vec<u8>,
        choices: &[ChunkChoice<'_>],
        usage: Option<Option<CompletionUsage>>,
    ) {
        let chunk = ChatCompletionChunk {
            id: &self.id,
            object: CHUNK_OBJECT,
            created: meta.created,
            model: &meta.model,
            choices,
            usage,
        };
        let start = out.len();
        out.extend_from_slice(b"data: ");
        if serde_json::to_writer(&mut *out, &chunk).is_ok() {
            out.extend_from_slice(b"\n\n");
        } else {
            out.truncate(start);
        }
    }
}
