//! A Messages request → the neutral request.
//!
//! Errors name the field as Anthropic does (see `paths.rs`).
//!
//! # Mapping
//! * `system` (a string or text blocks, each keeping its `cache_control`) →
//!   one leading `system` message.
//! * A user turn's `tool_result` blocks → `tool` messages (content a string
//!   or text/image blocks; `is_error` recorded in `ext.tool_errors`), first,
//!   then the rest of the turn as one user message.
//! * `image` → an `image_url` part: a base64 source as a `data:` URL, a
//!   `url` source as is. `document`: a base64 PDF → a `file` part
//!   (`file_data` a `data:` URL, `title` as `filename`); a plain-text
//!   source → a text part. Other sources (url, file, content) are refused
//!   off Anthropic, naming the field.
//! * Assistant `thinking` / `redacted_thinking` → `thinking_blocks`, text
//!   and signatures as sent (byte-identical); `tool_use` → `tool_calls`
//!   with the input's JSON text as the arguments. Text and tool calls are
//!   kept apart in the neutral message, so text after a `tool_use` moves
//!   before it.
//! * `cache_control` stays on its text/image/document part, on a
//!   `tool_result` (its message), on a custom tool, and on a `tool_use`
//!   when it is the last block of its turn (the message's breakpoint). On
//!   a `tool_use` elsewhere it has no neutral place and is dropped: it
//!   only moves a cache breakpoint and never changes the answer.
//! * Custom tools → function tools (`input_schema` as parameters); any
//!   tool whose `type` is not `custom` (web search, code execution, bash,
//!   text editor, computer…) → `ext.server_tools`, as sent.
//! * `tool_choice` auto/any/tool/none → auto/required/named/none;
//!   `disable_parallel_tool_use: true` → `parallel_tool_calls: false`.
//! * `metadata.user_id` → `user`; `stop_sequences` → `stop`; `top_k` and
//!   `thinking` → `ext`; `service_tier` `auto` → `auto`,
//!   `standard_only` → `default`.
//! * Anthropic-only parameters (`container`, `mcp_servers`,
//!   `context_management`, `output_config`, …) go to `extra`, where every
//!   translating provider refuses them by name.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::paths::{deserialize_error, dotted, invalid, join, required, untranslatable};
use super::wire::{
    BlockIn, CustomToolIn, MessageIn, MessagesIn, Role, ServiceTier, SourceIn, SystemBlockIn,
    ThinkingIn, ThinkingKind, ToolChoiceIn, ToolChoiceKind, ToolKindIn,
};
use crate::error::ApiError;
use crate::openai::{
    ChatMessage, ChatRequest, ContentPart, Ext, FileIn, FunctionCall, FunctionDef, FunctionName,
    ImageUrl, NamedToolChoice, PartType, Role as ChatRole, ServerTool, TextOr, ThinkingBlockIn,
    ThinkingRequest, Tool, ToolCall, ToolChoice, ToolType,
};

/// The Messages body as the neutral request.
pub fn decode(body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    let wire: MessagesIn<'_> = serde_json::from_slice(body).map_err(|_| diagnose(body))?;
    convert(wire)
}

/// A `count_tokens` body: a Messages request without `max_tokens` (which
/// Anthropic's counter refuses), as the neutral request.
pub fn decode_count(body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    let mut wire: MessagesIn<'_> = serde_json::from_slice(body).map_err(|_| diagnose(body))?;
    if wire.max_tokens.is_some() {
        return Err(invalid("max_tokens", "Extra inputs are not permitted"));
    }
    wire.max_tokens = Some(1);
    let mut req = convert(wire)?;
    req.max_tokens = None;
    Ok(req)
}

/// Error path only: parse again, tracking where it failed.
fn diagnose(body: &[u8]) -> ApiError {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, MessagesIn<'_>>(&mut de) {
        Err(e) => deserialize_error(&dotted(e.path()), e.inner()),
        Ok(_) => ApiError::invalid_request("The request body is not valid JSON."),
    }
}

