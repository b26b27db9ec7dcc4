//! The chat completion request, borrowed from the client's body.
//!
//! Strings are `Cow`s that borrow unless the JSON string had escapes; opaque
//! sub-documents (JSON schemas, `logit_bias`...) stay `&RawValue`. Every
//! documented parameter has a field so that anything else lands in `extra`,
//! where a provider that cannot pass it on can reject it by name.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// `POST /v1/chat/completions` body.
#[derive(Debug, Default, Deserialize)]
pub struct ChatRequest<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub messages: Option<Vec<ChatMessage<'a>>>,
    #[serde(borrow, default)]
    pub tools: Option<Vec<Tool<'a>>>,
    #[serde(borrow, default)]
    pub tool_choice: Option<ToolChoice<'a>>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(borrow, default)]
    pub stop: Option<Stop<'a>>,
    #[serde(default)]
    pub n: Option<u32>,
    #[serde(borrow, default)]
    pub response_format: Option<ResponseFormat<'a>>,
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    #[serde(borrow, default)]
    pub logit_bias: Option<&'a RawValue>,
    #[serde(default)]
    pub logprobs: Option<bool>,
    #[serde(default)]
    pub top_logprobs: Option<u32>,
    #[serde(default)]
    pub seed: Option<i64>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub user: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub safety_identifier: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub prompt_cache_key: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub metadata: Option<&'a RawValue>,
    #[serde(default)]
    pub store: Option<bool>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub service_tier: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub reasoning_effort: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub verbosity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub modalities: Option<Vec<Str<'a>>>,
    #[serde(borrow, default)]
    pub audio: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub prediction: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub web_search_options: Option<&'a RawValue>,
    /// Deprecated predecessor of `tools`.
    #[serde(borrow, default)]
    pub functions: Option<&'a RawValue>,
    /// Deprecated predecessor of `tool_choice`.
    #[serde(borrow, default)]
    pub function_call: Option<&'a RawValue>,
    /// Parameters this schema does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// What only other client dialects can say (see [`Ext`]).
    #[serde(skip)]
    pub ext: Ext<'a>,
}

/// The neutral request's fields beyond OpenAI chat, set by the other
/// dialects' decoders (an OpenAI chat body never sets them, so providers
/// that ignore a field behave for chat clients as before). A provider that
/// cannot honour a set field refuses it by name, like `extra`.
#[derive(Debug, Default)]
pub struct Ext<'a> {
    /// Sample from the `top_k` likeliest tokens (Anthropic's `top_k`).
    pub top_k: Option<u32>,
    /// Extended thinking as the client asked for it (Anthropic `thinking`).
    pub thinking: Option<ThinkingRequest>,
    /// Tools the provider runs itself (Anthropic server tools, the Responses
    /// built-in tools), kept raw for the provider that can run them.
    pub server_tools: Vec<ServerTool<'a>>,
    /// Responses `previous_response_id`: state only OpenAI keeps.
    pub previous_response_id: Option<Cow<'a, str>>,
    /// Responses `reasoning.summary` (`auto`, `concise`, `detailed`).
    pub reasoning_summary: Option<Cow<'a, str>>,
    /// The client wants reasoning state back to send on the next turn
    /// (Responses `include: ["reasoning.encrypted_content"]`).
    pub encrypted_reasoning: bool,
    /// Responses `store: true`: the client wants the provider to keep the
    /// response (chat's own `store` stays in `store`).
    pub store: bool,
    /// Indexes into `messages` of the `tool` messages whose result is an
    /// error (Anthropic `tool_result.is_error`).
    pub tool_errors: Vec<usize>,
}

/// Extended thinking as a client dialect asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkingRequest {
    /// `{"type":"enabled","budget_tokens":n}`.
    Enabled { budget_tokens: u32 },
    /// `{"type":"adaptive"}`: the model decides how much to think.
    Adaptive,
    /// `{"type":"disabled"}`.
    Disabled,
}

