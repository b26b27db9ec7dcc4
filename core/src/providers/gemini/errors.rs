//! Gemini (google.rpc) errors → OpenAI error envelopes.
//!
//! Gemini answers errors as `{"error":{"code":<http>,"message","status"}}`
//! with a standard HTTP status, which carries over unchanged. The
//! canonical `status` name becomes the OpenAI `code`, lowercased to match
//! OpenAI's snake_case codes (`RESOURCE_EXHAUSTED` → `resource_exhausted`);
//! the OpenAI `type` follows from the HTTP status. An error object inside a
//! stream has no HTTP status of its own: it is derived from `status` (the
//! table below, Google's canonical mapping), else from `code`. Bodies that
//! are not google.rpc errors (a proxy's HTML page) are quoted.
//!
//! `NOT_FOUND` about a model (the Gemini API's "models/x is not found for
//! API version v1beta, or is not supported for generateContent", Vertex
//! AI's "Publisher Model `…` was not found") gets OpenAI's own code for an
//! unknown model, `model_not_found`, so clients can tell it apart.

use super::wire::{RpcEnvelope, RpcError};
use crate::error::{foreign_error, kind_for_status, ApiError};

/// The canonical google.rpc codes: name, HTTP status, OpenAI code.
const CODES: &[(&str, u16, &str)] = &[
    ("INVALID_ARGUMENT", 400, "invalid_argument"),
    ("FAILED_PRECONDITION", 400, "failed_precondition"),
    ("OUT_OF_RANGE", 400, "out_of_range"),
    ("UNAUTHENTICATED", 401, "unauthenticated"),
    ("PERMISSION_DENIED", 403, "permission_denied"),
    ("NOT_FOUND", 404, "not_found"),
    ("ALREADY_EXISTS", 409, "already_exists"),
    ("ABORTED", 409, "aborted"),
    ("RESOURCE_EXHAUSTED", 429, "resource_exhausted"),
    ("CANCELLED", 499, "cancelled"),
    ("UNKNOWN", 500, "unknown"),
    ("INTERNAL", 500, "internal"),
    ("DATA_LOSS", 500, "data_loss"),
    ("UNIMPLEMENTED", 501, "unimplemented"),
    ("UNAVAILABLE", 503, "unavailable"),
    ("DEADLINE_EXCEEDED", 504, "deadline_exceeded"),
];

fn lookup(status: Option<&str>) -> Option<&'static (&'static str, u16, &'static str)> {
    let status = status?;
    CODES.iter().find(|(name, _, _)| *name == status)
}

/// Translates a buffered error response with HTTP status `status`.
pub(super) fn translate_error(status: u16, body: &[u8]) -> ApiError {
    match serde_json::from_slice::<RpcEnvelope<'_>>(body) {
        Ok(env) => from_rpc(Some(status), &env.error),
        Err(_) => foreign_error(status, body, "provider gemini"),
    }
}

/// Translates an error object; `http` is the response status, if any.
pub(super) fn from_rpc(http: Option<u16>, e: &RpcError<'_>) -> ApiError {
    let known = lookup(e.status.as_deref());
    let status = http
        .or(known.map(|k| k.1))
        .or(e.code.filter(|c| (400..=599).contains(c)))
        .unwrap_or(500);
    let message = e
        .message
        .as_deref()
        .filter(|m| !m.is_empty())
        .unwrap_or("Provider gemini returned an error.");
    let mut err = ApiError::new(status, kind_for_status(status), message);
    err.code = known.map(|k| match k.0 {
        "NOT_FOUND" if names_a_model(message) => "model_not_found",
        _ => k.2,
    });
    err
}

/// The message is about a model (`models/…`, `Publisher Model …`).
fn names_a_model(message: &str) -> bool {
    message.to_ascii_lowercase().contains("model")
}
