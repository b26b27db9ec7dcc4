//! Anthropic Messages API wire types.
//!
//! The request side borrows from the parsed OpenAI request and serialises
//! only what is set. The response side is deliberately loose: every field is
//! optional and every enum has an `Unknown` arm, because Anthropic adds block
//! types, delta types, stop reasons and usage fields regularly and a gateway
//! must not break on them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::openai::request::opt_str;
use crate::usage::Count;

// ---- request ----

#[derive(Debug, Serialize)]
pub struct MessagesRequest<'r> {
    pub model: &'r str,
    pub max_tokens: u32,
    pub messages: Vec<Message<'r>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<TextBlock<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata<'r>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingConfig<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig<'r>>,
}

/// `thinking`: derived from `reasoning_effort`, or the client's own object.
#[derive(Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ThinkingConfig<'r> {
    /// `{"type":"enabled","budget_tokens":N}`.
    Budget {
        #[serde(rename = "type")]
        kind: &'static str,
        budget_tokens: u32,
    },
    /// The client's `thinking` extension, unchanged.
    Given(&'r Value),
    /// `{"type":"adaptive"}` or `{"type":"disabled"}`.
    Kind {
        #[serde(rename = "type")]
        kind: &'static str,
    },
}

/// `output_config` (structured outputs, GA: no beta header).
#[derive(Debug, Serialize)]
pub struct OutputConfig<'r> {
    pub format: OutputFormat<'r>,
}

/// `{"type":"json_schema","schema":{...}}`.
#[derive(Debug, Serialize)]
pub struct OutputFormat<'r> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub schema: &'r RawValue,
}

/// A prompt-cache breakpoint: `{"type":"ephemeral"}`, optionally with a ttl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheControl {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Serialize)]
pub struct Message<'r> {
    pub role: Role,
    pub content: Vec<Block<'r>>,
}

#[derive(Debug, Serialize)]
pub struct TextBlock<'r> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl<'r> TextBlock<'r> {
    pub fn new(text: &'r str, cache_control: Option<CacheControl>) -> Self {
        TextBlock {
            kind: "text",
            text,
            cache_control,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block<'r> {
    Text {
        text: &'r str,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Image {
        source: ImageSource<'r>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// A PDF, inline.
    Document {
        source: ImageSource<'r>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    ToolUse {
        id: &'r str,
        name: &'r str,
        input: &'r RawValue,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    ToolResult {
        tool_use_id: &'r str,
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<ToolResultContent<'r>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// Signed reasoning of an earlier turn, sent back byte for byte.
    Thinking {
        thinking: &'r str,
        signature: &'r str,
    },
    RedactedThinking {
        data: &'r str,
    },
}

impl<'r> Block<'r> {
    pub fn text(text: &'r str) -> Self {
        Block::Text {
            text,
            cache_control: None,
        }
    }

    /// The block's breakpoint slot; thinking blocks cannot carry one.
    pub fn cache_control_mut(&mut self) -> Option<&mut Option<CacheControl>> {
        match self {
            Block::Text { cache_control, .. }
            | Block::Image { cache_control, .. }
            | Block::Document { cache_control, .. }
            | Block::ToolUse { cache_control, .. }
            | Block::ToolResult { cache_control, .. } => Some(cache_control),
            Block::Thinking { .. } | Block::RedactedThinking { .. } => None,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource<'r> {
    Base64 { media_type: &'r str, data: &'r str },
    Url { url: &'r str },
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ToolResultContent<'r> {
    Text(&'r str),
    Blocks(Vec<Block<'r>>),
}

#[derive(Debug, Serialize)]
pub struct Metadata<'r> {
    pub user_id: &'r str,
}

/// A tool definition: a custom tool built from a function, or a server
/// tool (web search, code execution…) as the client declared it.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Tool<'r> {
    Custom(CustomTool<'r>),
    Server(&'r RawValue),
}

#[derive(Debug, Serialize)]
pub struct CustomTool<'r> {
    pub name: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'r str>,
    pub input_schema: &'r RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct ToolChoice<'r> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
}

// ---- response ----

/// A whole `message` response.
#[derive(Debug, Deserialize)]
pub struct MessageResponse<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Required: a 2xx body without it is not a message.
    #[serde(borrow)]
    pub content: Vec<ResponseBlock<'a>>,
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// Set when a 2xx body is nonetheless an error envelope.
    #[serde(borrow, default)]
    pub error: Option<WireError<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockType {
    Text,
    ToolUse,
    Thinking,
    RedactedThinking,
    #[serde(other)]
    Unknown,
}

/// A content block, in a response or a `content_block_start` event.
#[derive(Debug, Deserialize)]
pub struct ResponseBlock<'a> {
    #[serde(rename = "type")]
    pub kind: BlockType,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub input: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub signature: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub data: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
    PauseTurn,
    Refusal,
    ModelContextWindowExceeded,
    #[serde(other)]
    Unknown,
}

/// Token counts; the cache fields are absent or `null` when unused.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<Count>,
    #[serde(default)]
    pub output_tokens: Option<Count>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<Count>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<Count>,
}

/// `{"type":"error","error":{...}}`, as a body or a stream event.
#[derive(Debug, Deserialize)]
pub struct ErrorBody<'a> {
    #[serde(borrow, default)]
    pub error: Option<WireError<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct WireError<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub message: Option<Cow<'a, str>>,
}

// ---- stream events ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    MessageStart,
    ContentBlockStart,
    ContentBlockDelta,
    ContentBlockStop,
    MessageDelta,
    MessageStop,
    Ping,
    Error,
    #[serde(other)]
    Unknown,
}

/// Just the `type`, to tell an unknown event from a malformed known one.
#[derive(Debug, Deserialize)]
pub struct EventKind {
    #[serde(rename = "type")]
    pub kind: EventType,
}

/// Every stream event in one flat shape; which fields are set depends on
/// `kind`. Flat (rather than a tagged enum) so nothing is buffered twice.
#[derive(Debug, Deserialize)]
pub struct StreamEvent<'a> {
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(borrow, default)]
    pub message: Option<StartMessage<'a>>,
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(borrow, default)]
    pub content_block: Option<ResponseBlock<'a>>,
    #[serde(borrow, default)]
    pub delta: Option<EventDelta<'a>>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(borrow, default)]
    pub error: Option<WireError<'a>>,
}

/// The `message` of `message_start` (its content is always empty).
#[derive(Debug, Deserialize)]
pub struct StartMessage<'a> {
    #[serde(borrow, default)]
    pub id: Cow<'a, str>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeltaType {
    TextDelta,
    InputJsonDelta,
    ThinkingDelta,
    SignatureDelta,
    #[serde(other)]
    Unknown,
}

/// `delta` of `content_block_delta` (typed) or `message_delta` (untyped).
#[derive(Debug, Deserialize)]
pub struct EventDelta<'a> {
    #[serde(rename = "type", default)]
    pub kind: Option<DeltaType>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub signature: Option<Cow<'a, str>>,
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
}
