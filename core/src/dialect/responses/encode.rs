//! The Responses encoder: neutral replies → the `response` object, neutral
//! events → the typed Responses stream (see [`super::stream`]).
//!
//! Output items, in the order OpenAI lists them: a `reasoning` item (the
//! reasoning text as one summary part, and when the client asked for
//! `reasoning.encrypted_content`, the provider state sealed by
//! [`super::state`]), a `message` with one `output_text` part, then the
//! `function_call`s. The request echo the SDK's `Response` model requires
//! (`tools`, `tool_choice`, `parallel_tool_calls`) is written as its
//! neutral defaults: the encoder sees the reply, not the request.
//!
//! Ids: the response is `resp_` + the provider's message id (`resp_` + the
//! gateway clock in hex when the provider gave none), and each item is its
//! kind's prefix + that id + its output index, so ids are unique within
//! the response and the same in every event that names the item.

use serde::Serialize;

use crate::error::ApiError;
use crate::events::{Choice, Encoder, Event, Finish, Meta, Reply};
use crate::usage::Usage;

use super::state::{CallSignature, State};
use super::stream::StreamState;

/// The `response` object.
#[derive(Debug, Serialize)]
pub struct ResponseObj<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created_at: u64,
    pub status: &'static str,
    pub error: Option<ResponseError<'a>>,
    pub incomplete_details: Option<Incomplete>,
    pub instructions: Option<()>,
    pub metadata: Empty,
    pub model: &'a str,
    pub output: &'a [OutItem],
    pub parallel_tool_calls: bool,
    pub tool_choice: &'static str,
    pub tools: [(); 0],
    pub temperature: Option<()>,
    pub top_p: Option<()>,
    pub usage: Option<UsageObj>,
}

/// `{}`.
#[derive(Debug, Default, Serialize)]
pub struct Empty {}

#[derive(Debug, Serialize)]
pub struct Incomplete {
    pub reason: &'static str,
}

/// `response.error`; `code` is one of the SDK's fixed values.
#[derive(Debug, Serialize)]
pub struct ResponseError<'a> {
    pub code: &'static str,
    pub message: &'a str,
}

/// One `output` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutItem {
    Reasoning {
        id: String,
        summary: Vec<SummaryPart>,
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    Message {
        id: String,
        status: &'static str,
        role: &'static str,
        content: Vec<OutputText>,
    },
    FunctionCall {
        id: String,
        call_id: String,
        name: String,
        arguments: String,
        status: &'static str,
    },
}

