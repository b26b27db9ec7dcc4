//! Request validation for `POST /v1/chat/completions` (top-level fields).

use serde_json::{Map, Value};

use super::messages::validate_messages;

/// A validation failure rendered as an OpenAI `invalid_request_error`.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub message: String,
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

pub type Check = Result<(), Invalid>;

pub fn invalid(message: String, param: Option<&str>, code: Option<&'static str>) -> Invalid {
    Invalid {
        message,
        param: param.map(str::to_string),
        code,
    }
}

pub const KNOWN_FIELDS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "user",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "service_tier",
    "store",
    "metadata",
    "reasoning_effort",
    "modalities",
    "audio",
    "prediction",
    "web_search_options",
];

/// JSON type name as OpenAI spells it in error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a decimal",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn wrong_type(param: &str, expected: &str, got: &Value) -> Invalid {
    invalid(
        format!(
            "Invalid type for '{param}': expected {expected}, but got {} instead.",
            type_name(got)
        ),
        Some(param),
        Some("invalid_type"),
    )
}

pub fn missing(param: &str) -> Invalid {
    invalid(
        format!("Missing required parameter: '{param}'."),
        Some(param),
        Some("missing_required_parameter"),
    )
}

pub fn empty_array(param: &str) -> Invalid {
    invalid(
        format!("Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead."),
        Some(param),
        Some("empty_array"),
    )
}

pub fn bad_value(param: &str, got: &str, supported: &[&str]) -> Invalid {
    let list: Vec<String> = supported.iter().map(|s| format!("'{s}'")).collect();
    invalid(
        format!(
            "Invalid value: '{got}'. Supported values are: {}.",
            list.join(", ")
        ),
        Some(param),
        Some("invalid_value"),
    )
}

/// Validates the whole request body.
pub fn validate(body: &Map<String, Value>) -> Check {
    if let Some(key) = body.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            format!("Unrecognized request argument supplied: {key}"),
            None,
            None,
        ));
    }
    match body.get("model") {
        None | Some(Value::Null) => {
            return Err(invalid(
                "you must provide a model parameter".into(),
                None,
                None,
            ))
        }
        Some(Value::String(_)) => {}
        Some(other) => return Err(wrong_type("model", "a string", other)),
    }
    match body.get("messages") {
        None | Some(Value::Null) => return Err(missing("messages")),
        Some(Value::Array(msgs)) if msgs.is_empty() => return Err(empty_array("messages")),
        Some(Value::Array(msgs)) => validate_messages(msgs)?,
        Some(other) => return Err(wrong_type("messages", "an array", other)),
    }
    validate_scalars(body)?;
    validate_stream(body)?;
    validate_stop(body.get("stop"))?;
    validate_tools(body)?;
    validate_response_format(body.get("response_format"))
}

pub enum Kind {
    Bool,
    Str,
    Obj,
    Arr,
    Int(i64, i64),
    Num(f64, f64),
}

pub fn check_kind(name: &str, v: &Value, kind: &Kind) -> Check {
    match kind {
        Kind::Bool if v.is_boolean() => Ok(()),
        Kind::Bool => Err(wrong_type(name, "a boolean", v)),
        Kind::Str if v.is_string() => Ok(()),
        Kind::Str => Err(wrong_type(name, "a string", v)),
        Kind::Obj if v.is_object() => Ok(()),
        Kind::Obj => Err(wrong_type(name, "an object", v)),
        Kind::Arr if v.is_array() => Ok(()),
        Kind::Arr => Err(wrong_type(name, "an array", v)),
        Kind::Int(min, max) => match v.as_i64() {
            None => Err(wrong_type(name, "an integer", v)),
            Some(n) => check_range(name, n as f64, *min as f64, *max as f64, "integer"),
        },
        Kind::Num(min, max) => match v.as_f64() {
            None => Err(wrong_type(name, "a number", v)),
            Some(n) => check_range(name, n, *min, *max, "decimal"),
        },
    }
}

fn check_range(name: &str, n: f64, min: f64, max: f64, what: &str) -> Check {
    let (dir, cmp, bound, code) = if n < min {
        ("below minimum", ">=", min, "below_min_value")
    } else if n > max {
        ("above maximum", "<=", max, "above_max_value")
    } else {
        return Ok(());
    };
    let code: &'static str = match (what, code) {
        ("integer", "below_min_value") => "integer_below_min_value",
        ("integer", _) => "integer_above_max_value",
        (_, "below_min_value") => "decimal_below_min_value",
        _ => "decimal_above_max_value",
    };
    Err(invalid(
        format!("Invalid '{name}': {what} {dir} value. Expected a value {cmp} {bound}, but got {n} instead."),
        Some(name),
        Some(code),
    ))
}

fn validate_scalars(body: &Map<String, Value>) -> Check {
    let table: &[(&str, Kind)] = &[
        ("stream", Kind::Bool),
        ("temperature", Kind::Num(0.0, 2.0)),
        ("top_p", Kind::Num(0.0, 1.0)),
        ("presence_penalty", Kind::Num(-2.0, 2.0)),
        ("frequency_penalty", Kind::Num(-2.0, 2.0)),
        ("max_tokens", Kind::Int(1, i64::MAX)),
        ("max_completion_tokens", Kind::Int(1, i64::MAX)),
        ("n", Kind::Int(1, 128)),
        ("seed", Kind::Int(i64::MIN, i64::MAX)),
        ("logprobs", Kind::Bool),
        ("top_logprobs", Kind::Int(0, 20)),
        ("user", Kind::Str),
        ("parallel_tool_calls", Kind::Bool),
        ("store", Kind::Bool),
        ("service_tier", Kind::Str),
        ("reasoning_effort", Kind::Str),
        ("metadata", Kind::Obj),
        ("logit_bias", Kind::Obj),
        ("modalities", Kind::Arr),
        ("audio", Kind::Obj),
        ("prediction", Kind::Obj),
        ("web_search_options", Kind::Obj),
        ("stream_options", Kind::Obj),
        ("response_format", Kind::Obj),
    ];
    for (name, kind) in table {
        match body.get(*name) {
            None | Some(Value::Null) => {}
            Some(v) => check_kind(name, v, kind)?,
        }
    }
    Ok(())
}

