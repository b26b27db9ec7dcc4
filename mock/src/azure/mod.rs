//! Azure OpenAI mock (kind `azure`).
//!
//! Served:
//!
//! * `POST /openai/deployments/{deployment}/chat/completions?api-version=V`
//!   and `.../embeddings?api-version=V`, `V` one of `API_VERSIONS`: no
//!   `api-version` is 404 "Resource not found", an unknown one 400
//!   "API version not supported";
//! * `POST /openai/v1/chat/completions` and `/openai/v1/embeddings` (the v1
//!   API: `model` in the body names the deployment; `api-version` may be
//!   absent, `v1`, `preview` or `latest`).
//!
//! The key goes in `api-key` or `Authorization: Bearer`; else 401
//! `{"error": {"code": "401", "message": "Access denied due to invalid
//! subscription key or wrong API endpoint. ..."}}`. Bodies are validated and
//! answered by the OpenAI mock's code with the deployment as the model, plus
//! Azure's content-filter annotations (`filter`). Magic words:
//! `MOCK_PROMPT_FILTER` (400 `content_filter`) and `MOCK_CONTENT_FILTER`
//! (`finish_reason: content_filter`); see `crate::magic`.

mod filter;

use serde_json::{json, Map, Value};

use crate::faults::{self, Faults, Response};
use crate::http::Request;
use crate::openai::{self, respond, validate};
use crate::server::Listener;
use crate::{magic, reply};

/// `api-version` values the deployment routes accept.
pub const API_VERSIONS: &[&str] = &[
    "2023-05-15",
    "2024-02-01",
    "2024-06-01",
    "2024-10-21",
    "2023-12-01-preview",
    "2024-02-15-preview",
    "2024-05-01-preview",
    "2024-08-01-preview",
    "2024-09-01-preview",
    "2024-10-01-preview",
    "2024-12-01-preview",
    "2025-01-01-preview",
    "2025-03-01-preview",
    "2025-04-01-preview",
];

const V1_VERSIONS: &[&str] = &["v1", "preview", "latest"];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Chat,
    Embeddings,
}

/// What a request URL asks for (`deployment` is `None` on the v1 API).
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub deployment: Option<String>,
    pub op: Op,
}

fn op(tail: &str) -> Option<Op> {
    match tail {
        "chat/completions" => Some(Op::Chat),
        "embeddings" => Some(Op::Embeddings),
        _ => None,
    }
}

pub fn route(path: &str) -> Option<Route> {
    if let Some(tail) = path.strip_prefix("/openai/v1/") {
        return op(tail).map(|op| Route {
            deployment: None,
            op,
        });
    }
    let rest = path.strip_prefix("/openai/deployments/")?;
    let (deployment, tail) = rest.split_once('/')?;
    let op = op(tail).filter(|_| !deployment.is_empty())?;
    Some(Route {
        deployment: Some(deployment.to_string()),
        op,
    })
}

fn code(status: u16) -> String {
    match status {
        400 => "BadRequest".into(),
        408 => "Timeout".into(),
        500 => "InternalServerError".into(),
        503 => "ServiceUnavailable".into(),
        s => s.to_string(),
    }
}

/// Azure's gateway error shape: `{"error": {"code", "message"}}`.
pub fn error_for_status(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"error": {"code": code(status), "message": message}}),
    )
}

fn fault_message(status: u16) -> String {
    match status {
        401 => DENIED.into(),
        404 => "Resource not found".into(),
        429 => "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.".into(),
        500 => "The server had an error while processing your request. Sorry about that!".into(),
        503 => "The service is temporarily unable to process your request. Please try again later.".into(),
        s => format!("Mock injected error (status {s})."),
    }
}

const DENIED: &str = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.";

fn query<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    let (_, q) = req.target.split_once('?')?;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn check_key(state: &Listener, req: &Request) -> Result<(), Response> {
    if req.header("api-key") == Some(state.key.as_str()) || openai::authorized(req, &state.key) {
        return Ok(());
    }
    if req.header("api-key").is_none() && req.header("authorization").is_some() {
        let msg = "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.";
        return Err(error_for_status(401, msg));
    }
    Err(error_for_status(401, DENIED))
}

/// Path, method, key and api-version checks, before any injected fault.
pub fn gate(state: &Listener, req: &Request) -> Result<Route, Response> {
    let route = route(req.path()).filter(|_| req.method == "POST");
    let Some(route) = route else {
        return Err(error_for_status(404, "Resource not found"));
    };
    check_key(state, req)?;
    let version = query(req, "api-version");
    let ok = match (&route.deployment, version) {
        (Some(_), None) => return Err(error_for_status(404, "Resource not found")),
        (Some(_), Some(v)) => API_VERSIONS.contains(&v),
        (None, v) => v.is_none_or(|v| V1_VERSIONS.contains(&v)),
    };
    if !ok {
        return Err(error_for_status(400, "API version not supported"));
    }
    Ok(route)
}

const REPLIES: faults::FaultReplies = faults::FaultReplies {
    error: |status| error_for_status(status, &fault_message(status)),
    overloaded: openai::overloaded,
    stream: faults::wants_stream,
    retry_after_ms: true,
};

/// Handles one request on the Azure listener.
pub fn handle(state: &Listener, req: &Request, faults: &Faults) -> Response {
    let route = match gate(state, req) {
        Ok(route) => route,
        Err(resp) => return resp,
    };
    if let Some(resp) = faults::injected(req, faults, &REPLIES) {
        return resp;
    }
    let n = state.next_id();
    let deployment = route.deployment.as_deref();
    let resp = match openai::parse_object(&req.body) {
        Err(resp) => resp,
        Ok(body) if route.op == Op::Embeddings => openai::embed(&body, deployment),
        Ok(body) => chat(n, deployment, body, faults),
    };
    let id = format!("req_mock_{n}");
    resp.with_header("apim-request-id", id.clone())
        .with_header("x-request-id", id)
}

fn chat(
    n: u64,
    deployment: Option<&str>,
    mut body: Map<String, Value>,
    faults: &Faults,
) -> Response {
    if let Some(d) = deployment {
        body.entry("model").or_insert_with(|| json!(d));
    }
    if let Err(inv) = validate::validate(&body) {
        return openai::invalid_response(&inv);
    }
    let mut conv = respond::conversation(&body);
    if let Some(d) = deployment {
        conv.model = d.to_string();
    }
    if magic::has(&conv.last_user_text, magic::PROMPT_FILTER) {
        return filter::prompt_error();
    }
    let filtered = magic::has(&conv.last_user_text, magic::CONTENT_FILTER);
    let mut outcome = reply::compute(&conv);
    let usage = reply::usage(&conv, &outcome, faults.cached_tokens);
    if filtered {
        outcome = reply::Outcome::Text {
            text: String::new(),
            finish: reply::Finish::Stop,
        };
    }
    if body.get("stream") == Some(&Value::Bool(true)) {
        let opts = respond::stream_opts(&body, faults.stream_error);
        let chunks = respond::chunks(n, &conv.model, &outcome, &usage, &opts);
        let chunks = filter::stream(chunks, filtered);
        return Response::sse(respond::render(&chunks, faults.stream_error));
    }
    let mut v = respond::completion(n, &conv.model, &outcome, &usage);
    filter::completion(&mut v, filtered);
    Response::json(200, &v)
}

#[cfg(test)]
mod tests;
