//! Gemini API mock (Google AI `generativelanguage` REST, kind `gemini`).
//!
//! Served, under `/v1beta/`, `/v1/` and `/v1alpha/`:
//!
//! * `POST /{v}/models/{model}:generateContent`
//! * `POST /{v}/models/{model}:streamGenerateContent` (`?alt=sse`: SSE
//!   events `data: <GenerateContentResponse>\r\n\r\n`; else a JSON array)
//! * `POST /{v}/models/{model}:embedContent` and `:batchEmbedContents`
//! * `POST /{v}/models/{model}:countTokens` (see `count`)
//!
//! Anything else is 404 `NOT_FOUND` "Method not found.". The key goes in
//! `x-goog-api-key` or `?key=`: none is 403 `PERMISSION_DENIED`, a wrong one
//! 400 `INVALID_ARGUMENT` "API key not valid...". Errors are google.rpc
//! statuses: `{"error": {"code", "message", "status"}}`.
//!
//! Bodies are validated like the real API's proto-JSON parser (unknown
//! names, types, enums; see `validate`, `contents`, `schema`); replies come
//! from the shared `reply` logic: same text, tool decisions, word-count
//! usage, `maxOutputTokens`/`stopSequences` truncation as the other mocks.
//! A tool call is one `functionCall` part without `id`; on `gemini-3*`
//! models it carries a `thoughtSignature` (`contents::signature`) that must
//! come back unchanged with the call in later requests.
//! `thinkingConfig.includeThoughts` adds a first `{"text", "thought": true}`
//! part counted in `thoughtsTokenCount`. Magic words (`crate::magic`):
//! `MOCK_PROMPT_FILTER`, `MOCK_CONTENT_FILTER`, `MOCK_RECITATION`,
//! `MOCK_MAX_TOKENS`, `MOCK_CACHED`. Header and stored faults work as on
//! the other mocks, with Gemini's error bodies.

mod contents;
mod count;
mod embed;
mod json;
mod render;
mod respond;
mod schema;
mod validate;

use serde_json::{json, Map, Value};

use crate::faults::{self, Faults, Response};
use crate::http::Request;
use crate::magic;
use crate::reply;
use crate::server::Listener;

const VERSIONS: &[&str] = &["v1beta", "v1", "v1alpha"];

/// What a request URL asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub model: String,
    pub method: Method,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    Generate,
    Stream,
    Embed,
    BatchEmbed,
    CountTokens,
}

/// Parses `/{version}/models/{model}:{method}`.
pub fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix('/')?;
    let (version, rest) = rest.split_once('/')?;
    if !VERSIONS.contains(&version) {
        return None;
    }
    let (model, method) = rest.strip_prefix("models/")?.rsplit_once(':')?;
    if model.is_empty() || model.contains('/') {
        return None;
    }
    let method = match method {
        "generateContent" => Method::Generate,
        "streamGenerateContent" => Method::Stream,
        "embedContent" => Method::Embed,
        "batchEmbedContents" => Method::BatchEmbed,
        "countTokens" => Method::CountTokens,
        _ => return None,
    };
    Some(Route {
        model: model.to_string(),
        method,
    })
}

/// The google.rpc status name of an HTTP status.
pub fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        s if s >= 500 => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

fn error_value(status: u16, message: &str) -> Value {
    json!({"error": {"code": status, "message": message, "status": status_name(status)}})
}

/// `{"error": {"code", "message", "status"}}` with that HTTP status.
pub fn error_for_status(status: u16, message: &str) -> Response {
    Response::json(status, &error_value(status, message))
}

fn fault_message(status: u16) -> String {
    match status {
        400 => "Request contains an invalid argument.".into(),
        401 => "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.".into(),
        403 => "The caller does not have permission".into(),
        404 => "Requested entity was not found.".into(),
        429 => "Resource has been exhausted (e.g. check quota).".into(),
        500 => "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting".into(),
        503 => "The model is overloaded. Please try again later.".into(),
        504 => "Deadline expired before operation could complete.".into(),
        s => format!("Mock injected error (status {s})."),
    }
}

