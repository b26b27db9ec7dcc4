//! `/v2/chat` body checks, worded the way Cohere words them
//! (`invalid request: ...`).

use serde_json::{Map, Value};

pub type Check = Result<(), String>;

const FIELDS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "strict_tools",
    "documents",
    "citation_options",
    "response_format",
    "safety_mode",
    "max_tokens",
    "stop_sequences",
    "temperature",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "k",
    "p",
    "logprobs",
    "tool_choice",
    "thinking",
    "priority",
    "stream",
];

fn bad(msg: &str) -> String {
    format!("invalid request: {msg}")
}

/// Rejects fields that `allowed` does not list.
pub fn known(obj: &Map<String, Value>, allowed: &[&str], path: &str) -> Check {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) if path.is_empty() => Err(bad(&format!(
            "unknown field: parameter {k} is not a valid field"
        ))),
        Some(k) => Err(bad(&format!(
            "unknown field: parameter {path}.{k} is not a valid field"
        ))),
        None => Ok(()),
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| bad(&format!("{path} must be an object")))
}

fn string<'a>(v: Option<&'a Value>, path: &str) -> Result<&'a str, String> {
    match v {
        Some(Value::String(s)) => Ok(s),
        None => Err(bad(&format!("{path} is required"))),
        Some(_) => Err(bad(&format!("{path} must be a string"))),
    }
}

fn number_in(body: &Map<String, Value>, name: &str, lo: f64, hi: f64) -> Check {
    match body.get(name) {
        None => Ok(()),
        Some(v) => match v.as_f64() {
            Some(x) if (lo..=hi).contains(&x) => Ok(()),
            _ => Err(bad(&format!("{name} must be between {lo} and {hi}"))),
        },
    }
}

/// Validates a chat request.
pub fn chat(body: &Map<String, Value>) -> Check {
    known(body, FIELDS, "")?;
    string(body.get("model"), "model")?;
    let messages = match body.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        Some(Value::Array(_)) => return Err(bad("messages must not be empty")),
        Some(_) => return Err(bad("messages must be an array")),
        None => return Err(bad("messages is required")),
    };
    let mut calls: Vec<&str> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        message(object(m, &format!("messages[{i}]"))?, i, &mut calls)?;
    }
    let tools = tools(body)?;
    match body.get("tool_choice") {
        None => {}
        Some(Value::String(c)) if (c == "REQUIRED" || c == "NONE") && tools == 0 => {
            return Err(bad("tool_choice requires tools to be specified"));
        }
        Some(Value::String(c)) if c == "REQUIRED" || c == "NONE" => {}
        Some(v) => {
            return Err(bad(&format!(
                "tool_choice must be one of REQUIRED, NONE, got {v}"
            )))
        }
    }
    if let Some(f) = body.get("response_format") {
        response_format(object(f, "response_format")?)?;
        if tools > 0 {
            return Err(bad("response_format is not supported with tools"));
        }
    }
    if let Some(t) = body.get("thinking") {
        thinking(object(t, "thinking")?)?;
    }
    scalars(body)
}

fn scalars(body: &Map<String, Value>) -> Check {
    number_in(body, "temperature", 0.0, 5.0)?;
    number_in(body, "p", 0.01, 0.99)?;
    number_in(body, "k", 0.0, 500.0)?;
    number_in(body, "frequency_penalty", 0.0, 1.0)?;
    number_in(body, "presence_penalty", 0.0, 1.0)?;
    if let Some(v) = body.get("max_tokens") {
        if v.as_u64().is_none_or(|n| n < 1) {
            return Err(bad("max_tokens must be a positive integer"));
        }
    }
    if let Some(v) = body.get("seed") {
        if !v.is_i64() && !v.is_u64() {
            return Err(bad("seed must be an integer"));
        }
    }
    if let Some(v) = body.get("stop_sequences") {
        let ok = v
            .as_array()
            .is_some_and(|a| a.len() <= 5 && a.iter().all(Value::is_string));
        if !ok {
            return Err(bad("stop_sequences must be a list of at most 5 strings"));
        }
    }
    for flag in ["stream", "strict_tools", "logprobs"] {
        if body.get(flag).is_some_and(|v| !v.is_boolean()) {
            return Err(bad(&format!("{flag} must be a boolean")));
        }
    }
    Ok(())
}

fn message<'a>(m: &'a Map<String, Value>, i: usize, calls: &mut Vec<&'a str>) -> Check {
    let at = format!("messages[{i}]");
    let role = string(m.get("role"), &format!("{at}.role"))?;
    match role {
        "system" => {
            known(m, &["role", "content"], &at)?;
            content(m.get("content"), &at, &["text"])
        }
        "user" => {
            known(m, &["role", "content"], &at)?;
            content(m.get("content"), &at, &["text", "image_url"])
        }
        "assistant" => assistant(m, &at, calls),
        "tool" => {
            known(m, &["role", "tool_call_id", "content"], &at)?;
            let id = string(m.get("tool_call_id"), &format!("{at}.tool_call_id"))?;
            if !calls.contains(&id) {
                return Err(bad(&format!(
                    "{at}.tool_call_id {id} does not match any tool call in previous messages"
                )));
            }
            content(m.get("content"), &at, &["text", "document"])
        }
        other => Err(bad(&format!(
            "{at}.role must be one of system, user, assistant, tool, got {other}"
        ))),
    }
}