/// A provider-run tool, as the client declared it.
#[derive(Debug)]
pub struct ServerTool<'a> {
    /// Its `type` (`web_search_20250305`, `web_search`, `code_interpreter`…).
    pub kind: Cow<'a, str>,
    /// Its `name`, when the dialect gives one.
    pub name: Option<Cow<'a, str>>,
    /// The whole definition, as sent.
    pub raw: &'a RawValue,
}

impl ChatRequest<'_> {
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    /// `stream_options.include_usage` on a streaming request.
    pub fn include_usage(&self) -> bool {
        self.is_stream() && self.stream_options.as_ref().and_then(|o| o.include_usage) == Some(true)
    }

    /// `max_completion_tokens`, else the deprecated `max_tokens`, with the
    /// name of the parameter it came from.
    pub fn max_output_tokens(&self) -> Option<(&'static str, u32)> {
        match (self.max_completion_tokens, self.max_tokens) {
            (Some(n), _) => Some(("max_completion_tokens", n)),
            (None, Some(n)) => Some(("max_tokens", n)),
            (None, None) => None,
        }
    }

    /// The messages; empty only before [`super::parse_chat_request`] validated them.
    pub fn messages(&self) -> &[ChatMessage<'_>] {
        self.messages.as_deref().unwrap_or(&[])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    /// Deprecated: the result of a `function_call`.
    Function,
}

/// One conversation turn; which fields apply depends on `role`.
#[derive(Debug, Deserialize)]
pub struct ChatMessage<'a> {
    pub role: Role,
    #[serde(borrow, default)]
    pub content: Option<MessageContent<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tool_calls: Option<Vec<ToolCall<'a>>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub tool_call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub function_call: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub audio: Option<&'a RawValue>,
    /// Extension: reasoning text of an earlier assistant turn, as the
    /// gateway returned it.
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub reasoning_content: Option<Cow<'a, str>>,
    /// Extension: signed or redacted reasoning of an earlier assistant
    /// turn, sent back unchanged (see `dialect::openai_chat::encode`).
    #[serde(borrow, default)]
    pub thinking_blocks: Option<Vec<ThinkingBlockIn<'a>>>,
    /// Extension: prompt-cache breakpoint after this message
    /// (`{"type":"ephemeral"}`), for providers with explicit caching.
    #[serde(borrow, default)]
    pub cache_control: Option<&'a RawValue>,
}

/// A `thinking_blocks` entry the client sent back.
#[derive(Debug, Deserialize)]
pub struct ThinkingBlockIn<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub signature: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub data: Option<Cow<'a, str>>,
}

/// `content`: a plain string or an array of parts.
pub type MessageContent<'a> = TextOr<'a, ContentPart<'a>>;

/// `stop`: one sequence or several.
pub type Stop<'a> = TextOr<'a, Str<'a>>;

/// A JSON value that is either a string or an array of `T`.
#[derive(Debug, Clone, PartialEq)]
pub enum TextOr<'a, T> {
    Text(Cow<'a, str>),
    Items(Vec<T>),
}

/// A string that borrows from the body when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Str<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl Str<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartType {
    Text,
    ImageUrl,
    InputAudio,
    File,
    Refusal,
    #[serde(other)]
    Unknown,
}

/// One element of a `content` array; the field named by `type` is set.
#[derive(Debug, Deserialize)]
pub struct ContentPart<'a> {
    #[serde(rename = "type")]
    pub kind: PartType,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub image_url: Option<ImageUrl<'a>>,
    #[serde(borrow, default)]
    pub file: Option<FileIn<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub refusal: Option<Cow<'a, str>>,
    /// Extension: prompt-cache breakpoint after this part.
    #[serde(borrow, default)]
    pub cache_control: Option<&'a RawValue>,
}

