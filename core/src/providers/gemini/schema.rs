//! JSON Schema (OpenAI `tools[].function.parameters`) → Gemini `Schema`,
//! the OpenAPI 3.0 subset `functionDeclarations[].parameters` accepts.
//!
//! Gemini's `Schema` is a proto message: a keyword it does not define is
//! an unknown field and the whole request is a 400. So the schema is
//! rewritten keyword by keyword, and every keyword falls in one of four
//! groups:
//! * kept: `type` (upper-cased to the proto enum), `format`, `title`,
//!   `description`, `nullable`, `enum`, `items`, `properties`, `required`,
//!   `anyOf`, `minItems`/`maxItems`, `minLength`/`maxLength`, `pattern`,
//!   `minProperties`/`maxProperties`, `minimum`/`maximum`,
//!   `propertyOrdering`, `default`, `example`;
//! * translated: `type: [T, "null"]` → `type: T` + `nullable: true` (several
//!   non-null types → `anyOf` of one branch per type); `const: v` → `enum:
//!   [v]`; enum numbers → their decimal text (Gemini enums are strings, its
//!   docs show integer enums that way) and a `null` member → `nullable`;
//!   `oneOf` → `anyOf` (Google interprets `oneOf` as `anyOf` in its own
//!   JSON Schema support; a union meant as exclusive is almost always
//!   disjoint anyway); `allOf` with a single subschema → merged in;
//!   `exclusiveMinimum`/`exclusiveMaximum` on integers → `minimum + 1` /
//!   `maximum - 1`; local `$ref`s (`#/$defs/..`, `#/definitions/..`) are
//!   inlined, sibling keywords overriding the target's;
//! * dropped, because they never change which arguments are valid:
//!   annotations (`$schema`, `$id`, `$comment`, `$anchor`, `examples`,
//!   `deprecated`, `readOnly`, `writeOnly`, `contentMediaType`, ...), the
//!   no-ops `additionalProperties: true`/`{}`, `uniqueItems: false`,
//!   `exclusiveMinimum: false`, and keywords JSON Schema itself ignores
//!   (unknown names). `additionalProperties: false` is dropped too: it is
//!   the boilerplate of every OpenAI strict-mode schema, Gemini's `Schema`
//!   cannot say it, and Gemini fills in declared properties only;
//! * refused with a 400 naming `tools[i].function.parameters.<path>`:
//!   everything else that constrains values and has no Gemini equivalent
//!   (`not`, `if`/`then`/`else`, `multipleOf`, `contains`, tuple `items`,
//!   `prefixItems`, `patternProperties`, `propertyNames`, `dependent*`,
//!   `unevaluated*`, schema-valued `additionalProperties`, `uniqueItems:
//!   true`, `allOf` with several members, remote `$ref`s), recursive
//!   `$ref`s (Gemini schemas are trees), and schemas nested deeper than
//!   [`MAX_DEPTH`] or expanding to more than [`MAX_NODES`] nodes.
//!
//! A root object schema without properties becomes no `parameters` at all:
//! Gemini rejects an `OBJECT` with empty `properties`, and a function
//! without parameters is declared by leaving them out.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// Deepest nesting accepted (refs count as a level).
pub const MAX_DEPTH: usize = 32;
/// Most schema nodes one declaration may expand to (refs inlined).
pub const MAX_NODES: usize = 2_000;

/// Keywords that never change validation (or are consumed by inlining).
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "$anchor",
    "$dynamicAnchor",
    "$vocabulary",
    "$defs",
    "definitions",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "discriminator",
    "externalDocs",
    "xml",
];

/// Keywords that constrain values in ways Gemini cannot express.
const UNSUPPORTED: &[&str] = &[
    "not",
    "if",
    "then",
    "else",
    "multipleOf",
    "contains",
    "minContains",
    "maxContains",
    "prefixItems",
    "additionalItems",
    "unevaluatedItems",
    "unevaluatedProperties",
    "patternProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "$dynamicRef",
    "$recursiveRef",
    "$recursiveAnchor",
];

