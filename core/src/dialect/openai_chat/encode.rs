//! The OpenAI chat encoder: neutral events and replies → `chat.completion`
//! JSON and `chat.completion.chunk` SSE events, for every translating
//! provider.
//!
//! Chunks follow what OpenAI itself streams: a first delta with the role, a
//! finish chunk, then (when the client asked) a usage-only chunk with
//! `choices: []`, then `data: [DONE]`. A failure is an OpenAI error event
//! without `[DONE]`, which the SDKs raise as an `APIError`; clients that
//! ignore the `error` key still see an unfinished stream, not a clean end.
//!
//! Several choices (`n` > 1): every chunk still carries exactly one entry in
//! `choices`, whose `index` is the choice the event belongs to (the latest
//! [`Event::Choice`]), as OpenAI streams them. A choice other than 0 opens
//! with its own role delta the first time it appears; each choice gets one
//! finish chunk, and [`Event::End`] closes any still open with `stop`.
//! Tool call indexes are the choice's own. A whole reply lists its choices
//! sorted by index, each with its `finish_reason`. A single choice keeps
//! no more state than a flag, and allocates nothing extra.
//!
//! Reasoning text goes to `reasoning_content` (the field DeepSeek and most
//! compatible servers use). Signed reasoning that the provider needs back
//! goes to `thinking_blocks`; Gemini's per-call signature to the tool call's
//! `extra_content.google.thought_signature` (Google's own convention on its
//! OpenAI endpoint). Clients that append the assistant message as received
//! send both back, and the request decoders restore them.

use crate::error::ApiError;
use crate::events::{Choice, Encoder, Event, Finish, Meta, Reply, Thinking};
use crate::openai::response::{
    ChatCompletion, ChatCompletionChunk, Choice as MessageChoice, ChunkChoice, CompletionUsage,
    Delta, ExtraContent, FinishReason, FunctionDelta, GoogleExtra, ResponseFunction,
    ResponseMessage, ResponseToolCall, ThinkingBlock, ToolCallDelta, CHUNK_OBJECT,
    COMPLETION_OBJECT,
};
use crate::sse::write_data_event;
use crate::usage::Usage;

pub fn finish_reason(f: Finish) -> FinishReason {
    match f {
        Finish::Stop => FinishReason::Stop,
        Finish::Length => FinishReason::Length,
        Finish::ToolCalls => FinishReason::ToolCalls,
        Finish::ContentFilter => FinishReason::ContentFilter,
    }
}

fn thinking_block<'a>(t: &'a Thinking<'_>) -> ThinkingBlock<'a> {
    match t {
        Thinking::Signed { text, signature } => ThinkingBlock {
            kind: "thinking",
            thinking: Some(text),
            signature: Some(signature),
            data: None,
        },
        Thinking::Redacted { data } => ThinkingBlock {
            kind: "redacted_thinking",
            data: Some(data),
            ..ThinkingBlock::default()
        },
    }
}

fn extra(signature: Option<&str>) -> Option<ExtraContent<'_>> {
    signature.map(|s| ExtraContent {
        google: GoogleExtra {
            thought_signature: s,
        },
    })
}

/// The OpenAI chat completions dialect, for one response.
#[derive(Debug)]
pub struct OpenAiEncoder {
    meta: Meta,
    id: String,
    /// The choice the next events belong to.
    choice: u32,
    /// Choice 0 has had its finish chunk.
    finish_sent: bool,
    /// Choices other than 0 seen so far, each with whether it had its
    /// finish chunk; empty unless the stream has several choices.
    others: Vec<(u32, bool)>,
    usage: Usage,
}

impl OpenAiEncoder {
    pub fn new(meta: Meta) -> Self {
        OpenAiEncoder {
            meta,
            id: String::new(),
            choice: 0,
            finish_sent: false,
            others: Vec::new(),
            usage: Usage::default(),
        }
    }

    fn delta(&self, out: &mut Vec<u8>, delta: Delta<'_>) {
        let choices = [ChunkChoice {
            index: self.choice,
            delta,
            ..ChunkChoice::default()
        }];
        self.chunk(out, &choices, self.meta.include_usage.then_some(None));
    }

    fn calls(&self, out: &mut Vec<u8>, call: ToolCallDelta<'_>) {
        let calls = [call];
        let delta = Delta {
            tool_calls: Some(&calls),
            ..Delta::default()
        };
        self.delta(out, delta);
    }

    /// The role delta that opens a choice.
    fn open(&self, out: &mut Vec<u8>) {
        let delta = Delta {
            role: Some("assistant"),
            content: Some(""),
            ..Delta::default()
        };
        self.delta(out, delta);
    }

    /// Makes `index` the current choice, opening it if it is new.
    fn switch(&mut self, out: &mut Vec<u8>, index: u32) {
        self.choice = index;
        if index != 0 && !self.others.iter().any(|&(i, _)| i == index) {
            self.others.push((index, false));
            self.open(out);
        }
    }

    /// Sends the current choice's finish reason once.
    fn finish(&mut self, out: &mut Vec<u8>, reason: Finish) {
        let index = self.choice;
        let sent = if index == 0 {
            &mut self.finish_sent
        } else {
            match self.others.iter_mut().find(|(i, _)| *i == index) {
                Some((_, sent)) => sent,
                None => return,
            }
        };
        if std::mem::replace(sent, true) {
            return;
        }
        let choices = [ChunkChoice {
            index,
            finish_reason: Some(finish_reason(reason)),
            ..ChunkChoice::default()
        }];
        self.chunk(out, &choices, self.meta.include_usage.then_some(None));
    }

