//! Gemini `generateContent` wire types (REST, proto3 JSON in camelCase).
//!
//! The request side borrows from the parsed OpenAI request and serialises
//! only what is set: Gemini's JSON parser rejects unknown field names, so
//! nothing is sent that the `GenerateContentRequest` proto does not have.
//! The response side is loose (every field optional, enums with an
//! `Unknown` arm) because Google adds finish reasons, part kinds and usage
//! fields regularly; whether a body is a response at all is decided by the
//! caller from the fields that are present.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::openai::request::opt_str;
use crate::usage::Count;

// ---- request ----

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest<'r> {
    pub contents: Vec<Content<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<SystemInstruction<'r>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<ToolConfig<'r>>,
    #[serde(skip_serializing_if = "GenerationConfig::is_empty")]
    pub generation_config: GenerationConfig<'r>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Model,
}

#[derive(Debug, Serialize)]
pub struct Content<'r> {
    pub role: Role,
    pub parts: Vec<Part<'r>>,
}

/// `systemInstruction`: a `Content` without a role, text parts only.
#[derive(Debug, Serialize)]
pub struct SystemInstruction<'r> {
    pub parts: Vec<Part<'r>>,
}

/// One part; exactly one of the data fields is set.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Part<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline_data: Option<InlineData<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_data: Option<FileData<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_response: Option<FunctionResponse<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<&'r str>,
}

impl<'r> Part<'r> {
    pub fn text(text: &'r str) -> Self {
        Part {
            text: Some(text),
            ..Part::default()
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InlineData<'r> {
    pub mime_type: &'r str,
    pub data: &'r str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileData<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<&'static str>,
    pub file_uri: &'r str,
}

#[derive(Debug, Serialize)]
pub struct FunctionCall<'r> {
    pub name: &'r str,
    pub args: &'r RawValue,
}

#[derive(Debug, Serialize)]
pub struct FunctionResponse<'r> {
    pub name: &'r str,
    pub response: ToolOutput<'r>,
}

/// `functionResponse.response` must be a JSON object.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ToolOutput<'r> {
    /// The tool's content was a JSON object: sent as is.
    Object(&'r RawValue),
    /// The same, for content assembled from several text parts.
    Joined(Box<RawValue>),
    /// Anything else, wrapped as `{"result": <text>}`.
    Wrapped { result: Cow<'r, str> },
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool<'r> {
    pub function_declarations: Vec<FunctionDeclaration<'r>>,
}

#[derive(Debug, Serialize)]
pub struct FunctionDeclaration<'r> {
    pub name: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'r str>,
    /// The converted schema (see `schema.rs`); absent for functions
    /// without parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig<'r> {
    pub function_calling_config: FunctionCallingConfig<'r>,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCallingConfig<'r> {
    pub mode: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_function_names: Vec<&'r str>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig<'r> {
    /// OpenAI's `n`; absent for one candidate (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_count: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_json_schema: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<ThinkingConfig>,
}

impl GenerationConfig<'_> {
    pub fn is_empty(&self) -> bool {
        self.candidate_count.is_none()
            && self.stop_sequences.is_empty()
            && self.max_output_tokens.is_none()
            && self.temperature.is_none()
            && self.top_p.is_none()
            && self.top_k.is_none()
            && self.seed.is_none()
            && self.presence_penalty.is_none()
            && self.frequency_penalty.is_none()
            && self.response_mime_type.is_none()
            && self.response_json_schema.is_none()
            && self.thinking_config.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<&'static str>,
}

// ---- response ----

/// A whole response, or one chunk of a stream (same shape).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse<'a> {
    #[serde(borrow, default)]
    pub candidates: Option<Vec<Candidate<'a>>>,
    #[serde(borrow, default)]
    pub prompt_feedback: Option<PromptFeedback<'a>>,
    #[serde(default)]
    pub usage_metadata: Option<UsageMetadata>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub response_id: Option<Cow<'a, str>>,
    /// A google.rpc error object (in a stream, or behind a 2xx).
    #[serde(borrow, default)]
    pub error: Option<RpcError<'a>>,
}

impl GenerateContentResponse<'_> {
    /// The candidates (none when absent).
    pub fn candidates(&self) -> &[Candidate<'_>] {
        self.candidates.as_deref().unwrap_or(&[])
    }

    /// The block reason when the prompt was refused and nothing generated.
    pub fn blocked(&self) -> Option<&str> {
        if self.candidates.as_ref().is_some_and(|c| !c.is_empty()) {
            return None;
        }
        let reason = self.prompt_feedback.as_ref()?.block_reason.as_deref()?;
        Some(reason)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate<'a> {
    /// Which of the `candidateCount` candidates this is; proto3 JSON omits
    /// the default, so absent means 0.
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(borrow, default)]
    pub content: Option<ResponseContent<'a>>,
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
}

