//! Request validation for `POST /v1/messages` (top-level fields, tools).
//!
//! Error messages follow the real API's pydantic style, e.g.
//! `max_tokens: Field required` or `foo: Extra inputs are not permitted`.

use serde_json::{Map, Value};

use super::beta::{self, Betas};
use super::blocks::{validate_messages, validate_text_block};

pub type Check = Result<(), String>;

pub const ALLOWED_FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "output_config",
];

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub fn required(path: &str) -> String {
    format!("{path}: Field required")
}

pub fn expected(path: &str, what: &str) -> String {
    format!("{path}: Input should be a valid {what}")
}

/// Rejects keys not in `allowed`.
pub fn check_keys(obj: &Map<String, Value>, allowed: &[&str], path: &str) -> Check {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{}: Extra inputs are not permitted", join(path, k))),
        None => Ok(()),
    }
}

pub fn as_obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object().ok_or_else(|| expected(path, "dictionary"))
}

/// A required string field.
pub fn req_str<'a>(obj: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a str, String> {
    match obj.get(key) {
        None => Err(required(&join(path, key))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(expected(&join(path, key), "string")),
    }
}

/// An optional field of a given JSON kind (null is rejected as the real API does).
pub fn opt_kind(obj: &Map<String, Value>, key: &str, path: &str, kind: &str) -> Check {
    let Some(v) = obj.get(key) else {
        return Ok(());
    };
    let ok = match kind {
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "dictionary" => v.is_object(),
        "list" => v.is_array(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(expected(&join(path, key), kind))
    }
}

fn range(obj: &Map<String, Value>, key: &str, min: f64, max: f64) -> Check {
    opt_kind(obj, key, "", "number")?;
    match obj.get(key).and_then(Value::as_f64) {
        Some(n) if n < min => Err(format!(
            "{key}: Input should be greater than or equal to {min}"
        )),
        Some(n) if n > max => Err(format!(
            "{key}: Input should be less than or equal to {max}"
        )),
        _ => Ok(()),
    }
}

fn one_of(value: &str, allowed: &[&str], path: &str) -> Check {
    if allowed.contains(&value) {
        return Ok(());
    }
    let list: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    Err(format!(
        "{path}: Input tag '{value}' found using 'type' does not match any of the expected tags: {}",
        list.join(", ")
    ))
}

/// Validates the whole request body; `betas` from `anthropic-beta`.
pub fn validate(body: &Map<String, Value>, betas: &Betas) -> Check {
    let mut allowed = ALLOWED_FIELDS.to_vec();
    if betas.has(beta::CONTEXT_MANAGEMENT) {
        allowed.push("context_management");
    }
    check_keys(body, &allowed, "")?;
    req_str(body, "model", "")?;
    match body.get("max_tokens") {
        None => return Err(required("max_tokens")),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 1 => {}
            Some(_) => return Err("max_tokens: Input should be greater than or equal to 1".into()),
            None => return Err(expected("max_tokens", "integer")),
        },
    }
    match body.get("messages") {
        None => return Err(required("messages")),
        Some(Value::Array(msgs)) => validate_messages(msgs, betas)?,
        Some(_) => return Err(expected("messages", "list")),
    }
    validate_scalars(body)?;
    validate_shared(body, betas)
}

/// The checks `POST /v1/messages/count_tokens` shares with messages.
pub fn validate_shared(body: &Map<String, Value>, betas: &Betas) -> Check {
    validate_system(body.get("system"))?;
    validate_tools(body.get("tools"), betas)?;
    if let Some(tc) = body.get("tool_choice") {
        validate_tool_choice(tc)?;
    }
    if let Some(th) = body.get("thinking") {
        validate_thinking(th, body.get("max_tokens").and_then(Value::as_i64))?;
    }
    if let Some(oc) = body.get("output_config") {
        super::thinking::validate_output_config(oc)?;
    }
    if let Some(cm) = body.get("context_management") {
        beta::validate_context_management(cm)?;
    }
    super::thinking::validate_history(body)
}

fn validate_system(system: Option<&Value>) -> Check {
    match system {
        None | Some(Value::String(_)) => Ok(()),
        Some(Value::Array(blocks)) => {
            for (i, b) in blocks.iter().enumerate() {
                let p = format!("system.{i}");
                let obj = as_obj(b, &p)?;
                match req_str(obj, "type", &p)? {
                    "text" => validate_text_block(obj, &p)?,
                    other => one_of(other, &["text"], &format!("{p}.type"))?,
                }
            }
            Ok(())
        }
        Some(_) => Err(expected("system", "list")),
    }
}