/// A `file` part: a document inline (`file_data`, a `data:` URL) or by id.
#[derive(Debug, Deserialize)]
pub struct FileIn<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub file_data: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub file_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub filename: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct ImageUrl<'a> {
    /// An `http(s)` URL or a `data:` URL with the image inline.
    #[serde(borrow)]
    pub url: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub detail: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolType {
    #[default]
    Function,
    Custom,
    AllowedTools,
    #[serde(other)]
    Unknown,
}

/// A tool call made by the assistant in an earlier turn.
#[derive(Debug, Deserialize)]
pub struct ToolCall<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(rename = "type", default)]
    pub kind: ToolType,
    #[serde(borrow)]
    pub function: FunctionCall<'a>,
    /// Google's per-call extension: `{"google":{"thought_signature":...}}`.
    #[serde(borrow, default)]
    pub extra_content: Option<ExtraContentIn<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ExtraContentIn<'a> {
    #[serde(borrow, default)]
    pub google: Option<GoogleExtraIn<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct GoogleExtraIn<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub thought_signature: Option<Cow<'a, str>>,
}

impl ToolCall<'_> {
    /// The Gemini thought signature the gateway attached to this call.
    pub fn thought_signature(&self) -> Option<&str> {
        self.extra_content
            .as_ref()?
            .google
            .as_ref()?
            .thought_signature
            .as_deref()
    }
}

#[derive(Debug, Deserialize)]
pub struct FunctionCall<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// JSON text, as the model produced it.
    #[serde(borrow)]
    pub arguments: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct Tool<'a> {
    #[serde(rename = "type", default)]
    pub kind: ToolType,
    #[serde(borrow, default)]
    pub function: Option<FunctionDef<'a>>,
    /// Extension: prompt-cache breakpoint after the tool definitions.
    #[serde(borrow, default)]
    pub cache_control: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize)]
pub struct FunctionDef<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub description: Option<Cow<'a, str>>,
    /// JSON schema of the arguments.
    #[serde(borrow, default)]
    pub parameters: Option<&'a RawValue>,
    #[serde(default)]
    pub strict: Option<bool>,
}

/// `tool_choice`: a mode string or an object naming a tool.
#[derive(Debug, PartialEq)]
pub enum ToolChoice<'a> {
    None,
    Auto,
    Required,
    Named(NamedToolChoice<'a>),
}

#[derive(Debug, PartialEq, Deserialize)]
pub struct NamedToolChoice<'a> {
    #[serde(rename = "type")]
    pub kind: ToolType,
    #[serde(borrow, default)]
    pub function: Option<FunctionName<'a>>,
}

#[derive(Debug, PartialEq, Deserialize)]
pub struct FunctionName<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: Option<bool>,
    #[serde(default)]
    pub include_obfuscation: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormatType {
    Text,
    JsonObject,
    JsonSchema,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
pub struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    pub kind: ResponseFormatType,
    #[serde(borrow, default)]
    pub json_schema: Option<&'a RawValue>,
}

/// `Option<Cow<str>>` that borrows: serde's own `Cow` impl always copies.
pub(crate) fn opt_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(Option::<Str<'de>>::deserialize(d)?.map(|s| s.0))
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for TextOr<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrVisitor(PhantomData))
    }
}

struct TextOrVisitor<'a, T>(PhantomData<(&'a (), T)>);

impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for TextOrVisitor<'a, T> {
    type Value = TextOr<'a, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(TextOr::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(TextOr::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(TextOr::Text(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(TextOr::Items(items))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for ToolChoice<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ToolChoiceVisitor(PhantomData))
    }
}

struct ToolChoiceVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ToolChoiceVisitor<'a> {
    type Value = ToolChoice<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"none\", \"auto\", \"required\" or an object naming a tool")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v {
            "none" => Ok(ToolChoice::None),
            "auto" => Ok(ToolChoice::Auto),
            "required" => Ok(ToolChoice::Required),
            other => Err(E::unknown_variant(other, &["none", "auto", "required"])),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        NamedToolChoice::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(ToolChoice::Named)
    }
}