fn convert(w: MessagesIn<'_>) -> Result<ChatRequest<'_>, ApiError> {
    let mut req = empty_request()?;
    for (name, value) in w.anthropic_only() {
        if let Some(raw) = value {
            let v = serde_json::from_str(raw.get()).map_err(|_| invalid(name, "Invalid JSON"))?;
            anthropic_only(name, v, &mut req)?;
        }
    }
    req.model = Some(w.model.ok_or_else(|| required("model"))?.0);
    req.max_tokens = Some(w.max_tokens.ok_or_else(|| required("max_tokens"))?);
    let turns = w.messages.ok_or_else(|| required("messages"))?;
    if turns.is_empty() {
        return Err(invalid("messages", "at least one message is required"));
    }
    let mut messages = Vec::with_capacity(turns.len() + 1);
    if let Some(system) = w.system {
        messages.push(system_message(system)?);
    }
    for (i, m) in turns.into_iter().enumerate() {
        turn(i, m, &mut messages, &mut req.ext)?;
    }
    req.messages = Some(messages);
    tools(w.tools.unwrap_or_default(), &mut req)?;
    if let Some(choice) = w.tool_choice {
        tool_choice(choice, &mut req)?;
    }
    req.ext.thinking = w.thinking.map(thinking).transpose()?;
    req.ext.top_k = w.top_k;
    req.user = w.metadata.and_then(|m| m.user_id);
    req.stop = w.stop_sequences.map(TextOr::Items);
    req.stream = w.stream;
    req.temperature = w.temperature;
    req.top_p = w.top_p;
    req.service_tier = w.service_tier.map(|t| {
        Cow::Borrowed(match t {
            ServiceTier::Auto => "auto",
            ServiceTier::StandardOnly => "default",
        })
    });
    Ok(req)
}

/// An Anthropic-only parameter: into `extra`, where a translating
/// provider refuses it by name, except what has a neutral meaning:
/// * `context_management` edits the context on Anthropic's side (clearing
///   old thinking or tool results) to save tokens; another provider gets
///   the whole conversation instead, which answers the same.
/// * `output_config.effort` is the reasoning effort (`max` is the highest,
///   `xhigh`); any other `output_config` key stays Anthropic-only.
fn anthropic_only(
    name: &str,
    v: serde_json::Value,
    req: &mut ChatRequest<'_>,
) -> Result<(), ApiError> {
    if name == "context_management" {
        return Ok(());
    }
    if name == "output_config" {
        let effort = v.get("effort").and_then(serde_json::Value::as_str);
        let only_effort = v
            .as_object()
            .is_some_and(|o| o.keys().all(|k| k == "effort"));
        if let (Some(effort), true) = (effort, only_effort) {
            let mapped = match effort {
                "low" | "medium" | "high" => effort.to_string(),
                "max" => "xhigh".to_string(),
                other => {
                    let msg =
                        format!("Input should be 'low', 'medium', 'high' or 'max', not '{other}'");
                    return Err(invalid("output_config.effort", &msg));
                }
            };
            req.reasoning_effort = Some(Cow::Owned(mapped));
            return Ok(());
        }
    }
    req.extra.insert(name.to_string(), v);
    Ok(())
}

/// A neutral request with nothing set.
fn empty_request() -> Result<ChatRequest<'static>, ApiError> {
    serde_json::from_str("{}").map_err(|_| ApiError::internal("cannot build a request"))
}

pub(super) fn message<'a>(role: ChatRole) -> ChatMessage<'a> {
    ChatMessage {
        role,
        content: None,
        name: None,
        tool_calls: None,
        tool_call_id: None,
        refusal: None,
        function_call: None,
        audio: None,
        reasoning_content: None,
        thinking_blocks: None,
        cache_control: None,
    }
}

fn part<'a>(kind: PartType, cache_control: Option<&'a RawValue>) -> ContentPart<'a> {
    ContentPart {
        kind,
        text: None,
        image_url: None,
        file: None,
        refusal: None,
        cache_control,
    }
}

fn text_part<'a>(text: Cow<'a, str>, cache_control: Option<&'a RawValue>) -> ContentPart<'a> {
    ContentPart {
        text: Some(text),
        ..part(PartType::Text, cache_control)
    }
}

