//! `POST /v1/messages/count_tokens`: the request of a message minus the
//! generation settings, answered with `{"input_tokens": N}`. N is the same
//! word count the mock reports as `usage.input_tokens` for that
//! conversation, so a test can compare the two.

use serde_json::{json, Map, Value};

use super::beta::{self, Betas};
use super::blocks::validate_messages;
use super::validate::{check_keys, expected, req_str, required, Check};
use crate::faults::Response;

pub const PATH: &str = "/v1/messages/count_tokens";

const ALLOWED_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "output_config",
];

pub fn validate(body: &Map<String, Value>, betas: &Betas) -> Check {
    let mut allowed = ALLOWED_FIELDS.to_vec();
    if betas.has(beta::CONTEXT_MANAGEMENT) {
        allowed.push("context_management");
    }
    check_keys(body, &allowed, "")?;
    req_str(body, "model", "")?;
    match body.get("messages") {
        None => return Err(required("messages")),
        Some(Value::Array(msgs)) => validate_messages(msgs, betas)?,
        Some(_) => return Err(expected("messages", "list")),
    }
    super::validate::validate_shared(body, betas)
}

/// The answer to a valid count request.
pub fn respond(body: &Map<String, Value>) -> Response {
    let conv = super::respond::conversation(body);
    Response::json(200, &json!({"input_tokens": conv.input_words.max(1)}))
}