/// The error value of an injected status (also the mid-stream error).
pub fn status_error(status: u16) -> Value {
    error_value(status, &fault_message(status))
}

fn query<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    let (_, q) = req.target.split_once('?')?;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn api_key_invalid() -> Response {
    let msg = "API key not valid. Please pass a valid API key.";
    let mut v = error_value(400, msg);
    v["error"]["details"] = json!([{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }]);
    Response::json(400, &v)
}

/// Path, method and key checks, which run before any injected fault.
pub fn gate(state: &Listener, req: &Request) -> Result<Route, Response> {
    let route = route(req.path()).filter(|_| req.method == "POST");
    let Some(route) = route else {
        return Err(error_for_status(404, "Method not found."));
    };
    match req.header("x-goog-api-key").or_else(|| query(req, "key")) {
        None => Err(error_for_status(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")),
        Some(k) if k == state.key => Ok(route),
        Some(_) => Err(api_key_invalid()),
    }
}

/// 200 carrying an UNAVAILABLE error (as the only event of a stream).
pub fn overloaded(stream: bool) -> Response {
    let v = status_error(503);
    if stream {
        return Response::sse(render::sse(&[v]));
    }
    Response::json(200, &v)
}

fn is_stream(req: &Request) -> bool {
    route(req.path()).is_some_and(|r| r.method == Method::Stream)
}

pub(crate) const REPLIES: faults::FaultReplies = faults::FaultReplies {
    error: |status| Response::json(status, &status_error(status)),
    overloaded,
    stream: is_stream,
    retry_after_ms: false,
};

/// Marks a request the Vertex listener passed on: Vertex-only behaviour
/// (`partialArgs`) applies. Set by the Vertex mock only (a client's own
/// header of that name is dropped there).
pub const VERTEX_HEADER: &str = "x-mock-vertex";

/// Handles one request on the Gemini listener.
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
        Ok(other) => {
            return invalid(&format!(
                "Invalid JSON payload received. Expected an object, got {other}."
            ))
        }
        Err(e) => return invalid(&format!("Invalid JSON payload received. {e}")),
    };
    let result = match route.method {
        Method::Embed => embed::single(&body).map(|v| Response::json(200, &v)),
        Method::BatchEmbed => embed::batch(&body, &route.model).map(|v| Response::json(200, &v)),
        Method::CountTokens => count::count(&body, &route.model).map(|v| Response::json(200, &v)),
        Method::Generate | Method::Stream => validate::validate(&body, &route.model)
            .map(|()| generate(n, &route, req, &body, faults)),
    };
    result.unwrap_or_else(|msg| invalid(&msg))
}

fn invalid(message: &str) -> Response {
    error_for_status(400, message)
}

fn cached(body: &Map<String, Value>, conv: &reply::Conversation, faults: &Faults) -> u64 {
    let magic = magic::has(&conv.last_user_text, magic::CACHED)
        || json::field(body, "cachedContent").is_some();
    match faults.cached_tokens {
        0 if magic => respond::MAGIC_CACHED,
        n => n,
    }
}

fn generate(
    n: u64,
    route: &Route,
    req: &Request,
    body: &Map<String, Value>,
    faults: &Faults,
) -> Response {
    let conv = respond::conversation(body, &route.model);
    let outcome = reply::compute(&conv);
    let usage = reply::usage(&conv, &outcome, cached(body, &conv, faults));
    let thought = respond::thought(body, &route.model);
    let thoughts = thought.as_deref().map_or(0, reply::word_count);
    let partial_args =
        req.header(VERTEX_HEADER).is_some() && magic::has(&conv.last_user_text, magic::STREAM_ARGS);
    let built = render::Built {
        n,
        model: route.model.clone(),
        answer: respond::answer(&conv, outcome),
        thought,
        counts: respond::Counts { usage, thoughts },
        partial_args,
    };
    if route.method == Method::Generate {
        return Response::json(200, &render::full(&built));
    }
    let chunks = render::chunks(&built, faults.stream_error);
    if query(req, "alt") == Some("sse") {
        Response::sse(render::sse(&chunks))
    } else {
        Response::raw_json(200, render::json_array(&chunks))
    }
}

#[cfg(test)]
mod tests;
