//! OpenAI mock: Chat Completions (`POST /v1/chat/completions`),
//! embeddings (`POST /v1/embeddings`, see `embeddings`) and Responses
//! (`POST /v1/responses`, see `responses`).

pub mod embeddings;
mod messages;
pub mod respond;
pub mod responses;
pub mod validate;

use serde_json::{json, Value};

use crate::faults::{self, Faults, Response};
use crate::http::Request;
use crate::reply;
use crate::server::Listener;
use validate::Invalid;

pub const PATH: &str = "/v1/chat/completions";

pub fn error_body(
    status: u16,
    message: &str,
    ty: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    Response::json(
        status,
        &json!({"error": {"message": message, "type": ty, "param": param, "code": code}}),
    )
}

/// Native error for a status: type/code as the real API uses them.
pub fn error_for_status(status: u16, message: &str) -> Response {
    let (ty, code) = match status {
        401 => ("invalid_request_error", Some("invalid_api_key")),
        429 => ("requests", Some("rate_limit_exceeded")),
        s if s >= 500 => ("server_error", None),
        _ => ("invalid_request_error", None),
    };
    error_body(status, message, ty, None, code)
}

fn fault_message(status: u16) -> String {
    match status {
        401 => "Incorrect API key provided.".into(),
        404 => "The model does not exist or you do not have access to it.".into(),
        429 => "Rate limit reached for requests. Please try again later.".into(),
        500 => "The server had an error while processing your request. Sorry about that!".into(),
        503 => "The engine is currently overloaded, please try again later.".into(),
        s => format!("Mock injected error (status {s})."),
    }
}

pub fn invalid_response(inv: &Invalid) -> Response {
    error_body(
        400,
        &inv.message,
        "invalid_request_error",
        inv.param.as_deref(),
        inv.code,
    )
}

/// The `/v1` path a request stands for, under the listener's base path
/// (`/openai/v1/chat/completions` on a Groq-style listener); `None` for any
/// other path.
fn route(state: &Listener, req: &Request) -> Option<&'static str> {
    let rest = req.path().strip_prefix(state.base.as_str())?;
    [PATH, embeddings::PATH, responses::PATH]
        .into_iter()
        .find(|p| p.strip_prefix("/v1") == Some(rest))
}

/// Checks `Authorization: Bearer <key>`.
pub fn authorized(req: &Request, key: &str) -> bool {
    req.header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|k| k == key)
}

/// Path, method and key checks, which run before any injected fault.
pub fn gate(state: &Listener, req: &Request) -> Result<(), Response> {
    if route(state, req).is_none() {
        let msg = format!("Invalid URL ({} {})", req.method, req.path());
        return Err(error_for_status(404, &msg));
    }
    if req.method != "POST" {
        let msg = format!("Invalid method for URL ({} {})", req.method, req.path());
        return Err(error_for_status(405, &msg));
    }
    if !authorized(req, &state.key) {
        return Err(error_for_status(401, "Incorrect API key provided."));
    }
    Ok(())
}

/// What OpenAI sends for an overload, field order as on the wire.
const OVERLOADED: &str = r#"{"error":{"message":"The server is overloaded, please try again later.","type":"server_error","param":null,"code":null}}"#;

/// 200 carrying an overloaded error: the JSON body, or as the first event of
/// a stream that then ends without `[DONE]`.
pub fn overloaded(stream: bool) -> Response {
    if stream {
        let event = format!("data: {OVERLOADED}\n\n").into_bytes();
        return Response::sse(vec![event]).closing();
    }
    Response::raw_json(200, OVERLOADED.as_bytes().to_vec())
}

const REPLIES: faults::FaultReplies = faults::FaultReplies {
    error: |status| error_for_status(status, &fault_message(status)),
    overloaded,
    stream: faults::wants_stream,
    retry_after_ms: true,
};

/// Handles one request on the OpenAI listener.
pub fn handle(state: &Listener, req: &Request, faults: &Faults) -> Response {
    if let Err(resp) = gate(state, req) {
        return resp;
    }
    if let Some(resp) = faults::injected(req, faults, &REPLIES) {
        return resp;
    }
    let n = state.next_id();
    let resp = match parse_object(&req.body) {
        Err(resp) => resp,
        Ok(body) if route(state, req) == Some(embeddings::PATH) => embed(&body, None),
        Ok(body) if route(state, req) == Some(responses::PATH) => {
            responses::respond(n, &body, faults)
        }
        Ok(body) => match validate::validate(&body) {
            Ok(()) => respond(n, &body, faults),
            Err(inv) => invalid_response(&inv),
        },
    };
    resp.with_header("x-request-id", format!("req_mock_{n}"))
}

/// The request body as a JSON object, or OpenAI's 400 for anything else.
pub fn parse_object(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(body)) => Ok(body),
        Ok(_) => Err(error_body(
            400,
            "Invalid type for request body: expected an object.",
            "invalid_request_error",
            None,
            Some("invalid_type"),
        )),
        Err(_) => Err(error_body(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            "invalid_request_error",
            None,
            None,
        )),
    }
}

/// An embeddings request; `model` (Azure's deployment) overrides the body's.
pub fn embed(body: &serde_json::Map<String, Value>, model: Option<&str>) -> Response {
    match embeddings::validate(body, model) {
        Ok(e) => Response::json(200, &embeddings::response(&e)),
        Err(inv) => invalid_response(&inv),
    }
}

fn respond(n: u64, body: &serde_json::Map<String, Value>, faults: &Faults) -> Response {
    let conv = respond::conversation(body);
    let outcome = reply::compute(&conv);
    let usage = reply::usage(&conv, &outcome, faults.cached_tokens);
    if body.get("stream") == Some(&Value::Bool(true)) {
        let opts = respond::stream_opts(body, faults.stream_error);
        return Response::sse(respond::stream(n, &conv.model, &outcome, &usage, &opts));
    }
    Response::json(200, &respond::completion(n, &conv.model, &outcome, &usage))
}

#[cfg(test)]
mod tests;
