//! Cohere v2 wire types: request types borrow and skip what is unset;
//! response types tolerate unknown fields and unknown enum values.
//!
//! Token counts are JSON numbers that Cohere's own schema types as floats
//! (`"input_tokens": 12.0` is valid); [`Count`] accepts whole floats.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::usage::Count;

// ---- request ----

/// `POST /v2/chat`.
#[derive(Debug, Serialize)]
pub struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_tools: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

/// One turn, tagged by `role`.
#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Message<'a> {
    System {
        content: Cow<'a, str>,
    },
    User {
        content: UserContent<'a>,
    },
    Assistant {
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tool_plan: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: Cow<'a, str>,
    },
}

/// A user turn's content: a string, or text and image blocks.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum UserContent<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<UserBlock<'a>>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserBlock<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: ImageUrl<'a> },
}

#[derive(Debug, Serialize)]
pub struct ImageUrl<'a> {
    pub url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct ToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall<'a>,
}

#[derive(Debug, Serialize)]
pub struct FunctionCall<'a> {
    pub name: &'a str,
    pub arguments: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Tool<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionDef<'a>,
}

#[derive(Debug, Serialize)]
pub struct FunctionDef<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    /// Required by Cohere.
    pub parameters: Parameters<'a>,
}

/// A tool's schema: the client's, or an empty object schema for a
/// function declared without `parameters`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Parameters<'a> {
    Raw(&'a RawValue),
    Empty(EmptySchema),
}

/// `{"type":"object","properties":{}}`.
#[derive(Debug, Serialize)]
pub struct EmptySchema {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub properties: Empty,
}

impl Default for EmptySchema {
    fn default() -> Self {
        EmptySchema {
            kind: "object",
            properties: Empty {},
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Empty {}

#[derive(Debug, Serialize)]
pub struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<&'a RawValue>,
}

#[derive(Debug, Serialize)]
pub struct Thinking {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_budget: Option<u32>,
}

/// `POST /v2/embed`.
#[derive(Debug, Serialize)]
pub struct EmbedRequest<'a> {
    pub model: &'a str,
    pub texts: Vec<&'a str>,
    pub input_type: &'static str,
    pub embedding_types: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimension: Option<u32>,
}

// ---- response ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FinishReason {
    Complete,
    StopSequence,
    MaxTokens,
    ToolCall,
    Error,
    Timeout,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct Tokens {
    #[serde(default)]
    pub input_tokens: Option<Count>,
    #[serde(default)]
    pub output_tokens: Option<Count>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct WireUsage {
    #[serde(default)]
    pub billed_units: Option<Tokens>,
    #[serde(default)]
    pub tokens: Option<Tokens>,
    #[serde(default)]
    pub cached_tokens: Option<Count>,
}

/// A whole chat response; `message` is required (a body without it is not
/// a chat response).
#[derive(Debug, Deserialize)]
pub struct ChatResponse<'a> {
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    #[serde(borrow)]
    pub message: ResponseMessage<'a>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub struct ResponseMessage<'a> {
    #[serde(borrow, default)]
    pub content: Option<Vec<ContentItem<'a>>>,
    #[serde(borrow, default)]
    pub tool_plan: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tool_calls: Option<Vec<ToolCallIn<'a>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Text,
    Thinking,
    #[serde(other)]
    Unknown,
}

/// A content item of a reply (whole) or of `content-start`/`content-delta`
/// (where `type` is only on the start).
#[derive(Debug, Deserialize)]
pub struct ContentItem<'a> {
    #[serde(rename = "type", default)]
    pub kind: Option<ItemType>,
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub thinking: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct ToolCallIn<'a> {
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub function: Option<FunctionIn<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct FunctionIn<'a> {
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub arguments: Option<Cow<'a, str>>,
}

/// Cohere's error body: `{"id": ..., "message": ...}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody<'a> {
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

// ---- stream ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventType {
    MessageStart,
    ContentStart,
    ContentDelta,
    ContentEnd,
    ToolPlanDelta,
    ToolCallStart,
    ToolCallDelta,
    ToolCallEnd,
    CitationStart,
    CitationEnd,
    MessageEnd,
    Debug,
    #[serde(other)]
    Unknown,
}

/// One SSE event's data. The shape of `delta` depends on `type` (the
/// `message-start` delta holds arrays where later deltas hold objects), so
/// it is decoded per type.
#[derive(Debug, Deserialize)]
pub struct StreamEvent<'a> {
    #[serde(rename = "type", default)]
    pub kind: Option<EventType>,
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub delta: Option<&'a RawValue>,
    /// An error object in place of an event.
    #[serde(borrow, default)]
    pub message: Option<Cow<'a, str>>,
}

/// `delta` of `content-start` / `content-delta`.
#[derive(Debug, Default, Deserialize)]
pub struct ContentDelta<'a> {
    #[serde(borrow, default)]
    pub message: Option<ContentDeltaMessage<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct ContentDeltaMessage<'a> {
    #[serde(borrow, default)]
    pub content: Option<ContentItem<'a>>,
}

/// `delta` of `tool-plan-delta`.
#[derive(Debug, Default, Deserialize)]
pub struct PlanDelta<'a> {
    #[serde(borrow, default)]
    pub message: Option<PlanDeltaMessage<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct PlanDeltaMessage<'a> {
    #[serde(borrow, default)]
    pub tool_plan: Option<Cow<'a, str>>,
}

/// `delta` of `tool-call-start` / `tool-call-delta`.
#[derive(Debug, Default, Deserialize)]
pub struct CallDelta<'a> {
    #[serde(borrow, default)]
    pub message: Option<CallDeltaMessage<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct CallDeltaMessage<'a> {
    #[serde(borrow, default)]
    pub tool_calls: Option<ToolCallIn<'a>>,
}

/// `delta` of `message-end`.
#[derive(Debug, Default, Deserialize)]
pub struct EndDelta<'a> {
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(borrow, default)]
    pub error: Option<Cow<'a, str>>,
}

/// `POST /v2/embed` response (`embedding_types: ["float"]`).
#[derive(Debug, Deserialize)]
pub struct EmbedResponse {
    pub embeddings: EmbedByType,
    #[serde(default)]
    pub meta: Option<EmbedMeta>,
}

#[derive(Debug, Deserialize)]
pub struct EmbedByType {
    #[serde(rename = "float")]
    pub floats: Vec<Vec<f32>>,
}

#[derive(Debug, Deserialize)]
pub struct EmbedMeta {
    #[serde(default)]
    pub billed_units: Option<Tokens>,
    #[serde(default)]
    pub tokens: Option<Tokens>,
}
