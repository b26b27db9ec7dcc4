//! Validation of Anthropic `messages`, content blocks and tool pairing.

use serde_json::{Map, Value};

use super::beta::{Betas, MID_CONVERSATION_TOOLS, PER_TURN_CONTROL};
use super::validate::{
    as_obj, check_keys, expected, join, opt_kind, req_str, required, validate_cache_control, Check,
};

const BLOCK_TYPES: &[&str] = &[
    "text",
    "image",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
];

pub fn validate_messages(msgs: &[Value], betas: &Betas) -> Check {
    if msgs.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    let system = SystemTurns {
        allowed: betas.has(PER_TURN_CONTROL) || betas.has(MID_CONVERSATION_TOOLS),
        output_config: betas.has(PER_TURN_CONTROL),
    };
    for (i, m) in msgs.iter().enumerate() {
        validate_message(i, m, i + 1 == msgs.len(), &system)?;
    }
    let turns: Vec<(usize, &Value)> = msgs
        .iter()
        .enumerate()
        .filter(|(_, m)| role(m) != "system")
        .collect();
    validate_tool_pairing(&turns)
}

/// Which mid-conversation `system` messages the betas allow.
struct SystemTurns {
    allowed: bool,
    output_config: bool,
}

fn validate_message(i: usize, m: &Value, is_last: bool, system: &SystemTurns) -> Check {
    let p = format!("messages.{i}");
    let obj = as_obj(m, &p)?;
    let role = match obj.get("role") {
        None => return Err(required(&join(&p, "role"))),
        Some(Value::String(r)) if r == "user" || r == "assistant" => r.as_str(),
        Some(Value::String(r)) if r == "system" && system.allowed => r.as_str(),
        Some(_) => return Err(format!("{p}.role: Input should be 'user' or 'assistant'")),
    };
    if role == "system" && system.output_config {
        check_keys(obj, &["role", "content", "output_config"], &p)?;
        if let Some(oc) = obj.get("output_config") {
            super::thinking::validate_output_config(oc).map_err(|e| format!("{p}.{e}"))?;
        }
    } else {
        check_keys(obj, &["role", "content"], &p)?;
    }
    let empty_allowed = is_last && role == "assistant";
    let cp = join(&p, "content");
    match obj.get("content") {
        None => Err(required(&cp)),
        Some(Value::String(s)) if s.is_empty() && !empty_allowed => Err(non_empty(&p)),
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(blocks)) if blocks.is_empty() && !empty_allowed => Err(non_empty(&p)),
        Some(Value::Array(blocks)) => {
            for (j, b) in blocks.iter().enumerate() {
                validate_block(&format!("{cp}.{j}"), b, role)?;
            }
            Ok(())
        }
        Some(_) => Err(expected(&cp, "list")),
    }
}

fn non_empty(p: &str) -> String {
    format!("{p}: all messages must have non-empty content except for the optional final assistant message")
}

fn block_type<'a>(
    obj: &'a Map<String, Value>,
    p: &str,
    allowed: &[&str],
) -> Result<&'a str, String> {
    let ty = req_str(obj, "type", p)?;
    if allowed.contains(&ty) {
        return Ok(ty);
    }
    let list: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    Err(format!(
        "{p}: Input tag '{ty}' found using 'type' does not match any of the expected tags: {}",
        list.join(", ")
    ))
}

fn validate_block(p: &str, b: &Value, role: &str) -> Check {
    let obj = as_obj(b, p)?;
    let allowed = if role == "system" {
        &["text"][..]
    } else {
        BLOCK_TYPES
    };
    let ty = block_type(obj, p, allowed)?;
    let tp = join(p, ty);
    let assistant_only = matches!(ty, "tool_use" | "thinking" | "redacted_thinking");
    if assistant_only && role != "assistant" {
        return Err(format!(
            "{p}: `{ty}` blocks are only allowed in assistant messages"
        ));
    }
    if ty == "tool_result" && role != "user" {
        return Err(format!(
            "{p}: `tool_result` blocks are only allowed in user messages"
        ));
    }
    match ty {
        "text" => validate_text_block(obj, &tp),
        "image" => validate_image_block(obj, &tp),
        "tool_use" => {
            check_keys(obj, &["type", "id", "name", "input", "cache_control"], &tp)?;
            req_str(obj, "id", &tp)?;
            req_str(obj, "name", &tp)?;
            match obj.get("input") {
                None => Err(required(&join(&tp, "input"))),
                Some(Value::Object(_)) => Ok(()),
                Some(_) => Err(expected(&join(&tp, "input"), "dictionary")),
            }?;
            cache_control(obj, &tp)
        }
        "tool_result" => validate_tool_result(obj, &tp),
        "thinking" => {
            check_keys(obj, &["type", "thinking", "signature"], &tp)?;
            req_str(obj, "thinking", &tp)?;
            req_str(obj, "signature", &tp).map(|_| ())
        }
        _ => {
            check_keys(obj, &["type", "data"], &tp)?;
            req_str(obj, "data", &tp).map(|_| ())
        }
    }
}

