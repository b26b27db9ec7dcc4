//! `:embedContent` and `:batchEmbedContents`.
//!
//! Each content's text parts, joined by single spaces, are embedded with
//! `crate::embedding::vector` (`outputDimensionality` values, else
//! `DEFAULT_DIMS`). Like the real API the responses carry no usage.

use serde_json::{json, Map, Value};

use super::contents::validate_content;
use super::json::{enumeration, field, integer, known, list, object, string, violation};
use crate::embedding::{vector, DEFAULT_DIMS, MAX_DIMS};

const FIELDS: &[&str] = &[
    "model",
    "content",
    "taskType",
    "title",
    "outputDimensionality",
];
const MAX_BATCH: usize = 100;

const TASK_TYPES: &[&str] = &[
    "TASK_TYPE_UNSPECIFIED",
    "RETRIEVAL_QUERY",
    "RETRIEVAL_DOCUMENT",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
    "CODE_RETRIEVAL_QUERY",
];

fn text_of(content: &Value) -> String {
    let parts = content.get("parts").and_then(Value::as_array);
    let texts: Vec<&str> = parts
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    texts.join(" ")
}

/// Validates one `EmbedContentRequest` at `p`; returns its embedding.
fn one(
    req: &Map<String, Value>,
    p: &str,
    request: &str,
    model: Option<&str>,
) -> Result<Value, String> {
    let at = |f: &str| {
        if p.is_empty() {
            f.to_string()
        } else {
            format!("{p}.{f}")
        }
    };
    known(req, FIELDS, p)?;
    match (field(req, "model"), model) {
        (Some(m), Some(want)) if string(m, &at("model"))? != format!("models/{want}") => {
            return Err(violation(
                request,
                &at("model"),
                "model must match the model in the URL",
            ))
        }
        (None, Some(_)) => return Err(violation(request, &at("model"), "model is required")),
        (Some(m), None) => string(m, &at("model")).map(|_| ())?,
        _ => {}
    }
    let content = field(req, "content")
        .ok_or_else(|| violation(request, &at("content"), "content is not specified"))?;
    validate_content(content, &at("content"), false)?;
    if let Some(t) = field(req, "taskType") {
        enumeration(t, &at("task_type"), "TaskType", TASK_TYPES)?;
    }
    if let Some(t) = field(req, "title") {
        string(t, &at("title"))?;
    }
    let dims = match field(req, "outputDimensionality") {
        None => DEFAULT_DIMS,
        Some(d) => match integer(d, &at("output_dimensionality"))? {
            d if (1..=MAX_DIMS as i64).contains(&d) => d as usize,
            _ => {
                let msg = format!("output_dimensionality must be between 1 and {MAX_DIMS}");
                return Err(violation(request, &at("output_dimensionality"), &msg));
            }
        },
    };
    Ok(json!({"values": vector(&text_of(content), dims)}))
}

/// `:embedContent` -> `{"embedding": {"values": [...]}}`.
pub fn single(body: &Map<String, Value>) -> Result<Value, String> {
    let e = one(body, "", "EmbedContentRequest", None)?;
    Ok(json!({"embedding": e}))
}

/// `:batchEmbedContents` -> `{"embeddings": [{"values": [...]}, ...]}`.
pub fn batch(body: &Map<String, Value>, model: &str) -> Result<Value, String> {
    const REQUEST: &str = "BatchEmbedContentsRequest";
    known(body, &["requests"], "")?;
    let requests = match field(body, "requests") {
        None => &[][..],
        Some(r) => list(r, "requests", "EmbedContentRequest")?,
    };
    if requests.is_empty() {
        return Err(violation(
            REQUEST,
            "requests",
            "at least one request is required",
        ));
    }
    if requests.len() > MAX_BATCH {
        let msg = format!("at most {MAX_BATCH} requests can be in one batch");
        return Err(violation(REQUEST, "requests", &msg));
    }
    let embeddings = requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let p = format!("requests[{i}]");
            one(
                object(r, &p, "EmbedContentRequest")?,
                &p,
                REQUEST,
                Some(model),
            )
        })
        .collect::<Result<Vec<Value>, String>>()?;
    Ok(json!({"embeddings": embeddings}))
}
