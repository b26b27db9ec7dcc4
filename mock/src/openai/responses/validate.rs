//! Validation of `POST /v1/responses` bodies, top level and tools; input
//! items are in `input`. Errors are OpenAI's: unknown parameters are
//! `unknown_parameter` naming the parameter, wrong JSON types
//! `invalid_type`, bad enum values `invalid_value`, params in the
//! `a.b[0].c` style.
//!
//! `client_metadata` is not in the public reference but Codex sends it on
//! every request (string values), so it is accepted with that shape.

use serde_json::{Map, Value};

use super::super::validate::{
    bad_value, check_kind, invalid, missing, valid_function_name, wrong_type, Check, Kind,
};

pub const KNOWN_FIELDS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_output_tokens",
    "max_tool_calls",
    "temperature",
    "top_p",
    "top_logprobs",
    "reasoning",
    "text",
    "include",
    "store",
    "metadata",
    "previous_response_id",
    "conversation",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_retention",
    "safety_identifier",
    "service_tier",
    "truncation",
    "user",
    "background",
    "client_metadata",
];

const INCLUDABLE: &[&str] = &[
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
    "message.input_image.image_url",
    "web_search_call.action.sources",
    "web_search_call.results",
    "code_interpreter_call.outputs",
    "computer_call_output.output.image_url",
    "file_search_call.results",
];

/// Built-in tool types accepted without further checks of their fields.
const BUILTIN_TOOLS: &[&str] = &[
    "web_search",
    "web_search_preview",
    "web_search_2025_08_26",
    "file_search",
    "code_interpreter",
    "image_generation",
    "computer_use_preview",
    "mcp",
    "local_shell",
    "shell",
    "apply_patch",
];

pub fn unknown(param: &str) -> super::super::validate::Invalid {
    invalid(
        format!("Unknown parameter: '{param}'."),
        Some(param),
        Some("unknown_parameter"),
    )
}

/// Rejects keys of `obj` outside `allowed`, naming `prefix.key`.
pub fn check_keys(obj: &Map<String, Value>, allowed: &[&str], prefix: &str) -> Check {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(unknown(&format!("{prefix}.{k}"))),
        None => Ok(()),
    }
}

/// An optional field of `obj` that must have `kind` when present (null is
/// "not given", as the API treats it).
pub fn opt(obj: &Map<String, Value>, key: &str, prefix: &str, kind: &Kind) -> Check {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => check_kind(&join(prefix, key), v, kind),
    }
}

pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// An optional string field that must be one of `allowed`.
pub fn opt_enum(obj: &Map<String, Value>, key: &str, prefix: &str, allowed: &[&str]) -> Check {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        Some(Value::String(s)) => Err(bad_value(&join(prefix, key), s, allowed)),
        Some(v) => Err(wrong_type(&join(prefix, key), "a string", v)),
    }
}

/// Validates the whole request body.
pub fn validate(body: &Map<String, Value>) -> Check {
    if let Some(key) = body.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(unknown(key));
    }
    match body.get("model") {
        None | Some(Value::Null) => return Err(missing("model")),
        Some(Value::String(_)) => {}
        Some(other) => return Err(wrong_type("model", "a string", other)),
    }
    if let Some(Value::String(id)) = body.get("previous_response_id") {
        return Err(invalid(
            format!("Previous response with id '{id}' not found."),
            Some("previous_response_id"),
            Some("previous_response_not_found"),
        ));
    }
    validate_scalars(body)?;
    match body.get("input") {
        None | Some(Value::Null) => return Err(missing("input")),
        Some(Value::String(_)) => {}
        Some(Value::Array(items)) => super::input::validate_items(items)?,
        Some(other) => return Err(wrong_type("input", "a string or array", other)),
    }
    validate_stream_options(body)?;
    validate_reasoning(body.get("reasoning"))?;
    validate_text(body.get("text"))?;
    validate_include(body.get("include"))?;
    validate_tools(body.get("tools"))?;
    validate_tool_choice(body.get("tool_choice"))
}

