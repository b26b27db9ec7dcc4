//! Anthropic Messages as a client dialect (`POST /v1/messages`).
//!
//! * [`decode`] (`decode.rs`, wire types in `wire.rs`): the Messages body
//!   → the neutral request, strict like Anthropic's API.
//! * [`encoder`] (`encode.rs`): neutral replies and events → a `message`
//!   object or Anthropic's event stream, usage in Anthropic's semantics.
//! * Errors are Anthropic's `{"type":"error","error":{"type","message"}}`,
//!   with Anthropic's error type for the status (the SDKs pick their
//!   exception class from the status, and Claude Code shows the message).
//!
//! Toward a provider of kind `anthropic` none of this runs: the body is
//! passed through (see `providers::anthropic::passthrough`).

mod decode;
mod encode;
mod error;
mod paths;
mod wire;

pub use decode::{decode, decode_count};
pub use encode::MessagesEncoder;
pub use error::{error_body, error_type};

use crate::events::{Encoder, Meta};

/// The Messages encoder for one response.
pub fn encoder(meta: Meta) -> Box<dyn Encoder> {
    Box::new(MessagesEncoder::new(meta))
}

#[cfg(test)]
mod tests;