fn system_message<'a>(system: TextOr<'a, SystemBlockIn<'a>>) -> Result<ChatMessage<'a>, ApiError> {
    let content = match system {
        TextOr::Text(t) => TextOr::Text(t),
        TextOr::Items(blocks) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (j, b) in blocks.into_iter().enumerate() {
                if b.kind != "text" {
                    return Err(invalid(
                        &format!("system.{j}.type"),
                        "Input should be 'text'",
                    ));
                }
                let text = b
                    .text
                    .ok_or_else(|| required(&format!("system.{j}.text")))?;
                parts.push(text_part(text, b.cache_control));
            }
            TextOr::Items(parts)
        }
    };
    Ok(ChatMessage {
        content: Some(content),
        ..message(ChatRole::System)
    })
}

fn turn<'a>(
    i: usize,
    m: MessageIn<'a>,
    out: &mut Vec<ChatMessage<'a>>,
    ext: &mut Ext<'a>,
) -> Result<(), ApiError> {
    match (m.role, m.content) {
        (Role::User, TextOr::Text(t)) => out.push(ChatMessage {
            content: Some(TextOr::Text(t)),
            ..message(ChatRole::User)
        }),
        (Role::Assistant, TextOr::Text(t)) => out.push(ChatMessage {
            content: Some(TextOr::Text(t)),
            ..message(ChatRole::Assistant)
        }),
        (Role::User, TextOr::Items(blocks)) => user_turn(i, blocks, out, ext)?,
        (Role::Assistant, TextOr::Items(blocks)) => out.push(assistant_turn(i, blocks)?),
        (Role::System, content) => out.push(system_turn(i, content)?),
    }
    Ok(())
}

/// A system turn among the others: text only.
fn system_turn<'a>(
    i: usize,
    content: TextOr<'a, BlockIn<'a>>,
) -> Result<ChatMessage<'a>, ApiError> {
    let content = match content {
        TextOr::Text(t) => TextOr::Text(t),
        TextOr::Items(blocks) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (j, b) in blocks.into_iter().enumerate() {
                let at = format!("messages.{i}.content.{j}");
                if b.kind != "text" {
                    let msg = format!("a system message holds text blocks, not `{}`", b.kind);
                    return Err(invalid(&format!("{at}.type"), &msg));
                }
                parts.push(user_part(&at, b)?);
            }
            TextOr::Items(parts)
        }
    };
    Ok(ChatMessage {
        content: Some(content),
        ..message(ChatRole::System)
    })
}

fn user_turn<'a>(
    i: usize,
    blocks: Vec<BlockIn<'a>>,
    out: &mut Vec<ChatMessage<'a>>,
    ext: &mut Ext<'a>,
) -> Result<(), ApiError> {
    let mut parts = Vec::with_capacity(blocks.len());
    for (j, b) in blocks.into_iter().enumerate() {
        let at = format!("messages.{i}.content.{j}");
        if b.kind == "tool_result" {
            check_fields(&at, &b)?;
            if b.is_error == Some(true) {
                ext.tool_errors.push(out.len());
            }
            out.push(tool_result(&at, b)?);
        } else {
            parts.push(user_part(&at, b)?);
        }
    }
    if !parts.is_empty() {
        out.push(ChatMessage {
            content: Some(TextOr::Items(parts)),
            ..message(ChatRole::User)
        });
    }
    Ok(())
}

fn tool_result<'a>(at: &str, b: BlockIn<'a>) -> Result<ChatMessage<'a>, ApiError> {
    let id = b
        .tool_use_id
        .ok_or_else(|| required(&format!("{at}.tool_use_id")))?;
    let content = match b.content {
        None => None,
        Some(TextOr::Text(t)) => Some(TextOr::Text(t)),
        Some(TextOr::Items(inner)) => {
            let mut parts = Vec::with_capacity(inner.len());
            for (k, ib) in inner.into_iter().enumerate() {
                parts.push(user_part(&format!("{at}.content.{k}"), ib)?);
            }
            Some(TextOr::Items(parts))
        }
    };
    Ok(ChatMessage {
        content,
        tool_call_id: Some(id),
        cache_control: b.cache_control,
        ..message(ChatRole::Tool)
    })
}

/// The fields each block type may carry (beyond `type`).
fn allowed(kind: &str) -> &'static [&'static str] {
    match kind {
        "text" => &["text", "cache_control", "citations"],
        "image" => &["source", "cache_control"],
        "document" => &["source", "title", "context", "citations", "cache_control"],
        "tool_use" => &["id", "name", "input", "cache_control"],
        "tool_result" => &["tool_use_id", "content", "is_error", "cache_control"],
        "thinking" => &["thinking", "signature"],
        "redacted_thinking" => &["data"],
        _ => &[],
    }
}