fn validate_scalars(body: &Map<String, Value>) -> Check {
    let table: &[(&str, Kind)] = &[
        ("instructions", Kind::Str),
        ("stream", Kind::Bool),
        ("parallel_tool_calls", Kind::Bool),
        ("max_output_tokens", Kind::Int(16, i64::MAX)),
        ("max_tool_calls", Kind::Int(1, i64::MAX)),
        ("temperature", Kind::Num(0.0, 2.0)),
        ("top_p", Kind::Num(0.0, 1.0)),
        ("top_logprobs", Kind::Int(0, 20)),
        ("store", Kind::Bool),
        ("background", Kind::Bool),
        ("metadata", Kind::Obj),
        ("client_metadata", Kind::Obj),
        ("prompt_cache_key", Kind::Str),
        ("safety_identifier", Kind::Str),
        ("user", Kind::Str),
        ("reasoning", Kind::Obj),
        ("text", Kind::Obj),
        ("include", Kind::Arr),
        ("tools", Kind::Arr),
        ("stream_options", Kind::Obj),
    ];
    for (name, kind) in table {
        opt(body, name, "", kind)?;
    }
    opt_enum(
        body,
        "service_tier",
        "",
        &["auto", "default", "flex", "scale", "priority"],
    )?;
    opt_enum(body, "truncation", "", &["auto", "disabled"])?;
    opt_enum(body, "prompt_cache_retention", "", &["in-memory", "24h"])?;
    for key in ["metadata", "client_metadata"] {
        let entries = body.get(key).and_then(Value::as_object);
        for (k, v) in entries.into_iter().flatten() {
            check_kind(&format!("{key}.{k}"), v, &Kind::Str)?;
        }
    }
    Ok(())
}

fn validate_stream_options(body: &Map<String, Value>) -> Check {
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
    check_keys(opts, &["include_obfuscation"], "stream_options")?;
    opt(opts, "include_obfuscation", "stream_options", &Kind::Bool)
}

fn validate_reasoning(r: Option<&Value>) -> Check {
    let Some(Value::Object(r)) = r else {
        return Ok(());
    };
    check_keys(r, &["effort", "summary", "generate_summary"], "reasoning")?;
    let efforts = ["none", "minimal", "low", "medium", "high", "xhigh"];
    opt_enum(r, "effort", "reasoning", &efforts)?;
    let summaries = ["auto", "concise", "detailed"];
    opt_enum(r, "summary", "reasoning", &summaries)?;
    opt_enum(r, "generate_summary", "reasoning", &summaries)
}

fn validate_text(t: Option<&Value>) -> Check {
    let Some(Value::Object(t)) = t else {
        return Ok(());
    };
    check_keys(t, &["format", "verbosity"], "text")?;
    opt_enum(t, "verbosity", "text", &["low", "medium", "high"])?;
    opt(t, "format", "text", &Kind::Obj)?;
    let Some(Value::Object(f)) = t.get("format") else {
        return Ok(());
    };
    match f.get("type") {
        None => Err(missing("text.format.type")),
        Some(Value::String(s)) if s == "text" || s == "json_object" => {
            check_keys(f, &["type"], "text.format")
        }
        Some(Value::String(s)) if s == "json_schema" => {
            let allowed = ["type", "name", "schema", "strict", "description"];
            check_keys(f, &allowed, "text.format")?;
            match f.get("name") {
                Some(Value::String(n)) if valid_function_name(n) => {}
                Some(Value::String(n)) => return Err(bad_name("text.format.name", n)),
                Some(v) => return Err(wrong_type("text.format.name", "a string", v)),
                None => return Err(missing("text.format.name")),
            }
            match f.get("schema") {
                Some(Value::Object(_)) => {}
                Some(v) => return Err(wrong_type("text.format.schema", "an object", v)),
                None => return Err(missing("text.format.schema")),
            }
            opt(f, "strict", "text.format", &Kind::Bool)
        }
        Some(Value::String(s)) => Err(bad_value(
            "text.format.type",
            s,
            &["text", "json_object", "json_schema"],
        )),
        Some(v) => Err(wrong_type("text.format.type", "a string", v)),
    }
}

pub fn bad_name(param: &str, name: &str) -> super::super::validate::Invalid {
    invalid(
        format!("Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$', but got '{name}' instead."),
        Some(param),
        Some("invalid_value"),
    )
}

fn validate_include(inc: Option<&Value>) -> Check {
    let items = inc.and_then(Value::as_array);
    for (i, v) in items.into_iter().flatten().enumerate() {
        let p = format!("include[{i}]");
        match v.as_str() {
            Some(s) if INCLUDABLE.contains(&s) => {}
            Some(s) => return Err(bad_value(&p, s, INCLUDABLE)),
            None => return Err(wrong_type(&p, "a string", v)),
        }
    }
    Ok(())
}

