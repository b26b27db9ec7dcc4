//! OpenAI Responses as a client dialect (`POST /v1/responses`).
//!
//! HTTP errors use OpenAI's envelope, as the Responses API does; a failure
//! after the stream started is an `error` event then `response.failed`.

use crate::error::ApiError;
use crate::events::{Encoder, Meta};
use crate::openai::ChatRequest;

/// The Responses body as the neutral request.
pub fn decode(_body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    Err(ApiError::new(
        501,
        "server_error",
        "Responses requests are not decoded yet.",
    ))
}

/// The Responses encoder for one response.
pub fn encoder(meta: Meta) -> Box<dyn Encoder> {
    Box::new(crate::dialect::openai_chat::encode::OpenAiEncoder::new(
        meta,
    ))
}
