//! Proto-JSON style checks shared by the Gemini validators.
//!
//! The real API parses bodies as proto3 JSON: every field may be spelled in
//! lowerCamelCase or in the proto's snake_case, unknown names are rejected
//! with `Invalid JSON payload received. Unknown name "x" at 'path': Cannot
//! find field.`, and paths in messages use the snake_case names with
//! `[i]` indices (`contents[0].parts[1]`).

use serde_json::{Map, Value};

pub type Check = Result<(), String>;

/// `lowerCamelCase` of a snake_case (or already camelCase) name.
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// snake_case of a camelCase name (for paths in error messages).
pub fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn join(path: &str, camel_name: &str) -> String {
    if path.is_empty() {
        snake(camel_name)
    } else {
        format!("{path}.{}", snake(camel_name))
    }
}

/// A field by its camelCase name, also found under its snake_case name.
pub fn field<'a>(obj: &'a Map<String, Value>, camel_name: &str) -> Option<&'a Value> {
    obj.get(camel_name).or_else(|| obj.get(&snake(camel_name)))
}

fn unknown(name: &str, path: &str) -> String {
    if path.is_empty() {
        format!("Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.")
    } else {
        format!("Invalid JSON payload received. Unknown name \"{name}\" at '{path}': Cannot find field.")
    }
}

/// Rejects names that are not fields of the message (in either spelling).
pub fn known(obj: &Map<String, Value>, allowed: &[&str], path: &str) -> Check {
    match obj.keys().find(|k| !allowed.contains(&camel(k).as_str())) {
        Some(k) => Err(unknown(k, path)),
        None => Ok(()),
    }
}

fn invalid_value(path: &str, ty: &str, v: &Value) -> String {
    format!("Invalid value at '{path}' ({ty}), {v}")
}

/// A message-typed field: must be an object.
pub fn object<'a>(
    v: &'a Value,
    path: &str,
    message: &str,
) -> Result<&'a Map<String, Value>, String> {
    match v {
        Value::Object(o) => Ok(o),
        Value::Array(_) => {
            let (parent, name) = path.rsplit_once('.').unwrap_or(("", path));
            Err(format!("Invalid JSON payload received. Unknown name \"{}\" at '{parent}': Proto field is not repeating, cannot start list.", camel(name)))
        }
        other => Err(invalid_value(
            path,
            &format!("type.googleapis.com/google.ai.generativelanguage.v1beta.{message}"),
            other,
        )),
    }
}

/// A repeated field: must be an array.
pub fn list<'a>(v: &'a Value, path: &str, ty: &str) -> Result<&'a [Value], String> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(invalid_value(path, ty, other)),
    }
}

pub fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| invalid_value(path, "TYPE_STRING", v))
}

pub fn boolean(v: &Value, path: &str) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| invalid_value(path, "TYPE_BOOL", v))
}

/// An integer (proto JSON also takes integers as strings: `"5"`).
pub fn integer(v: &Value, path: &str) -> Result<i64, String> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid_value(path, "TYPE_INT32", v))
}

pub fn number(v: &Value, path: &str) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| invalid_value(path, "TYPE_FLOAT", v))
}

/// An enum value (accepted case-insensitively, as the API does).
pub fn enumeration<'a>(
    v: &'a Value,
    path: &str,
    name: &str,
    values: &[&str],
) -> Result<&'a str, String> {
    match v.as_str() {
        Some(s) if values.iter().any(|e| e.eq_ignore_ascii_case(s)) => Ok(s),
        _ => Err(invalid_value(
            path,
            &format!("type.googleapis.com/google.ai.generativelanguage.v1beta.{name}"),
            v,
        )),
    }
}

/// A semantic (post-parse) error: `* GenerateContentRequest.path: message`.
pub fn violation(request: &str, path: &str, message: &str) -> String {
    format!("* {request}.{path}: {message}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(camel("max_output_tokens"), "maxOutputTokens");
        assert_eq!(camel("maxOutputTokens"), "maxOutputTokens");
        assert_eq!(snake("functionDeclarations"), "function_declarations");
        assert_eq!(
            join("tools[0]", "functionDeclarations"),
            "tools[0].function_declarations"
        );
        let obj = serde_json::json!({"top_k": 3, "x": 1});
        let obj = obj.as_object().unwrap();
        assert_eq!(field(obj, "topK"), Some(&serde_json::json!(3)));
        let err = known(obj, &["topK"], "generation_config").unwrap_err();
        assert_eq!(err, "Invalid JSON payload received. Unknown name \"x\" at 'generation_config': Cannot find field.");
    }
}