fn assistant<'a>(m: &'a Map<String, Value>, at: &str, calls: &mut Vec<&'a str>) -> Check {
    known(
        m,
        &["role", "content", "tool_calls", "tool_plan", "citations"],
        at,
    )?;
    if let Some(c) = m.get("content") {
        content(Some(c), at, &["text", "thinking"])?;
    }
    if let Some(p) = m.get("tool_plan") {
        string(Some(p), &format!("{at}.tool_plan"))?;
    }
    let list = match m.get("tool_calls") {
        None => &[][..],
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad(&format!("{at}.tool_calls must be an array"))),
    };
    if list.is_empty() && m.get("content").is_none() {
        return Err(bad(&format!("{at} must have content or tool_calls")));
    }
    for (k, c) in list.iter().enumerate() {
        let p = format!("{at}.tool_calls[{k}]");
        let c = object(c, &p)?;
        known(c, &["id", "type", "function"], &p)?;
        calls.push(string(c.get("id"), &format!("{p}.id"))?);
        if c.get("type").is_some_and(|t| t != "function") {
            return Err(bad(&format!("{p}.type must be function")));
        }
        let f = object(
            c.get("function").unwrap_or(&Value::Null),
            &format!("{p}.function"),
        )?;
        known(f, &["name", "arguments"], &format!("{p}.function"))?;
        string(f.get("name"), &format!("{p}.function.name"))?;
        let args = string(f.get("arguments"), &format!("{p}.function.arguments"))?;
        if !serde_json::from_str::<Value>(args).is_ok_and(|v| v.is_object()) {
            return Err(bad(&format!(
                "{p}.function.arguments must be a JSON object"
            )));
        }
    }
    Ok(())
}

/// A content: a string, or an array of blocks whose `type` is in `types`.
fn content(c: Option<&Value>, at: &str, types: &[&str]) -> Check {
    let blocks = match c {
        Some(Value::String(_)) => return Ok(()),
        Some(Value::Array(b)) => b,
        Some(_) => return Err(bad(&format!("{at}.content must be a string or an array"))),
        None => return Err(bad(&format!("{at}.content is required"))),
    };
    for (j, b) in blocks.iter().enumerate() {
        let p = format!("{at}.content[{j}]");
        let b = object(b, &p)?;
        let kind = string(b.get("type"), &format!("{p}.type"))?;
        if !types.contains(&kind) {
            return Err(bad(&format!("{p}.type {kind} is not valid here")));
        }
        match kind {
            "text" => {
                known(b, &["type", "text"], &p)?;
                string(b.get("text"), &format!("{p}.text"))?;
            }
            "thinking" => {
                known(b, &["type", "thinking"], &p)?;
                string(b.get("thinking"), &format!("{p}.thinking"))?;
            }
            "image_url" => {
                known(b, &["type", "image_url"], &p)?;
                let img = object(
                    b.get("image_url").unwrap_or(&Value::Null),
                    &format!("{p}.image_url"),
                )?;
                known(img, &["url", "detail"], &format!("{p}.image_url"))?;
                string(img.get("url"), &format!("{p}.image_url.url"))?;
                if let Some(d) = img.get("detail") {
                    if !matches!(d.as_str(), Some("auto" | "low" | "high")) {
                        return Err(bad(&format!(
                            "{p}.image_url.detail must be one of auto, low, high"
                        )));
                    }
                }
            }
            _ => {
                known(b, &["type", "document"], &p)?;
                object(
                    b.get("document").unwrap_or(&Value::Null),
                    &format!("{p}.document"),
                )?;
            }
        }
    }
    Ok(())
}

/// Validates `tools`; returns how many there are.
fn tools(body: &Map<String, Value>) -> Result<usize, String> {
    let list = match body.get("tools") {
        None => return Ok(0),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad("tools must be an array")),
    };
    for (i, t) in list.iter().enumerate() {
        let p = format!("tools[{i}]");
        let t = object(t, &p)?;
        known(t, &["type", "function"], &p)?;
        if t.get("type").is_some_and(|v| v != "function") {
            return Err(bad(&format!("{p}.type must be function")));
        }
        let f = object(
            t.get("function").unwrap_or(&Value::Null),
            &format!("{p}.function"),
        )?;
        known(
            f,
            &["name", "description", "parameters"],
            &format!("{p}.function"),
        )?;
        string(f.get("name"), &format!("{p}.function.name"))?;
        if !f.get("parameters").is_some_and(Value::is_object) {
            return Err(bad(&format!("{p}.function.parameters is required")));
        }
    }
    Ok(list.len())
}

fn response_format(f: &Map<String, Value>) -> Check {
    match f.get("type").and_then(Value::as_str) {
        Some("text") => known(f, &["type"], "response_format"),
        Some("json_object") => {
            known(f, &["type", "json_schema"], "response_format")?;
            match f.get("json_schema") {
                None | Some(Value::Object(_)) => Ok(()),
                Some(_) => Err(bad("response_format.json_schema must be an object")),
            }
        }
        _ => Err(bad("response_format.type must be one of text, json_object")),
    }
}

fn thinking(t: &Map<String, Value>) -> Check {
    known(t, &["type", "token_budget"], "thinking")?;
    if !matches!(
        t.get("type").and_then(Value::as_str),
        Some("enabled" | "disabled")
    ) {
        return Err(bad("thinking.type must be one of enabled, disabled"));
    }
    match t.get("token_budget") {
        None => Ok(()),
        Some(b) if b.as_u64().is_some_and(|n| n >= 1) => Ok(()),
        Some(_) => Err(bad("thinking.token_budget must be a positive integer")),
    }
}
