//! Anthropic Messages mock (`POST /v1/messages`, `POST
//! /v1/messages/count_tokens`). Claude Code adds `?beta=true` to both and
//! turns on betas with `anthropic-beta` (see `beta`).

pub mod beta;
mod blocks;
pub mod count;
pub mod respond;
mod thinking;
pub mod validate;

use serde_json::{json, Map, Value};

use crate::faults::{self, Faults, Response};
use crate::http::Request;
use crate::reply;
use crate::server::Listener;

pub const PATH: &str = "/v1/messages";
pub const VERSION: &str = "2023-06-01";
/// The API version current SDK majors send (Python 2.x); it removes the
/// sampling parameters and citations in user messages (see `beta`).
pub const VERSION_2026: &str = "2026-10-21";

/// Native error type for a status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        s if s >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}

/// `{"type":"error","error":{"type":...,"message":...}}` with that status.
pub fn error_for_status(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"type": "error", "error": {"type": error_type(status), "message": message}}),
    )
}

fn fault_message(status: u16) -> String {
    match status {
        400 => "Mock injected invalid request.".into(),
        401 => "invalid x-api-key".into(),
        403 => "Your API key does not have permission to use the specified resource.".into(),
        404 => "The requested resource could not be found.".into(),
        429 => "Number of request tokens has exceeded your per-minute rate limit".into(),
        500 => "Internal server error".into(),
        529 => "Overloaded".into(),
        s => format!("Mock injected error (status {s})."),
    }
}

/// Header-level checks after authentication; `Err` is the 400 message.
fn check_headers(req: &Request) -> Result<(), String> {
    match req.header("anthropic-version") {
        None => return Err("anthropic-version: header is required".into()),
        Some(VERSION | VERSION_2026) => {}
        Some(other) => {
            return Err(format!(
                "anthropic-version: \"{other}\" is not a valid version"
            ))
        }
    }
    let ct = req.header("content-type").unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(format!(
            "content-type: expected application/json, got \"{ct}\""
        ));
    }
    Ok(())
}

/// Path, method and key checks, which run before any injected fault.
pub fn gate(state: &Listener, req: &Request) -> Result<(), Response> {
    if req.path() != PATH && req.path() != count::PATH {
        let msg = format!("Not found: {} {}", req.method, req.path());
        return Err(error_for_status(404, &msg));
    }
    if req.method != "POST" {
        let msg = format!("Method not allowed: {}", req.method);
        return Err(error_for_status(405, &msg));
    }
    // Claude Code sends `x-api-key`; the Python SDK 2.x sends the API key
    // as `Authorization: Bearer`.
    let bearer = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    if req.header("x-api-key").or(bearer) != Some(state.key.as_str()) {
        return Err(error_for_status(401, "invalid x-api-key"));
    }
    Ok(())
}

/// What Anthropic sends for an overload, field order as on the wire.
const OVERLOADED: &str =
    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;

/// 200 carrying an `overloaded_error`: the JSON body, or a stream whose first
/// and only event is the error.
pub fn overloaded(stream: bool) -> Response {
    if stream {
        return Response::sse(vec![
            format!("event: error\ndata: {OVERLOADED}\n\n").into_bytes()
        ]);
    }
    Response::raw_json(200, OVERLOADED.as_bytes().to_vec())
}

const REPLIES: faults::FaultReplies = faults::FaultReplies {
    error: |status| error_for_status(status, &fault_message(status)),
    overloaded,
    stream: faults::wants_stream,
    retry_after_ms: false,
};

/// Handles one request on the Anthropic listener.
pub fn handle(state: &Listener, req: &Request, faults: &Faults) -> Response {
    if let Err(resp) = gate(state, req) {
        return resp;
    }
    if let Some(resp) = faults::injected(req, faults, &REPLIES) {
        return resp;
    }
    let n = state.next_id();
    let betas = beta::Betas::parse(req.header("anthropic-beta"));
    let counting = req.path() == count::PATH;
    let v2026 = req.header("anthropic-version") == Some(VERSION_2026);
    let resp = match check_headers(req) {
        Err(msg) => error_for_status(400, &msg),
        Ok(()) => match serde_json::from_slice::<Value>(&req.body) {
            Ok(Value::Object(body)) if counting => {
                match count::validate(&body, &betas).and_then(|()| beta::version(&body, v2026)) {
                    Ok(()) => count::respond(&body),
                    Err(msg) => error_for_status(400, &msg),
                }
            }
            Ok(Value::Object(body)) => {
                match validate::validate(&body, &betas).and_then(|()| beta::version(&body, v2026)) {
                    Ok(()) => respond(n, &body, faults),
                    Err(msg) => error_for_status(400, &msg),
                }
            }
            Ok(_) => error_for_status(400, "Input should be a valid dictionary"),
            Err(e) => error_for_status(
                400,
                &format!("There was an issue with the JSON body of your request: {e}"),
            ),
        },
    };
    resp.with_header("request-id", format!("req_mock_{n}"))
}

fn respond(n: u64, body: &Map<String, Value>, faults: &Faults) -> Response {
    let conv = respond::conversation(body);
    let mut outcome = reply::compute(&conv);
    if let reply::Outcome::Text { text, .. } = &mut outcome {
        if let Some(json) = thinking::structured(body, text) {
            *text = json;
        }
    }
    let usage = reply::usage(&conv, &outcome, faults.cached_tokens);
    let reply = respond::Reply {
        n,
        model: &conv.model,
        outcome: &outcome,
        usage: &usage,
        thinking: thinking::reply_text(body, &conv.model),
    };
    if body.get("stream") == Some(&Value::Bool(true)) {
        return Response::sse(respond::stream(&reply, faults.stream_error));
    }
    Response::json(200, &respond::message(&reply))
}

#[cfg(test)]
mod cc_tests;
#[cfg(test)]
mod tests;
