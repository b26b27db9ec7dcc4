//! OpenAI Responses API mock (`POST /v1/responses`), the API Codex speaks
//! (`wire_api = "responses"`): JSON or SSE (`stream`), strictly validated
//! (`validate`, `input`), stateless (`previous_response_id` is a 404-style
//! 400 and `store` changes nothing).
//!
//! What Codex 0.171 sends: `stream: true`, `store: false`, `include:
//! ["reasoning.encrypted_content"]`, `reasoning: {"summary": "auto"}`,
//! `tool_choice: "auto"`, `parallel_tool_calls`, `prompt_cache_key`,
//! `client_metadata`, no `instructions` (its prompt is a `developer`
//! message), input messages with ids, function tools, a `namespace` tool
//! grouping function tools, and a `web_search` tool.

pub mod input;
pub mod respond;
pub mod stream;
pub mod validate;

use serde_json::{Map, Value};

use crate::faults::{Faults, Response};
use crate::reply;

pub const PATH: &str = "/v1/responses";

/// Answers a parsed body (the caller has checked path, key and faults).
pub fn respond(n: u64, body: &Map<String, Value>, faults: &Faults) -> Response {
    if let Err(inv) = validate::validate(body) {
        return super::invalid_response(&inv);
    }
    let conv = respond::conversation(body);
    let mut outcome = reply::compute(&conv);
    if let reply::Outcome::Text { text, .. } = &mut outcome {
        *text = respond::formatted(body, std::mem::take(text));
    }
    let usage = reply::usage(&conv, &outcome, faults.cached_tokens);
    if body.get("stream") == Some(&Value::Bool(true)) {
        return Response::sse(stream::events(
            n,
            body,
            &outcome,
            &usage,
            faults.stream_error,
        ));
    }
    let (status, _) = respond::status(&outcome);
    let items = respond::output_items(n, body, &outcome);
    Response::json(
        200,
        &respond::response(n, body, status, items, Some(&usage)),
    )
}

#[cfg(test)]
mod tests;