fn cache_control(obj: &Map<String, Value>, p: &str) -> Check {
    match obj.get("cache_control") {
        Some(cc) => validate_cache_control(cc, &join(p, "cache_control")),
        None => Ok(()),
    }
}

/// A `text` block (also used for `system` blocks).
pub fn validate_text_block(obj: &Map<String, Value>, p: &str) -> Check {
    check_keys(obj, &["type", "text", "cache_control", "citations"], p)?;
    if req_str(obj, "text", p)?.is_empty() {
        return Err(format!("{p}: text content blocks must be non-empty"));
    }
    opt_kind(obj, "citations", p, "list")?;
    cache_control(obj, p)
}

fn validate_image_block(obj: &Map<String, Value>, p: &str) -> Check {
    check_keys(obj, &["type", "source", "cache_control"], p)?;
    let sp = join(p, "source");
    let source = as_obj(obj.get("source").ok_or_else(|| required(&sp))?, &sp)?;
    let ty = block_type(source, &sp, &["base64", "url"])?;
    let tp = join(&sp, ty);
    if ty == "base64" {
        check_keys(source, &["type", "media_type", "data"], &tp)?;
        let media = ["image/jpeg", "image/png", "image/gif", "image/webp"];
        if !media.contains(&req_str(source, "media_type", &tp)?) {
            return Err(format!(
                "{tp}.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
            ));
        }
        req_str(source, "data", &tp)?;
    } else {
        check_keys(source, &["type", "url"], &tp)?;
        req_str(source, "url", &tp)?;
    }
    cache_control(obj, p)
}

fn validate_tool_result(obj: &Map<String, Value>, p: &str) -> Check {
    check_keys(
        obj,
        &[
            "type",
            "tool_use_id",
            "content",
            "is_error",
            "cache_control",
        ],
        p,
    )?;
    req_str(obj, "tool_use_id", p)?;
    opt_kind(obj, "is_error", p, "boolean")?;
    let cp = join(p, "content");
    match obj.get("content") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(blocks)) => {
            for (k, b) in blocks.iter().enumerate() {
                let bp = format!("{cp}.{k}");
                let bo = as_obj(b, &bp)?;
                match block_type(bo, &bp, &["text", "image"])? {
                    "text" => validate_text_block(bo, &join(&bp, "text"))?,
                    _ => validate_image_block(bo, &join(&bp, "image"))?,
                }
            }
        }
        Some(_) => return Err(expected(&cp, "list")),
    }
    cache_control(obj, p)
}

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

fn blocks_of<'a>(m: &'a Value, ty: &'a str) -> impl Iterator<Item = (usize, &'a Value)> + 'a {
    m.get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter(move |(_, b)| b.get("type").and_then(Value::as_str) == Some(ty))
}

fn tool_use_ids(m: &Value) -> Vec<&str> {
    blocks_of(m, "tool_use")
        .filter_map(|(_, b)| b.get("id").and_then(Value::as_str))
        .collect()
}

/// Each assistant `tool_use` must be answered by a `tool_result` in the very
/// next (user) message, and each `tool_result` must answer a `tool_use` of
/// the message immediately before it.
fn validate_tool_pairing(msgs: &[(usize, &Value)]) -> Check {
    for (k, &(i, m)) in msgs.iter().enumerate() {
        if role(m) == "assistant" {
            let uses = tool_use_ids(m);
            let next = msgs
                .get(k + 1)
                .map(|(_, n)| *n)
                .filter(|n| role(n) == "user");
            let results: Vec<&str> = next
                .into_iter()
                .flat_map(|n| blocks_of(n, "tool_result"))
                .filter_map(|(_, b)| b.get("tool_use_id").and_then(Value::as_str))
                .collect();
            let missing: Vec<&str> = uses
                .into_iter()
                .filter(|id| !results.contains(id))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                    missing.join(", ")
                ));
            }
        } else {
            let prev = k.checked_sub(1).and_then(|j| msgs.get(j)).map(|(_, p)| *p);
            let uses = prev
                .filter(|p| role(p) == "assistant")
                .map(tool_use_ids)
                .unwrap_or_default();
            for (j, b) in blocks_of(m, "tool_result") {
                let id = b.get("tool_use_id").and_then(Value::as_str).unwrap_or("");
                if !uses.contains(&id) {
                    return Err(format!(
                        "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                    ));
                }
            }
        }
    }
    Ok(())
}
