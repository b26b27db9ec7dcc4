//! `POST /{v}/models/{model}:countTokens`: either `contents` alone or a
//! whole `generateContentRequest` (whose `model` must be `models/...`), each
//! validated like a generate request. The answer is `totalTokens` plus a
//! TEXT `promptTokensDetails` entry, the same word count the mock reports as
//! `promptTokenCount` for that request (without cached tokens), so a test
//! can compare the two.

use serde_json::{json, Map, Value};

use super::json::{field, known, object};
use super::{respond, validate};

const FIELDS: &[&str] = &["contents", "generateContentRequest"];

/// The request whose tokens are counted, validated.
fn request(body: &Map<String, Value>, model: &str) -> Result<Map<String, Value>, String> {
    known(body, FIELDS, "")?;
    match (
        field(body, "contents"),
        field(body, "generateContentRequest"),
    ) {
        (Some(_), Some(_)) => Err(
            "Only one of contents or generate_content_request may be set in a CountTokensRequest."
                .into(),
        ),
        (Some(contents), None) => {
            let mut inner = Map::new();
            inner.insert("contents".into(), contents.clone());
            validate::validate(&inner, model)?;
            Ok(inner)
        }
        (None, Some(gcr)) => {
            let inner = object(gcr, "generate_content_request", "GenerateContentRequest")?;
            match field(inner, "model").and_then(Value::as_str) {
                Some(m) if m.starts_with("models/") => {}
                _ => {
                    return Err(
                        "generate_content_request.model: must be of the form models/{model}".into(),
                    )
                }
            }
            validate::validate(inner, model)?;
            Ok(inner.clone())
        }
        (None, None) => Err("Either contents or generate_content_request must be set.".into()),
    }
}

/// The response body of a count request, or the 400 message.
pub fn count(body: &Map<String, Value>, model: &str) -> Result<Value, String> {
    let inner = request(body, model)?;
    let n = respond::conversation(&inner, model).input_words.max(1);
    Ok(json!({
        "totalTokens": n,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": n}],
    }))
}
