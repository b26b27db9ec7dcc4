//! OpenAI `messages` → Gemini `systemInstruction` + `contents`.
//!
//! * `system` and `developer` messages, wherever they appear, become the
//!   text parts of `systemInstruction`: Gemini has no system turns. When
//!   they are all there is, their text is sent as the one user turn
//!   instead, because Gemini requires at least one `contents` entry.
//! * Roles become `user`/`model`; consecutive same-role turns are merged
//!   into one content with several parts (Gemini expects alternation).
//! * `tool` messages become `functionResponse` parts of a user turn, ahead
//!   of any text in it. Gemini matches a response to its call by function
//!   name, which OpenAI tool messages do not carry: it is taken from the
//!   earlier assistant tool call with the same `tool_call_id` (none → 400).
//!   `response` must be an object: JSON-object content goes as is, anything
//!   else as `{"result": <text>}`.
//! * Assistant `tool_calls` become `functionCall` parts after the text,
//!   `arguments` parsed as the `args` object (an empty string counts as
//!   `{}`); `extra_content.google.thought_signature` goes back as the part's
//!   `thoughtSignature`. Gemini 3 rejects a function-call turn whose first
//!   call is unsigned; for tool calls that did not come from Gemini (a
//!   conversation started on another provider) the first call gets the
//!   placeholder Google documents for that case,
//!   `skip_thought_signature_validator`.
//! * Image parts: `data:<type>;base64,` URLs go inline (`inlineData`),
//!   http(s) URLs by reference (`fileData`, with the MIME type guessed from
//!   the extension when it is a known image type; the field is optional).
//!   `detail`, message `name`s, `reasoning_content` and `thinking_blocks`
//!   have no Gemini equivalent and are dropped; empty text is dropped
//!   (Gemini rejects empty parts).

use serde_json::value::RawValue;

use super::request::unsupported;
use super::wire::{
    Content, FileData, FunctionCall, FunctionResponse, InlineData, Part, Role, ToolOutput,
};
use crate::error::ApiError;
use crate::openai::{ChatMessage, ContentPart, MessageContent, PartType, Role as ChatRole, TextOr};
use crate::openai::{ToolCall, ToolType};

/// Google's documented stand-in for a signature the model never issued.
pub const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// The system parts and the turns.
pub type Conversation<'r> = (Vec<Part<'r>>, Vec<Content<'r>>);

/// Splits off the system instruction and folds the turns.
pub fn convert<'r>(msgs: &'r [ChatMessage<'_>]) -> Result<Conversation<'r>, ApiError> {
    let mut system = Vec::new();
    let mut turns: Vec<Content<'r>> = Vec::with_capacity(msgs.len());
    // (tool_call_id, function name) of every assistant tool call so far.
    let mut calls: Vec<(&'r str, &'r str)> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        match m.role {
            ChatRole::System | ChatRole::Developer => {
                content_parts(i, m.content.as_ref(), false, &mut system)?
            }
            ChatRole::User => {
                let mut parts = Vec::new();
                content_parts(i, m.content.as_ref(), true, &mut parts)?;
                append(&mut turns, Role::User, parts);
            }
            ChatRole::Assistant => {
                let parts = assistant_parts(i, m, &mut calls)?;
                append(&mut turns, Role::Model, parts);
            }
            ChatRole::Tool => append_response(&mut turns, tool_response(i, m, &calls)?),
            ChatRole::Function => {
                return Err(ApiError::invalid_param(
                    &format!("messages[{i}].role"),
                    "The deprecated `function` role is not supported by provider gemini; use `tool` messages.",
                ))
            }
        }
    }
    if turns.is_empty() {
        if system.is_empty() {
            return Err(ApiError::invalid_param(
                "messages",
                "`messages` must contain some non-empty content.",
            ));
        }
        turns.push(Content {
            role: Role::User,
            parts: std::mem::take(&mut system),
        });
    }
    Ok((system, turns))
}

fn assistant_parts<'r>(
    i: usize,
    m: &'r ChatMessage<'_>,
    calls: &mut Vec<(&'r str, &'r str)>,
) -> Result<Vec<Part<'r>>, ApiError> {
    if m.function_call.is_some() {
        return Err(unsupported(&format!("messages[{i}].function_call")));
    }
    let mut parts = Vec::new();
    content_parts(i, m.content.as_ref(), false, &mut parts)?;
    if m.content.is_none() {
        push_text(&mut parts, m.refusal.as_deref());
    }
    let tool_calls = m.tool_calls.as_deref().unwrap_or(&[]);
    let signed = tool_calls.iter().any(|c| c.thought_signature().is_some());
    for (k, call) in tool_calls.iter().enumerate() {
        if call.kind != ToolType::Function {
            return Err(unsupported(&format!("messages[{i}].tool_calls[{k}].type")));
        }
        let signature = match call.thought_signature() {
            None if k == 0 && !signed => Some(SKIP_SIGNATURE),
            s => s,
        };
        parts.push(function_call(i, k, call, signature)?);
        calls.push((&call.id, &call.function.name));
    }
    Ok(parts)
}

fn function_call<'r>(
    i: usize,
    k: usize,
    call: &'r ToolCall<'_>,
    signature: Option<&'r str>,
) -> Result<Part<'r>, ApiError> {
    let args = object_json(&call.function.arguments, true).ok_or_else(|| {
        let p = format!("messages[{i}].tool_calls[{k}].function.arguments");
        ApiError::invalid_param(&p, format!("`{p}` must be a JSON object."))
    })?;
    Ok(Part {
        function_call: Some(FunctionCall {
            name: &call.function.name,
            args,
        }),
        thought_signature: signature,
        ..Part::default()
    })
}