/// Converts `parameters` of `tools[index]`; `None` when the function takes
/// no parameters.
pub fn parameters(raw: &str, index: usize) -> Result<Option<Value>, ApiError> {
    let base = format!("tools[{index}].function.parameters");
    let root: Value = serde_json::from_str(raw)
        .map_err(|_| ApiError::invalid_param(&base, format!("`{base}` must be a JSON schema.")))?;
    let mut conv = Converter {
        root: &root,
        refs: Vec::new(),
        nodes: 0,
    };
    let out = conv.node(&root, &base, 0)?;
    match out.get("type").and_then(Value::as_str) {
        None | Some("OBJECT") => {}
        Some(_) => {
            let p = format!("{base}.type");
            return Err(ApiError::invalid_param(
                &p,
                format!("`{p}` must be `object`: function parameters are an object."),
            ));
        }
    }
    let has_props = out
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    Ok(has_props.then_some(Value::Object(out)))
}

fn refuse(path: &str, why: &str) -> ApiError {
    ApiError::invalid_param(
        path,
        format!("`{path}` cannot be sent to provider gemini: {why}."),
    )
}

struct Converter<'s> {
    root: &'s Value,
    /// The `$ref`s being expanded, innermost last (recursion check).
    refs: Vec<String>,
    nodes: usize,
}