fn validate_stream(body: &Map<String, Value>) -> Check {
    let Some(Value::Object(opts)) = body.get("stream_options") else {
        return Ok(());
    };
    if body.get("stream") != Some(&Value::Bool(true)) {
        return Err(invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.".into(),
            Some("stream_options"),
            None,
        ));
    }
    for (k, v) in opts {
        match k.as_str() {
            "include_usage" | "include_obfuscation" => {
                check_kind(&format!("stream_options.{k}"), v, &Kind::Bool)?
            }
            _ => {
                return Err(invalid(
                    format!("Unrecognized request argument supplied: stream_options.{k}"),
                    None,
                    None,
                ))
            }
        }
    }
    Ok(())
}

fn validate_stop(stop: Option<&Value>) -> Check {
    match stop {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        Some(Value::Array(items)) => {
            if items.len() > 4 {
                return Err(invalid(
                    format!("Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length {} instead.", items.len()),
                    Some("stop"),
                    Some("array_above_max_length"),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                if !item.is_string() {
                    return Err(wrong_type(&format!("stop[{i}]"), "a string", item));
                }
            }
            Ok(())
        }
        Some(other) => Err(wrong_type("stop", "a string or array", other)),
    }
}

pub fn valid_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn validate_tool(i: usize, tool: &Value) -> Check {
    let p = format!("tools[{i}]");
    let Some(obj) = tool.as_object() else {
        return Err(wrong_type(&p, "an object", tool));
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("function") => {}
        Some(other) => return Err(bad_value(&format!("{p}.type"), other, &["function"])),
        None => return Err(missing(&format!("{p}.type"))),
    }
    if let Some(k) = obj
        .keys()
        .find(|k| !["type", "function"].contains(&k.as_str()))
    {
        return Err(invalid(
            format!("Unrecognized request argument supplied: {p}.{k}"),
            None,
            None,
        ));
    }
    let Some(func) = obj.get("function") else {
        return Err(missing(&format!("{p}.function")));
    };
    let Some(func) = func.as_object() else {
        return Err(wrong_type(&format!("{p}.function"), "an object", func));
    };
    let allowed = ["name", "description", "parameters", "strict"];
    if let Some(k) = func.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(
            format!("Unrecognized request argument supplied: {p}.function.{k}"),
            None,
            None,
        ));
    }
    let name_param = format!("{p}.function.name");
    match func.get("name") {
        None => return Err(missing(&name_param)),
        Some(Value::String(n)) if valid_function_name(n) => {}
        Some(Value::String(n)) => {
            return Err(invalid(
                format!("Invalid '{name_param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$' (1-64 chars), but got '{n}' instead."),
                Some(&name_param),
                Some("invalid_value"),
            ))
        }
        Some(other) => return Err(wrong_type(&name_param, "a string", other)),
    }
    let kinds = [
        ("description", Kind::Str),
        ("parameters", Kind::Obj),
        ("strict", Kind::Bool),
    ];
    for (field, kind) in kinds {
        if let Some(v) = func.get(field).filter(|v| !v.is_null()) {
            check_kind(&format!("{p}.function.{field}"), v, &kind)?;
        }
    }
    Ok(())
}

fn validate_tools(body: &Map<String, Value>) -> Check {
    let tools = match body.get("tools") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(t)) if t.is_empty() => return Err(empty_array("tools")),
        Some(Value::Array(t)) => &t[..],
        Some(other) => return Err(wrong_type("tools", "an array", other)),
    };
    for (i, tool) in tools.iter().enumerate() {
        validate_tool(i, tool)?;
    }
    for field in ["tool_choice", "parallel_tool_calls"] {
        if tools.is_empty() && body.get(field).is_some_and(|v| !v.is_null()) {
            return Err(invalid(
                format!("Invalid value for '{field}': '{field}' is only allowed when 'tools' are specified."),
                Some(field),
                None,
            ));
        }
    }
    validate_tool_choice(body.get("tool_choice"))
}

fn validate_tool_choice(choice: Option<&Value>) -> Check {
    let modes = ["none", "auto", "required"];
    match choice {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if modes.contains(&s.as_str()) => Ok(()),
        Some(Value::String(s)) => Err(bad_value("tool_choice", s, &modes)),
        Some(Value::Object(obj)) => {
            let name = obj
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str);
            if obj.get("type").and_then(Value::as_str) != Some("function") || name.is_none() {
                return Err(invalid(
                    "Invalid value for 'tool_choice': expected {\"type\": \"function\", \"function\": {\"name\": ...}}.".into(),
                    Some("tool_choice"),
                    Some("invalid_value"),
                ));
            }
            Ok(())
        }
        Some(other) => Err(wrong_type("tool_choice", "a string or object", other)),
    }
}

fn validate_response_format(rf: Option<&Value>) -> Check {
    let Some(Value::Object(obj)) = rf else {
        return Ok(());
    };
    let types = ["text", "json_object", "json_schema"];
    match obj.get("type") {
        None => Err(missing("response_format.type")),
        Some(Value::String(t)) if types.contains(&t.as_str()) => Ok(()),
        Some(Value::String(t)) => Err(bad_value("response_format.type", t, &types)),
        Some(other) => Err(wrong_type("response_format.type", "a string", other)),
    }
}