/// A field that does not belong to the block's type is refused, as
/// Anthropic does, rather than dropped.
fn check_fields(at: &str, b: &BlockIn<'_>) -> Result<(), ApiError> {
    let ok = allowed(&b.kind);
    if ok.is_empty() {
        return Ok(()); // an unknown type is refused by its `type`
    }
    match b.set_fields().find(|f| !ok.contains(f)) {
        Some(f) => Err(invalid(
            &format!("{at}.{f}"),
            "Extra inputs are not permitted",
        )),
        None => Ok(()),
    }
}

/// A user block (or a `tool_result`'s inner block) as a content part.
fn user_part<'a>(at: &str, b: BlockIn<'a>) -> Result<ContentPart<'a>, ApiError> {
    check_fields(at, &b)?;
    match b.kind.as_ref() {
        "text" => {
            let text = b.text.ok_or_else(|| required(&format!("{at}.text")))?;
            Ok(text_part(text, b.cache_control))
        }
        "image" => {
            let src = b.source.ok_or_else(|| required(&format!("{at}.source")))?;
            let url = image_url(&format!("{at}.source"), src)?;
            Ok(ContentPart {
                image_url: Some(ImageUrl { url, detail: None }),
                ..part(PartType::ImageUrl, b.cache_control)
            })
        }
        "document" => {
            let src = b.source.ok_or_else(|| required(&format!("{at}.source")))?;
            document(&format!("{at}.source"), src, b.title, b.cache_control)
        }
        "tool_use" | "thinking" | "redacted_thinking" => Err(invalid(
            &format!("{at}.type"),
            format!("`{}` blocks are only allowed in assistant messages", b.kind),
        )),
        other => Err(untranslatable(&format!("{at}.type"), other)),
    }
}

fn source_field<'a>(
    at: &str,
    field: &str,
    v: Option<Cow<'a, str>>,
) -> Result<Cow<'a, str>, ApiError> {
    v.ok_or_else(|| required(&format!("{at}.{field}")))
}

fn data_url(media_type: &str, data: &str) -> Cow<'static, str> {
    Cow::Owned(format!("data:{media_type};base64,{data}"))
}

fn image_url<'a>(at: &str, src: SourceIn<'a>) -> Result<Cow<'a, str>, ApiError> {
    match src.kind.as_ref() {
        "base64" => {
            let media = source_field(at, "media_type", src.media_type)?;
            let data = source_field(at, "data", src.data)?;
            Ok(data_url(&media, &data))
        }
        "url" => source_field(at, "url", src.url),
        other => Err(untranslatable(&format!("{at}.type"), other)),
    }
}

fn document<'a>(
    at: &str,
    src: SourceIn<'a>,
    title: Option<Cow<'a, str>>,
    cache_control: Option<&'a RawValue>,
) -> Result<ContentPart<'a>, ApiError> {
    match src.kind.as_ref() {
        "base64" => {
            let media = source_field(at, "media_type", src.media_type)?;
            let data = source_field(at, "data", src.data)?;
            let file = FileIn {
                file_data: Some(data_url(&media, &data)),
                file_id: None,
                filename: title,
            };
            Ok(ContentPart {
                file: Some(file),
                ..part(PartType::File, cache_control)
            })
        }
        "text" => Ok(text_part(
            source_field(at, "data", src.data)?,
            cache_control,
        )),
        other => Err(untranslatable(&format!("{at}.type"), other)),
    }
}