impl Converter<'_> {
    fn node(
        &mut self,
        schema: &Value,
        path: &str,
        depth: usize,
    ) -> Result<Map<String, Value>, ApiError> {
        self.nodes += 1;
        if depth > MAX_DEPTH {
            return Err(refuse(
                path,
                &format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        if self.nodes > MAX_NODES {
            return Err(refuse(
                path,
                &format!("expands to more than {MAX_NODES} schemas"),
            ));
        }
        let obj = match schema {
            Value::Bool(true) => return Ok(Map::new()),
            Value::Object(o) => o,
            _ => return Err(refuse(path, "not a schema object")),
        };
        if let Some(target) = obj.get("$ref") {
            return self.reference(obj, target, path, depth);
        }
        if let Some(all) = obj.get("allOf") {
            return self.all_of(obj, all, path, depth);
        }
        if obj.contains_key("anyOf") && obj.contains_key("oneOf") {
            return Err(refuse(path, "`anyOf` and `oneOf` together"));
        }
        let mut out = Map::new();
        let integer = is_integer(obj.get("type"));
        for (key, value) in obj {
            let p = format!("{path}.{key}");
            self.keyword(&mut out, key, value, &p, integer, depth)?;
        }
        Ok(out)
    }

    fn keyword(
        &mut self,
        out: &mut Map<String, Value>,
        key: &str,
        value: &Value,
        p: &str,
        integer: bool,
        depth: usize,
    ) -> Result<(), ApiError> {
        match key {
            "type" => set_type(out, value, p)?,
            "nullable" => match value {
                Value::Bool(b) => or_nullable(out, *b),
                _ => return Err(refuse(p, "not a boolean")),
            },
            "enum" => set_enum(out, value, p)?,
            "const" => set_enum(out, &Value::Array(vec![value.clone()]), p)?,
            "format" | "title" | "description" | "pattern" => {
                if !value.is_string() {
                    return Err(refuse(p, "not a string"));
                }
                out.insert(key.to_string(), value.clone());
            }
            "default" | "example" => {
                out.insert(key.to_string(), value.clone());
            }
            "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
            | "maxProperties" => {
                if value.as_u64().is_none() {
                    return Err(refuse(p, "not a non-negative integer"));
                }
                out.insert(key.to_string(), value.clone());
            }
            "minimum" | "maximum" => {
                if !value.is_number() {
                    return Err(refuse(p, "not a number"));
                }
                bound(out, key, value);
            }
            "exclusiveMinimum" | "exclusiveMaximum" => exclusive(out, key, value, p, integer)?,
            "required" | "propertyOrdering" => {
                let names = value.as_array().filter(|v| v.iter().all(Value::is_string));
                if names.is_none() {
                    return Err(refuse(p, "not an array of strings"));
                }
                out.insert(key.to_string(), value.clone());
            }
            "items" => match value {
                Value::Array(_) => {
                    return Err(refuse(p, "tuple `items` (one schema per position)"))
                }
                _ => {
                    let items = self.node(value, p, depth + 1)?;
                    out.insert("items".to_string(), Value::Object(items));
                }
            },
            "properties" => self.properties(out, value, p, depth)?,
            "anyOf" | "oneOf" => self.any_of(out, value, p, depth)?,
            "additionalProperties" => match value {
                Value::Bool(_) => {}
                Value::Object(o) if o.is_empty() => {}
                _ => return Err(refuse(p, "a schema for additional properties (maps)")),
            },
            "uniqueItems" if value != &Value::Bool(false) => {
                return Err(refuse(p, "unique array items"))
            }
            k if UNSUPPORTED.contains(&k) => {
                return Err(refuse(p, &format!("`{k}` has no Gemini equivalent")))
            }
            k if ANNOTATIONS.contains(&k) => {}
            _ => {} // keywords JSON Schema itself ignores
        }
        Ok(())
    }

    fn properties(
        &mut self,
        out: &mut Map<String, Value>,
        value: &Value,
        p: &str,
        depth: usize,
    ) -> Result<(), ApiError> {
        let Some(props) = value.as_object() else {
            return Err(refuse(p, "not an object"));
        };
        let mut conv = Map::new();
        for (name, schema) in props {
            let s = self.node(schema, &format!("{p}.{name}"), depth + 1)?;
            conv.insert(name.clone(), Value::Object(s));
        }
        if !conv.is_empty() {
            out.insert("properties".to_string(), Value::Object(conv));
        }
        Ok(())
    }

    fn any_of(
        &mut self,
        out: &mut Map<String, Value>,
        value: &Value,
        p: &str,
        depth: usize,
    ) -> Result<(), ApiError> {
        let Some(branches) = value.as_array().filter(|b| !b.is_empty()) else {
            return Err(refuse(p, "not a non-empty array of schemas"));
        };
        if out.contains_key("anyOf") {
            return Err(refuse(p, "several types together with `anyOf`"));
        }
        let mut conv = Vec::with_capacity(branches.len());
        for (i, b) in branches.iter().enumerate() {
            conv.push(Value::Object(self.node(
                b,
                &format!("{p}[{i}]"),
                depth + 1,
            )?));
        }
        out.insert("anyOf".to_string(), Value::Array(conv));
        Ok(())
    }

    /// Inlines a local `$ref`; sibling keywords override the target's.
    fn reference(
        &mut self,
        obj: &Map<String, Value>,
        target: &Value,
        path: &str,
        depth: usize,
    ) -> Result<Map<String, Value>, ApiError> {
        let p = format!("{path}.$ref");
        let Some(pointer) = target.as_str() else {
            return Err(refuse(&p, "not a string"));
        };
        let Some(resolved) = pointer
            .strip_prefix('#')
            .and_then(|ptr| self.root.pointer(ptr))
        else {
            return Err(refuse(
                &p,
                &format!("`{pointer}` is not a local definition"),
            ));
        };
        if self.refs.iter().any(|r| r == pointer) {
            return Err(refuse(&p, &format!("`{pointer}` is recursive")));
        }
        let mut merged = match resolved {
            Value::Object(o) => o.clone(),
            Value::Bool(true) => Map::new(),
            _ => return Err(refuse(&p, &format!("`{pointer}` is not a schema object"))),
        };
        for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "$ref") {
            merged.insert(k.clone(), v.clone());
        }
        self.refs.push(pointer.to_string());
        let out = self.node(&Value::Object(merged), path, depth + 1);
        self.refs.pop();
        out
    }

    /// `allOf: [S]` is `S` with the siblings merged over it.
    fn all_of(
        &mut self,
        obj: &Map<String, Value>,
        all: &Value,
        path: &str,
        depth: usize,
    ) -> Result<Map<String, Value>, ApiError> {
        let p = format!("{path}.allOf");
        let only = match all.as_array().map(Vec::as_slice) {
            Some([only]) => only,
            _ => return Err(refuse(&p, "an intersection of several schemas")),
        };
        let mut merged = match only {
            Value::Object(o) => o.clone(),
            _ => return Err(refuse(&format!("{p}[0]"), "not a schema object")),
        };
        for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "allOf") {
            merged.insert(k.clone(), v.clone());
        }
        self.node(&Value::Object(merged), path, depth + 1)
    }
}

