//! OpenAI embeddings (`POST /v1/embeddings`), also served by the Azure mock.
//!
//! Vectors come from `crate::embedding::vector` (one per input, `dimensions`
//! values, `DEFAULT_DIMS` without it); usage counts words of text inputs and
//! tokens of token-array inputs. A token array is embedded as the text of its
//! numbers joined by single spaces (`[1, 2]` embeds like `"1 2"`).

use serde_json::{json, Map, Value};

use super::validate::{bad_value, invalid, missing, wrong_type, Invalid};
use crate::embedding::{base64_f32, vector, DEFAULT_DIMS, MAX_DIMS};
use crate::reply::word_count;

pub const PATH: &str = "/v1/embeddings";

const FIELDS: &[&str] = &["input", "model", "dimensions", "encoding_format", "user"];
const MAX_INPUTS: usize = 2048;

/// A validated embeddings request.
#[derive(Debug, PartialEq)]
pub struct Embed {
    pub model: String,
    /// Each input as the text that is embedded, with its token count.
    pub inputs: Vec<(String, u64)>,
    pub dims: usize,
    pub base64: bool,
}

fn bad_input() -> Invalid {
    invalid(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.".into(),
        None,
        None,
    )
}

fn tokens(items: &[Value]) -> Option<Vec<u64>> {
    items.iter().map(Value::as_u64).collect()
}

fn token_input(tokens: &[u64]) -> (String, u64) {
    let text: Vec<String> = tokens.iter().map(u64::to_string).collect();
    (text.join(" "), tokens.len() as u64)
}

/// `input`: a string, strings, a token array or token arrays, never empty.
fn inputs(input: Option<&Value>) -> Result<Vec<(String, u64)>, Invalid> {
    let items = match input {
        None | Some(Value::Null) => return Err(missing("input")),
        Some(Value::String(s)) if s.is_empty() => return Err(bad_input()),
        Some(Value::String(s)) => return Ok(vec![(s.clone(), word_count(s))]),
        Some(Value::Array(items)) if items.is_empty() || items.len() > MAX_INPUTS => {
            return Err(bad_input())
        }
        Some(Value::Array(items)) => items,
        Some(_) => return Err(bad_input()),
    };
    if let Some(toks) = tokens(items) {
        return Ok(vec![token_input(&toks)]);
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(s) if !s.is_empty() => Ok((s.clone(), word_count(s))),
            Value::Array(a) if !a.is_empty() => {
                tokens(a).map(|t| token_input(&t)).ok_or_else(bad_input)
            }
            _ => Err(bad_input()),
        })
        .collect()
}

fn dims(v: Option<&Value>) -> Result<usize, Invalid> {
    match v {
        None | Some(Value::Null) => Ok(DEFAULT_DIMS),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(d) if (1..=MAX_DIMS).contains(&d) => Ok(d as usize),
            Some(_) | None if n.is_i64() || n.is_u64() => Err(invalid(
                format!("Invalid value for 'dimensions' = {n}. Must be between 1 and {MAX_DIMS}."),
                Some("dimensions"),
                Some("invalid_value"),
            )),
            _ => Err(wrong_type(
                "dimensions",
                "an integer",
                &Value::Number(n.clone()),
            )),
        },
        Some(other) => Err(wrong_type("dimensions", "an integer", other)),
    }
}

/// Validates a body; `model` (Azure's deployment) stands in for a missing `model`.
pub fn validate(body: &Map<String, Value>, model: Option<&str>) -> Result<Embed, Invalid> {
    if let Some(key) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            format!("Unrecognized request argument supplied: {key}"),
            None,
            None,
        ));
    }
    let model = match (body.get("model"), model) {
        (_, Some(m)) => m.to_string(),
        (Some(Value::String(m)), None) => m.clone(),
        (None | Some(Value::Null), None) => {
            return Err(invalid(
                "you must provide a model parameter".into(),
                None,
                None,
            ))
        }
        (Some(other), None) => return Err(wrong_type("model", "a string", other)),
    };
    let inputs = inputs(body.get("input"))?;
    let dims = dims(body.get("dimensions"))?;
    let base64 = match body.get("encoding_format") {
        None | Some(Value::Null) => false,
        Some(Value::String(f)) if f == "float" => false,
        Some(Value::String(f)) if f == "base64" => true,
        Some(Value::String(f)) => {
            return Err(bad_value("encoding_format", f, &["float", "base64"]))
        }
        Some(other) => return Err(wrong_type("encoding_format", "a string", other)),
    };
    if let Some(user) = body.get("user").filter(|u| !u.is_string()) {
        return Err(wrong_type("user", "a string", user));
    }
    Ok(Embed {
        model,
        inputs,
        dims,
        base64,
    })
}

/// The `list` of embeddings for a validated request.
pub fn response(embed: &Embed) -> Value {
    let data: Vec<Value> = embed
        .inputs
        .iter()
        .enumerate()
        .map(|(i, (text, _))| {
            let values = vector(text, embed.dims);
            let embedding = if embed.base64 {
                Value::String(base64_f32(&values))
            } else {
                json!(values)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let tokens: u64 = embed.inputs.iter().map(|(_, n)| n).sum();
    json!({
        "object": "list",
        "data": data,
        "model": embed.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })
}