impl OutItem {
    pub fn id(&self) -> &str {
        match self {
            OutItem::Reasoning { id, .. }
            | OutItem::Message { id, .. }
            | OutItem::FunctionCall { id, .. } => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryPart {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

impl SummaryPart {
    pub fn new(text: String) -> Self {
        SummaryPart {
            kind: "summary_text",
            text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    pub annotations: [(); 0],
    pub logprobs: [(); 0],
}

impl OutputText {
    pub fn new(text: String) -> Self {
        OutputText {
            kind: "output_text",
            text,
            annotations: [],
            logprobs: [],
        }
    }
}

/// `usage`: OpenAI's semantics, as [`Usage`] keeps them.
#[derive(Debug, Serialize)]
pub struct UsageObj {
    pub input_tokens: u64,
    pub input_tokens_details: InputDetails,
    pub output_tokens: u64,
    pub output_tokens_details: OutputDetails,
    pub total_tokens: u64,
}

#[derive(Debug, Serialize)]
pub struct InputDetails {
    pub cached_tokens: u64,
    pub cache_write_tokens: u64,
}

#[derive(Debug, Serialize)]
pub struct OutputDetails {
    pub reasoning_tokens: u64,
}

impl UsageObj {
    pub fn from_usage(u: &Usage) -> Self {
        UsageObj {
            input_tokens: u.input,
            input_tokens_details: InputDetails {
                cached_tokens: u.cache_read,
                cache_write_tokens: u.cache_write,
            },
            output_tokens: u.output,
            output_tokens_details: OutputDetails {
                reasoning_tokens: u.reasoning,
            },
            total_tokens: u.total(),
        }
    }
}

/// The response status and `incomplete_details` for a finish.
pub fn status(f: Finish) -> (&'static str, Option<Incomplete>) {
    match f {
        Finish::Stop | Finish::ToolCalls => ("completed", None),
        Finish::Length => (
            "incomplete",
            Some(Incomplete {
                reason: "max_output_tokens",
            }),
        ),
        Finish::ContentFilter => (
            "incomplete",
            Some(Incomplete {
                reason: "content_filter",
            }),
        ),
    }
}

/// The response id for a provider message id.
pub fn response_id(provider_id: &str, created: u64) -> String {
    if provider_id.is_empty() {
        format!("resp_{created:x}")
    } else {
        format!("resp_{provider_id}")
    }
}

/// An item id: `prefix` + the response id's own part + the output index.
pub fn item_id(prefix: &str, response_id: &str, output_index: usize) -> String {
    let base = response_id.strip_prefix("resp_").unwrap_or(response_id);
    format!("{prefix}_{base}_{output_index}")
}

impl<'a> ResponseObj<'a> {
    /// The object with the echo defaults; the caller sets the outcome.
    pub fn new(id: &'a str, meta: &'a Meta, output: &'a [OutItem]) -> Self {
        ResponseObj {
            id,
            object: "response",
            created_at: meta.created,
            status: "in_progress",
            error: None,
            incomplete_details: None,
            instructions: None,
            metadata: Empty {},
            model: &meta.model,
            output,
            parallel_tool_calls: true,
            tool_choice: "auto",
            tools: [],
            temperature: None,
            top_p: None,
            usage: None,
        }
    }
}

/// The Responses dialect, for one response.
#[derive(Debug)]
pub struct ResponsesEncoder {
    meta: Meta,
    stream: StreamState,
}

impl ResponsesEncoder {
    pub fn new(meta: Meta) -> Self {
        ResponsesEncoder {
            meta,
            stream: StreamState::default(),
        }
    }
}

impl Encoder for ResponsesEncoder {
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        self.stream.event(&self.meta, ev, out);
    }

    fn reply(&self, r: &Reply<'_>) -> Result<Vec<u8>, ApiError> {
        let id = response_id(&r.id, self.meta.created);
        let (status, incomplete) = status(r.choice.finish);
        let done = if incomplete.is_some() {
            "incomplete"
        } else {
            "completed"
        };
        let output = output_items(&id, &r.choice, self.meta.encrypted_reasoning, done);
        let mut obj = ResponseObj::new(&id, &self.meta, &output);
        obj.status = status;
        obj.incomplete_details = incomplete;
        obj.usage = Some(UsageObj::from_usage(&r.usage));
        serde_json::to_vec(&obj)
            .map_err(|e| ApiError::internal(format!("cannot encode the response: {e}")))
    }

    fn error(&self, err: &ApiError) -> Vec<u8> {
        err.to_json()
    }
}

/// A whole choice's output items.
fn output_items(id: &str, c: &Choice<'_>, encrypted: bool, done: &'static str) -> Vec<OutItem> {
    let mut items = Vec::with_capacity(2 + c.tool_calls.len());
    let mut state = State::default();
    if encrypted {
        c.thinking.iter().for_each(|t| state.push_thinking(t));
        for t in &c.tool_calls {
            if let Some(sig) = &t.signature {
                state.calls.push(CallSignature {
                    call_id: t.id.to_string(),
                    signature: sig.to_string(),
                });
            }
        }
    }
    let reasoning = c.reasoning.as_deref().filter(|r| !r.is_empty());
    if reasoning.is_some() || !state.is_empty() {
        items.push(OutItem::Reasoning {
            id: item_id("rs", id, items.len()),
            summary: reasoning
                .map(|r| SummaryPart::new(r.to_string()))
                .into_iter()
                .collect(),
            encrypted_content: (!state.is_empty()).then(|| state.seal()),
        });
    }
    if c.text.is_some() || c.tool_calls.is_empty() {
        let text = c.text.as_deref().unwrap_or_default().to_string();
        items.push(OutItem::Message {
            id: item_id("msg", id, items.len()),
            status: done,
            role: "assistant",
            content: vec![OutputText::new(text)],
        });
    }
    for t in &c.tool_calls {
        items.push(OutItem::FunctionCall {
            id: item_id("fc", id, items.len()),
            call_id: t.id.to_string(),
            name: t.name.to_string(),
            arguments: t.arguments.to_string(),
            status: done,
        });
    }
    items
}
