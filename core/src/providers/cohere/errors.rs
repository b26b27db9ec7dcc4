//! Cohere errors → OpenAI error envelopes.
//!
//! Cohere answers errors as `{"id": "...", "message": "..."}` with a
//! standard HTTP status, which carries over, the OpenAI `type` following
//! from it. Two statuses are Cohere's own: 498 (invalid token, what some
//! Cohere deployments answer for a bad key) becomes 401, and 499 (the
//! client closed the request) becomes 400, so OpenAI SDKs classify them.
//! Bodies that are not Cohere errors (a proxy's HTML page) are quoted.

use super::wire::ErrorBody;
use crate::error::{foreign_error, kind_for_status, ApiError};

/// The status the client sees for an upstream error status.
pub(super) fn client_status(upstream: u16) -> u16 {
    match upstream {
        498 => 401,
        499 => 400,
        s => s,
    }
}

/// Translates a buffered error response with HTTP status `status`.
pub(super) fn translate_error(status: u16, body: &[u8]) -> ApiError {
    let client = client_status(status);
    match serde_json::from_slice::<ErrorBody<'_>>(body) {
        Ok(e) => with_message(client, &e.message),
        Err(_) => {
            let mut e = foreign_error(status, body, "provider cohere");
            e.status = client;
            e.kind = kind_for_status(client);
            e
        }
    }
}

/// An error of `status` carrying Cohere's message.
pub(super) fn with_message(status: u16, message: &str) -> ApiError {
    let message = if message.is_empty() {
        "Provider cohere returned an error."
    } else {
        message
    };
    ApiError::new(status, kind_for_status(status), message)
}
