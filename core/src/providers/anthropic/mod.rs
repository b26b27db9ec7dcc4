//! Anthropic Messages API (`POST {base_path}/messages`) behind the OpenAI
//! chat interface.
//!
//! # Request
//! * `system` and `developer` messages, wherever they appear, become the
//!   top-level `system` text blocks, in order: Anthropic has no system turns.
//! * Anthropic requires strictly alternating user/assistant turns, so
//!   consecutive same-role messages are merged into one message with several
//!   blocks. `tool` messages become `tool_result` blocks of a user turn, ahead
//!   of any user text in that turn (Anthropic rejects text before results).
//! * Assistant `tool_calls` become `tool_use` blocks after the text; their
//!   `arguments` must be a JSON object (an empty string counts as `{}`).
//! * Image parts: `data:<type>;base64,` URLs are sent inline, http(s) URLs by
//!   reference; `detail` has no equivalent and is dropped. Message `name`s
//!   are dropped too. Empty text is dropped (Anthropic rejects empty blocks).
//! * `max_tokens` is mandatory upstream: `max_completion_tokens`, else
//!   `max_tokens`, else the provider's `default_max_tokens`.
//! * `temperature` and `top_p` must be within 0..=1. OpenAI's temperature
//!   goes to 2 and there is no faithful rescaling, so higher values are a 400.
//! * `tool_choice` maps auto/none/required/named to auto/none/any/tool;
//!   `parallel_tool_calls: false` sets `disable_parallel_tool_use`. A
//!   `tool_choice` without `tools` is dropped. `strict` on tools is ignored.
//! * `user` (or `safety_identifier`) becomes `metadata.user_id`.
//!
//! Parameters that would change the output and cannot be honoured are a 400
//! naming them: `n` > 1, `response_format` other than text, `logprobs`,
//! `top_logprobs`, `audio`, non-text `modalities`, non-zero penalties,
//! `logit_bias`, `seed`, `prediction`, `web_search_options` and the
//! deprecated `functions`/`function_call`. So is any parameter the schema
//! does not know, as OpenAI itself does. Hints that do not change the shape
//! of the answer are accepted and ignored: `store`, `metadata` (OpenAI's
//! stored-completion tags), `service_tier`, `reasoning_effort`, `verbosity`,
//! `prompt_cache_key`, `stream_options.include_obfuscation`.
//!
//! # Response
//! `model` is the name the client asked for and `created` the gateway's
//! clock: Anthropic returns neither in OpenAI's sense. Usage counts cache
//! reads and writes into `input` and keeps them apart as well. `stop_reason` maps
//! to `finish_reason`: `max_tokens` (and context exhaustion) → `length`,
//! `tool_use` → `tool_calls`, `refusal` → `content_filter`, anything else →
//! `stop`. Thinking blocks are not forwarded (chat completions has no field
//! for them). Errors keep their status, except 529 → 503 (see `errors.rs`).
//! A stream that fails midway ends with an OpenAI error event, see
//! `stream.rs`.

mod encode;
mod errors;
mod request;
mod response;
mod stream;
mod wire;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::error::ApiError;
use crate::events::{Event, Meta, Reply};
use crate::openai::parse_chat_request;
use crate::providers::auth::AuthScheme;
use crate::providers::decoded::{Codec, Decoded, Rejection};
use crate::providers::{join_path, ChatInput, Defaults, Kind, Outbound, Started, TargetCtx};

pub const DEFAULT_VERSION: &str = "2023-06-01";
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// `type: "anthropic"`.
#[derive(Debug)]
pub struct Anthropic;

/// The config fields of `type: "anthropic"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// The `anthropic-version` header.
    #[serde(default = "default_version")]
    pub anthropic_version: String,
    /// `max_tokens` when the client sets none (Anthropic requires one).
    #[serde(default = "default_max_tokens")]
    pub default_max_tokens: u32,
}

fn default_version() -> String {
    DEFAULT_VERSION.to_string()
}

fn default_max_tokens() -> u32 {
    DEFAULT_MAX_TOKENS
}

impl Default for Options {
    fn default() -> Self {
        Options {
            anthropic_version: default_version(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
        }
    }
}

impl Kind for Anthropic {
    type Options = Options;

    fn validate(opts: &Options, path: &str) -> Result<(), ConfigError> {
        if opts.default_max_tokens == 0 {
            return Err(crate::config::err(
                format!("{path}.default_max_tokens"),
                "must be at least 1",
            ));
        }
        Ok(())
    }

    fn defaults(_: &Options) -> Defaults {
        Defaults {
            host: Some("api.anthropic.com"),
            base_path: "/v1",
            auth: AuthScheme::Header("x-api-key"),
            key_required: false,
        }
    }

    fn chat(opts: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
        let req = parse_chat_request(input.body)?;
        let upstream = request::messages_body(opts, &req, &target)?;
        let meta = Meta {
            model: target.public_model.to_string(),
            created: target.now_unix_secs,
            include_usage: req.include_usage(),
        };
        let codec = AnthropicCodec::default();
        let chat = Decoded::new(codec, input.dialect.encoder(meta), req.is_stream());
        let out = Outbound {
            path: join_path(&target.provider.base_path, "/messages"),
            headers: vec![
                ("anthropic-version", opts.anthropic_version.clone()),
                ("content-type", "application/json".to_string()),
            ],
            body: Some(upstream),
        };
        Ok((Box::new(chat), out))
    }
}

/// Anthropic's response formats, for one exchange.
#[derive(Debug, Default)]
pub struct AnthropicCodec {
    stream: stream::StreamDecoder,
}

impl Codec for AnthropicCodec {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn client_status(&self, upstream: u16) -> u16 {
        errors::client_status(upstream)
    }

    fn error(&self, status: u16, body: &[u8]) -> ApiError {
        errors::translate_error(status, body)
    }

    fn reply<'b>(&self, body: &'b [u8]) -> Result<Reply<'b>, Rejection> {
        response::reply(body)
    }

    fn stream_event(&mut self, data: &str, emit: &mut dyn FnMut(Event<'_>)) {
        self.stream.event(data, emit);
    }
}

#[cfg(test)]
mod tests;
