//! Anthropic errors → OpenAI error envelopes.
//!
//! The HTTP status carries over, except Anthropic's non-standard 529
//! (overloaded), which becomes 503 so that OpenAI SDKs and proxies treat it
//! as a retryable server error. The Anthropic error `type` is kept as the
//! OpenAI `code`, the OpenAI `type` follows from the status.

pub(super) use super::wire::ErrorBody as Envelope;
use super::wire::{ErrorBody, WireError};
use crate::error::{foreign_error, kind_for_status, ApiError};

/// The status the client sees for an upstream error status.
pub(super) fn client_status(upstream: u16) -> u16 {
    if upstream == 529 {
        503
    } else {
        upstream
    }
}

/// Translates a buffered error response.
pub(super) fn translate_error(upstream: u16, body: &[u8]) -> ApiError {
    let status = client_status(upstream);
    match serde_json::from_slice::<ErrorBody<'_>>(body) {
        Ok(ErrorBody { error: Some(e) }) => from_wire(status, &e),
        _ => {
            let mut e = foreign_error(upstream, body, "provider anthropic");
            e.status = status;
            e.kind = kind_for_status(status);
            e
        }
    }
}

/// Translates an error object, given the status it stands for.
pub(super) fn from_wire(status: u16, e: &WireError<'_>) -> ApiError {
    let message = e
        .message
        .as_deref()
        .filter(|m| !m.is_empty())
        .unwrap_or("Provider anthropic returned an error.");
    let mut err = ApiError::new(status, kind_for_status(status), message);
    err.code = e.kind.as_deref().and_then(known_type);
    err
}

/// An `error` event inside a 200 stream: the status is implied by the type.
pub(super) fn from_stream_event(e: Option<&WireError<'_>>) -> ApiError {
    match e {
        Some(e) => from_wire(status_for_type(e.kind.as_deref()), e),
        None => ApiError::new(500, "server_error", "Provider anthropic reported an error."),
    }
}

fn status_for_type(kind: Option<&str>) -> u16 {
    match kind.unwrap_or("") {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "overloaded_error" => 503,
        "timeout_error" => 504,
        _ => 500,
    }
}

/// The documented Anthropic error types, as `'static` codes.
fn known_type(kind: &str) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        "invalid_request_error",
        "authentication_error",
        "billing_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
        "rate_limit_error",
        "api_error",
        "overloaded_error",
        "timeout_error",
    ];
    KNOWN.iter().copied().find(|k| *k == kind)
}