fn is_integer(t: Option<&Value>) -> bool {
    match t {
        Some(Value::String(s)) => s == "integer",
        Some(Value::Array(v)) => {
            let non_null: Vec<&Value> = v.iter().filter(|t| t.as_str() != Some("null")).collect();
            matches!(non_null.as_slice(), [t] if t.as_str() == Some("integer"))
        }
        _ => false,
    }
}

fn gemini_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "string" => "STRING",
        "number" => "NUMBER",
        "integer" => "INTEGER",
        "boolean" => "BOOLEAN",
        "array" => "ARRAY",
        "object" => "OBJECT",
        "null" => "NULL",
        _ => return None,
    })
}

fn set_type(out: &mut Map<String, Value>, value: &Value, p: &str) -> Result<(), ApiError> {
    let names: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(v) => v.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let bad = names.is_empty()
        || value.as_array().is_some_and(|v| v.len() != names.len())
        || names.iter().any(|n| gemini_type(n).is_none());
    if bad {
        return Err(refuse(p, "not a JSON Schema type or array of types"));
    }
    let non_null: Vec<&'static str> = names
        .iter()
        .filter(|n| **n != "null")
        .filter_map(|n| gemini_type(n))
        .collect();
    let nullable = non_null.len() < names.len();
    match non_null.as_slice() {
        [] => {
            out.insert("type".to_string(), Value::from("NULL"));
        }
        [one] => {
            out.insert("type".to_string(), Value::from(*one));
            or_nullable(out, nullable);
        }
        several => {
            if out.contains_key("anyOf") {
                return Err(refuse(p, "several types together with `anyOf`"));
            }
            let branches = several
                .iter()
                .map(|t| {
                    let mut b = Map::new();
                    b.insert("type".to_string(), Value::from(*t));
                    Value::Object(b)
                })
                .collect();
            out.insert("anyOf".to_string(), Value::Array(branches));
            or_nullable(out, nullable);
        }
    }
    Ok(())
}

/// Sets `nullable: true` when `nullable`; never clears it (a `null` type or
/// enum member and `nullable: true` each allow null).
fn or_nullable(out: &mut Map<String, Value>, nullable: bool) {
    if nullable {
        out.insert("nullable".to_string(), Value::Bool(true));
    }
}

/// Inserts a `minimum`/`maximum`, keeping the tighter of two.
fn bound(out: &mut Map<String, Value>, name: &str, value: &Value) {
    let tighter = match (out.get(name).and_then(Value::as_f64), value.as_f64()) {
        (Some(old), Some(new)) if name == "minimum" => new > old,
        (Some(old), Some(new)) => new < old,
        _ => true,
    };
    if tighter {
        out.insert(name.to_string(), value.clone());
    }
}

fn set_enum(out: &mut Map<String, Value>, value: &Value, p: &str) -> Result<(), ApiError> {
    let Some(items) = value.as_array().filter(|v| !v.is_empty()) else {
        return Err(refuse(p, "not a non-empty array"));
    };
    let mut values = Vec::with_capacity(items.len());
    let mut nullable = false;
    for item in items {
        match item {
            Value::String(_) => values.push(item.clone()),
            Value::Number(n) => values.push(Value::String(n.to_string())),
            Value::Null => nullable = true,
            _ => {
                return Err(refuse(
                    p,
                    "only string, number and null values can be enumerated",
                ))
            }
        }
    }
    if values.is_empty() {
        out.insert("type".to_string(), Value::from("NULL"));
    } else {
        out.insert("enum".to_string(), Value::Array(values));
    }
    if nullable {
        or_nullable(out, true);
    }
    Ok(())
}

/// Exclusive bounds exist for integers only, as the next inclusive bound.
fn exclusive(
    out: &mut Map<String, Value>,
    key: &str,
    value: &Value,
    p: &str,
    integer: bool,
) -> Result<(), ApiError> {
    if value == &Value::Bool(false) {
        return Ok(());
    }
    let edge = value
        .as_i64()
        .filter(|_| integer)
        .ok_or_else(|| refuse(p, "exclusive bounds are only expressible on integers"))?;
    let (name, inclusive) = if key == "exclusiveMinimum" {
        ("minimum", edge.saturating_add(1))
    } else {
        ("maximum", edge.saturating_sub(1))
    };
    bound(out, name, &Value::from(inclusive));
    Ok(())
}