fn validate_tools(tools: Option<&Value>) -> Check {
    let tools = tools.and_then(Value::as_array);
    let mut names: Vec<&str> = Vec::new();
    for (i, tool) in tools.into_iter().flatten().enumerate() {
        let p = format!("tools[{i}]");
        let Some(obj) = tool.as_object() else {
            return Err(wrong_type(&p, "an object", tool));
        };
        let name = validate_tool(obj, &p)?;
        if let Some(name) = name {
            if names.contains(&name) {
                return Err(invalid(
                    format!("Duplicate tool name: '{name}'."),
                    Some("tools"),
                    Some("duplicate_tool_name"),
                ));
            }
            names.push(name);
        }
    }
    Ok(())
}

/// One tool; returns its name for function, custom and namespace tools.
fn validate_tool<'a>(
    obj: &'a Map<String, Value>,
    p: &str,
) -> Result<Option<&'a str>, super::super::validate::Invalid> {
    let ty = match obj.get("type") {
        None => return Err(missing(&format!("{p}.type"))),
        Some(Value::String(t)) => t.as_str(),
        Some(v) => return Err(wrong_type(&format!("{p}.type"), "a string", v)),
    };
    match ty {
        "function" => {
            let allowed = [
                "type",
                "name",
                "description",
                "parameters",
                "strict",
                "defer_loading",
            ];
            check_keys(obj, &allowed, p)?;
            opt(obj, "parameters", p, &Kind::Obj)?;
            opt(obj, "strict", p, &Kind::Bool)?;
        }
        "custom" => {
            check_keys(obj, &["type", "name", "description", "format"], p)?;
            opt(obj, "format", p, &Kind::Obj)?;
        }
        "namespace" => {
            check_keys(obj, &["type", "name", "description", "tools"], p)?;
            let inner = obj.get("tools").and_then(Value::as_array);
            for (j, t) in inner.into_iter().flatten().enumerate() {
                let q = format!("{p}.tools[{j}]");
                match t.as_object() {
                    Some(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
                        validate_tool(o, &q)?;
                    }
                    Some(o) => {
                        let got = o.get("type").and_then(Value::as_str).unwrap_or("");
                        return Err(bad_value(&format!("{q}.type"), got, &["function"]));
                    }
                    None => return Err(wrong_type(&q, "an object", t)),
                }
            }
        }
        t if BUILTIN_TOOLS.contains(&t) => return Ok(None),
        other => {
            let mut all = vec!["function", "custom", "namespace"];
            all.extend_from_slice(BUILTIN_TOOLS);
            return Err(bad_value(&format!("{p}.type"), other, &all));
        }
    }
    opt(obj, "description", p, &Kind::Str)?;
    match obj.get("name") {
        Some(Value::String(n)) if valid_function_name(n) => Ok(Some(n.as_str())),
        Some(Value::String(n)) => Err(bad_name(&format!("{p}.name"), n)),
        Some(v) => Err(wrong_type(&format!("{p}.name"), "a string", v)),
        None => Err(missing(&format!("{p}.name"))),
    }
}

fn validate_tool_choice(tc: Option<&Value>) -> Check {
    match tc {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) => match s.as_str() {
            "none" | "auto" | "required" => Ok(()),
            other => Err(bad_value(
                "tool_choice",
                other,
                &["none", "auto", "required"],
            )),
        },
        Some(Value::Object(o)) => match o.get("type").and_then(Value::as_str) {
            Some("function") | Some("custom") => {
                check_keys(o, &["type", "name"], "tool_choice")?;
                match o.get("name") {
                    Some(Value::String(_)) => Ok(()),
                    Some(v) => Err(wrong_type("tool_choice.name", "a string", v)),
                    None => Err(missing("tool_choice.name")),
                }
            }
            Some("allowed_tools") => check_keys(o, &["type", "mode", "tools"], "tool_choice"),
            Some(t) if BUILTIN_TOOLS.contains(&t) => check_keys(o, &["type"], "tool_choice"),
            Some(t) => Err(bad_value(
                "tool_choice.type",
                t,
                &["function", "custom", "allowed_tools"],
            )),
            None => Err(missing("tool_choice.type")),
        },
        Some(v) => Err(wrong_type("tool_choice", "a string or object", v)),
    }
}