impl Candidate<'_> {
    pub fn parts(&self) -> &[ResponsePart<'_>] {
        self.content
            .as_ref()
            .and_then(|c| c.parts.as_deref())
            .unwrap_or(&[])
    }
}

#[derive(Debug, Deserialize)]
pub struct ResponseContent<'a> {
    #[serde(borrow, default)]
    pub parts: Option<Vec<ResponsePart<'a>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponsePart<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(default)]
    pub thought: Option<bool>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub thought_signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub function_call: Option<ResponseFunctionCall<'a>>,
}

/// A function call. With Vertex's `streamFunctionCallArguments` one call
/// spans several parts: the first has the `name` and `willContinue: true`,
/// the next ones only `partialArgs` (and `willContinue`), and the last one
/// neither (often an empty `functionCall: {}`), so `name` is optional.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseFunctionCall<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub args: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub partial_args: Option<Vec<PartialArg<'a>>>,
    #[serde(default)]
    pub will_continue: Option<bool>,
}

/// One streamed piece of a call's arguments: the value at `jsonPath`
/// (RFC 9535, e.g. `$.city` or `$.stops[1].name`). A string value with
/// `willContinue: true` continues in the next piece for the same path.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialArg<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub json_path: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub string_value: Option<Cow<'a, str>>,
    /// A double: proto3 JSON writes a number, or a string for NaN and the
    /// infinities (which JSON cannot hold: they become `null`).
    #[serde(borrow, default)]
    pub number_value: Option<&'a RawValue>,
    #[serde(default)]
    pub bool_value: Option<bool>,
    // `nullValue` is written as JSON `null` (proto3 `NullValue`), so it
    // cannot be told from an absent field: a piece with no other value is
    // a null.
    #[serde(default)]
    pub will_continue: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptFeedback<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub block_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FinishReason {
    Stop,
    MaxTokens,
    Safety,
    Recitation,
    Blocklist,
    ProhibitedContent,
    Spii,
    ImageSafety,
    ImageProhibitedContent,
    ImageRecitation,
    /// Vertex only: the response was blocked by Model Armor.
    ModelArmor,
    #[serde(other)]
    Unknown,
}

/// Token counts; absent fields are zero.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    #[serde(default)]
    pub prompt_token_count: Option<Count>,
    #[serde(default)]
    pub cached_content_token_count: Option<Count>,
    #[serde(default)]
    pub candidates_token_count: Option<Count>,
    #[serde(default)]
    pub thoughts_token_count: Option<Count>,
}

/// `{"error":{"code","message","status"}}`, the google.rpc.Status shape.
#[derive(Debug, Deserialize)]
pub struct RpcEnvelope<'a> {
    #[serde(borrow)]
    pub error: RpcError<'a>,
}

#[derive(Debug, Deserialize)]
pub struct RpcError<'a> {
    #[serde(default)]
    pub code: Option<u16>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub message: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub status: Option<Cow<'a, str>>,
}

// ---- embeddings ----

#[derive(Debug, Serialize)]
pub struct BatchEmbedRequest<'r> {
    pub requests: Vec<EmbedContentRequest<'r>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedContentRequest<'r> {
    /// `models/<model>`, repeated per request as the API requires.
    pub model: &'r str,
    pub content: EmbedContent<'r>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimensionality: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct EmbedContent<'r> {
    pub parts: Vec<Part<'r>>,
}

/// `batchEmbedContents` response: one embedding per request, in order.
#[derive(Debug, Deserialize)]
pub struct BatchEmbedResponse {
    pub embeddings: Vec<Embedding>,
}

#[derive(Debug, Deserialize)]
pub struct Embedding {
    pub values: Vec<f32>,
}
