//! Validation of `contents` (and `systemInstruction`): roles, parts, the
//! order of function call and response turns, and Gemini 3 thought
//! signatures.

use serde_json::{Map, Value};

use super::json::{boolean, camel, field, join, known, list, object, string, violation, Check};
use crate::embedding::base64;

const REQUEST: &str = "GenerateContentRequest";

const DATA_FIELDS: &[&str] = &[
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
];

const META_FIELDS: &[&str] = &[
    "thought",
    "thoughtSignature",
    "videoMetadata",
    "partMetadata",
    "mediaResolution",
];

/// Signatures Google documents as always accepted (for histories that
/// were not produced by the model).
const SKIP_SIGNATURES: &[&str] = &[
    "skip_thought_signature_validator",
    "context_engineering_is_the_way_to_go",
];

/// The mock's opaque signature of a function call (base64 of its name and
/// canonical arguments), carried by `gemini-3*` models' functionCall parts.
pub fn signature(name: &str, args: &Value) -> String {
    base64(format!("mock-thought-signature:{name}:{args}").as_bytes())
}

/// Whether a model has Gemini 3's thought signatures.
pub fn signs(model: &str) -> bool {
    model.starts_with("gemini-3")
}

fn bad(path: &str, message: &str) -> String {
    violation(REQUEST, path, message)
}

pub fn role(c: &Value) -> &str {
    c.get("role").and_then(Value::as_str).unwrap_or("user")
}

/// The parts of a (validated) content.
pub fn parts(c: &Value) -> &[Value] {
    c.get("parts")
        .and_then(Value::as_array)
        .map_or(&[], |p| &p[..])
}

/// The parts of a content holding `kind` (`"functionCall"`, ...).
pub fn parts_with<'a>(
    c: &'a Value,
    kind: &'a str,
) -> impl Iterator<Item = &'a Map<String, Value>> + 'a {
    parts(c)
        .iter()
        .filter_map(Value::as_object)
        .filter_map(move |p| field(p, kind).and_then(Value::as_object))
}

/// Validates `contents`, then the function turns and signatures.
pub fn validate_contents(contents: Option<&Value>, model: &str) -> Check {
    let items = match contents {
        None => &[][..],
        Some(v) => list(v, "contents", "Content")?,
    };
    if items.is_empty() {
        return Err(bad("contents", "contents is not specified"));
    }
    for (i, c) in items.iter().enumerate() {
        validate_content(c, &format!("contents[{i}]"), false)?;
    }
    validate_turns(items)?;
    if signs(model) {
        validate_signatures(items)?;
    }
    Ok(())
}

/// One `Content`; `system` for `systemInstruction` (any role, text only).
pub fn validate_content(v: &Value, p: &str, system: bool) -> Check {
    let obj = object(v, p, "Content")?;
    known(obj, &["role", "parts"], p)?;
    if let Some(r) = field(obj, "role") {
        let r = string(r, &join(p, "role"))?;
        if !system && !["user", "model", ""].contains(&r) {
            return Err("Please use a valid role: user, model.".into());
        }
    }
    let pp = join(p, "parts");
    let parts = match field(obj, "parts") {
        None => &[][..],
        Some(v) => list(v, &pp, "Part")?,
    };
    if parts.is_empty() {
        return Err(bad(&pp, "contents.parts must not be empty."));
    }
    for (j, part) in parts.iter().enumerate() {
        let path = format!("{pp}[{j}]");
        let data = validate_part(part, &path)?;
        if system && data != "text" {
            return Err(bad(&path, "system_instruction parts must be text"));
        }
    }
    Ok(())
}

/// One `Part`; returns which data field it sets.
fn validate_part(v: &Value, p: &str) -> Result<&'static str, String> {
    let obj = object(v, p, "Part")?;
    let all: Vec<&str> = DATA_FIELDS.iter().chain(META_FIELDS).copied().collect();
    known(obj, &all, p)?;
    let mut data: Option<&'static str> = None;
    for key in obj.keys().map(|k| camel(k)) {
        let Some(name) = DATA_FIELDS.iter().find(|d| **d == key) else {
            continue;
        };
        if data.is_some() {
            return Err(format!("Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '{name}'"));
        }
        data = Some(name);
    }
    let Some(data) = data else {
        return Err(bad(
            &join(p, "data"),
            "required oneof field 'data' must have one initialized field",
        ));
    };
    let value = field(obj, data).unwrap_or(&Value::Null);
    validate_data(data, value, &join(p, data))?;
    if let Some(t) = field(obj, "thought") {
        boolean(t, &join(p, "thought"))?;
    }
    if let Some(s) = field(obj, "thoughtSignature") {
        bytes(s, &join(p, "thoughtSignature"))?;
    }
    Ok(data)
}

