//! OpenAI Responses as a client dialect (`POST /v1/responses`), as Codex
//! and the OpenAI Agents SDK speak it.
//!
//! * [`decode`]: the request → the neutral request ([`decode`](mod@decode)
//!   says what maps where; [`items`] the input items);
//! * [`encoder`]: neutral replies and events → the `response` object and
//!   its typed stream ([`encode`](mod@encode));
//! * [`state`]: the reasoning state a stateless gateway hands the client
//!   in `encrypted_content` and reads back on the next turn.
//!
//! HTTP errors use OpenAI's envelope, as the Responses API does; a failure
//! after the stream started is an `error` event then `response.failed`.

pub mod decode;
pub mod encode;
mod items;
pub mod state;
mod stream;
mod stream_wire;
pub mod wire;

use crate::error::ApiError;
use crate::events::{Encoder, Meta};
use crate::openai::ChatRequest;

/// The Responses body as the neutral request.
pub fn decode(body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    decode::decode(body)
}

/// The Responses encoder for one response.
pub fn encoder(meta: Meta) -> Box<dyn Encoder> {
    Box::new(encode::ResponsesEncoder::new(meta))
}

#[cfg(test)]
mod tests;
