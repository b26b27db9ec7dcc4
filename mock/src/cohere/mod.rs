//! Cohere API v2 mock (kind `cohere`).
//!
//! Served: `POST /v2/chat` (JSON, or with `"stream": true` typed SSE events
//! `event: <type>\ndata: <json>\n\n`) and `POST /v2/embed`. Any other path
//! or method is 404 `{"message": "404 page not found"}`.
//!
//! The key goes as `Authorization: Bearer <key>`: none is 401 `no api key
//! supplied`, a wrong one 401 `invalid api token`. Errors are Cohere's
//! `{"id": "...", "message": "..."}` with the HTTP status.
//!
//! Chat bodies are checked like the real API (see `validate`): `model` and
//! `messages` required, unknown fields rejected (top level and inside
//! messages, tools, `response_format`, `thinking`), roles
//! `system`/`user`/`assistant`/`tool`, tool messages need a `tool_call_id`
//! naming an earlier assistant tool call, `tool_choice` needs `tools`,
//! `response_format` cannot be combined with `tools`, ranges of `p`, `k`,
//! the penalties and `max_tokens`, at most 5 `stop_sequences`. Replies come
//! from the shared `reply` logic; a tool call comes with a `tool_plan` and
//! the id `<name>_<n>`. `thinking: {type: enabled}` adds a `thinking`
//! content item first. Usage: `billed_units` counts the words, `tokens`
//! adds a fixed prompt overhead to the input (as Cohere's templates do).
//! Magic words (`crate::magic`): `MOCK_MAX_TOKENS` (4 words,
//! `MAX_TOKENS`), `MOCK_CACHED` (`cached_tokens: 8`). Header and stored
//! faults work as on the other mocks; `x-mock-stream-error` and
//! `x-mock-overloaded` end the generation with `finish_reason: ERROR`.

mod embed;
mod render;
mod respond;
mod validate;

use serde_json::{json, Map, Value};

use crate::faults::{self, Faults, Response};
use crate::http::Request;
use crate::server::Listener;

/// The fixed request id of mock errors (Cohere sends a UUID).
const ERROR_ID: &str = "00000000-0000-4000-8000-0000000000e0";

/// What a request path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Chat,
    Embed,
}

pub fn route(path: &str) -> Option<Route> {
    match path {
        "/v2/chat" => Some(Route::Chat),
        "/v2/embed" => Some(Route::Embed),
        _ => None,
    }
}

/// `{"id", "message"}` with that HTTP status.
pub fn error_for_status(status: u16, message: &str) -> Response {
    Response::json(status, &json!({"id": ERROR_ID, "message": message}))
}

fn fault_message(status: u16) -> String {
    match status {
        400 => "invalid request: the request could not be processed".into(),
        401 => "invalid api token".into(),
        403 => "forbidden: this key has no access to the requested model".into(),
        404 => "model not found, make sure the correct model ID was used".into(),
        429 => "You are using a Trial key, which is limited to 20 API calls / minute.".into(),
        500 => "internal server error, this has been reported to our developers".into(),
        503 => "the service is temporarily unavailable".into(),
        s => format!("Mock injected error (status {s})."),
    }
}

/// Path, method and key checks, which run before any injected fault.
pub fn gate(state: &Listener, req: &Request) -> Result<Route, Response> {
    let route = route(req.path()).filter(|_| req.method == "POST");
    let Some(route) = route else {
        return Err(error_for_status(404, "404 page not found"));
    };
    let token = req.header("authorization").and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    });
    match token.map(str::trim) {
        None | Some("") => Err(error_for_status(401, "no api key supplied")),
        Some(k) if k == state.key => Ok(route),
        Some(_) => Err(error_for_status(401, "invalid api token")),
    }
}

/// A 200 whose generation failed (`finish_reason: ERROR`).
fn overloaded(stream: bool) -> Response {
    let msg = "model overloaded, please try again later";
    if stream {
        return Response::sse(render::sse(&render::failed_stream(1, msg)));
    }
    Response::json(200, &render::failed(1, msg))
}

const REPLIES: faults::FaultReplies = faults::FaultReplies {
    error: |status| error_for_status(status, &fault_message(status)),
    overloaded,
    stream: faults::wants_stream,
    retry_after_ms: false,
};

/// Handles one request on the Cohere listener.
pub fn handle(state: &Listener, req: &Request, faults: &Faults) -> Response {
    let route = match gate(state, req) {
        Ok(route) => route,
        Err(resp) => return resp,
    };
    if let Some(resp) = faults::injected(req, faults, &REPLIES) {
        return resp;
    }
    let n = state.next_id();
    let body = match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(body)) => body,
        Ok(_) => return invalid("invalid request: the body must be a JSON object"),
        Err(e) => {
            return invalid(&format!(
                "invalid request: cannot parse the body as JSON: {e}"
            ))
        }
    };
    let result = match route {
        Route::Embed => embed::embed(&body).map(|v| Response::json(200, &v)),
        Route::Chat => validate::chat(&body).map(|()| chat(n, &body, faults)),
    };
    result.unwrap_or_else(|msg| invalid(&msg))
}

fn invalid(message: &str) -> Response {
    error_for_status(400, message)
}

fn chat(n: u64, body: &Map<String, Value>, faults: &Faults) -> Response {
    let built = respond::build(n, body, faults.cached_tokens);
    if body.get("stream") == Some(&Value::Bool(true)) {
        Response::sse(render::sse(&render::events(&built, faults.stream_error)))
    } else {
        Response::json(200, &render::full(&built))
    }
}

#[cfg(test)]
mod tests;
