//! The chat completion response and stream chunk, as translators emit them.
//!
//! These borrow everything they print so a stream chunk costs one
//! serialisation and no intermediate allocation. Field presence follows what
//! OpenAI itself sends, because some clients index fields without checking:
//! `finish_reason` and `logprobs` are always present (as `null` until known),
//! and a chunk's `usage` is absent unless the client asked for usage, then
//! `null` on every chunk but the final usage-only one.

use std::borrow::Cow;

use serde::Serialize;

use crate::usage::Usage;

pub const COMPLETION_OBJECT: &str = "chat.completion";
pub const CHUNK_OBJECT: &str = "chat.completion.chunk";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    FunctionCall,
}

/// A whole (non-streamed) completion.
#[derive(Debug, Serialize)]
pub struct ChatCompletion<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: u64,
    pub model: &'a str,
    pub choices: Vec<Choice<'a>>,
    pub usage: CompletionUsage,
}

#[derive(Debug, Serialize)]
pub struct Choice<'a> {
    pub index: u32,
    pub message: ResponseMessage<'a>,
    pub finish_reason: FinishReason,
    /// Always `null`: no provider translation reports log probabilities.
    pub logprobs: Option<()>,
}

#[derive(Debug, Serialize)]
pub struct ResponseMessage<'a> {
    pub role: &'static str,
    /// `null` when the reply is only tool calls.
    pub content: Option<Cow<'a, str>>,
    /// Reasoning text, DeepSeek's extension field (never mixed into content).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<&'a str>,
    /// Signed or redacted reasoning the provider needs back next turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_blocks: Option<Vec<ThinkingBlock<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ResponseToolCall<'a>>>,
}

/// `{"type":"thinking","thinking","signature"}` or
/// `{"type":"redacted_thinking","data"}`; clients send them back unchanged
/// on the assistant message.
#[derive(Debug, Default, Serialize)]
pub struct ThinkingBlock<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct ResponseToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: ResponseFunction<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_content: Option<ExtraContent<'a>>,
}

/// Google's convention for per-call state on OpenAI tool calls:
/// `extra_content.google.thought_signature`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ExtraContent<'a> {
    pub google: GoogleExtra<'a>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct GoogleExtra<'a> {
    pub thought_signature: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ResponseFunction<'a> {
    pub name: &'a str,
    /// JSON text of the arguments.
    pub arguments: Cow<'a, str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompletionUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub prompt_tokens_details: PromptTokensDetails,
    pub completion_tokens_details: CompletionTokensDetails,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PromptTokensDetails {
    pub cached_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompletionTokensDetails {
    pub reasoning_tokens: u64,
}

impl CompletionUsage {
    /// The OpenAI usage object for the gateway's token counts.
    pub fn from_usage(u: &Usage) -> Self {
        CompletionUsage {
            prompt_tokens: u.input,
            completion_tokens: u.output,
            total_tokens: u.total(),
            prompt_tokens_details: PromptTokensDetails {
                cached_tokens: u.cache_read,
            },
            completion_tokens_details: CompletionTokensDetails {
                reasoning_tokens: u.reasoning,
            },
        }
    }
}

/// One `chat.completion.chunk` event.
#[derive(Debug, Serialize)]
pub struct ChatCompletionChunk<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: u64,
    pub model: &'a str,
    pub choices: &'a [ChunkChoice<'a>],
    /// Absent (`None`), `null` (`Some(None)`) or the totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<CompletionUsage>>,
}

#[derive(Debug, Default, Serialize)]
pub struct ChunkChoice<'a> {
    pub index: u32,
    pub delta: Delta<'a>,
    pub logprobs: Option<()>,
    pub finish_reason: Option<FinishReason>,
}

#[derive(Debug, Default, Serialize)]
pub struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_blocks: Option<&'a [ThinkingBlock<'a>]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<&'a [ToolCallDelta<'a>]>,
}

#[derive(Debug, Default, Serialize)]
pub struct ToolCallDelta<'a> {
    /// Position of the call among this reply's tool calls.
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub function: FunctionDelta<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_content: Option<ExtraContent<'a>>,
}

#[derive(Debug, Default, Serialize)]
pub struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<&'a str>,
}