fn validate_scalars(body: &Map<String, Value>) -> Check {
    opt_kind(body, "stream", "", "boolean")?;
    range(body, "temperature", 0.0, 1.0)?;
    range(body, "top_p", 0.0, 1.0)?;
    opt_kind(body, "top_k", "", "integer")?;
    if body
        .get("top_k")
        .and_then(Value::as_i64)
        .is_some_and(|k| k < 0)
    {
        return Err("top_k: Input should be greater than or equal to 0".into());
    }
    opt_kind(body, "stop_sequences", "", "list")?;
    let stops = body.get("stop_sequences").and_then(Value::as_array);
    for (i, s) in stops.into_iter().flatten().enumerate() {
        if !s.is_string() {
            return Err(expected(&format!("stop_sequences.{i}"), "string"));
        }
    }
    if let Some(meta) = body.get("metadata") {
        let meta = as_obj(meta, "metadata")?;
        check_keys(meta, &["user_id"], "metadata")?;
        if meta
            .get("user_id")
            .is_some_and(|u| !u.is_string() && !u.is_null())
        {
            return Err(expected("metadata.user_id", "string"));
        }
    }
    if let Some(tier) = body.get("service_tier") {
        let tier = tier.as_str().unwrap_or("");
        if !["auto", "standard_only"].contains(&tier) {
            return Err("service_tier: Input should be 'auto' or 'standard_only'".into());
        }
    }
    Ok(())
}

fn valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn validate_tool(i: usize, tool: &Value, betas: &Betas) -> Result<String, String> {
    let p = format!("tools.{i}");
    let obj = as_obj(tool, &p)?;
    let mut allowed = vec![
        "type",
        "name",
        "description",
        "input_schema",
        "cache_control",
    ];
    if betas.has(beta::ADVANCED_TOOL_USE) {
        allowed.push("defer_loading");
    }
    check_keys(obj, &allowed, &p)?;
    opt_kind(obj, "defer_loading", &p, "boolean")?;
    if let Some(t) = obj.get("type") {
        if t.as_str() != Some("custom") {
            return Err(format!("{p}.type: Input should be 'custom'"));
        }
    }
    let name = req_str(obj, "name", &p)?;
    if !valid_tool_name(name) {
        return Err(format!(
            "{p}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
        ));
    }
    opt_kind(obj, "description", &p, "string")?;
    let schema = obj
        .get("input_schema")
        .ok_or_else(|| required(&join(&p, "input_schema")))?;
    let schema = as_obj(schema, &join(&p, "input_schema"))?;
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(format!("{p}.input_schema.type: Input should be 'object'"));
    }
    if let Some(cc) = obj.get("cache_control") {
        validate_cache_control(cc, &join(&p, "cache_control"))?;
    }
    Ok(name.to_string())
}

fn validate_tools(tools: Option<&Value>, betas: &Betas) -> Check {
    let Some(tools) = tools else {
        return Ok(());
    };
    let tools = tools.as_array().ok_or_else(|| expected("tools", "list"))?;
    let mut names: Vec<String> = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let name = validate_tool(i, tool, betas)?;
        if names.contains(&name) {
            return Err("tools: Tool names must be unique.".into());
        }
        names.push(name);
    }
    Ok(())
}

fn validate_tool_choice(tc: &Value) -> Check {
    let obj = as_obj(tc, "tool_choice")?;
    let ty = req_str(obj, "type", "tool_choice")?;
    one_of(ty, &["auto", "any", "tool", "none"], "tool_choice")?;
    let p = format!("tool_choice.{ty}");
    match ty {
        "tool" => {
            check_keys(obj, &["type", "name", "disable_parallel_tool_use"], &p)?;
            req_str(obj, "name", &p)?;
        }
        "none" => check_keys(obj, &["type"], &p)?,
        _ => check_keys(obj, &["type", "disable_parallel_tool_use"], &p)?,
    }
    opt_kind(obj, "disable_parallel_tool_use", &p, "boolean")
}

fn validate_thinking(th: &Value, max_tokens: Option<i64>) -> Check {
    let obj = as_obj(th, "thinking")?;
    let ty = req_str(obj, "type", "thinking")?;
    one_of(ty, &["enabled", "disabled", "adaptive"], "thinking")?;
    let p = format!("thinking.{ty}");
    if ty == "disabled" {
        return check_keys(obj, &["type"], &p);
    }
    beta::validate_display(obj, &p)?;
    if ty == "adaptive" {
        return check_keys(obj, &["type", "display"], &p);
    }
    check_keys(obj, &["type", "budget_tokens", "display"], &p)?;
    let budget = match obj.get("budget_tokens") {
        None => return Err(required("thinking.enabled.budget_tokens")),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| expected("thinking.enabled.budget_tokens", "integer"))?,
    };
    if budget < 1024 {
        return Err(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024".into(),
        );
    }
    if max_tokens.is_some_and(|m| m <= budget) {
        return Err("`max_tokens` must be greater than `thinking.budget_tokens`".into());
    }
    Ok(())
}

pub fn validate_cache_control(cc: &Value, path: &str) -> Check {
    let obj = as_obj(cc, path)?;
    check_keys(obj, &["type", "ttl"], path)?;
    if req_str(obj, "type", path)? != "ephemeral" {
        return Err(format!("{path}.type: Input should be 'ephemeral'"));
    }
    match obj.get("ttl") {
        None => Ok(()),
        Some(Value::String(t)) if t == "5m" || t == "1h" => Ok(()),
        Some(_) => Err(format!("{path}.ttl: Input should be '5m' or '1h'")),
    }
}
