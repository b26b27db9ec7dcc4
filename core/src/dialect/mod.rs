//! Client dialects: the API formats clients speak to the gateway.
//!
//! A dialect is three pieces, and nothing else in the gateway knows which
//! one the client spoke:
//! * a **decoder**, the client's body → the neutral request;
//! * an **encoder**, neutral [`crate::events`] → the client's response JSON
//!   or stream ([`Encoder`]);
//! * an **error writer**, a neutral [`ApiError`] → the client's error body,
//!   for the filter's own refusals (400/404/413/503) and for failover
//!   exhaustion as much as for translated provider errors.
//!
//! # The neutral request
//! The neutral request is [`crate::openai::ChatRequest`] with its `ext`
//! fields. OpenAI chat already carries what the other formats need
//! (thinking blocks with signatures, thought signatures, `cache_control`
//! extensions), so its decoder is the plain borrowed parse, with no copy on
//! the hottest path, and the other dialects build the same type from their
//! own wire types. What chat cannot say (Anthropic's `top_k`, a thinking
//! budget, server tools, Responses' statefulness) lives in
//! [`crate::openai::Ext`], which an OpenAI chat body never sets.
//!
//! # Passthrough
//! Each dialect names the provider kind whose wire format it is
//! ([`Dialect::native_kind`]). A provider of that kind forwards the client's
//! body as sent, rewriting only the model and what its endpoint requires,
//! and observes usage on the way (as OpenAI chat → OpenAI always has).

pub mod anthropic;
pub mod openai_chat;
pub mod responses;

use crate::error::ApiError;
use crate::events::{Encoder, Meta};
use crate::openai::ChatRequest;

/// The API format the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Dialect {
    /// OpenAI chat completions (`POST /v1/chat/completions`).
    #[default]
    OpenAiChat,
    /// Anthropic Messages (`POST /v1/messages`), as Claude Code speaks it.
    AnthropicMessages,
    /// OpenAI Responses (`POST /v1/responses`), as Codex speaks it.
    OpenAiResponses,
}

impl Dialect {
    /// Every dialect, for tests and docs.
    pub const ALL: [Dialect; 3] = [
        Dialect::OpenAiChat,
        Dialect::AnthropicMessages,
        Dialect::OpenAiResponses,
    ];

    /// The name in logs and docs.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::OpenAiChat => "openai_chat",
            Dialect::AnthropicMessages => "anthropic_messages",
            Dialect::OpenAiResponses => "openai_responses",
        }
    }

    /// The provider kind whose native API this dialect is: a target of
    /// that kind passes the client's body through.
    pub fn native_kind(self) -> &'static str {
        match self {
            Dialect::OpenAiChat | Dialect::OpenAiResponses => "openai",
            Dialect::AnthropicMessages => "anthropic",
        }
    }

    /// The client's body as the neutral request; every problem is a 400 in
    /// this dialect's vocabulary, naming the field.
    pub fn decode(self, body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
        match self {
            Dialect::OpenAiChat => crate::openai::parse_chat_request(body),
            Dialect::AnthropicMessages => anthropic::decode(body),
            Dialect::OpenAiResponses => responses::decode(body),
        }
    }

    /// The encoder that writes this dialect for one response.
    pub fn encoder(self, meta: Meta) -> Box<dyn Encoder> {
        match self {
            Dialect::OpenAiChat => Box::new(openai_chat::encode::OpenAiEncoder::new(meta)),
            Dialect::AnthropicMessages => anthropic::encoder(meta),
            Dialect::OpenAiResponses => responses::encoder(meta),
        }
    }

    /// An error as this dialect's JSON error body.
    pub fn error_body(self, e: &ApiError) -> Vec<u8> {
        match self {
            Dialect::OpenAiChat | Dialect::OpenAiResponses => e.to_json(),
            Dialect::AnthropicMessages => anthropic::error_body(e),
        }
    }
}
