//! `input` items of a Responses request: messages (with or without
//! `type: "message"`), `function_call`, `function_call_output`,
//! `custom_tool_call(_output)`, `reasoning` and `item_reference`.
//!
//! As on the real API, each `function_call_output` must answer a
//! `function_call` earlier in the same input (the mock is stateless, so
//! there is no stored response to find it in). Codex sends every item with
//! its `id`; `reasoning` items come back with `encrypted_content` and an
//! empty `summary` list, and the content must be what the mock issued for
//! that id (as the real API rejects content it cannot decrypt).

use serde_json::{Map, Value};

use super::super::validate::{bad_value, check_kind, invalid, missing, wrong_type, Check, Kind};
use super::validate::{check_keys, opt, opt_enum};

const ITEM_TYPES: &[&str] = &[
    "message",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "reasoning",
    "item_reference",
];
const ROLES: &[&str] = &["user", "assistant", "system", "developer"];
const STATUSES: &[&str] = &["in_progress", "completed", "incomplete"];

pub fn validate_items(items: &[Value]) -> Check {
    let mut calls: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("input[{i}]");
        let Some(obj) = item.as_object() else {
            return Err(wrong_type(&p, "an object", item));
        };
        let ty = match obj.get("type") {
            None if obj.contains_key("role") => "message",
            None => return Err(missing(&format!("{p}.type"))),
            Some(Value::String(t)) => t.as_str(),
            Some(v) => return Err(wrong_type(&format!("{p}.type"), "a string", v)),
        };
        match ty {
            "message" => validate_message(obj, &p)?,
            "function_call" | "custom_tool_call" => calls.push(validate_call(obj, &p, ty)?),
            "function_call_output" | "custom_tool_call_output" => {
                let id = validate_output(obj, &p)?;
                if !calls.contains(&id) {
                    return Err(invalid(
                        format!("No tool call found for function call output with call_id {id}."),
                        Some("input"),
                        None,
                    ));
                }
            }
            "reasoning" => validate_reasoning(obj, &p)?,
            "item_reference" => {
                check_keys(obj, &["type", "id"], &p)?;
                req_str(obj, "id", &p)?;
            }
            other => return Err(bad_value(&format!("{p}.type"), other, ITEM_TYPES)),
        }
    }
    Ok(())
}

fn req_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    p: &str,
) -> Result<&'a str, super::super::validate::Invalid> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(missing(&format!("{p}.{key}"))),
        Some(v) => Err(wrong_type(&format!("{p}.{key}"), "a string", v)),
    }
}

fn validate_message(obj: &Map<String, Value>, p: &str) -> Check {
    check_keys(
        obj,
        &["type", "role", "content", "id", "status", "phase"],
        p,
    )?;
    let role = match obj.get("role") {
        Some(Value::String(r)) if ROLES.contains(&r.as_str()) => r.as_str(),
        Some(Value::String(r)) => return Err(bad_value(&format!("{p}.role"), r, ROLES)),
        Some(v) => return Err(wrong_type(&format!("{p}.role"), "a string", v)),
        None => return Err(missing(&format!("{p}.role"))),
    };
    opt(obj, "id", p, &Kind::Str)?;
    opt_enum(obj, "status", p, STATUSES)?;
    let cp = format!("{p}.content");
    match obj.get("content") {
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                validate_part(part, &format!("{cp}[{j}]"), role)?;
            }
            Ok(())
        }
        None | Some(Value::Null) => Err(missing(&cp)),
        Some(v) => Err(wrong_type(&cp, "a string or array", v)),
    }
}

