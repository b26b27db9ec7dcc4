//! OpenAI `messages` → Converse `system` and `messages`.
//!
//! * `system` and `developer` turns → top-level `system` text blocks, in
//!   order: Converse has no system role inside `messages`.
//! * `user` → a `user` turn; text parts → `text` blocks, `data:` image URLs
//!   → `image` blocks (`png`, `jpeg`, `gif`, `webp`, base64 `bytes`).
//!   Converse cannot fetch images, so http(s) URLs are a 400 naming the
//!   part's URL. Empty text is dropped: Bedrock rejects blank text blocks.
//! * `assistant` → an `assistant` turn: `thinking_blocks` first, as
//!   `reasoningContent` (signed text, or redacted data), which Claude on
//!   Bedrock requires back when thinking and tools are combined; then the
//!   text; then each tool call as `toolUse` with its id and its arguments
//!   as the `input` object (empty arguments → `{}`).
//! * `tool` → a `toolResult` block (`toolUseId` = `tool_call_id`, the text
//!   as one `text` item) in a `user` turn: Converse carries results in user
//!   turns.
//! * A conversation of nothing but instructions is sent as one user turn
//!   with their text blocks: Converse refuses an empty `messages`.
//! * Consecutive turns of the same role are merged into one, since
//!   Converse requires user and assistant turns to alternate (several tool
//!   results after one assistant turn become one user turn).

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::request::unsupported;
use super::wire::{
    Block, Image, ImageSource, Message, Reasoning, SystemBlock, ToolResult, ToolUse,
};
use crate::error::ApiError;
use crate::openai::{ChatMessage, ContentPart, MessageContent, PartType, Role, TextOr, ToolType};

/// `system` blocks and alternating turns for `msgs`.
pub type Converted<'r> = (Vec<SystemBlock<'r>>, Vec<Message<'r>>);

pub fn convert<'r>(msgs: &'r [ChatMessage<'_>]) -> Result<Converted<'r>, ApiError> {
    let mut system = Vec::new();
    let mut turns: Vec<Message<'r>> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let (role, blocks) = match m.role {
            Role::System | Role::Developer => {
                let text = text_of(i, m.content.as_ref())?;
                if !text.is_empty() {
                    system.push(SystemBlock::Text(text));
                }
                continue;
            }
            Role::User => ("user", user_blocks(i, m.content.as_ref())?),
            Role::Assistant => ("assistant", assistant(i, m)?),
            Role::Tool => ("user", vec![tool(i, m)?]),
            Role::Function => {
                return Err(ApiError::invalid_param(
                    &format!("messages[{i}].role"),
                    "The deprecated `function` role is not supported by provider bedrock; use `tool` messages.",
                ))
            }
        };
        match turns.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => turns.push(Message {
                role,
                content: blocks,
            }),
        }
    }
    if turns.is_empty() && !system.is_empty() {
        return Ok((Vec::new(), vec![instructions_only(system)]));
    }
    Ok((system, turns))
}

/// A conversation of instructions only, as one user turn: Converse needs a
/// user turn to answer, and refuses an empty `messages`.
fn instructions_only(system: Vec<SystemBlock<'_>>) -> Message<'_> {
    let content = system
        .into_iter()
        .map(|SystemBlock::Text(t)| Block::Text(t))
        .collect();
    Message {
        role: "user",
        content,
    }
}

fn part_unsupported(i: usize, j: usize) -> ApiError {
    unsupported(&format!("messages[{i}].content[{j}].type"))
}

/// The text of a content that may only hold text (and refusal) parts.
fn text_of<'r>(
    i: usize,
    content: Option<&'r MessageContent<'_>>,
) -> Result<Cow<'r, str>, ApiError> {
    match content {
        None => Ok(Cow::Borrowed("")),
        Some(TextOr::Text(t)) => Ok(Cow::Borrowed(t.as_ref())),
        Some(TextOr::Items(parts)) => {
            // Parts are separate blocks: a line break keeps them apart
            // (joined bare, two system blocks would run into one sentence).
            let mut text = String::new();
            for (j, p) in parts.iter().enumerate() {
                let piece = match p.kind {
                    PartType::Text => p.text.as_deref().unwrap_or(""),
                    PartType::Refusal => p.refusal.as_deref().unwrap_or(""),
                    _ => return Err(part_unsupported(i, j)),
                };
                if !text.is_empty() && !piece.is_empty() {
                    text.push('\n');
                }
                text.push_str(piece);
            }
            Ok(Cow::Owned(text))
        }
    }
}

