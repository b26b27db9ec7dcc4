//! A preset's request quirks: fields it rejects, fields it ignores badly,
//! and the output-limit parameter it understands.
//!
//! Most requests carry none of them, so a byte search decides first; only a
//! request that mentions a quirk field pays for a parse and re-encode.

use serde_json::{Map, Value};

use super::presets::{MaxTokens, Preset};
use crate::error::ApiError;

/// The body rewritten for `preset`, `None` when it needs no change, or the
/// 400 for a parameter the server cannot honour.
pub fn apply(preset: &Preset, body: &[u8]) -> Result<Option<Vec<u8>>, ApiError> {
    let legacy = preset.max_tokens == MaxTokens::Legacy;
    let mentioned = |f: &str| mentions(body, f);
    let touched = preset
        .reject
        .iter()
        .chain(preset.drop)
        .any(|f| mentioned(f))
        || (legacy && mentioned("max_completion_tokens"));
    if !touched {
        return Ok(None);
    }
    let mut obj: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|_| ApiError::invalid_request("The request body must be a JSON object."))?;
    if let Some(f) = preset.reject.iter().find(|f| is_set(f, obj.get(**f))) {
        return Err(ApiError::invalid_param(
            f,
            format!("`{f}` is not supported by provider type `{}`.", preset.name),
        ));
    }
    let mut changed = false;
    for f in preset.drop {
        changed |= obj.remove(*f).is_some();
    }
    if legacy {
        if let Some(n) = obj.remove("max_completion_tokens") {
            obj.insert("max_tokens".to_string(), n);
            changed = true;
        }
    }
    if !changed {
        return Ok(None);
    }
    serde_json::to_vec(&obj)
        .map(Some)
        .map_err(|_| ApiError::internal("cannot encode the request"))
}

/// `null`, `false` and the neutral values (`n: 1`, a zero penalty) do not
/// ask for the feature.
fn is_set(field: &str, v: Option<&Value>) -> bool {
    let neutral = if field == "n" { 1.0 } else { 0.0 };
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(neutral),
        Some(_) => true,
    }
}

fn mentions(body: &[u8], field: &str) -> bool {
    let needle_len = field.len() + 2;
    body.windows(needle_len).any(|w| {
        w.first() == Some(&b'"')
            && w.last() == Some(&b'"')
            && w.get(1..needle_len - 1) == Some(field.as_bytes())
    })
}