fn assistant_turn<'a>(i: usize, blocks: Vec<BlockIn<'a>>) -> Result<ChatMessage<'a>, ApiError> {
    let last = blocks.len().saturating_sub(1);
    let mut m = message(ChatRole::Assistant);
    let (mut parts, mut calls, mut thinking) = (Vec::new(), Vec::new(), Vec::new());
    for (j, b) in blocks.into_iter().enumerate() {
        let at = format!("messages.{i}.content.{j}");
        check_fields(&at, &b)?;
        let need =
            |v: Option<Cow<'a, str>>, f: &str| v.ok_or_else(|| required(&format!("{at}.{f}")));
        match b.kind.as_ref() {
            "text" => parts.push(text_part(need(b.text, "text")?, b.cache_control)),
            "thinking" => thinking.push(ThinkingBlockIn {
                kind: b.kind,
                thinking: Some(need(b.thinking, "thinking")?),
                signature: Some(need(b.signature, "signature")?),
                data: None,
            }),
            "redacted_thinking" => thinking.push(ThinkingBlockIn {
                kind: b.kind,
                thinking: None,
                signature: None,
                data: Some(need(b.data, "data")?),
            }),
            "tool_use" => {
                if j == last {
                    m.cache_control = b.cache_control;
                }
                calls.push(tool_call(
                    &at,
                    need(b.id, "id")?,
                    need(b.name, "name")?,
                    b.input,
                )?);
            }
            "image" | "document" | "tool_result" => {
                return Err(invalid(
                    &format!("{at}.type"),
                    format!("`{}` blocks are only allowed in user messages", b.kind),
                ))
            }
            other => return Err(untranslatable(&format!("{at}.type"), other)),
        }
    }
    m.content = (!parts.is_empty()).then_some(TextOr::Items(parts));
    m.tool_calls = (!calls.is_empty()).then_some(calls);
    m.thinking_blocks = (!thinking.is_empty()).then_some(thinking);
    Ok(m)
}

fn tool_call<'a>(
    at: &str,
    id: Cow<'a, str>,
    name: Cow<'a, str>,
    input: Option<&'a RawValue>,
) -> Result<ToolCall<'a>, ApiError> {
    let input = input.ok_or_else(|| required(&format!("{at}.input")))?;
    if !input.get().starts_with('{') {
        return Err(invalid(&format!("{at}.input"), "Input should be an object"));
    }
    Ok(ToolCall {
        id,
        kind: ToolType::Function,
        function: FunctionCall {
            name,
            arguments: Cow::Borrowed(input.get()),
        },
        extra_content: None,
    })
}

fn tools<'a>(raw: Vec<&'a RawValue>, req: &mut ChatRequest<'a>) -> Result<(), ApiError> {
    let mut custom = Vec::new();
    for (i, t) in raw.into_iter().enumerate() {
        let at = format!("tools.{i}");
        let probe: ToolKindIn<'a> =
            serde_json::from_str(t.get()).map_err(|e| deserialize_error(&at, &e))?;
        if probe.kind.as_deref().is_some_and(|k| k != "custom") {
            req.ext.server_tools.push(ServerTool {
                kind: probe.kind.unwrap_or_default(),
                name: probe.name,
                raw: t,
            });
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(t.get());
        let tool: CustomToolIn<'a> = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| deserialize_error(&join(&at, &dotted(e.path())), e.inner()))?;
        custom.push(Tool {
            kind: ToolType::Function,
            function: Some(FunctionDef {
                name: tool.name,
                description: tool.description,
                parameters: Some(tool.input_schema),
                strict: tool.strict,
            }),
            cache_control: tool.cache_control,
        });
    }
    req.tools = (!custom.is_empty()).then_some(custom);
    Ok(())
}

fn tool_choice<'a>(c: ToolChoiceIn<'a>, req: &mut ChatRequest<'a>) -> Result<(), ApiError> {
    req.tool_choice = Some(match c.kind {
        ToolChoiceKind::Auto => ToolChoice::Auto,
        ToolChoiceKind::Any => ToolChoice::Required,
        ToolChoiceKind::None => ToolChoice::None,
        ToolChoiceKind::Tool => {
            let name = c.name.ok_or_else(|| required("tool_choice.name"))?;
            ToolChoice::Named(NamedToolChoice {
                kind: ToolType::Function,
                function: Some(FunctionName { name }),
            })
        }
    });
    if c.disable_parallel_tool_use == Some(true) {
        req.parallel_tool_calls = Some(false);
    }
    Ok(())
}

fn thinking(t: ThinkingIn) -> Result<ThinkingRequest, ApiError> {
    Ok(match t.kind {
        ThinkingKind::Enabled => ThinkingRequest::Enabled {
            budget_tokens: t
                .budget_tokens
                .ok_or_else(|| required("thinking.budget_tokens"))?,
        },
        ThinkingKind::Disabled => ThinkingRequest::Disabled,
        ThinkingKind::Adaptive => ThinkingRequest::Adaptive,
    })
}