fn user_blocks<'r>(
    i: usize,
    content: Option<&'r MessageContent<'_>>,
) -> Result<Vec<Block<'r>>, ApiError> {
    let parts = match content {
        None => return Ok(Vec::new()),
        Some(TextOr::Text(t)) if t.is_empty() => return Ok(Vec::new()),
        Some(TextOr::Text(t)) => return Ok(vec![Block::Text(Cow::Borrowed(t.as_ref()))]),
        Some(TextOr::Items(parts)) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        match p.kind {
            PartType::Text => match p.text.as_deref() {
                Some(t) if !t.is_empty() => blocks.push(Block::Text(Cow::Borrowed(t))),
                _ => {}
            },
            PartType::ImageUrl => blocks.push(image(i, j, p)?),
            _ => return Err(part_unsupported(i, j)),
        }
    }
    Ok(blocks)
}

/// `data:image/<format>;base64,<bytes>` → an `image` block.
fn image<'r>(i: usize, j: usize, p: &'r ContentPart<'_>) -> Result<Block<'r>, ApiError> {
    let param = format!("messages[{i}].content[{j}].image_url.url");
    let bad = |why: &str| ApiError::invalid_param(&param, format!("`{param}`: {why}"));
    let url = p.image_url.as_ref().map(|u| u.url.as_ref()).unwrap_or("");
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(bad(
            "provider bedrock takes images only as base64 `data:` URLs.",
        ));
    };
    let Some((media, bytes)) = rest.split_once(";base64,") else {
        return Err(bad(
            "the `data:` URL must be base64 (`data:image/png;base64,...`).",
        ));
    };
    let format = match media.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => {
            return Err(bad(
                "provider bedrock takes png, jpeg, gif and webp images.",
            ))
        }
    };
    Ok(Block::Image(Image {
        format,
        source: ImageSource { bytes },
    }))
}

fn reasoning<'r>(m: &'r ChatMessage<'_>) -> Vec<Block<'r>> {
    let blocks = m.thinking_blocks.as_deref().unwrap_or(&[]);
    let signed = blocks.iter().filter(|b| b.kind == "thinking").count();
    let mut out = Vec::new();
    for b in blocks {
        let block = match (b.kind.as_ref(), b.signature.as_deref(), b.data.as_deref()) {
            ("thinking", Some(signature), _) => {
                let text = match b.thinking.as_deref() {
                    Some(t) if !t.is_empty() => t,
                    // A streamed reply carries the text in `reasoning_content`.
                    _ if signed == 1 => m.reasoning_content.as_deref().unwrap_or(""),
                    _ => "",
                };
                Reasoning::ReasoningText {
                    text,
                    signature: Some(signature),
                }
            }
            ("redacted_thinking", _, Some(data)) => Reasoning::RedactedContent(data),
            _ => continue,
        };
        out.push(Block::ReasoningContent(block));
    }
    out
}

fn assistant<'r>(i: usize, m: &'r ChatMessage<'_>) -> Result<Vec<Block<'r>>, ApiError> {
    if m.function_call.is_some() {
        return Err(unsupported(&format!("messages[{i}].function_call")));
    }
    let mut blocks = reasoning(m);
    let mut text = text_of(i, m.content.as_ref())?;
    if m.content.is_none() {
        if let Some(r) = m.refusal.as_deref() {
            text = Cow::Borrowed(r);
        }
    }
    if !text.is_empty() {
        blocks.push(Block::Text(text));
    }
    for (k, call) in m.tool_calls.iter().flatten().enumerate() {
        if call.kind != ToolType::Function {
            return Err(unsupported(&format!("messages[{i}].tool_calls[{k}].type")));
        }
        let args = call.function.arguments.as_ref();
        let args = if args.trim().is_empty() { "{}" } else { args };
        let input = serde_json::from_str::<&RawValue>(args)
            .ok()
            .filter(|raw| raw.get().starts_with('{'))
            .ok_or_else(|| {
                let p = format!("messages[{i}].tool_calls[{k}].function.arguments");
                ApiError::invalid_param(&p, format!("`{p}` must be a JSON object."))
            })?;
        blocks.push(Block::ToolUse(ToolUse {
            tool_use_id: &call.id,
            name: &call.function.name,
            input,
        }));
    }
    Ok(blocks)
}

fn tool<'r>(i: usize, m: &'r ChatMessage<'_>) -> Result<Block<'r>, ApiError> {
    let id = m.tool_call_id.as_deref().filter(|id| !id.is_empty());
    let Some(tool_use_id) = id else {
        let p = format!("messages[{i}].tool_call_id");
        return Err(ApiError::invalid_param(&p, format!("`{p}` is required.")));
    };
    Ok(Block::ToolResult(ToolResult {
        tool_use_id,
        content: vec![SystemBlock::Text(text_of(i, m.content.as_ref())?)],
    }))
}
