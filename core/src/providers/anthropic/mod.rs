//! Anthropic Messages API (`POST {base_path}/messages`), for every client
//! dialect.
//!
//! A Messages client (`Dialect::AnthropicMessages`) is passed through: its
//! body goes up as sent but for `model`, and usage is observed on the way
//! (see `passthrough.rs`). Every other dialect is decoded into the neutral
//! request and translated as below.
//!
//! # Request
//! * `system` and `developer` messages, wherever they appear, become the
//!   top-level `system` text blocks, in order: Anthropic has no system turns.
//!   A conversation of instructions only (OpenAI accepts one) sends them as
//!   the one user turn instead, since Anthropic needs a user message.
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
//! * `reasoning_effort` turns on extended thinking with a fixed budget
//!   (`none` → off, `minimal` 1024, `low` 2048, `medium` 8192, `high`
//!   16384, `xhigh` 32768 `budget_tokens`); `max_tokens` grows by the budget
//!   unless the client capped it. The extension top-level `thinking` object
//!   is sent as given instead. Thinking excludes `temperature` ≠ 1, `top_p`
//!   < 0.95 and a forced `tool_choice` (400 naming them). Earlier turns'
//!   `thinking_blocks` go back first in their assistant turn, unchanged. See
//!   `thinking.rs`.
//! * What only other dialects can say (the neutral request's `ext`):
//!   `top_k` is sent; `ext.thinking` is sent as asked (`enabled` with its
//!   budget, `adaptive`, `disabled`) and wins over `reasoning_effort`;
//!   server tools (web search, code execution…) are sent as declared,
//!   after the function tools; a `tool` message marked as an error gets
//!   `is_error: true`.
//! * `file` parts with an inline PDF (`file_data`
//!   `data:application/pdf;base64,…`, `filename` as the `title`) become
//!   `document` blocks; other files are a 400 naming `file.file_data`.
//! * `response_format: json_schema` becomes structured outputs
//!   (`output_config.format`, no beta header); `json_object` becomes a
//!   system instruction (Anthropic cannot constrain to "any object"). See
//!   `format.rs`.
//!
//! # Prompt caching
//! Anthropic caches only up to explicit breakpoints. A client sets one with
//! the extension field `cache_control`, whose value is
//! `{"type": "ephemeral"}` (5-minute cache) or
//! `{"type": "ephemeral", "ttl": "1h"}` (`"ttl": "5m"` is also accepted),
//! on any of:
//! * a message: the breakpoint goes on the last block that message becomes
//!   (for `system`/`developer` messages, their last `system` block; for a
//!   `tool` message, its `tool_result`; thinking blocks cannot carry one);
//! * a content part (`{"type": "text", "text": ..., "cache_control": ...}`
//!   or an `image_url` part): on that block; an empty text part is dropped
//!   with its breakpoint;
//! * a tool (`{"type": "function", "function": {...}, "cache_control":
//!   ...}`): on that tool definition, which caches all tools up to it.
//!
//! Everything up to a breakpoint (tools, then system, then messages) is
//! cached. Any other value is a 400 naming the field, e.g.
//! `messages[2].content[0].cache_control`. Anthropic's own rules still
//! apply and its 400s are passed on: at most 4 breakpoints per request, a
//! `1h` breakpoint must not follow a `5m` one, and a prefix below the
//! model's minimum size is silently not cached. Usage reports cache reads
//! as `prompt_tokens_details.cached_tokens` (within `prompt_tokens`), and
//! the gateway's usage keeps reads and writes apart.
//!
//! Parameters that would change the output and cannot be honoured are a 400
//! naming them: `n` > 1, unknown `response_format` types, `logprobs`,
//! `top_logprobs`, `audio`, non-text `modalities`, non-zero penalties,
//! `logit_bias`, `seed`, `prediction`, `web_search_options` and the
//! deprecated `functions`/`function_call`. So is any parameter the schema
//! does not know, as OpenAI itself does. Hints that do not change the shape
//! of the answer are accepted and ignored: `store`, `metadata` (OpenAI's
//! stored-completion tags), `service_tier`, `verbosity`, `prompt_cache_key`,
//! `stream_options.include_obfuscation`.
//!
//! # Response
//! `model` is the name the client asked for and `created` the gateway's
//! clock: Anthropic returns neither in OpenAI's sense. Usage counts cache
//! reads and writes into `input` and keeps them apart as well. `stop_reason` maps
//! to `finish_reason`: `max_tokens` (and context exhaustion) → `length`,
//! `tool_use` → `tool_calls`, `refusal` → `content_filter`, anything else →
//! `stop`. Thinking text goes to `reasoning_content`; each thinking block's
//! signature (or redacted data) to `thinking_blocks`, for the client to send
//! back (see `dialect::openai_chat::encode`). Errors keep their status, except 529 → 503
//! (see `errors.rs`).
//! A stream that fails midway ends with an OpenAI error event, see
//! `stream.rs`.

mod cache;
mod encode;
mod errors;
mod format;
pub(crate) mod passthrough;
pub(crate) mod request;
mod response;
mod stream;
mod thinking;
mod wire;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::events::{Event, Meta, Reply};
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
    /// `anthropic-beta` opts into beta features (and `anthropic-version`
    /// picks the API version, though the configured one always wins).
    fn client_headers(_: &Options) -> &'static [&'static str] {
        &["anthropic-beta", "anthropic-version"]
    }
    fn reply_headers(_: &Options) -> &'static [&'static str] {
        &["request-id"]
    }

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
        if input.dialect == Dialect::AnthropicMessages {
            return passthrough::start(opts, input, target);
        }
        let req = input.request()?;
        let upstream = request::messages_body(opts, &req, &target)?;
        let meta = Meta {
            model: target.public_model.to_string(),
            created: target.now_unix_secs,
            include_usage: req.include_usage(),
            encrypted_reasoning: req.ext.encrypted_reasoning,
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

    fn count_tokens(
        opts: &Options,
        input: &ChatInput<'_>,
        target: TargetCtx<'_>,
    ) -> Option<Started> {
        Some(count_tokens(opts, input, target))
    }
}

/// `count_tokens` is Anthropic's own: the body goes as sent, `model`
/// renamed, and the answer comes back as it is.
fn count_tokens(opts: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
    let p = input.probe;
    let body = passthrough::model_splice(input.body, &p.model, p.model_span.clone(), target.model)?;
    let out = Outbound {
        path: join_path(&target.provider.base_path, "/messages/count_tokens"),
        headers: vec![
            ("anthropic-version", opts.anthropic_version.clone()),
            ("content-type", "application/json".to_string()),
        ],
        body,
    };
    Ok((Box::new(crate::providers::count::Verbatim::default()), out))
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
