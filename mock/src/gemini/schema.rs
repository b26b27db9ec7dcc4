//! Gemini's `Schema` (the OpenAPI 3.0 subset of `functionDeclarations[].parameters`
//! and `generationConfig.responseSchema`).
//!
//! Only the subset's keywords are fields of the proto, so JSON Schema
//! keywords such as `$ref`, `$schema` or `additionalProperties` are unknown
//! names (400 INVALID_ARGUMENT), exactly as the real API answers. Full JSON
//! Schema goes in `parametersJsonSchema` / `responseJsonSchema` instead.

use serde_json::{Map, Value};

use super::json::{
    boolean, enumeration, integer, join, known, list, number, object, string, Check,
};

pub const FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

pub const TYPES: &[&str] = &[
    "TYPE_UNSPECIFIED",
    "STRING",
    "NUMBER",
    "INTEGER",
    "BOOLEAN",
    "ARRAY",
    "OBJECT",
    "NULL",
];

fn strings(v: &Value, path: &str) -> Check {
    for (i, item) in list(v, path, "TYPE_STRING")?.iter().enumerate() {
        string(item, &format!("{path}[{i}]"))?;
    }
    Ok(())
}

fn scalar(key: &str, v: &Value, path: &str) -> Check {
    match key {
        "type" => enumeration(v, path, "Type", TYPES).map(|_| ()),
        "format" | "title" | "description" | "pattern" => string(v, path).map(|_| ()),
        "nullable" => boolean(v, path).map(|_| ()),
        "enum" | "required" | "propertyOrdering" => strings(v, path),
        "maxItems" | "minItems" | "minProperties" | "maxProperties" | "minLength" | "maxLength" => {
            integer(v, path).map(|_| ())
        }
        "minimum" | "maximum" => number(v, path).map(|_| ()),
        _ => Ok(()), // example, default: any value
    }
}

/// Validates one `Schema` object at `path`.
pub fn validate(v: &Value, path: &str) -> Check {
    let obj = object(v, path, "Schema")?;
    known(obj, FIELDS, path)?;
    for (key, value) in obj {
        let key = super::json::camel(key);
        let p = join(path, &key);
        match key.as_str() {
            "items" => validate(value, &p)?,
            "anyOf" => {
                for (i, s) in list(value, &p, "Schema")?.iter().enumerate() {
                    validate(s, &format!("{p}[{i}]"))?;
                }
            }
            "properties" => properties(value, &p)?,
            _ => scalar(&key, value, &p)?,
        }
    }
    Ok(())
}

fn properties(v: &Value, path: &str) -> Check {
    let props: &Map<String, Value> = object(v, path, "Schema")?;
    for (i, (_, schema)) in props.iter().enumerate() {
        validate(schema, &format!("{path}[{i}].value"))?;
    }
    Ok(())
}

/// The schema with `type` values lowercased (`"STRING"` -> `"string"`), the
/// spelling the shared reply logic reads.
pub fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("type", Value::String(t)) => Value::String(t.to_ascii_lowercase()),
                        _ => normalized(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}
