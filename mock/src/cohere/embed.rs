//! `POST /v2/embed`: each text is embedded with `crate::embedding::vector`
//! (`output_dimension` values, else `DEFAULT_DIMS`), in every requested
//! `embedding_types`; `meta.billed_units.input_tokens` counts the words.

use serde_json::{json, Map, Value};

use super::validate::known;
use crate::embedding::{base64_f32, vector, DEFAULT_DIMS};
use crate::reply::word_count;

const FIELDS: &[&str] = &[
    "model",
    "input_type",
    "texts",
    "images",
    "inputs",
    "max_tokens",
    "output_dimension",
    "embedding_types",
    "truncate",
    "priority",
];
const INPUT_TYPES: &[&str] = &[
    "search_document",
    "search_query",
    "classification",
    "clustering",
    "image",
];
const TYPES: &[&str] = &["float", "int8", "uint8", "binary", "ubinary", "base64"];
const DIMENSIONS: &[u64] = &[256, 512, 1024, 1536];
const MAX_TEXTS: usize = 96;

fn bad(msg: &str) -> String {
    format!("invalid request: {msg}")
}

fn strings<'a>(v: Option<&'a Value>, name: &str) -> Result<Vec<&'a str>, String> {
    let list = v
        .and_then(Value::as_array)
        .ok_or_else(|| bad(&format!("{name} must be an array of strings")))?;
    list.iter()
        .map(|s| {
            s.as_str()
                .ok_or_else(|| bad(&format!("{name} must be an array of strings")))
        })
        .collect()
}

/// Validates the request; returns texts, dimensions and embedding types.
fn check(body: &Map<String, Value>) -> Result<(Vec<&str>, usize, Vec<&str>), String> {
    known(body, FIELDS, "")?;
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("model is required"))?;
    match body.get("input_type").and_then(Value::as_str) {
        Some(t) if INPUT_TYPES.contains(&t) => {}
        Some(t) => {
            return Err(bad(&format!(
                "input_type {t} is not one of {}",
                INPUT_TYPES.join(", ")
            )))
        }
        None => return Err(bad("input_type is required for embed models v3 and higher")),
    }
    if body.contains_key("images") || body.contains_key("inputs") {
        return Err(bad("the mock embeds texts only"));
    }
    let texts = strings(body.get("texts"), "texts")?;
    if texts.is_empty() || texts.len() > MAX_TEXTS {
        return Err(bad(&format!(
            "texts must hold between 1 and {MAX_TEXTS} items"
        )));
    }
    let types = match body.get("embedding_types") {
        None => return Err(bad("embedding_types is required")),
        v => strings(v, "embedding_types")?,
    };
    if let Some(t) = types.iter().find(|t| !TYPES.contains(t)) {
        return Err(bad(&format!(
            "embedding_types {t} is not one of {}",
            TYPES.join(", ")
        )));
    }
    let dims = match body.get("output_dimension") {
        None => DEFAULT_DIMS,
        Some(_) if !model.contains("v4") => {
            return Err(bad(
                "output_dimension is only supported for embed-v4 and newer models",
            ))
        }
        Some(d) => match d.as_u64() {
            Some(d) if DIMENSIONS.contains(&d) => usize::try_from(d).unwrap_or(DEFAULT_DIMS),
            _ => return Err(bad("output_dimension must be one of 256, 512, 1024, 1536")),
        },
    };
    Ok((texts, dims, types))
}

/// Packs sign bits, 8 dimensions a byte, most significant first.
fn packed(v: &[f64]) -> Vec<u8> {
    v.chunks(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |b, (i, x)| if *x > 0.0 { b | (0x80 >> i) } else { b })
        })
        .collect()
}

fn of_type(kind: &str, vectors: &[Vec<f64>]) -> Value {
    let each = |f: &dyn Fn(&Vec<f64>) -> Value| Value::Array(vectors.iter().map(f).collect());
    match kind {
        "float" => each(&|v| json!(v)),
        "base64" => each(&|v| json!(base64_f32(v))),
        "int8" => each(&|v| {
            json!(v
                .iter()
                .map(|x| (x * 127.0).round() as i64)
                .collect::<Vec<_>>())
        }),
        "uint8" => each(&|v| {
            json!(v
                .iter()
                .map(|x| ((x + 1.0) * 127.5).round() as i64)
                .collect::<Vec<_>>())
        }),
        "ubinary" => each(&|v| json!(packed(v))),
        _ => each(&|v| {
            json!(packed(v)
                .iter()
                .map(|b| i64::from(*b) - 128)
                .collect::<Vec<_>>())
        }),
    }
}

/// The `embeddings_by_type` response.
pub fn embed(body: &Map<String, Value>) -> Result<Value, String> {
    let (texts, dims, types) = check(body)?;
    let vectors: Vec<Vec<f64>> = texts.iter().map(|t| vector(t, dims)).collect();
    let mut embeddings = Map::new();
    for t in types {
        embeddings.insert(t.to_string(), of_type(t, &vectors));
    }
    let words: u64 = texts.iter().map(|t| word_count(t).max(1)).sum();
    Ok(json!({
        "id": "e0b1e5e0-0000-4000-8000-000000000001",
        "embeddings": embeddings,
        "texts": texts,
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": words}},
        "response_type": "embeddings_by_type",
    }))
}
