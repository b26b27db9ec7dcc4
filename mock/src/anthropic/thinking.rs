//! Extended thinking and structured output on the Anthropic mock.
//!
//! With `thinking.type: "enabled"` every reply starts with a thinking block
//! whose signature is derived from its text, and, as the real API demands,
//! an assistant turn that made tool calls must come back starting with its
//! thinking block and the same signature (`thinking` is then "preserved"
//! across the tool loop). `"adaptive"` (what Claude Code sends) also starts
//! every reply with a signed thinking block, with empty text under
//! `display: "omitted"`; a thinking block that comes back must carry the
//! mock's signature, but tool turns without one are accepted (an adaptive
//! model may not have thought). `output_config.format` (structured outputs) makes
//! the reply a JSON object holding the usual reply text.

use serde_json::{json, Map, Value};

use super::validate::{as_obj, check_keys, req_str, Check};

/// The mock's thinking text for `model`.
pub fn text(model: &str) -> String {
    format!("Mock thinking \u{2713} for {model}.")
}

/// The signature the mock issues over `text`.
pub fn signature(text: &str) -> String {
    format!("mocksig-{:016x}", crate::embedding::fnv1a(text.as_bytes()))
}

pub fn enabled(body: &Map<String, Value>) -> bool {
    kind_of(body) == Some("enabled")
}

fn kind_of(body: &Map<String, Value>) -> Option<&str> {
    body.get("thinking")?.get("type")?.as_str()
}

/// The thinking text a reply starts with, if thinking is on.
pub fn reply_text(body: &Map<String, Value>, model: &str) -> Option<String> {
    match kind_of(body)? {
        "enabled" => Some(text(model)),
        "adaptive" => {
            let display = body.get("thinking").and_then(|t| t.get("display"));
            let omitted = display.and_then(Value::as_str) == Some("omitted");
            Some(if omitted { String::new() } else { text(model) })
        }
        _ => None,
    }
}

/// With thinking on, assistant turns that called tools must open with a
/// thinking block carrying a signature this mock issued.
pub fn validate_history(body: &Map<String, Value>) -> Check {
    let required = enabled(body);
    if !required && kind_of(body) != Some("adaptive") {
        return Ok(());
    }
    let msgs = body.get("messages").and_then(Value::as_array);
    for (i, m) in msgs.into_iter().flatten().enumerate() {
        let blocks = m.get("content").and_then(Value::as_array);
        let blocks: &[Value] = blocks.map_or(&[], |b| &b[..]);
        let is_assistant = m.get("role").and_then(Value::as_str) == Some("assistant");
        let calls = blocks.iter().any(|b| kind(b) == Some("tool_use"));
        if !(is_assistant && calls) {
            continue;
        }
        let first = blocks.first();
        match first.and_then(kind) {
            Some("redacted_thinking") => {}
            Some("thinking") => {
                let t = first.and_then(|b| b.get("thinking")).and_then(Value::as_str);
                let s = first.and_then(|b| b.get("signature")).and_then(Value::as_str);
                if t.map(signature).as_deref() != s {
                    return Err(format!("messages.{i}.content.0: Invalid `signature` in `thinking` block"));
                }
            }
            _ if !required => {}
            other => {
                return Err(format!(
                    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.",
                    other.unwrap_or("nothing")
                ))
            }
        }
    }
    Ok(())
}

fn kind(b: &Value) -> Option<&str> {
    b.get("type").and_then(Value::as_str)
}

/// `output_config: {"format": {"type": "json_schema", "schema": {...}}}`.
pub fn validate_output_config(v: &Value) -> Check {
    let obj = as_obj(v, "output_config")?;
    check_keys(obj, &["format", "effort"], "output_config")?;
    let efforts = ["low", "medium", "high", "xhigh", "max"];
    match obj.get("effort") {
        None => {}
        Some(Value::String(e)) if efforts.contains(&e.as_str()) => {}
        Some(_) => {
            return Err(
                "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'"
                    .into(),
            )
        }
    }
    let Some(format) = obj.get("format") else {
        return Ok(());
    };
    let f = as_obj(format, "output_config.format")?;
    check_keys(f, &["type", "schema"], "output_config.format")?;
    if req_str(f, "type", "output_config.format")? != "json_schema" {
        return Err("output_config.format.type: Input should be 'json_schema'".into());
    }
    match f.get("schema") {
        Some(Value::Object(_)) => Ok(()),
        _ => Err("output_config.format.schema: Field required".into()),
    }
}

/// The reply text as the JSON a structured-output request gets.
pub fn structured(body: &Map<String, Value>, text: &str) -> Option<String> {
    body.get("output_config")?.get("format")?;
    Some(json!({"reply": text}).to_string())
}
