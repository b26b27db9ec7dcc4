//! Validation of the `messages` array of a chat completion request.

use serde_json::{Map, Value};

use super::validate::{bad_value, empty_array, invalid, missing, wrong_type, Check, Invalid};

const ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool"];

pub fn validate_messages(msgs: &[Value]) -> Check {
    for (i, m) in msgs.iter().enumerate() {
        validate_message(i, m)?;
    }
    validate_tool_pairing(msgs)
}

fn allowed_fields(role: &str) -> &'static [&'static str] {
    match role {
        "assistant" => &[
            "role",
            "content",
            "name",
            "tool_calls",
            "refusal",
            "audio",
            "function_call",
        ],
        "tool" => &["role", "content", "tool_call_id"],
        _ => &["role", "content", "name"],
    }
}

fn validate_message(i: usize, m: &Value) -> Check {
    let p = format!("messages[{i}]");
    let Some(obj) = m.as_object() else {
        return Err(wrong_type(&p, "an object", m));
    };
    let role = match obj.get("role") {
        None => return Err(missing(&format!("{p}.role"))),
        Some(Value::String(r)) if ROLES.contains(&r.as_str()) => r.as_str(),
        Some(Value::String(r)) => return Err(bad_value(&format!("{p}.role"), r, ROLES)),
        Some(other) => return Err(wrong_type(&format!("{p}.role"), "a string", other)),
    };
    let allowed = allowed_fields(role);
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(
            format!("Additional properties are not allowed ('{k}' was unexpected) - '{p}'"),
            Some(&p),
            None,
        ));
    }
    if let Some(name) = obj.get("name") {
        if !name.is_string() {
            return Err(wrong_type(&format!("{p}.name"), "a string", name));
        }
    }
    match role {
        "assistant" => validate_assistant(&p, obj),
        "tool" => {
            match obj.get("tool_call_id") {
                None => return Err(missing(&format!("{p}.tool_call_id"))),
                Some(Value::String(_)) => {}
                Some(other) => {
                    return Err(wrong_type(&format!("{p}.tool_call_id"), "a string", other))
                }
            }
            validate_content(&p, role, obj.get("content"))
        }
        _ => validate_content(&p, role, obj.get("content")),
    }
}

fn validate_assistant(p: &str, obj: &Map<String, Value>) -> Check {
    let has_calls = match obj.get("tool_calls") {
        None | Some(Value::Null) => false,
        Some(Value::Array(calls)) if calls.is_empty() => {
            return Err(empty_array(&format!("{p}.tool_calls")))
        }
        Some(Value::Array(calls)) => {
            for (j, call) in calls.iter().enumerate() {
                validate_tool_call(&format!("{p}.tool_calls[{j}]"), call)?;
            }
            true
        }
        Some(other) => return Err(wrong_type(&format!("{p}.tool_calls"), "an array", other)),
    };
    let alt = has_calls || obj.get("function_call").is_some_and(|v| !v.is_null());
    match obj.get("content") {
        None | Some(Value::Null) if alt => Ok(()),
        None | Some(Value::Null) => Err(invalid(
            "Invalid value for 'content': expected a string, got null.".into(),
            Some(&format!("{p}.content")),
            None,
        )),
        content => validate_content(p, "assistant", content),
    }
}

fn validate_tool_call(p: &str, call: &Value) -> Check {
    let Some(obj) = call.as_object() else {
        return Err(wrong_type(p, "an object", call));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["id", "type", "function"].contains(&k.as_str()))
    {
        return Err(invalid(
            format!("Additional properties are not allowed ('{k}' was unexpected) - '{p}'"),
            Some(p),
            None,
        ));
    }
    require_string(p, obj, "id")?;
    match obj.get("type") {
        None => return Err(missing(&format!("{p}.type"))),
        Some(Value::String(t)) if t == "function" => {}
        Some(Value::String(t)) => return Err(bad_value(&format!("{p}.type"), t, &["function"])),
        Some(other) => return Err(wrong_type(&format!("{p}.type"), "a string", other)),
    }
    let fp = format!("{p}.function");
    let func = match obj.get("function") {
        None => return Err(missing(&fp)),
        Some(Value::Object(f)) => f,
        Some(other) => return Err(wrong_type(&fp, "an object", other)),
    };
    if let Some(k) = func
        .keys()
        .find(|k| !["name", "arguments"].contains(&k.as_str()))
    {
        return Err(invalid(
            format!("Additional properties are not allowed ('{k}' was unexpected) - '{fp}'"),
            Some(&fp),
            None,
        ));
    }
    require_string(&fp, func, "name")?;
    require_string(&fp, func, "arguments")
}

