//! AWS Bedrock Runtime mock (the Converse API, kind `bedrock`).
//!
//! Served:
//!
//! * `POST /model/{modelId}/converse`: one JSON `ConverseResponse`
//! * `POST /model/{modelId}/converse-stream`: an AWS event stream
//!   (`application/vnd.amazon.eventstream`, see `eventstream`)
//! * `POST /model/{modelId}/count-tokens`: see `count`
//!
//! `{modelId}` is percent-decoded: SDKs send `:` as `%3A` and inference
//! profile ARNs with `/` as `%2F`. Anything else is 404
//! `UnknownOperationException`.
//!
//! Auth is either a Bedrock API key (`Authorization: Bearer KEY`) or a
//! SigV4 signature (service `bedrock`) verified from the received request
//! (`sigv4`). Errors are `{"message": "..."}` with the type in
//! `x-amzn-errortype`, which real AWS sends as `Type:namespace-uri`: clients
//! must keep only what comes before the first `:`. Two AWS quirks kept on
//! purpose: a wrong API key answers `{"Message": ...}` (capital M), and auth
//! failures come from the AWS front end, not Bedrock (other namespace).
//!
//! Bodies are validated against the Converse shapes (`validate`); unknown
//! members are rejected so that a gateway leaking OpenAI fields is caught.
//! Replies come from the shared `reply` logic like the other mocks. Magic
//! words (`crate::magic`), in the last user text:
//!
//! | word                  | Bedrock                                                      |
//! |-----------------------|--------------------------------------------------------------|
//! | `MOCK_PROMPT_FILTER`  | `stopReason: guardrail_intervened`, the guardrail's blocked text |
//! | `MOCK_CONTENT_FILTER` | `stopReason: content_filtered`, no content                   |
//! | `MOCK_MAX_TOKENS`     | reply cut to its first 4 words, `stopReason: max_tokens`     |
//! | `MOCK_CACHED`         | `cacheReadInputTokens: 8`                                    |
//!
//! A `cachePoint` block anywhere in the request reports
//! `cacheWriteInputTokens: 8` (unless the read is reported). Anthropic
//! style `additionalModelRequestFields.thinking: {"type": "enabled",
//! "budget_tokens" >= 1024}` adds a first `reasoningContent` block with a
//! signature, which must come back unchanged in later turns.
//!
//! Header and stored faults work as on the other mocks. Streams also take
//! `x-mock-stream-exception: NAME` (one of `throttlingException`,
//! `modelStreamErrorException`, `validationException`,
//! `internalServerException`, `serviceUnavailableException`): after two
//! frames, an exception frame of that type; `x-mock-stream-error: 1` is the
//! same with `modelStreamErrorException`.

mod count;
pub mod eventstream;
mod respond;
mod sigv4;
mod stream;
mod validate;
mod validate_output;
mod validate_tools;
mod validate_turns;

use serde_json::{json, Map, Value};

use crate::faults::{self, Faults, Response};
use crate::http::Request;
use crate::server::Listener;

pub use sigv4::Aws;

/// Namespace AWS appends to Bedrock's own error types.
const BEDROCK_NS: &str = "http://internal.amazon.com/coral/com.amazon.bedrock/";
/// Namespace of errors raised by the AWS front end (auth, routing).
const CORAL_NS: &str = "http://internal.amazon.com/coral/com.amazon.coral.service/";

/// What a request URL asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The percent-decoded model id.
    pub model: String,
    pub stream: bool,
    /// `count-tokens` rather than a Converse call.
    pub count: bool,
}

/// Parses `/model/{modelId}/{converse|converse-stream|count-tokens}`.
pub fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/model/")?;
    let (model, op) = rest.rsplit_once('/')?;
    let (stream, count) = match op {
        "converse" => (false, false),
        "converse-stream" => (true, false),
        "count-tokens" => (false, true),
        _ => return None,
    };
    // A raw `/` ends the label: only an escaped one (`%2F`) is in the id.
    if model.contains('/') {
        return None;
    }
    let model = percent_decode(model).filter(|m| !m.is_empty())?;
    Some(Route {
        model,
        stream,
        count,
    })
}

