//! `POST /model/{modelId}/count-tokens` (CountTokens): `{"input":
//! {"converse": {...}}}` with the Converse members that shape the prompt
//! (`messages`, `system`, `toolConfig`, `additionalModelRequestFields`), or
//! `{"input": {"invokeModel": {"body": "<base64>"}}}` whose body is an
//! InvokeModel request for Claude (`anthropic_version:
//! "bedrock-2023-05-31"`, Messages fields, no `model`). Either is validated
//! as its API would; the answer is `{"inputTokens": N}`, the same word
//! count the mock reports as `usage.inputTokens` (Converse) or
//! `input_tokens` (Messages) for that input.

use base64ct::{Base64, Encoding};
use serde_json::{json, Map, Value};

use super::validate::{known, malformed, object, required, string, union};

const CONVERSE_FIELDS: &[&str] = &[
    "messages",
    "system",
    "toolConfig",
    "additionalModelRequestFields",
];
pub const INVOKE_VERSION: &str = "bedrock-2023-05-31";

/// The response body, or the ValidationException message.
pub fn count(body: &Map<String, Value>, model: &str) -> Result<Value, String> {
    known(body, &["input"], "")?;
    let input = required(body, "input", "")?;
    let n = match union(input, &["converse", "invokeModel"], "input")? {
        ("converse", c) => {
            let c = object(c, "input.converse")?;
            known(c, CONVERSE_FIELDS, "input.converse")?;
            super::validate::validate(c)?;
            super::respond::conversation(c, model).input_words
        }
        (_, inv) => invoke_words(inv)?,
    };
    Ok(json!({ "inputTokens": n.max(1) }))
}

fn invoke_words(inv: &Value) -> Result<u64, String> {
    let inv = object(inv, "input.invokeModel")?;
    known(inv, &["body"], "input.invokeModel")?;
    let blob = string(
        required(inv, "body", "input.invokeModel")?,
        "input.invokeModel.body",
    )?;
    let bad = || malformed("invalid base64 blob", "input.invokeModel.body");
    let bytes = Base64::decode_vec(blob).map_err(|_| bad())?;
    let Ok(Value::Object(mut msg)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err("The provided request is not valid JSON.".into());
    };
    match msg.remove("anthropic_version") {
        Some(Value::String(v)) if v == INVOKE_VERSION => {}
        _ => {
            return Err(format!(
                "anthropic_version: Input should be '{INVOKE_VERSION}'"
            ))
        }
    }
    if msg.contains_key("model") {
        return Err("model: Extra inputs are not permitted".into());
    }
    msg.insert("model".into(), Value::String("bedrock-invoke".into()));
    let betas = crate::anthropic::beta::Betas::default();
    crate::anthropic::validate::validate(&msg, &betas)?;
    Ok(crate::anthropic::respond::conversation(&msg).input_words)
}
