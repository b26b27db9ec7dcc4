//! OpenAI chat completions as a client dialect.
//!
//! The decoder is [`crate::openai::parse_chat_request`] (the OpenAI chat
//! wire types are also the neutral request, see [`crate::dialect`]); the
//! encoder is [`encode`]; errors are OpenAI's envelope, [`ApiError::to_json`].
//!
//! [`ApiError::to_json`]: crate::error::ApiError::to_json

pub mod encode;
