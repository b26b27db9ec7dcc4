//! Azure OpenAI errors in OpenAI's envelope.
//!
//! Azure answers in three shapes: OpenAI's own (the v1 surface), an
//! `error` object whose `code` is an Azure string (`content_filter`,
//! `DeploymentNotFound`) or the HTTP status as a string (`"401"`, `"429"`)
//! and whose `type` is often missing or `null`, and, from the gateway in
//! front of the resource, `{"statusCode": 401, "message": "..."}`. Each is
//! rewritten to `{"error": {"message", "type", "param", "code"}}` with a
//! `type` from the status when Azure gives none and an OpenAI `code` for a
//! numeric one. `innererror` (the content filter's verdict,
//! `ResponsibleAIPolicyViolation`) is kept: clients that know Azure read it.

use serde_json::{Map, Value};

use crate::error::{kind_for_status, normalize_error_body};

/// The OpenAI error body for an Azure error; `None` keeps the body (it
/// was not JSON in a known shape and is already OpenAI-like).
pub fn normalize(status: u16, body: &[u8]) -> Option<Vec<u8>> {
    let parsed: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    let Some(mut top) = parsed else {
        return normalize_error_body(status, body, "upstream");
    };
    let fields = match top.remove("error") {
        Some(Value::Object(e)) => e,
        Some(_) => return normalize_error_body(status, body, "upstream"),
        // The gateway shape: `statusCode` and `message` at the top level.
        None if top.contains_key("statusCode") || top.contains_key("message") => top,
        None => return normalize_error_body(status, body, "upstream"),
    };
    serde_json::to_vec(&envelope(status, fields)).ok()
}

fn envelope(status: u16, mut e: Map<String, Value>) -> Value {
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let message =
        text(e.remove("message")).unwrap_or_else(|| format!("upstream returned HTTP {status}"));
    let kind = text(e.remove("type")).unwrap_or_else(|| kind_for_status(status).to_string());
    let code = match e.remove("code").or_else(|| e.remove("statusCode")) {
        Some(Value::String(c)) if !c.is_empty() && !c.bytes().all(|b| b.is_ascii_digit()) => {
            Value::String(c)
        }
        _ => status_code(status).map_or(Value::Null, |c| Value::String(c.to_string())),
    };
    let mut out = Map::new();
    out.insert("message".into(), Value::String(message));
    out.insert("type".into(), Value::String(kind));
    out.insert(
        "param".into(),
        text(e.remove("param")).map_or(Value::Null, Value::String),
    );
    out.insert("code".into(), code);
    if let Some(inner) = e.remove("innererror").filter(|v| !v.is_null()) {
        out.insert("innererror".into(), inner);
    }
    let mut env = Map::new();
    env.insert("error".into(), Value::Object(out));
    Value::Object(env)
}

/// OpenAI's `code` for an error that only carried its HTTP status.
fn status_code(status: u16) -> Option<&'static str> {
    match status {
        401 => Some("invalid_api_key"),
        429 => Some("rate_limit_exceeded"),
        _ => None,
    }
}