    /// Finishes every choice the provider left open, even if it never sent
    /// a finish reason.
    fn finish_all(&mut self, out: &mut Vec<u8>) {
        self.choice = 0;
        self.finish(out, Finish::Stop);
        for k in 0..self.others.len() {
            if let Some(&(index, false)) = self.others.get(k) {
                self.choice = index;
                self.finish(out, Finish::Stop);
            }
        }
    }

    fn chunk(
        &self,
        out: &mut Vec<u8>,
        choices: &[ChunkChoice<'_>],
        usage: Option<Option<CompletionUsage>>,
    ) {
        let chunk = ChatCompletionChunk {
            id: &self.id,
            object: CHUNK_OBJECT,
            created: self.meta.created,
            model: &self.meta.model,
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

impl Encoder for OpenAiEncoder {
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        match ev {
            Event::Start { id } => {
                id.clone_into(&mut self.id);
                self.open(out);
            }
            Event::Choice(index) => self.switch(out, index),
            Event::Text(t) if !t.is_empty() => self.delta(
                out,
                Delta {
                    content: Some(t),
                    ..Delta::default()
                },
            ),
            Event::Reasoning(t) if !t.is_empty() => self.delta(
                out,
                Delta {
                    reasoning_content: Some(t),
                    ..Delta::default()
                },
            ),
            Event::Text(_) | Event::Reasoning(_) => {}
            Event::Thinking(t) => {
                let blocks = [stream_thinking(&t)];
                let delta = Delta {
                    thinking_blocks: Some(&blocks),
                    ..Delta::default()
                };
                self.delta(out, delta);
            }
            Event::ToolStart {
                index,
                id,
                name,
                signature,
            } => self.calls(
                out,
                ToolCallDelta {
                    index,
                    id: Some(id),
                    kind: Some("function"),
                    function: FunctionDelta {
                        name: Some(name),
                        arguments: Some(""),
                    },
                    extra_content: extra(signature),
                },
            ),
            Event::ToolArgs { index, json } => self.calls(
                out,
                ToolCallDelta {
                    index,
                    function: FunctionDelta {
                        name: None,
                        arguments: Some(json),
                    },
                    ..ToolCallDelta::default()
                },
            ),
            Event::Finish(f) => self.finish(out, f),
            Event::Usage(u) => self.usage.merge_max(u),
            Event::End => {
                self.finish_all(out);
                if self.meta.include_usage {
                    let usage = CompletionUsage::from_usage(&self.usage);
                    self.chunk(out, &[], Some(Some(usage)));
                }
                write_data_event(out, b"[DONE]");
            }
            Event::Error(e) => write_data_event(out, &e.to_json()),
        }
    }

    fn reply(&self, r: &Reply<'_>) -> Result<Vec<u8>, ApiError> {
        let mut choices: Vec<MessageChoice<'_>> = r.choices().map(message_choice).collect();
        choices.sort_by_key(|c| c.index);
        let completion = ChatCompletion {
            id: &r.id,
            object: COMPLETION_OBJECT,
            created: self.meta.created,
            model: &self.meta.model,
            choices,
            usage: CompletionUsage::from_usage(&r.usage),
        };
        serde_json::to_vec(&completion)
            .map_err(|e| ApiError::internal(format!("cannot encode the completion: {e}")))
    }

    fn error(&self, err: &ApiError) -> Vec<u8> {
        err.to_json()
    }
}

/// One choice of a whole reply as OpenAI's `choices[]` entry.
fn message_choice<'a>(c: &'a Choice<'_>) -> MessageChoice<'a> {
    let thinking: Vec<ThinkingBlock<'_>> = c.thinking.iter().map(thinking_block).collect();
    let calls: Vec<ResponseToolCall<'_>> = c
        .tool_calls
        .iter()
        .map(|t| ResponseToolCall {
            id: &t.id,
            kind: "function",
            function: ResponseFunction {
                name: &t.name,
                arguments: std::borrow::Cow::Borrowed(&t.arguments),
            },
            extra_content: extra(t.signature.as_deref()),
        })
        .collect();
    // Content is `null` only when the choice is nothing but tool calls.
    let content = match (&c.text, calls.is_empty()) {
        (Some(t), _) => Some(std::borrow::Cow::Borrowed(t.as_ref())),
        (None, true) => Some(std::borrow::Cow::Borrowed("")),
        (None, false) => None,
    };
    MessageChoice {
        index: c.index,
        message: ResponseMessage {
            role: "assistant",
            content,
            reasoning_content: c.reasoning.as_deref(),
            thinking_blocks: (!thinking.is_empty()).then_some(thinking),
            tool_calls: (!calls.is_empty()).then_some(calls),
        },
        finish_reason: finish_reason(c.finish),
        logprobs: None,
    }
}

/// In a stream the thinking text has already gone out as `reasoning_content`
/// deltas, so the block carries only what completes it.
fn stream_thinking<'a>(t: &'a Thinking<'_>) -> ThinkingBlock<'a> {
    match t {
        Thinking::Signed { signature, .. } => ThinkingBlock {
            kind: "thinking",
            signature: Some(signature),
            ..ThinkingBlock::default()
        },
        Thinking::Redacted { data } => ThinkingBlock {
            kind: "redacted_thinking",
            data: Some(data),
            ..ThinkingBlock::default()
        },
    }
}
