//! The OpenAI chat completions schema: what clients send and what they get.
//!
//! Request types ([`request`]) are strict where a mistake would change the
//! meaning (unknown roles, wrong types) and open where OpenAI adds features
//! (unknown content part, tool and `response_format` types parse into
//! `Unknown` so each provider decides). Response types ([`response`]) are
//! what translating providers emit.
//!
//! [`parse_chat_request`] turns every problem into the 400 OpenAI would give,
//! naming the offending field by its JSON path (`messages[2].role`) because
//! the SDKs surface `param` to the developer.

pub mod embeddings;
pub mod features;
pub mod request;
pub mod response;

pub use request::*;
pub use response::*;

use serde_json::error::Category;

use crate::error::ApiError;

/// Parses and validates a chat request body, borrowing from it.
pub fn parse_chat_request(body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    // Fast path without path tracking; only a failure pays for a second,
    // path-tracking parse that names the offending field.
    let req: ChatRequest<'_> = serde_json::from_slice(body).map_err(|_| diagnose(body))?;
    validate(&req)?;
    Ok(req)
}

fn diagnose(body: &[u8]) -> ApiError {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, ChatRequest<'_>>(&mut de) {
        Err(e) => deserialize_error(&e.path().to_string(), e.inner()),
        Ok(_) => match de.end() {
            Err(e) => deserialize_error(".", &e),
            Ok(()) => {
                ApiError::invalid_request("We could not parse the JSON body of your request.")
            }
        },
    }
}

/// A key given twice, named as the parameter: the gateway would read one
/// value and a provider might keep the other (serde's derive reports it as
/// ``duplicate field `x` ``). `path` is where the object was (`.` for the
/// body itself).
pub(crate) fn duplicate_key(path: &str, e: &serde_json::Error) -> Option<ApiError> {
    let msg = e.to_string();
    let key = msg.strip_prefix("duplicate field `")?.split('`').next()?;
    let param = match path.trim_start_matches('.') {
        "" => key.to_string(),
        at => format!("{at}.{key}"),
    };
    let text = format!("Duplicate key `{param}` in the request body.");
    Some(ApiError::invalid_param(&param, text))
}

fn deserialize_error(path: &str, e: &serde_json::Error) -> ApiError {
    if let Some(dup) = duplicate_key(path, e) {
        return dup;
    }
    let msg = e.to_string();
    let location = format!(" at line {} column {}", e.line(), e.column());
    let msg = msg.strip_suffix(&location).unwrap_or(&msg);
    match e.classify() {
        Category::Data if path != "." => {
            ApiError::invalid_param(path, format!("Invalid value for `{path}`: {msg}."))
        }
        Category::Data => ApiError::invalid_request("The request body must be a JSON object."),
        Category::Syntax | Category::Eof | Category::Io => ApiError::invalid_request(format!(
            "We could not parse the JSON body of your request: {msg} (line {}, column {}).",
            e.line(),
            e.column()
        )),
    }
}

/// Checks what the types alone cannot: required fields per role, non-empty
/// lists, and that each tagged object carries the field its tag names.
fn validate(req: &ChatRequest<'_>) -> Result<(), ApiError> {
    if req.model.is_none() {
        return Err(ApiError::missing_model());
    }
    let messages = req
        .messages
        .as_deref()
        .ok_or_else(ApiError::missing_messages)?;
    if messages.is_empty() {
        return Err(ApiError::empty_messages());
    }
    for (i, m) in messages.iter().enumerate() {
        validate_message(i, m)?;
    }
    for (i, t) in req.tools.iter().flatten().enumerate() {
        if t.kind == ToolType::Function && t.function.is_none() {
            let p = format!("tools[{i}].function");
            return Err(missing(&p));
        }
    }
    if let Some(ToolChoice::Named(n)) = &req.tool_choice {
        if n.kind == ToolType::Function && n.function.is_none() {
            return Err(missing("tool_choice.function"));
        }
    }
    Ok(())
}

fn validate_message(i: usize, m: &ChatMessage<'_>) -> Result<(), ApiError> {
    let has_content = m.content.is_some();
    match m.role {
        Role::Assistant
            if !has_content
                && m.tool_calls.is_none()
                && m.function_call.is_none()
                && m.refusal.is_none() =>
        {
            return Err(ApiError::invalid_param(
                &format!("messages[{i}].content"),
                format!("Invalid value for `messages[{i}].content`: an assistant message needs `content` or `tool_calls`."),
            ));
        }
        Role::Assistant => {}
        Role::Tool if m.tool_call_id.is_none() => {
            return Err(missing(&format!("messages[{i}].tool_call_id")));
        }
        _ if !has_content => return Err(missing(&format!("messages[{i}].content"))),
        _ => {}
    }
    if let Some(TextOr::Items(parts)) = &m.content {
        for (j, part) in parts.iter().enumerate() {
            let field = match part.kind {
                PartType::Text if part.text.is_none() => "text",
                PartType::ImageUrl if part.image_url.is_none() => "image_url",
                PartType::Refusal if part.refusal.is_none() => "refusal",
                _ => continue,
            };
            return Err(missing(&format!("messages[{i}].content[{j}].{field}")));
        }
    }
    Ok(())
}

fn missing(param: &str) -> ApiError {
    ApiError::invalid_param(param, format!("Missing required parameter: '{param}'."))
}

#[cfg(test)]
mod tests;
