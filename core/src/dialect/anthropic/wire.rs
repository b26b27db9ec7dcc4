//! The Messages request as a client sends it, borrowed from its body.
//!
//! Strict where Anthropic's API is strict: unknown top-level, message,
//! block and custom-tool fields are refused (`deny_unknown_fields`), so a
//! field the gateway would otherwise drop on a translated path is a 400
//! naming it. Opaque sub-documents (schemas, tool inputs, `cache_control`,
//! server tool definitions) stay `&RawValue`. Server tools vary in shape
//! by type, so a tool is parsed in two steps (see `decode::tool`).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::openai::request::opt_str;
use crate::openai::{Str, TextOr};

/// `POST /v1/messages` body. Required fields are `Option` so that their
/// absence is the decoder's own 400 naming them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesIn<'a> {
    #[serde(borrow, default)]
    pub model: Option<Str<'a>>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(borrow, default)]
    pub messages: Option<Vec<MessageIn<'a>>>,
    #[serde(borrow, default)]
    pub system: Option<TextOr<'a, SystemBlockIn<'a>>>,
    #[serde(borrow, default)]
    pub metadata: Option<MetadataIn<'a>>,
    #[serde(borrow, default)]
    pub stop_sequences: Option<Vec<Str<'a>>>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub top_k: Option<u32>,
    #[serde(borrow, default)]
    pub tools: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub tool_choice: Option<ToolChoiceIn<'a>>,
    #[serde(default)]
    pub thinking: Option<ThinkingIn>,
    #[serde(default)]
    pub service_tier: Option<ServiceTier>,
    /// Anthropic-only parameters with no neutral equivalent. They reach
    /// Anthropic through the passthrough; on a translated path they land in
    /// the neutral request's `extra`, where providers refuse them by name.
    #[serde(borrow, default)]
    pub container: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub mcp_servers: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub context_management: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub output_config: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub output_format: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub inference_geo: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub cache_control: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub speed: Option<&'a RawValue>,
}

impl<'a> MessagesIn<'a> {
    /// The Anthropic-only parameters that are set, by name.
    pub fn anthropic_only(&self) -> [(&'static str, Option<&'a RawValue>); 8] {
        [
            ("container", self.container),
            ("mcp_servers", self.mcp_servers),
            ("context_management", self.context_management),
            ("output_config", self.output_config),
            ("output_format", self.output_format),
            ("inference_geo", self.inference_geo),
            ("cache_control", self.cache_control),
            ("speed", self.speed),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceTier {
    Auto,
    StandardOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    /// A system turn between the others (Claude Code sends them, with the
    /// `per-turn-control` beta).
    System,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageIn<'a> {
    pub role: Role,
    #[serde(borrow)]
    pub content: TextOr<'a, BlockIn<'a>>,
    /// A system turn's own output settings (`effort`): Anthropic's; not
    /// carried to other providers, which take one setting per request.
    #[allow(dead_code)]
    #[serde(borrow, default)]
    pub output_config: Option<&'a RawValue>,
}

/// A `system` text block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemBlockIn<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub cache_control: Option<&'a RawValue>,
    /// Accepted, unused off Anthropic.
    #[allow(dead_code)]
    #[serde(borrow, default)]
    pub citations: Option<&'a RawValue>,
}

/// Any content block, flat: which fields apply depends on `type`, which
/// the decoder checks (naming the missing or misplaced field).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockIn<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub cache_control: Option<&'a RawValue>,
    /// Citations of an earlier assistant text block: kept by Anthropic,
    /// meaningless elsewhere (dropped on translated paths).
    #[serde(borrow, default)]
    pub citations: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub source: Option<SourceIn<'a>>,
    /// Document title and context.
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub title: Option<Cow<'a, str>>,
    /// Accepted; dropped on translated paths (no neutral place).
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub context: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub input: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub content: Option<TextOr<'a, BlockIn<'a>>>,
    #[serde(default)]
    pub is_error: Option<bool>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub signature: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub data: Option<Cow<'a, str>>,
}

impl BlockIn<'_> {
    /// The names of the optional fields that are set, for refusing those
    /// that do not belong to the block's `type`.
    pub fn set_fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            ("text", self.text.is_some()),
            ("cache_control", self.cache_control.is_some()),
            ("citations", self.citations.is_some()),
            ("source", self.source.is_some()),
            ("title", self.title.is_some()),
            ("context", self.context.is_some()),
            ("id", self.id.is_some()),
            ("name", self.name.is_some()),
            ("input", self.input.is_some()),
            ("tool_use_id", self.tool_use_id.is_some()),
            ("content", self.content.is_some()),
            ("is_error", self.is_error.is_some()),
            ("thinking", self.thinking.is_some()),
            ("signature", self.signature.is_some()),
            ("data", self.data.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
    }
}

/// An image or document `source`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceIn<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub media_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub data: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub url: Option<Cow<'a, str>>,
    /// `file` and `content` sources: refused off Anthropic by `type`.
    #[allow(dead_code)]
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub file_id: Option<Cow<'a, str>>,
    #[allow(dead_code)]
    #[serde(borrow, default)]
    pub content: Option<&'a RawValue>,
}

/// Just enough of a tool to tell a custom tool from a server tool.
#[derive(Debug, Deserialize)]
pub struct ToolKindIn<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
}

/// A custom (client-run) tool.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomToolIn<'a> {
    /// `custom` or absent (told apart by `ToolKindIn`).
    #[allow(dead_code)]
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub input_schema: &'a RawValue,
    #[serde(borrow, default)]
    pub cache_control: Option<&'a RawValue>,
    #[serde(default)]
    pub strict: Option<bool>,
    /// Tool search: load the tool only when searched for. Other providers
    /// get every tool loaded, which answers the same.
    #[allow(dead_code)]
    #[serde(default)]
    pub defer_loading: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolChoiceKind {
    Auto,
    Any,
    Tool,
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolChoiceIn<'a> {
    #[serde(rename = "type")]
    pub kind: ToolChoiceKind,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(default)]
    pub disable_parallel_tool_use: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingKind {
    Enabled,
    Disabled,
    Adaptive,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThinkingIn {
    #[serde(rename = "type")]
    pub kind: ThinkingKind,
    #[serde(default)]
    pub budget_tokens: Option<u32>,
    /// `summarized` or `omitted`: how Anthropic shows thinking; other
    /// providers' reasoning is passed as they give it.
    #[allow(dead_code)]
    #[serde(default)]
    pub display: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataIn<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub user_id: Option<Cow<'a, str>>,
}
