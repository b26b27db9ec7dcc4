//! Neutral replies and events → Anthropic's `message` object and event
//! stream, for a Messages client served by a translating provider.
//!
//! # Stream
//! `message_start` (with the usage known so far), one `ping`, then per
//! content block `content_block_start`, its deltas and
//! `content_block_stop`, then `message_delta` (stop reason and the final
//! usage) and `message_stop`. Neutral events carry no block boundaries, so
//! a block opens when an event of another kind arrives and closes when the
//! next one opens or the reply ends, and opens only on its first
//! non-empty text (an empty text block would be refused when the client
//! sends the turn back): text → a `text` block (`text_delta`),
//! reasoning → a `thinking` block (`thinking_delta`, closed by its
//! `signature_delta` when the provider signs it), redacted thinking → a
//! `redacted_thinking` block, each tool call → a `tool_use` block
//! (`input_json_delta`). Arguments for a tool call whose block already
//! closed (providers that interleave parallel calls) still go out as
//! deltas with that block's index, which is how the SDKs accumulate them.
//! An [`Event::Error`] is an `error` event with Anthropic's error body, and
//! nothing follows it. Only choice 0 is written: Messages clients cannot
//! ask for several.
//!
//! # Usage
//! Anthropic's semantics: `input_tokens` excludes cache reads and writes,
//! which are `cache_read_input_tokens` and `cache_creation_input_tokens`.
//! `message_delta` repeats all four counts, cumulative, because providers
//! other than Anthropic report the prompt only at the end.
//!
//! # Ids and stop reasons
//! The provider's message id when it gave one, else `msg_` + the gateway's
//! clock and a per-VM counter; tool ids likewise (`toolu_…`). Stop →
//! `end_turn`, Length → `max_tokens`, ToolCalls → `tool_use`,
//! ContentFilter → `refusal`. Which stop sequence matched is not known off
//! Anthropic, so `stop_sequence` is always `null`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::value::RawValue;

use super::error::error_body;
use crate::error::ApiError;
use crate::events::{Choice, Encoder, Event, Finish, Meta, Reply, Thinking};
use crate::json_out::Object;
use crate::usage::Usage;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn new_id(created: u64) -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    format!("msg_{created:x}{n:010x}")
}

fn tool_id(message_id: &str, n: usize) -> String {
    let base = message_id.strip_prefix("msg_").unwrap_or(message_id);
    format!("toolu_{base}_{n}")
}

pub fn stop_reason(f: Finish) -> &'static str {
    match f {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::ToolCalls => "tool_use",
        Finish::ContentFilter => "refusal",
    }
}

fn usage(out: &mut Vec<u8>, u: &Usage) {
    let mut o = Object::open(out);
    o.uint("input_tokens", u.uncached_input())
        .uint("cache_creation_input_tokens", u.cache_write)
        .uint("cache_read_input_tokens", u.cache_read)
        .uint("output_tokens", u.output);
    o.close();
}

fn null(o: &mut Object<'_>, key: &str) {
    o.key(key).extend_from_slice(b"null");
}

/// The kind of the open content block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    Tool,
}

/// The Messages dialect, for one response.
#[derive(Debug)]
pub struct MessagesEncoder {
    meta: Meta,
    id: String,
    started: bool,
    done: bool,
    /// The choice the next events belong to (only 0 is written).
    choice: u32,
    /// The open block and its index.
    open: Option<(Open, u32)>,
    /// Blocks written so far (the next block's index).
    blocks: u32,
    /// (tool call index, block index) of every tool block.
    tools: Vec<(u32, u32)>,
    finish: Option<Finish>,
    usage: Usage,
}

impl MessagesEncoder {
    pub fn new(meta: Meta) -> Self {
        MessagesEncoder {
            meta,
            id: String::new(),
            started: false,
            done: false,
            choice: 0,
            open: None,
            blocks: 0,
            tools: Vec::new(),
            finish: None,
            usage: Usage::default(),
        }
    }

