//! Naming the offending field the way Anthropic does: dotted, with
//! indexes (`messages.2.content.0.source.media_type`), and Anthropic's
//! wording (`Field required`, `Extra inputs are not permitted`).

use crate::error::ApiError;

/// `messages.2.content.0.type`, Anthropic's way of naming a field.
pub(super) fn dotted(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        let piece = match seg {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } => key.clone(),
            Segment::Enum { variant } => variant.clone(),
            Segment::Unknown => continue,
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&piece);
    }
    out
}

/// `prefix.rest`, or either alone.
pub(super) fn join(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}.{rest}"),
    }
}

/// A serde error at `path` as Anthropic's 400.
pub(super) fn deserialize_error(path: &str, e: &serde_json::Error) -> ApiError {
    let msg = e.to_string();
    let location = format!(" at line {} column {}", e.line(), e.column());
    let msg = msg.strip_suffix(&location).unwrap_or(&msg);
    let quoted = |prefix: &str| {
        msg.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(field) = quoted("unknown field `") {
        // The tracked path already ends at the unknown key.
        let at = if path == field || path.ends_with(&format!(".{field}")) {
            path.to_string()
        } else {
            join(path, &field)
        };
        return invalid(&at, "Extra inputs are not permitted");
    }
    if let Some(field) = quoted("missing field `") {
        return required(&join(path, &field));
    }
    if let Some(field) = quoted("duplicate field `") {
        return invalid(&join(path, &field), "Duplicate key in the request body");
    }
    if e.is_data() && !path.is_empty() {
        return invalid(path, msg);
    }
    if e.is_data() {
        return ApiError::invalid_request("The request body must be a JSON object.");
    }
    ApiError::invalid_request(format!(
        "The request body is not valid JSON: {msg} (line {}, column {}).",
        e.line(),
        e.column()
    ))
}

/// 400 `field: message`, with `param` set to the field.
pub(super) fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::invalid_param(field, format!("{field}: {message}"))
}

pub(super) fn required(field: &str) -> ApiError {
    invalid(field, "Field required")
}

/// A block kind the neutral request cannot carry: fine toward Anthropic
/// (passthrough), refused elsewhere.
pub(super) fn untranslatable(field: &str, kind: &str) -> ApiError {
    invalid(
        field,
        format!("`{kind}` blocks can only be sent to Anthropic models through this gateway"),
    )
}
