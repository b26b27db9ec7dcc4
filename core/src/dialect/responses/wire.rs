//! The Responses request as clients send it, borrowed from the body.
//!
//! The top level is strict (`deny_unknown_fields`): a misspelt parameter is
//! a 400 naming it, as OpenAI answers. Parameters that only OpenAI can
//! honour (`background`, `conversation`, `prompt`...) have a field so they
//! parse, and the decoder moves them to the neutral request's `extra`,
//! where every translating provider refuses them by name.
//!
//! Input items and tools are kept as `&RawValue` here and parsed one by
//! one in the decoder, so an error can name `input[3].content[0].text`
//! and an item type the gateway does not translate can be refused by its
//! index. Items and parts tolerate unknown fields (`id`, `status`,
//! `annotations`...), which OpenAI adds to output items that clients
//! send back verbatim.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::openai::request::opt_str;
use crate::openai::{Str, TextOr};

/// `POST /v1/responses` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Request<'a> {
    #[serde(borrow, deserialize_with = "opt_str")]
    pub model: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub input: Option<TextOr<'a, &'a RawValue>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub instructions: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub tools: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    pub tool_choice: Option<&'a RawValue>,
    pub parallel_tool_calls: Option<bool>,
    #[serde(borrow)]
    pub text: Option<TextConfig<'a>>,
    #[serde(borrow)]
    pub reasoning: Option<ReasoningConfig<'a>>,
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub stream: Option<bool>,
    pub stream_options: Option<StreamOptions>,
    #[serde(borrow)]
    pub metadata: Option<&'a RawValue>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub user: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub safety_identifier: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub prompt_cache_key: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub service_tier: Option<Cow<'a, str>>,
    pub store: Option<bool>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub previous_response_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub include: Option<Vec<Str<'a>>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub truncation: Option<Cow<'a, str>>,
    /// Codex's session and turn ids: nothing a provider acts on.
    #[serde(borrow)]
    pub client_metadata: Option<&'a RawValue>,
    // Only OpenAI keeps or runs these; they go to `extra`.
    #[serde(borrow)]
    pub top_logprobs: Option<&'a RawValue>,
    #[serde(borrow)]
    pub background: Option<&'a RawValue>,
    #[serde(borrow)]
    pub conversation: Option<&'a RawValue>,
    #[serde(borrow)]
    pub prompt: Option<&'a RawValue>,
    #[serde(borrow)]
    pub max_tool_calls: Option<&'a RawValue>,
    #[serde(borrow)]
    pub context_management: Option<&'a RawValue>,
    #[serde(borrow)]
    pub prompt_cache_retention: Option<&'a RawValue>,
}

/// `text`: the output format and verbosity.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextConfig<'a> {
    /// Kept raw: for `json_schema` the object itself (flat `name`,
    /// `schema`, `strict`) is what the neutral `json_schema` holds.
    #[serde(borrow)]
    pub format: Option<&'a RawValue>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub verbosity: Option<Cow<'a, str>>,
}

/// `text.format`, to read its type and check it.
#[derive(Debug, Deserialize)]
pub struct Format<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub schema: Option<&'a RawValue>,
}

/// `reasoning`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReasoningConfig<'a> {
    #[serde(borrow, deserialize_with = "opt_str")]
    pub effort: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub summary: Option<Cow<'a, str>>,
    /// Deprecated name of `summary`.
    #[serde(borrow, deserialize_with = "opt_str")]
    pub generate_summary: Option<Cow<'a, str>>,
}

/// `stream_options`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamOptions {
    pub include_obfuscation: Option<bool>,
}

/// One `input` item; which fields apply depends on `type` (absent for the
/// short message form `{"role","content"}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Item<'a> {
    #[serde(rename = "type", borrow, deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub content: Option<TextOr<'a, Part<'a>>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub call_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub arguments: Option<Cow<'a, str>>,
    /// `function_call_output`: a string or content parts.
    #[serde(borrow)]
    pub output: Option<TextOr<'a, Part<'a>>>,
    #[serde(borrow)]
    pub summary: Option<Vec<Summary<'a>>>,
    #[serde(borrow, deserialize_with = "opt_str")]
    pub encrypted_content: Option<Cow<'a, str>>,
}

/// A content part of a message or of a function call's output.
#[derive(Debug, Deserialize)]
pub struct Part<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub image_url: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub detail: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub file_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub file_data: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub file_url: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub filename: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub refusal: Option<Cow<'a, str>>,
}

/// A reasoning item's `summary` entry.
#[derive(Debug, Deserialize)]
pub struct Summary<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub text: Option<Cow<'a, str>>,
}

/// One `tools` entry: a function (flat, unlike chat) or a built-in tool.
#[derive(Debug, Deserialize)]
pub struct ToolDef<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub parameters: Option<&'a RawValue>,
    #[serde(default)]
    pub strict: Option<bool>,
    /// A `namespace`'s function tools.
    #[serde(borrow, default)]
    pub tools: Option<Vec<&'a RawValue>>,
}

/// `tool_choice` in object form.
#[derive(Debug, Deserialize)]
pub struct ToolChoiceObj<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
}