    /// Appends `event: name` with a `{"type": name, …}` data line.
    fn sse(out: &mut Vec<u8>, name: &str, fields: impl FnOnce(&mut Object<'_>)) {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        let mut o = Object::open(out);
        o.str("type", name);
        fields(&mut o);
        o.close();
        out.extend_from_slice(b"\n\n");
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        if self.id.is_empty() {
            self.id = new_id(self.meta.created);
        }
        let (id, model, u) = (&self.id, &self.meta.model, &self.usage);
        Self::sse(out, "message_start", |o| {
            let mut m = Object::open(o.key("message"));
            m.str("id", id)
                .str("type", "message")
                .str("role", "assistant")
                .str("model", model);
            m.key("content").extend_from_slice(b"[]");
            null(&mut m, "stop_reason");
            null(&mut m, "stop_sequence");
            usage(m.key("usage"), u);
            m.close();
        });
        Self::sse(out, "ping", |_| {});
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if let Some((_, index)) = self.open.take() {
            Self::sse(out, "content_block_stop", |o| {
                o.uint("index", u64::from(index));
            });
        }
    }

    /// Opens a new block with `block` as its `content_block`.
    fn open_block(&mut self, out: &mut Vec<u8>, kind: Open, block: impl FnOnce(&mut Object<'_>)) {
        self.start(out);
        self.close(out);
        let index = self.blocks;
        self.blocks += 1;
        Self::sse(out, "content_block_start", |o| {
            o.uint("index", u64::from(index));
            let mut b = Object::open(o.key("content_block"));
            block(&mut b);
            b.close();
        });
        self.open = Some((kind, index));
    }

    /// Makes sure a text or thinking block is open.
    fn ensure(&mut self, out: &mut Vec<u8>, kind: Open) -> u32 {
        match self.open {
            Some((k, index)) if k == kind => index,
            _ => {
                self.open_block(out, kind, |b| {
                    if kind == Open::Text {
                        b.str("type", "text").str("text", "");
                    } else {
                        b.str("type", "thinking")
                            .str("thinking", "")
                            .str("signature", "");
                    }
                });
                self.blocks.saturating_sub(1)
            }
        }
    }

    fn delta(out: &mut Vec<u8>, index: u32, kind: &str, field: &str, value: &str) {
        Self::sse(out, "content_block_delta", |o| {
            o.uint("index", u64::from(index));
            let mut d = Object::open(o.key("delta"));
            d.str("type", kind).str(field, value);
            d.close();
        });
    }

    fn thinking(&mut self, out: &mut Vec<u8>, t: Thinking<'_>) {
        match t {
            Thinking::Signed { text, signature } => {
                let fresh = !matches!(self.open, Some((Open::Thinking, _)));
                let index = self.ensure(out, Open::Thinking);
                if fresh && !text.is_empty() {
                    Self::delta(out, index, "thinking_delta", "thinking", &text);
                }
                Self::delta(out, index, "signature_delta", "signature", &signature);
                self.close(out);
            }
            Thinking::Redacted { data } => {
                self.open_block(out, Open::Thinking, |b| {
                    b.str("type", "redacted_thinking").str("data", &data);
                });
                self.close(out);
            }
        }
    }

    fn tool_start(&mut self, out: &mut Vec<u8>, call: u32, id: &str, name: &str) {
        let id = match id {
            "" => {
                self.start(out);
                tool_id(&self.id, self.tools.len())
            }
            given => given.to_string(),
        };
        self.open_block(out, Open::Tool, |b| {
            b.str("type", "tool_use").str("id", &id).str("name", name);
            b.key("input").extend_from_slice(b"{}");
        });
        self.tools.push((call, self.blocks.saturating_sub(1)));
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        self.start(out);
        self.close(out);
        let reason = stop_reason(self.finish.unwrap_or_default());
        let u = &self.usage;
        Self::sse(out, "message_delta", |o| {
            let mut d = Object::open(o.key("delta"));
            d.str("stop_reason", reason);
            null(&mut d, "stop_sequence");
            d.close();
            usage(o.key("usage"), u);
        });
        Self::sse(out, "message_stop", |_| {});
        self.done = true;
    }

    /// A content event of the current choice (only choice 0 is written).
    fn content(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        if self.choice != 0 {
            return;
        }
        match ev {
            // Blocks open on their first text: Anthropic rejects an empty
            // text block when the client sends the turn back.
            Event::Text(t) if !t.is_empty() => {
                let index = self.ensure(out, Open::Text);
                Self::delta(out, index, "text_delta", "text", t);
            }
            Event::Reasoning(t) if !t.is_empty() => {
                let index = self.ensure(out, Open::Thinking);
                Self::delta(out, index, "thinking_delta", "thinking", t);
            }
            Event::Thinking(t) => self.thinking(out, t),
            Event::ToolStart {
                index, id, name, ..
            } => self.tool_start(out, index, id, name),
            Event::ToolArgs { index, json } => {
                let block = self.tools.iter().find(|(c, _)| *c == index);
                if let (Some(&(_, block)), false) = (block, json.is_empty()) {
                    Self::delta(out, block, "input_json_delta", "partial_json", json);
                }
            }
            Event::Finish(f) => self.finish = Some(f),
            _ => {}
        }
    }
}

impl Encoder for MessagesEncoder {
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        match ev {
            Event::Start { id } => {
                if !id.is_empty() && !self.started {
                    id.clone_into(&mut self.id);
                }
                self.start(out);
            }
            Event::Choice(index) => self.choice = index,
            Event::Usage(u) => self.usage.merge_max(u),
            Event::End => self.end(out),
            Event::Error(e) => {
                out.extend_from_slice(b"event: error\ndata: ");
                out.extend_from_slice(&error_body(&e));
                out.extend_from_slice(b"\n\n");
                self.done = true;
            }
            other => self.content(other, out),
        }
    }

    fn reply(&self, r: &Reply<'_>) -> Result<Vec<u8>, ApiError> {
        let id = match r.id.as_ref() {
            "" => new_id(self.meta.created),
            given => given.to_string(),
        };
        let c = &r.choice;
        let inputs = tool_inputs(c)?;
        let mut out = Vec::with_capacity(256 + c.text.as_ref().map_or(0, |t| t.len()));
        let mut o = Object::open(&mut out);
        o.str("id", &id)
            .str("type", "message")
            .str("role", "assistant")
            .str("model", &self.meta.model);
        content(o.key("content"), c, &id, &inputs);
        o.str("stop_reason", stop_reason(c.finish));
        null(&mut o, "stop_sequence");
        usage(o.key("usage"), &r.usage);
        o.close();
        Ok(out)
    }

    fn error(&self, err: &ApiError) -> Vec<u8> {
        error_body(err)
    }
}

/// Each tool call's arguments as a JSON object (empty text: `{}`).
fn tool_inputs<'c>(c: &'c Choice<'_>) -> Result<Vec<&'c RawValue>, ApiError> {
    c.tool_calls
        .iter()
        .map(|t| {
            let text = if t.arguments.trim().is_empty() {
                "{}"
            } else {
                t.arguments.as_ref()
            };
            serde_json::from_str::<&RawValue>(text)
                .ok()
                .filter(|raw| raw.get().starts_with('{'))
                .ok_or_else(|| {
                    ApiError::new(
                        502,
                        "api_error",
                        format!(
                            "The provider returned arguments for tool `{}` that are not a JSON object.",
                            t.name
                        ),
                    )
                })
        })
        .collect()
}

/// The content blocks of a whole reply: thinking, text, then tool calls.
/// Reasoning the provider did not sign becomes a thinking block with an
/// empty signature.
fn content(out: &mut Vec<u8>, c: &Choice<'_>, id: &str, inputs: &[&RawValue]) {
    out.push(b'[');
    let mut first = true;
    let mut block = |out: &mut Vec<u8>, write: &dyn Fn(&mut Object<'_>)| {
        if !std::mem::replace(&mut first, false) {
            out.push(b',');
        }
        let mut o = Object::open(out);
        write(&mut o);
        o.close();
    };
    let signed = c
        .thinking
        .iter()
        .any(|t| matches!(t, Thinking::Signed { .. }));
    if let (false, Some(text)) = (signed, &c.reasoning) {
        block(out, &|o| {
            o.str("type", "thinking")
                .str("thinking", text)
                .str("signature", "");
        });
    }
    for t in &c.thinking {
        block(out, &|o| match t {
            Thinking::Signed { text, signature } => {
                o.str("type", "thinking")
                    .str("thinking", text)
                    .str("signature", signature);
            }
            Thinking::Redacted { data } => {
                o.str("type", "redacted_thinking").str("data", data);
            }
        });
    }
    if let Some(text) = c.text.as_deref().filter(|t| !t.is_empty()) {
        block(out, &|o| {
            o.str("type", "text").str("text", text);
        });
    }
    for (n, (call, input)) in c.tool_calls.iter().zip(inputs).enumerate() {
        let call_id = match call.id.as_ref() {
            "" => tool_id(id, n),
            given => given.to_string(),
        };
        block(out, &|o| {
            o.str("type", "tool_use")
                .str("id", &call_id)
                .str("name", &call.name)
                .raw("input", input);
        });
    }
    out.push(b']');
}
