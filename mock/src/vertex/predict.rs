//! `:predict` on a Google text-embedding model: Vertex's embeddings call.
//!
//! `{"instances":[{"content", "task_type"?, "title"?}], "parameters":
//! {"outputDimensionality"?, "autoTruncate"?}}` answers
//! `{"predictions":[{"embeddings":{"values", "statistics":{"token_count",
//! "truncated"}}}]}`, one prediction per instance, with the mock's
//! deterministic vectors. Unknown fields and empty contents are 400s, as
//! Vertex's schema validation answers them; `gemini-embedding-001` takes a
//! single instance per call, as Vertex documents.

use serde_json::{json, Map, Value};

use super::error_for_status;
use crate::embedding::{vector, DEFAULT_DIMS, MAX_DIMS};
use crate::faults::Response;

const INSTANCE_FIELDS: &[&str] = &["content", "task_type", "title"];
const PARAMETER_FIELDS: &[&str] = &["outputDimensionality", "autoTruncate"];
/// Vertex's limit per request for the text-embedding models.
const MAX_INSTANCES: usize = 250;

fn bad(message: String) -> Response {
    error_for_status(400, &message)
}

fn unknown(obj: &Map<String, Value>, known: &[&str], at: &str) -> Option<Response> {
    obj.keys().find(|k| !known.contains(&k.as_str())).map(|k| {
        bad(format!(
            "Invalid JSON payload received. Unknown name \"{k}\" at '{at}': Cannot find field."
        ))
    })
}

/// Answers one `:predict` call for `model`.
pub fn predict(model: &str, body: &[u8]) -> Response {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return bad("Invalid JSON payload received.".into());
    };
    if let Some(r) = unknown(&body, &["instances", "parameters"], "") {
        return r;
    }
    let Some(instances) = body.get("instances").and_then(Value::as_array) else {
        return bad("instances: required".into());
    };
    let limit = if model.starts_with("gemini-embedding") {
        1
    } else {
        MAX_INSTANCES
    };
    if instances.is_empty() || instances.len() > limit {
        return bad(format!(
            "{} instances: this model takes 1 to {limit} per request",
            instances.len()
        ));
    }
    let params = match body.get("parameters") {
        None => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return bad("parameters: must be an object".into()),
    };
    if let Some(r) = unknown(&params, PARAMETER_FIELDS, "parameters") {
        return r;
    }
    let dims = match params.get("outputDimensionality").map(Value::as_u64) {
        None => DEFAULT_DIMS,
        Some(Some(d)) if (1..=MAX_DIMS).contains(&d) => d as usize,
        Some(_) => {
            return bad(format!(
                "parameters.outputDimensionality: must be 1 to {MAX_DIMS}"
            ))
        }
    };
    let mut predictions = Vec::with_capacity(instances.len());
    for (i, inst) in instances.iter().enumerate() {
        let Some(obj) = inst.as_object() else {
            return bad(format!("instances[{i}]: must be an object"));
        };
        if let Some(r) = unknown(obj, INSTANCE_FIELDS, &format!("instances[{i}]")) {
            return r;
        }
        let text = match obj.get("content").and_then(Value::as_str) {
            Some(t) if !t.trim().is_empty() => t,
            _ => {
                return bad(format!(
                    "instances[{i}].content: a non-empty string is required"
                ))
            }
        };
        predictions.push(json!({"embeddings": {
            "values": vector(text, dims),
            "statistics": {"token_count": text.split_whitespace().count(), "truncated": false},
        }}));
    }
    Response::json(
        200,
        &json!({"predictions": predictions, "metadata": {"billableCharacterCount": 0}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Response) -> Value {
        match &r.body {
            crate::faults::Body::Json(b) => serde_json::from_slice(b).unwrap(),
            _ => panic!("not JSON"),
        }
    }

    #[test]
    fn one_prediction_per_instance_with_the_mock_vectors() {
        let req = json!({"instances": [{"content": "hello big world"}, {"content": "two"}],
                         "parameters": {"outputDimensionality": 4}});
        let r = predict("text-embedding-005", req.to_string().as_bytes());
        assert_eq!(r.status, 200);
        let v = body(&r);
        assert_eq!(
            v["predictions"][0]["embeddings"]["values"],
            json!(vector("hello big world", 4))
        );
        assert_eq!(
            v["predictions"][0]["embeddings"]["statistics"]["token_count"],
            3
        );
        assert_eq!(
            v["predictions"][1]["embeddings"]["values"],
            json!(vector("two", 4))
        );
    }

    #[test]
    fn unknown_fields_empty_content_and_batches_gemini_refuses_are_400s() {
        for (model, req) in [
            (
                "text-embedding-005",
                json!({"instances": [{"content": "a", "bogus": 1}]}),
            ),
            (
                "text-embedding-005",
                json!({"instances": [{"content": "a"}], "parameters": {"dims": 4}}),
            ),
            (
                "text-embedding-005",
                json!({"instances": [{"content": " "}]}),
            ),
            ("text-embedding-005", json!({"instances": []})),
            (
                "gemini-embedding-001",
                json!({"instances": [{"content": "a"}, {"content": "b"}]}),
            ),
        ] {
            assert_eq!(
                predict(model, req.to_string().as_bytes()).status,
                400,
                "{req}"
            );
        }
    }
}
