//! OpenAI `messages` → Cohere v2 `messages`.
//!
//! Cohere's roles match OpenAI's closely, so turns map one to one, in order:
//! * `system` and `developer` → `system` (Cohere takes system turns
//!   anywhere; their text parts are joined). A conversation of nothing but
//!   instructions is sent as one user turn instead: Cohere answers a user
//!   turn, not an instruction.
//! * `user` → `user`; a string stays a string, parts become `text` and
//!   `image_url` blocks (`data:` and http(s) URLs both, `detail` kept:
//!   Cohere's vision models take the same `auto`/`low`/`high`). Audio and
//!   file parts are a 400 naming the part.
//! * `assistant` → `assistant`; `tool_calls` keep their ids and JSON
//!   argument strings (an empty string is sent as `{}`). Cohere calls the
//!   text a model writes before its calls the `tool_plan`; replies return it
//!   as `reasoning_content`, so on a turn with calls `reasoning_content`
//!   goes back as the `tool_plan` (else the text does, as the plan is where
//!   Cohere expects it). Refusals count as text.
//! * `tool` → `tool` with its `tool_call_id` (required) and the result's
//!   text (text parts joined).
//! * The deprecated `function` role is a 400.

use std::borrow::Cow;

use super::request::unsupported;
use super::wire::{FunctionCall, ImageUrl, Message, ToolCall, UserBlock, UserContent};
use crate::error::ApiError;
use crate::openai::{ChatMessage, ContentPart, MessageContent, PartType, Role, TextOr, ToolType};

/// The Cohere turns for `msgs`.
pub fn convert<'r>(msgs: &'r [ChatMessage<'_>]) -> Result<Vec<Message<'r>>, ApiError> {
    let mut out = Vec::with_capacity(msgs.len());
    for (i, m) in msgs.iter().enumerate() {
        let turn = match m.role {
            Role::System | Role::Developer => Message::System {
                content: text_of(i, m.content.as_ref())?,
            },
            Role::User => Message::User {
                content: user_content(i, m.content.as_ref())?,
            },
            Role::Assistant => assistant(i, m)?,
            Role::Tool => tool(i, m)?,
            Role::Function => {
                return Err(ApiError::invalid_param(
                    &format!("messages[{i}].role"),
                    "The deprecated `function` role is not supported by provider cohere; use `tool` messages.",
                ))
            }
        };
        out.push(turn);
    }
    if out.iter().all(|t| matches!(t, Message::System { .. })) {
        return Ok(instructions_only(out));
    }
    Ok(out)
}

/// A conversation of system turns only, as one user turn.
fn instructions_only(turns: Vec<Message<'_>>) -> Vec<Message<'_>> {
    let mut text = String::new();
    for t in turns {
        if let Message::System { content } = t {
            if !text.is_empty() && !content.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&content);
        }
    }
    vec![Message::User {
        content: UserContent::Text(Cow::Owned(text)),
    }]
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

fn user_content<'r>(
    i: usize,
    content: Option<&'r MessageContent<'_>>,
) -> Result<UserContent<'r>, ApiError> {
    let parts = match content {
        None => return Ok(UserContent::Text(Cow::Borrowed(""))),
        Some(TextOr::Text(t)) => return Ok(UserContent::Text(Cow::Borrowed(t.as_ref()))),
        Some(TextOr::Items(parts)) => parts,
    };
    let blocks = parts
        .iter()
        .enumerate()
        .map(|(j, p)| user_block(i, j, p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(UserContent::Blocks(blocks))
}

fn user_block<'r>(i: usize, j: usize, p: &'r ContentPart<'_>) -> Result<UserBlock<'r>, ApiError> {
    match (p.kind, &p.image_url) {
        (PartType::Text, _) => Ok(UserBlock::Text {
            text: p.text.as_deref().unwrap_or(""),
        }),
        (PartType::ImageUrl, Some(img)) => Ok(UserBlock::ImageUrl {
            image_url: ImageUrl {
                url: &img.url,
                detail: img.detail.as_deref(),
            },
        }),
        _ => Err(part_unsupported(i, j)),
    }
}

fn assistant<'r>(i: usize, m: &'r ChatMessage<'_>) -> Result<Message<'r>, ApiError> {
    if m.function_call.is_some() {
        return Err(unsupported(&format!("messages[{i}].function_call")));
    }
    let mut text = text_of(i, m.content.as_ref())?;
    if m.content.is_none() {
        if let Some(r) = m.refusal.as_deref() {
            text = Cow::Borrowed(r);
        }
    }
    let calls = m.tool_calls.as_deref().unwrap_or(&[]);
    let mut tool_calls = Vec::with_capacity(calls.len());
    for (k, call) in calls.iter().enumerate() {
        if call.kind != ToolType::Function {
            return Err(unsupported(&format!("messages[{i}].tool_calls[{k}].type")));
        }
        let args = call.function.arguments.as_ref();
        tool_calls.push(ToolCall {
            id: &call.id,
            kind: "function",
            function: FunctionCall {
                name: &call.function.name,
                arguments: if args.trim().is_empty() { "{}" } else { args },
            },
        });
    }
    let plan = m.reasoning_content.as_deref().filter(|p| !p.is_empty());
    let (content, tool_plan) = match (tool_calls.is_empty(), plan) {
        (true, _) => (Some(text), None),
        (false, Some(plan)) => ((!text.is_empty()).then_some(text), Some(plan)),
        (false, None) => match text {
            Cow::Borrowed(t) if !t.is_empty() => (None, Some(t)),
            t if t.is_empty() => (None, None),
            t => (Some(t), None),
        },
    };
    Ok(Message::Assistant {
        content,
        tool_plan,
        tool_calls,
    })
}

fn tool<'r>(i: usize, m: &'r ChatMessage<'_>) -> Result<Message<'r>, ApiError> {
    let id = m.tool_call_id.as_deref().filter(|id| !id.is_empty());
    let Some(tool_call_id) = id else {
        let p = format!("messages[{i}].tool_call_id");
        return Err(ApiError::invalid_param(&p, format!("`{p}` is required.")));
    };
    Ok(Message::Tool {
        tool_call_id,
        content: text_of(i, m.content.as_ref())?,
    })
}