fn require_string(p: &str, obj: &Map<String, Value>, key: &str) -> Check {
    match obj.get(key) {
        None => Err(missing(&format!("{p}.{key}"))),
        Some(Value::String(_)) => Ok(()),
        Some(other) => Err(wrong_type(&format!("{p}.{key}"), "a string", other)),
    }
}

fn validate_content(p: &str, role: &str, content: Option<&Value>) -> Check {
    let cp = format!("{p}.content");
    let parts = match content {
        None => return Err(missing(&cp)),
        Some(Value::String(_)) => return Ok(()),
        Some(Value::Array(parts)) if parts.is_empty() => return Err(empty_array(&cp)),
        Some(Value::Array(parts)) => parts,
        Some(other) => return Err(wrong_type(&cp, "a string or array", other)),
    };
    let allowed: &[&str] = match role {
        "user" => &["text", "image_url"],
        "assistant" => &["text", "refusal"],
        _ => &["text"],
    };
    for (j, part) in parts.iter().enumerate() {
        validate_part(&format!("{cp}[{j}]"), part, allowed)?;
    }
    Ok(())
}

fn validate_part(p: &str, part: &Value, allowed: &[&str]) -> Check {
    let Some(obj) = part.as_object() else {
        return Err(wrong_type(p, "an object", part));
    };
    let ty = match obj.get("type") {
        None => return Err(missing(&format!("{p}.type"))),
        Some(Value::String(t)) if allowed.contains(&t.as_str()) => t.as_str(),
        Some(Value::String(t)) => return Err(bad_value(&format!("{p}.type"), t, allowed)),
        Some(other) => return Err(wrong_type(&format!("{p}.type"), "a string", other)),
    };
    let fields: &[&str] = match ty {
        "image_url" => &["type", "image_url"],
        "refusal" => &["type", "refusal"],
        _ => &["type", "text"],
    };
    if let Some(k) = obj.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(invalid(
            format!("Additional properties are not allowed ('{k}' was unexpected) - '{p}'"),
            Some(p),
            None,
        ));
    }
    match ty {
        "image_url" => {
            let ip = format!("{p}.image_url");
            match obj.get("image_url") {
                None => Err(missing(&ip)),
                Some(Value::Object(img)) => require_string(&ip, img, "url"),
                Some(other) => Err(wrong_type(&ip, "an object", other)),
            }
        }
        "refusal" => require_string(p, obj, "refusal"),
        _ => require_string(p, obj, "text"),
    }
}

fn tool_call_ids(m: &Value) -> Vec<String> {
    m.get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("id").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

fn unanswered(idx: usize, ids: &[String]) -> Invalid {
    invalid(
        format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
            ids.join(", ")
        ),
        Some(&format!("messages.[{idx}].role")),
        None,
    )
}

/// Every assistant `tool_calls` must be answered by the tool messages that
/// directly follow it, and tool messages must answer such a call.
fn validate_tool_pairing(msgs: &[Value]) -> Check {
    // (index of assistant message, all ids, ids still unanswered)
    let mut open: Option<(usize, Vec<String>, Vec<String>)> = None;
    for (i, m) in msgs.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if role == "tool" {
            let id = m.get("tool_call_id").and_then(Value::as_str).unwrap_or("");
            let Some((_, all, pending)) = open.as_mut() else {
                return Err(invalid(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.".into(),
                    Some(&format!("messages.[{i}].role")),
                    None,
                ));
            };
            if !all.iter().any(|a| a == id) {
                return Err(invalid(
                    format!("Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' of previous message."),
                    Some(&format!("messages.[{i}].tool_call_id")),
                    None,
                ));
            }
            pending.retain(|p| p != id);
            continue;
        }
        if let Some((idx, _, pending)) = &open {
            if !pending.is_empty() {
                return Err(unanswered(*idx, pending));
            }
        }
        let ids = if role == "assistant" {
            tool_call_ids(m)
        } else {
            Vec::new()
        };
        open = (!ids.is_empty()).then(|| (i, ids.clone(), ids));
    }
    match open {
        Some((idx, _, pending)) if !pending.is_empty() => Err(unanswered(idx, &pending)),
        _ => Ok(()),
    }
}