fn validate_part(part: &Value, p: &str, role: &str) -> Check {
    let Some(obj) = part.as_object() else {
        return Err(wrong_type(p, "an object", part));
    };
    let allowed: &[&str] = if role == "assistant" {
        &["output_text", "refusal"]
    } else {
        &["input_text", "input_image", "input_file"]
    };
    let ty = req_str(obj, "type", p)?;
    if !allowed.contains(&ty) {
        return Err(bad_value(&format!("{p}.type"), ty, allowed));
    }
    match ty {
        "input_text" => {
            check_keys(obj, &["type", "text"], p)?;
            req_str(obj, "text", p).map(|_| ())
        }
        "output_text" => {
            check_keys(obj, &["type", "text", "annotations", "logprobs"], p)?;
            opt(obj, "annotations", p, &Kind::Arr)?;
            req_str(obj, "text", p).map(|_| ())
        }
        "refusal" => {
            check_keys(obj, &["type", "refusal"], p)?;
            req_str(obj, "refusal", p).map(|_| ())
        }
        "input_image" => {
            check_keys(obj, &["type", "image_url", "file_id", "detail"], p)?;
            opt(obj, "image_url", p, &Kind::Str)?;
            opt(obj, "file_id", p, &Kind::Str)?;
            opt_enum(obj, "detail", p, &["low", "high", "auto", "original"])
        }
        _ => {
            let allowed = ["type", "file_id", "file_data", "file_url", "filename"];
            check_keys(obj, &allowed, p)
        }
    }
}

/// A `function_call` / `custom_tool_call`; returns its `call_id`.
fn validate_call<'a>(
    obj: &'a Map<String, Value>,
    p: &str,
    ty: &str,
) -> Result<&'a str, super::super::validate::Invalid> {
    let payload = if ty == "function_call" {
        "arguments"
    } else {
        "input"
    };
    check_keys(
        obj,
        &[
            "type",
            "id",
            "call_id",
            "name",
            "namespace",
            payload,
            "status",
        ],
        p,
    )?;
    opt(obj, "id", p, &Kind::Str)?;
    opt(obj, "namespace", p, &Kind::Str)?;
    opt_enum(obj, "status", p, STATUSES)?;
    req_str(obj, "name", p)?;
    req_str(obj, payload, p)?;
    req_str(obj, "call_id", p)
}

/// A `function_call_output` / `custom_tool_call_output`; returns its `call_id`.
fn validate_output<'a>(
    obj: &'a Map<String, Value>,
    p: &str,
) -> Result<&'a str, super::super::validate::Invalid> {
    check_keys(obj, &["type", "id", "call_id", "output", "status"], p)?;
    opt(obj, "id", p, &Kind::Str)?;
    opt_enum(obj, "status", p, STATUSES)?;
    let op = format!("{p}.output");
    match obj.get("output") {
        Some(Value::String(_)) => {}
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                validate_part(part, &format!("{op}[{j}]"), "user")?;
            }
        }
        None | Some(Value::Null) => return Err(missing(&op)),
        Some(v) => return Err(wrong_type(&op, "a string or array", v)),
    }
    req_str(obj, "call_id", p)
}

fn validate_reasoning(obj: &Map<String, Value>, p: &str) -> Check {
    let allowed = [
        "type",
        "id",
        "summary",
        "content",
        "encrypted_content",
        "status",
    ];
    check_keys(obj, &allowed, p)?;
    opt(obj, "id", p, &Kind::Str)?;
    opt(obj, "encrypted_content", p, &Kind::Str)?;
    opt(obj, "content", p, &Kind::Arr)?;
    if let Some(Value::String(enc)) = obj.get("encrypted_content") {
        let id = obj.get("id").and_then(Value::as_str).unwrap_or("");
        if *enc != super::respond::encrypted(id) {
            return Err(invalid(
                format!("The encrypted content for item {id} could not be verified."),
                Some(&format!("{p}.encrypted_content")),
                Some("invalid_encrypted_content"),
            ));
        }
    }
    let sp = format!("{p}.summary");
    let summary = match obj.get("summary") {
        Some(Value::Array(s)) => s,
        None => return Err(missing(&sp)),
        Some(v) => return Err(wrong_type(&sp, "an array", v)),
    };
    for (j, s) in summary.iter().enumerate() {
        let q = format!("{sp}[{j}]");
        let Some(o) = s.as_object() else {
            return Err(wrong_type(&q, "an object", s));
        };
        check_keys(o, &["type", "text"], &q)?;
        match o.get("type").and_then(Value::as_str) {
            Some("summary_text") => {}
            Some(t) => return Err(bad_value(&format!("{q}.type"), t, &["summary_text"])),
            None => return Err(missing(&format!("{q}.type"))),
        }
        let text = o.get("text").ok_or_else(|| missing(&format!("{q}.text")))?;
        check_kind(&format!("{q}.text"), text, &Kind::Str)?;
    }
    Ok(())
}

/// Text of a message `content`: the string, or its text parts joined by a space.
pub fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}