/// Decodes `%XX` escapes; `None` for a bad escape or invalid UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// An error response: `body` with the type (and namespace) in
/// `x-amzn-errortype`.
pub fn error_with(status: u16, kind: &str, ns: &str, body: Value) -> Response {
    Response::json(status, &body)
        .with_header("x-amzn-errortype", format!("{kind}:{ns}"))
        .with_header(
            "x-amzn-requestid",
            "00000000-0000-4000-8000-0000b3d70c4a".into(),
        )
}

/// A Bedrock error of type `kind`.
pub fn error(status: u16, kind: &str, message: &str) -> Response {
    error_with(status, kind, BEDROCK_NS, json!({ "message": message }))
}

/// A front-end (auth, routing) error of type `kind`.
pub fn front_error(status: u16, kind: &str, message: &str) -> Response {
    error_with(status, kind, CORAL_NS, json!({ "message": message }))
}

/// The Bedrock error type of an HTTP status.
pub fn kind_for_status(status: u16) -> &'static str {
    match status {
        400 => "ValidationException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        s if s >= 500 => "InternalServerException",
        _ => "ValidationException",
    }
}

fn fault_message(status: u16) -> String {
    match status {
        400 => "The provided request is not valid".into(),
        403 => "You don't have access to the model with the specified model ID.".into(),
        404 => "The provided model identifier is invalid.".into(),
        408 => "Model has timed out in processing the request. Try your request again.".into(),
        424 => "Received error from the model. Try your request again.".into(),
        429 => "Too many requests, please wait before trying again.".into(),
        500 => {
            "The system encountered an unexpected error during processing. Try your request again."
                .into()
        }
        503 => "Bedrock is unable to process your request.".into(),
        s => format!("Mock injected error (status {s})."),
    }
}

/// The error body of a status, with the type its status maps to.
pub fn error_for_status(status: u16, message: &str) -> Response {
    error(status, kind_for_status(status), message)
}

fn injected_error(status: u16) -> Response {
    error_for_status(status, &fault_message(status))
}

/// Path, method and credential checks, which run before any injected fault.
pub fn gate(state: &Listener, req: &Request) -> Result<Route, Response> {
    let route = route(req.path()).filter(|_| req.method == "POST");
    let Some(route) = route else {
        return Err(front_error(
            404,
            "UnknownOperationException",
            "Unknown operation",
        ));
    };
    sigv4::authenticate(state, req, sigv4::now())?;
    Ok(route)
}

/// Whether a response is a Bedrock event stream (written by `eventstream`).
pub fn is_eventstream(resp: &Response) -> bool {
    resp.headers
        .iter()
        .any(|(n, v)| *n == "content-type" && v == eventstream::CONTENT_TYPE)
}

/// 200 carrying a ServiceUnavailable error (as the first stream frame).
fn overloaded(stream: bool) -> Response {
    let message = fault_message(503);
    if stream {
        let frame =
            eventstream::exception("serviceUnavailableException", &json!({"message": message}));
        return eventstream::response(vec![frame]);
    }
    Response::json(200, &json!({ "message": message }))
}

fn is_stream(req: &Request) -> bool {
    route(req.path()).is_some_and(|r| r.stream)
}

const REPLIES: faults::FaultReplies = faults::FaultReplies {
    error: injected_error,
    overloaded,
    stream: is_stream,
    retry_after_ms: false,
};

/// Handles one request on the Bedrock listener.
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
        Ok(_) | Err(_) => {
            return invalid("Malformed input request, please reformat your input and try again.")
        }
    };
    if route.count {
        return match count::count(&body, &route.model) {
            Ok(v) => Response::json(200, &v),
            Err(msg) => invalid(&msg),
        };
    }
    if let Err(msg) = validate::validate(&body) {
        return invalid(&msg);
    }
    converse(n, &route, req, &body, faults, &state.label)
}

fn invalid(message: &str) -> Response {
    error(400, "ValidationException", message)
}

fn converse(
    n: u64,
    route: &Route,
    req: &Request,
    body: &Map<String, Value>,
    faults: &Faults,
    label: &str,
) -> Response {
    let built = respond::build(n, &route.model, body, faults);
    if !route.stream {
        return Response::json(200, &respond::full(&built));
    }
    let mut frames = stream::frames(&built);
    if let Some(kind) = stream::exception_fault(req, faults, label) {
        frames.truncate(2);
        frames.push(stream::exception_frame(kind));
    }
    eventstream::response(frames)
}

#[cfg(test)]
mod tests;
