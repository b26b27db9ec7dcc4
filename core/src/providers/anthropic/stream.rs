//! Anthropic SSE events → neutral events, one event at a time.
//!
//! Anthropic numbers content blocks across text, thinking and tools; OpenAI
//! numbers tool calls only, so tool blocks get their own 0-based counter,
//! and one small record per tool block is all that is kept. A thinking
//! block streams its text as reasoning and ends with a `signature_delta`,
//! which is passed on so the client can send it back.

use super::errors;
use super::response::{finish_reason, usage_from_wire};
use super::wire::{BlockType, DeltaType, EventKind, EventType, StreamEvent};
use crate::error::ApiError;
use crate::events::{Event, Thinking};

/// A tool block of the current message.
#[derive(Debug)]
struct ToolSlot {
    /// Anthropic content block index.
    block: u64,
    /// Tool call index.
    call: u32,
    /// Some argument text was sent for it.
    has_args: bool,
}

#[derive(Debug, Default)]
pub(super) struct StreamDecoder {
    tools: Vec<ToolSlot>,
}

type Emit<'e> = &'e mut dyn FnMut(Event<'_>);

impl StreamDecoder {
    pub fn event(&mut self, data: &str, emit: Emit<'_>) {
        let ev: StreamEvent<'_> = match serde_json::from_str(data) {
            Ok(ev) => ev,
            Err(e) => {
                // Unknown event types may have any shape; known ones may not.
                let known = serde_json::from_str::<EventKind>(data)
                    .is_ok_and(|k| k.kind != EventType::Unknown);
                if known {
                    let msg = format!("Provider anthropic sent an invalid event: {e}");
                    emit(Event::Error(ApiError::new(502, "server_error", msg)));
                }
                return;
            }
        };
        match ev.kind {
            EventType::MessageStart => {
                let m = ev.message;
                if let Some(u) = m.as_ref().and_then(|m| m.usage.as_ref()) {
                    emit(Event::Usage(usage_from_wire(u)));
                }
                let id = m.as_ref().map_or("", |m| m.id.as_ref());
                emit(Event::Start { id });
            }
            EventType::ContentBlockStart => self.block_start(ev, emit),
            EventType::ContentBlockDelta => self.block_delta(ev, emit),
            EventType::ContentBlockStop => self.block_stop(ev, emit),
            EventType::MessageDelta => {
                if let Some(u) = &ev.usage {
                    emit(Event::Usage(usage_from_wire(u)));
                }
                if let Some(reason) = ev.delta.and_then(|d| d.stop_reason) {
                    emit(Event::Finish(finish_reason(Some(reason))));
                }
            }
            EventType::MessageStop => emit(Event::End),
            EventType::Error => emit(Event::Error(errors::from_stream_event(ev.error.as_ref()))),
            EventType::Ping | EventType::Unknown => {}
        }
    }

    fn block_start(&mut self, ev: StreamEvent<'_>, emit: Emit<'_>) {
        let (Some(block_index), Some(block)) = (ev.index, ev.content_block) else {
            return;
        };
        match block.kind {
            BlockType::Text => emit(Event::Text(block.text.as_deref().unwrap_or(""))),
            BlockType::ToolUse => {
                let call = u32::try_from(self.tools.len()).unwrap_or(u32::MAX);
                self.tools.push(ToolSlot {
                    block: block_index,
                    call,
                    has_args: false,
                });
                emit(Event::ToolStart {
                    index: call,
                    id: block.id.as_deref().unwrap_or(""),
                    name: block.name.as_deref().unwrap_or(""),
                    signature: None,
                });
            }
            BlockType::Thinking => emit(Event::Reasoning(block.thinking.as_deref().unwrap_or(""))),
            BlockType::RedactedThinking => {
                if let Some(data) = block.data {
                    emit(Event::Thinking(Thinking::Redacted { data }));
                }
            }
            // Server-side tool blocks have no chat equivalent.
            BlockType::Unknown => {}
        }
    }

    fn block_delta(&mut self, ev: StreamEvent<'_>, emit: Emit<'_>) {
        let (Some(block_index), Some(delta)) = (ev.index, ev.delta) else {
            return;
        };
        match delta.kind {
            Some(DeltaType::TextDelta) => emit(Event::Text(delta.text.as_deref().unwrap_or(""))),
            Some(DeltaType::InputJsonDelta) => {
                let json = delta.partial_json.as_deref().unwrap_or("");
                if !json.is_empty() {
                    self.args(block_index, json, emit);
                }
            }
            Some(DeltaType::ThinkingDelta) => {
                emit(Event::Reasoning(delta.thinking.as_deref().unwrap_or("")))
            }
            Some(DeltaType::SignatureDelta) => {
                if let Some(signature) = delta.signature {
                    let text = std::borrow::Cow::Borrowed("");
                    emit(Event::Thinking(Thinking::Signed { text, signature }));
                }
            }
            Some(DeltaType::Unknown) | None => {}
        }
    }

    /// A tool without parameters may stream no argument text at all;
    /// clients parse `arguments` as JSON, so send `{}`.
    fn block_stop(&mut self, ev: StreamEvent<'_>, emit: Emit<'_>) {
        let Some(block_index) = ev.index else { return };
        let silent = self
            .tools
            .iter()
            .any(|t| t.block == block_index && !t.has_args);
        if silent {
            self.args(block_index, "{}", emit);
        }
    }

    fn args(&mut self, block_index: u64, json: &str, emit: Emit<'_>) {
        let Some(slot) = self.tools.iter_mut().find(|t| t.block == block_index) else {
            return;
        };
        slot.has_args = true;
        emit(Event::ToolArgs {
            index: slot.call,
            json,
        });
    }
}