/// `text` as a JSON object, if it is one (`empty_is_object`: `""` is `{}`).
fn object_json(text: &str, empty_is_object: bool) -> Option<&RawValue> {
    let text = if empty_is_object && text.trim().is_empty() {
        "{}"
    } else {
        text
    };
    let raw: &RawValue = serde_json::from_str(text).ok()?;
    raw.get().starts_with('{').then_some(raw)
}

fn tool_response<'r>(
    i: usize,
    m: &'r ChatMessage<'_>,
    calls: &[(&'r str, &'r str)],
) -> Result<Part<'r>, ApiError> {
    let param = format!("messages[{i}].tool_call_id");
    let id = m.tool_call_id.as_deref().unwrap_or("");
    let Some(&(_, name)) = calls.iter().rev().find(|(c, _)| *c == id) else {
        return Err(ApiError::invalid_param(
            &param,
            format!("`{param}` (`{id}`) does not match any earlier assistant tool call; provider gemini needs the call to know the function name."),
        ));
    };
    let response = match &m.content {
        None => ToolOutput::Wrapped { result: "".into() },
        Some(TextOr::Text(t)) => match object_json(t, false) {
            Some(raw) => ToolOutput::Object(raw),
            None => ToolOutput::Wrapped {
                result: t.as_ref().into(),
            },
        },
        Some(TextOr::Items(parts)) => joined_output(i, parts)?,
    };
    Ok(Part {
        function_response: Some(FunctionResponse { name, response }),
        ..Part::default()
    })
}

/// A tool result given as text parts: their concatenation.
fn joined_output<'r>(i: usize, parts: &'r [ContentPart<'_>]) -> Result<ToolOutput<'r>, ApiError> {
    let mut text = String::new();
    for (j, part) in parts.iter().enumerate() {
        match part.kind {
            PartType::Text => text.push_str(part.text.as_deref().unwrap_or("")),
            _ => return Err(part_unsupported(i, j)),
        }
    }
    if object_json(&text, false).is_some() {
        if let Ok(raw) = RawValue::from_string(text.clone()) {
            return Ok(ToolOutput::Joined(raw));
        }
    }
    Ok(ToolOutput::Wrapped {
        result: text.into(),
    })
}

/// Appends to the last turn when it has the same role, dropping empty
/// contributions (Gemini rejects contents without parts).
fn append<'r>(turns: &mut Vec<Content<'r>>, role: Role, parts: Vec<Part<'r>>) {
    if parts.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.parts.extend(parts),
        _ => turns.push(Content { role, parts }),
    }
}

/// Function responses open a user turn, ahead of any text in it.
fn append_response<'r>(turns: &mut Vec<Content<'r>>, part: Part<'r>) {
    match turns.last_mut() {
        Some(last) if last.role == Role::User => {
            let at = last
                .parts
                .iter()
                .position(|p| p.function_response.is_none())
                .unwrap_or(last.parts.len());
            last.parts.insert(at, part);
        }
        _ => turns.push(Content {
            role: Role::User,
            parts: vec![part],
        }),
    }
}

fn content_parts<'r>(
    i: usize,
    content: Option<&'r MessageContent<'_>>,
    images: bool,
    out: &mut Vec<Part<'r>>,
) -> Result<(), ApiError> {
    match content {
        None => {}
        Some(TextOr::Text(t)) => push_text(out, Some(t)),
        Some(TextOr::Items(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                match (part.kind, &part.image_url) {
                    (PartType::Text, _) => push_text(out, part.text.as_deref()),
                    (PartType::Refusal, _) => push_text(out, part.refusal.as_deref()),
                    (PartType::ImageUrl, Some(img)) if images => {
                        out.push(image_part(&img.url).ok_or_else(|| {
                            ApiError::invalid_param(
                                &format!("messages[{i}].content[{j}].image_url.url"),
                                "Image URLs must be http(s) URLs or base64 `data:` URLs for provider gemini.",
                            )
                        })?)
                    }
                    _ => return Err(part_unsupported(i, j)),
                }
            }
        }
    }
    Ok(())
}

fn part_unsupported(i: usize, j: usize) -> ApiError {
    let p = format!("messages[{i}].content[{j}]");
    ApiError::invalid_param(
        &p,
        format!("This content part type is not supported by provider gemini in `{p}`."),
    )
}

fn push_text<'r>(out: &mut Vec<Part<'r>>, text: Option<&'r str>) {
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        out.push(Part::text(text));
    }
}

/// `data:<media type>;base64,<data>` inline, or an http(s) URL by reference.
fn image_part(url: &str) -> Option<Part<'_>> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest.split_once(',')?;
        let mime_type = meta.strip_suffix(";base64").filter(|m| !m.is_empty())?;
        return Some(Part {
            inline_data: Some(InlineData { mime_type, data }),
            ..Part::default()
        });
    }
    let (scheme, rest) = url.split_once("://")?;
    let web = scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http");
    (web && !rest.is_empty()).then(|| Part {
        file_data: Some(FileData {
            mime_type: image_mime(rest),
            file_uri: url,
        }),
        ..Part::default()
    })
}

/// The image MIME type named by the URL path's extension, if known.
fn image_mime(rest: &str) -> Option<&'static str> {
    let path = rest.split(['?', '#']).next().unwrap_or("");
    let (_, file) = path.rsplit_once('/')?;
    let (_, ext) = file.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}