fn bytes(v: &Value, p: &str) -> Check {
    let s = string(v, p)?;
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=-_".contains(&b));
    if !ok {
        return Err(format!(
            "Invalid value at '{p}' (TYPE_BYTES), Base64 decoding failed for \"{s}\""
        ));
    }
    Ok(())
}

fn required<'a>(obj: &'a Map<String, Value>, key: &str, p: &str) -> Result<&'a Value, String> {
    field(obj, key).ok_or_else(|| {
        bad(
            &join(p, key),
            &format!("{} is required", super::json::snake(key)),
        )
    })
}

fn validate_data(data: &str, v: &Value, p: &str) -> Check {
    if data == "text" {
        return string(v, p).map(|_| ());
    }
    let obj = object(v, p, "Part")?;
    match data {
        "inlineData" => {
            known(obj, &["mimeType", "data"], p)?;
            string(required(obj, "mimeType", p)?, &join(p, "mimeType"))?;
            bytes(required(obj, "data", p)?, &join(p, "data"))
        }
        "fileData" => {
            known(obj, &["mimeType", "fileUri"], p)?;
            if let Some(m) = field(obj, "mimeType") {
                string(m, &join(p, "mimeType"))?;
            }
            string(required(obj, "fileUri", p)?, &join(p, "fileUri")).map(|_| ())
        }
        "functionCall" => {
            known(obj, &["id", "name", "args"], p)?;
            string(required(obj, "name", p)?, &join(p, "name"))?;
            match field(obj, "args") {
                Some(a) => object(a, &join(p, "args"), "Struct").map(|_| ()),
                None => Ok(()),
            }
        }
        "functionResponse" => {
            let fields = [
                "id",
                "name",
                "response",
                "parts",
                "willContinue",
                "scheduling",
            ];
            known(obj, &fields, p)?;
            string(required(obj, "name", p)?, &join(p, "name"))?;
            object(
                required(obj, "response", p)?,
                &join(p, "response"),
                "Struct",
            )
            .map(|_| ())
        }
        _ => Ok(()),
    }
}

/// Function call turns follow a user or function response turn; function
/// response turns follow a function call turn and answer each of its calls.
fn validate_turns(items: &[Value]) -> Check {
    for (i, c) in items.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| items.get(j));
        let calls: Vec<&str> = prev
            .filter(|p| role(p) == "model")
            .map(|p| names(p, "functionCall"))
            .unwrap_or_default();
        let responses = names(c, "functionResponse");
        if role(c) == "model" && !names(c, "functionCall").is_empty() {
            if prev.is_some_and(|p| role(p) == "model") {
                return Err("Please ensure that function call turn comes immediately after a user turn or after a function response turn.".into());
            }
        } else if !responses.is_empty() {
            if calls.is_empty() {
                return Err("Please ensure that function response turn comes immediately after a function call turn.".into());
            }
            if let Some(name) = responses.iter().find(|n| !calls.contains(n)) {
                return Err(bad(&format!("contents[{i}]"), &format!("function response `{name}` does not match any function call of the previous turn")));
            }
            if responses.len() != calls.len() {
                return Err("Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.".into());
            }
        }
    }
    Ok(())
}

fn names<'a>(c: &'a Value, kind: &'a str) -> Vec<&'a str> {
    parts_with(c, kind)
        .filter_map(|o| o.get("name").and_then(Value::as_str))
        .collect()
}

/// Gemini 3: in the current turn (after the last user text), the first
/// functionCall part of each model content must carry the signature the
/// model gave it.
fn validate_signatures(items: &[Value]) -> Check {
    let is_user_text = |c: &Value| role(c) != "model" && names(c, "functionResponse").is_empty();
    let start = items.iter().rposition(is_user_text).map_or(0, |i| i + 1);
    for (i, c) in items.iter().enumerate().skip(start) {
        let first = parts(c)
            .iter()
            .filter_map(Value::as_object)
            .find(|p| field(p, "functionCall").is_some());
        let Some(part) = first.filter(|_| role(c) == "model") else {
            continue;
        };
        let call = field(part, "functionCall").unwrap_or(&Value::Null);
        let name = call.get("name").and_then(Value::as_str).unwrap_or("");
        let args = call
            .get("args")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        match field(part, "thoughtSignature").and_then(Value::as_str) {
            None => return Err(format!("Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:{name}` , position {}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.", i + 1)),
            Some(s) if s == signature(name, &args) || SKIP_SIGNATURES.contains(&s) => {}
            Some(_) => return Err("Corrupted thought signature.".into()),
        }
    }
    Ok(())
}
