//! Anthropic Messages as a client dialect (`POST /v1/messages`).
//!
//! Errors are Anthropic's `{"type":"error","error":{"type","message"}}`,
//! with Anthropic's error type for the status (the SDKs pick their
//! exception class from the status, and Claude Code shows the message).

mod error;

pub use error::error_body;

use crate::error::ApiError;
use crate::events::{Encoder, Meta};
use crate::openai::ChatRequest;

/// The Messages body as the neutral request.
pub fn decode(_body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    Err(ApiError::new(
        501,
        "api_error",
        "Anthropic Messages requests are not decoded yet.",
    ))
}

/// The Messages encoder for one response.
pub fn encoder(meta: Meta) -> Box<dyn Encoder> {
    Box::new(crate::dialect::openai_chat::encode::OpenAiEncoder::new(
        meta,
    ))
}
