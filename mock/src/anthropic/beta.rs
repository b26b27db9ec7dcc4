//! API version `2026-10-21` and the beta features Claude Code turns on with `anthropic-beta`, validated only
//! when the header names them (the real API rejects the fields otherwise).
//!
//! Claude Code 2.1 sends, on every `POST /v1/messages?beta=true`:
//! `context_management` (beta `context-management-2025-06-27`), tools with
//! `defer_loading` (`advanced-tool-use-2025-11-20`), `thinking.display`, and
//! mid-conversation `role: "system"` messages carrying text blocks and a
//! per-turn `output_config` (`per-turn-control-2026-07-01`). For a model id
//! it does not know, Claude Code leaves `per-turn-control` out but still
//! sends the system turns under `mid-conversation-tool-changes-2026-07-01`
//! (without `output_config`), so either beta allows them. When a server
//! rejects them anyway, Claude Code retries once without that beta and with
//! the system text folded into a `<system-reminder>` user block. System
//! turns sit between the user/assistant turns, so tool pairing is checked as
//! if they were absent.

use serde_json::{Map, Value};

/// What `anthropic-version: 2026-10-21` rejects that `2023-06-01` accepts:
/// `temperature`, `top_p` and `top_k` (even at their defaults), and text
/// blocks with non-empty `citations` in user messages. (Document blocks in
/// assistant messages are also rejected there; the mock has no document
/// blocks at all.) The exact error texts are the mock's.
pub fn version(body: &Map<String, Value>, v2026: bool) -> Check {
    if !v2026 {
        return Ok(());
    }
    if let Some(k) = ["temperature", "top_p", "top_k"]
        .into_iter()
        .find(|k| body.contains_key(*k))
    {
        return Err(format!(
            "{k}: Extra inputs are not permitted (removed in API version 2026-10-21)"
        ));
    }
    let msgs = body.get("messages").and_then(Value::as_array);
    for (i, m) in msgs.into_iter().flatten().enumerate() {
        if m.get("role").and_then(Value::as_str) != Some("user") {
            continue;
        }
        let blocks = m.get("content").and_then(Value::as_array);
        for (j, b) in blocks.into_iter().flatten().enumerate() {
            let cited = b
                .get("citations")
                .and_then(Value::as_array)
                .is_some_and(|c| !c.is_empty());
            if cited {
                return Err(format!(
                    "messages.{i}.content.{j}.citations: citations are not allowed in user messages in API version 2026-10-21"
                ));
            }
        }
    }
    Ok(())
}

use super::validate::{as_obj, check_keys, join, req_str, Check};

pub const CONTEXT_MANAGEMENT: &str = "context-management-2025-06-27";
pub const ADVANCED_TOOL_USE: &str = "advanced-tool-use-2025-11-20";
pub const PER_TURN_CONTROL: &str = "per-turn-control-2026-07-01";
pub const MID_CONVERSATION_TOOLS: &str = "mid-conversation-tool-changes-2026-07-01";

const EDIT_TYPES: &[&str] = &["clear_thinking_20251015", "clear_tool_uses_20250919"];

/// The beta names of an `anthropic-beta` header (comma-separated).
#[derive(Debug, Clone, Default)]
pub struct Betas(Vec<String>);

impl Betas {
    pub fn parse(header: Option<&str>) -> Betas {
        Betas(
            header
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|b| b == name)
    }
}

/// `context_management: {"edits": [{"type": "clear_thinking_20251015", ...}]}`.
pub fn validate_context_management(v: &Value) -> Check {
    let obj = as_obj(v, "context_management")?;
    check_keys(obj, &["edits"], "context_management")?;
    let Some(edits) = obj.get("edits") else {
        return Ok(());
    };
    let edits = edits
        .as_array()
        .ok_or_else(|| super::validate::expected("context_management.edits", "list"))?;
    for (i, e) in edits.iter().enumerate() {
        let p = format!("context_management.edits.{i}");
        let e = as_obj(e, &p)?;
        let ty = req_str(e, "type", &p)?;
        if !EDIT_TYPES.contains(&ty) {
            let list: Vec<String> = EDIT_TYPES.iter().map(|t| format!("'{t}'")).collect();
            return Err(format!(
                "{p}: Input tag '{ty}' found using 'type' does not match any of the expected tags: {}",
                list.join(", ")
            ));
        }
        edit_fields(e, &join(&p, ty))?;
    }
    Ok(())
}

fn edit_fields(e: &Map<String, Value>, p: &str) -> Check {
    if e.get("type").and_then(Value::as_str) == Some("clear_thinking_20251015") {
        check_keys(e, &["type", "keep"], p)
    } else {
        let allowed = [
            "type",
            "trigger",
            "keep",
            "clear_at_least",
            "exclude_tools",
            "clear_tool_inputs",
        ];
        check_keys(e, &allowed, p)
    }
}

/// `thinking.display`: how thinking comes back (`omitted` leaves the text out).
pub fn validate_display(obj: &Map<String, Value>, p: &str) -> Check {
    match obj.get("display") {
        None => Ok(()),
        Some(Value::String(d)) if d == "omitted" || d == "summarized" => Ok(()),
        Some(_) => Err(format!(
            "{}: Input should be 'omitted' or 'summarized'",
            join(p, "display")
        )),
    }
}
